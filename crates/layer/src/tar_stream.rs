//! Walking tar streams and the archives nested in them.
//!
//! The tar reader runs in *raw* mode: it hands over GNU long-name and pax headers as entries
//! instead of reading them into memory itself, so their size is checked against the limits
//! before a byte of them is buffered (a 4 GiB "long name" is a path-length breach, not a 4 GiB
//! allocation). Links and directories go through the path rules as names without content
//! (`FileKind::NameOnly`) and links are never followed; devices and fifos are ignored; only
//! regular files are read.
//!
//! Every regular file is read into the buffer of its nesting level (see [`crate::Walker`]).
//! A file read whole that turns out to be an archive is entered from memory, one level deeper,
//! under the same budget; everything else is scanned as bytes, less its zeros.
//!
//! A file that breaks a limit of its own is cut and recorded as [`SkipReason`], and the walk
//! goes on with the next entry: a path longer than `max_path_length` (the entry is scanned under
//! its header's name), a nested archive that is corrupt or nested too deep, a compressed file or
//! member whose own decompression outgrows the ratio. Only what the walk cannot go on past
//! ends the layer: a tar stream that no longer parses, and the layer-wide limits (see the
//! `budget` module).

use std::io::{Cursor, Read};

use hubcensus_gzip::Inflater;
use hubcensus_rules::{FileKind, FileMeta};
use hubcensus_types::Compression;
use tar::EntryType;

use crate::{
    LayerError,
    budget::OutputReader,
    collect::{Scan, SkipReason, ZERO_FILE_RECORD_BYTES},
    content::{self, FileRead, Window},
    decode::{self, FrameChecksum},
    forward::Forward,
    path::{self, Name},
    sniff::{self, Nested},
    zero,
};

/// The largest pax extended header read. Real ones hold a path, a link path, times and a few
/// xattrs (file capabilities, SELinux labels): a few KiB at most.
const MAX_PAX_BYTES: u64 = 1024 * 1024;

/// What the walk needs of one zip member, read from its headers.
struct ZipMember {
    name: Vec<u8>,
    /// A directory or a symlink: recorded by name, no content.
    name_only: bool,
    size: u64,
    compressed: u64,
    executable: bool,
    /// Where its unencrypted deflate data lies in the archive: (offset, compressed size).
    deflated: Option<(Option<u64>, u64)>,
}

impl ZipMember {
    fn of<R: Read>(m: &zip::read::ZipFile<'_, R>) -> Self {
        let deflated = (m.compression() == zip::CompressionMethod::Deflated && !m.encrypted())
            .then(|| (m.data_start(), m.compressed_size()));
        ZipMember {
            name: m.name_raw().to_vec(),
            name_only: m.is_dir() || m.is_symlink(),
            size: m.size(),
            compressed: m.compressed_size(),
            executable: m.unix_mode().is_some_and(|mode| mode & 0o111 != 0),
            deflated,
        }
    }

    /// The member's deflate stream inside `archive`, `None` when it is not deflated, or why
    /// its headers point outside the archive.
    fn deflated_data<'d>(&self, archive: &'d [u8]) -> Option<Result<&'d [u8], String>> {
        let (start, len) = self.deflated?;
        let range =
            start.and_then(|s| Some(usize::try_from(s).ok()?..usize::try_from(s.checked_add(len)?).ok()?));
        Some(
            range
                .and_then(|r| archive.get(r))
                .ok_or_else(|| "zip member data lies outside the archive".to_owned()),
        )
    }
}

/// How long a file's content is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Length {
    /// As its tar header or zip record says (the reader fails if the content ends sooner).
    Known(u64),
    /// Known only at its end: what a compressed file decompresses to.
    UntilEnd,
}

/// Where a walk happens: the layer itself, or an archive inside it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Level<'p> {
    /// 0 for the layer's own tar stream, n for an archive nested n deep.
    pub(crate) depth: u32,
    /// The nested archive's own path (`app.jar`); `None` for the layer.
    pub(crate) prefix: Option<&'p str>,
}

impl Level<'_> {
    pub(crate) const LAYER: Level<'static> = Level { depth: 0, prefix: None };

    fn member_path(&self, inner: &str) -> String {
        match self.prefix {
            Some(outer) => path::nested(outer, inner),
            None => inner.to_owned(),
        }
    }
}

impl Scan<'_, '_> {
    /// Walks one tar stream. `bufs[0]` holds this level's files; `bufs[1..]` the deeper levels'.
    pub(crate) fn walk_tar(
        &mut self,
        reader: &mut dyn Read,
        level: Level<'_>,
        bufs: &mut [Vec<u8>],
    ) -> Result<(), LayerError> {
        let budget = self.budget;
        let max_path = budget.limits().max_path_length;
        let mut archive = tar::Archive::new(Forward::new(reader));
        let entries = archive.entries_with_seek().map_err(|e| budget.classify(&e))?.raw(true);
        // A GNU long name or pax path names the entry that follows it; so does the length of
        // one too long to keep.
        let mut long_path: Option<Vec<u8>> = None;
        let mut too_long: Option<u64> = None;
        for entry in entries {
            budget.check_time()?;
            let mut entry = entry.map_err(|e| budget.classify(&e))?;
            let kind = entry.header().entry_type();
            let size = entry.size();
            match kind {
                EntryType::GNULongName => {
                    // One byte of slack for the terminating NUL. One too long is never read:
                    // the tar reader skips its body.
                    let len = size.saturating_sub(1);
                    (long_path, too_long) = if len > u64::from(max_path) {
                        (None, Some(len))
                    } else {
                        (Some(self.read_long_name(&mut entry, size)?), None)
                    };
                    continue;
                }
                // Link targets are never followed, so never read.
                EntryType::GNULongLink | EntryType::XGlobalHeader => continue,
                EntryType::XHeader => {
                    if let Some(p) = self.read_pax_path(&mut entry, size)? {
                        (long_path, too_long) = (Some(p), None);
                    }
                    continue;
                }
                _ => {}
            }
            budget.add_entry()?;
            let mut raw = match long_path.take() {
                Some(p) => p,
                None => entry.header().path_bytes().into_owned(),
            };
            let too_long = too_long.take().or_else(|| cut_name(&mut raw, max_path));
            let normalised = path::normalise(&raw);
            if let Some(len) = too_long {
                self.skip(&level.member_path(&normalised), SkipReason::PathTooLong { len, limit: max_path });
            }
            let path = if level.prefix.is_none() {
                match path::classify(normalised) {
                    Name::Path(p) => p,
                    Name::Whiteout(w) => {
                        self.whiteouts.push(w);
                        continue;
                    }
                    Name::Metadata => continue,
                }
            } else {
                level.member_path(&normalised)
            };
            match kind {
                EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                    let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
                    // A file of the layer, with all it nests, is one unit for recognising a
                    // list of providers (OpenJDK keeps the PSL as a zip of per-TLD members).
                    let unit = level.prefix.is_none();
                    if unit {
                        self.begin_unit();
                    }
                    let scanned =
                        self.scan_file(&mut entry, &path, Length::Known(size), executable, level, bufs);
                    if unit {
                        self.end_unit();
                    }
                    scanned?;
                }
                EntryType::Link | EntryType::Symlink | EntryType::Directory => self.scan_name_only(&path),
                // Devices, fifos and unknown types carry nothing to scan.
                _ => {}
            }
        }
        Ok(())
    }

    /// Path rules for an entry without content (directory, link): only rules that list
    /// `name_only` see it, so a directory named like a tool is not the tool's binary.
    fn scan_name_only(&mut self, path: &str) {
        self.scan_path(&FileMeta { path, kind: FileKind::NameOnly, size: 0, executable: false });
        self.flush(path);
    }

    /// Reads one regular file and scans it, or enters it when it is an archive.
    pub(crate) fn scan_file(
        &mut self,
        reader: &mut dyn Read,
        path: &str,
        length: Length,
        executable: bool,
        level: Level<'_>,
        bufs: &mut [Vec<u8>],
    ) -> Result<(), LayerError> {
        // invariant: the walker passes one buffer per remaining level, so this level has one.
        let Some((buf, deeper)) = bufs.split_first_mut() else {
            return Ok(());
        };
        let budget = self.budget;
        let file_budget = budget.limits().file_budget();
        let read = match length {
            Length::Known(size) => content::read_window(reader, buf, size, file_budget),
            Length::UntilEnd => content::read_stream_window(reader, buf, file_budget),
        };
        let FileRead { window, size, zero } = read.map_err(|e| budget.classify(&e))?;
        let kind = FileKind::sniff(window.head(buf));
        let meta = FileMeta { path, kind, size, executable };
        // A compressed file's content has its path: the path rules ran on the file itself.
        if matches!(length, Length::Known(_)) {
            self.scan_path(&meta);
            self.flush(path);
        }
        if zero {
            // Nothing to match in zeros, and no archive either. A big file of them is recorded,
            // so a reader of the scan sees why its content gave nothing.
            if size >= ZERO_FILE_RECORD_BYTES {
                self.skip(path, SkipReason::ZeroFilled { bytes: size });
            }
            return Ok(());
        }
        let entered = match window {
            Window::Whole(n) => self.enter_nested(&buf[..n], path, level, deeper)?,
            Window::Split { .. } => {
                self.truncated_files = self.truncated_files.saturating_add(1);
                if sniff::nested(window.head(buf)).is_some() {
                    self.skip(path, SkipReason::TooBig);
                }
                false
            }
        };
        if !entered {
            let (head, tail) = window.slices(buf);
            for part in [head, tail] {
                let content = &part[zero::trim(part)];
                if !content.is_empty() {
                    self.scan_bytes(&meta, content);
                }
            }
            // A member of an archive, or the content of a compressed file.
            let member = level.depth > 0 || matches!(length, Length::UntilEnd);
            self.scan_yara(&meta, window, buf, member);
            self.flush(path);
        }
        Ok(())
    }

    /// Enters `data` when it is an archive and nesting allows. `Ok(false)`: scan it as bytes.
    fn enter_nested(
        &mut self,
        data: &[u8],
        path: &str,
        level: Level<'_>,
        deeper: &mut [Vec<u8>],
    ) -> Result<bool, LayerError> {
        let Some(nested) = sniff::nested(data) else {
            return Ok(false);
        };
        if deeper.is_empty() || level.depth >= self.budget.limits().effective_nested_depth() {
            self.skip(path, SkipReason::TooDeep);
            return Ok(false);
        }
        let inner = Level { depth: level.depth + 1, prefix: Some(path) };
        let result = match nested {
            Nested::Zip => self.walk_zip(data, inner, deeper).map(|()| true),
            Nested::Tar(c) => self.walk_nested_tar(data, c, path, inner, deeper),
        };
        match result {
            // A broken or cut archive is the archive's problem, not the layer's: keep what was
            // read, record it, and scan its bytes like any other file.
            Err(e) => self.file_failed(path, e, SkipReason::Corrupt).map(|()| false),
            Ok(entered) => Ok(entered),
        }
    }

    /// A file that could not be read to its end (a nested archive, a zip member): a stream the
    /// budget cut, or one that broke, is recorded for the file (`otherwise` describes a broken
    /// one) and the walk goes on; a layer-wide limit ends the layer.
    fn file_failed(
        &mut self,
        path: &str,
        e: LayerError,
        otherwise: fn(String) -> SkipReason,
    ) -> Result<(), LayerError> {
        // Taken whatever happens, so a cut is never left for another file to claim.
        let cut = self.budget.take_cut();
        if e.is_limit() {
            return Err(e);
        }
        self.skip(path, cut.unwrap_or_else(|| otherwise(e.to_string())));
        Ok(())
    }

    /// A tar, tar.gz or tar.zst held in memory, walked entry by entry; a gzip or zstd file
    /// that holds no tar (a `.gz` man page) is scanned as the file it decompresses to, under
    /// this file's path. `Ok(false)` only for bytes that turn out to be neither.
    fn walk_nested_tar(
        &mut self,
        data: &[u8],
        compression: Compression,
        path: &str,
        level: Level<'_>,
        bufs: &mut [Vec<u8>],
    ) -> Result<bool, LayerError> {
        let budget = self.budget;
        // A nested frame keeps its own checksum: the layer's digest covers its bytes only when the
        // caller checks one, and nested zstd files are too rare for the check to cost anything.
        let decoder = decode::decoder(compression, data, FrameChecksum::Verify)
            .map_err(|e| LayerError::Corrupt(e.to_string()))?;
        // Decompressed bytes are new bytes, judged against this file's size; a plain tar's
        // bytes were already counted as this file's content.
        let mut reader = match compression {
            Compression::None => OutputReader::uncharged(decoder, budget),
            _ => OutputReader::nested(decoder, budget, data.len() as u64),
        };
        let mut head = [0u8; 512];
        let n = decode::read_up_to(&mut reader, &mut head).map_err(|e| budget.classify(&e))?;
        let mut stream = (&head[..n]).chain(reader);
        if sniff::is_tar_header(&head[..n]) {
            self.walk_tar(&mut stream, level, bufs)?;
        } else if compression != Compression::None {
            // A compressed file that holds no tar (a gzipped script, man page or payload): its
            // findings are in what it decompresses to, never in the compressed bytes.
            self.scan_file(&mut stream, path, Length::UntilEnd, false, level, bufs)?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// A zip (jar, war, whl, apk, egg...) held in memory, entered member by member.
    fn walk_zip(&mut self, data: &[u8], level: Level<'_>, bufs: &mut [Vec<u8>]) -> Result<(), LayerError> {
        let budget = self.budget;
        // Count central-directory records before the zip reader indexes them: a zip claiming
        // more members than the layer has entries left fails here, before any allocation.
        let declared = memchr::memmem::find_iter(data, b"PK\x01\x02").count() as u64;
        budget.reserve_entries(declared)?;
        budget.release_entries(declared);
        let mut archive =
            zip::ZipArchive::new(Cursor::new(data)).map_err(|e| LayerError::Corrupt(format!("zip: {e}")))?;
        // Allocated at the first deflated member, then reset (not reallocated) for each next one.
        let mut inflater: Option<Inflater> = None;
        for i in 0..archive.len() {
            budget.check_time()?;
            budget.add_entry()?;
            let mut member = match archive.by_index_raw(i) {
                Ok(m) => ZipMember::of(&m),
                Err(e) => {
                    let name = level.member_path(&format!("#{i}"));
                    self.skip(&name, SkipReason::Unreadable(e.to_string()));
                    continue;
                }
            };
            let mut name = std::mem::take(&mut member.name);
            let too_long = cut_name(&mut name, budget.limits().max_path_length);
            let path = level.member_path(&path::normalise(&name));
            if let Some(len) = too_long {
                let limit = budget.limits().max_path_length;
                self.skip(&path, SkipReason::PathTooLong { len, limit });
            }
            if member.name_only {
                self.scan_name_only(&path);
                continue;
            }
            let length = Length::Known(member.size);
            let scanned = match member.deflated_data(data) {
                // Deflate, nearly every member of real jars and wheels: ISA-L straight from the
                // archive's bytes.
                Some(Ok(stream)) => {
                    let inflater = inflater.get_or_insert_with(Inflater::new);
                    let compressed = stream.len() as u64;
                    let mut reader = OutputReader::nested(inflater.stream(stream), budget, compressed);
                    self.scan_file(&mut reader, &path, length, member.executable, level, bufs)
                }
                Some(Err(reason)) => Err(LayerError::Corrupt(reason)),
                // Stored, or a method the zip reader knows or refuses by name.
                None => match archive.by_index(i) {
                    Ok(mut m) => {
                        let mut reader = OutputReader::nested(&mut m, budget, member.compressed);
                        self.scan_file(&mut reader, &path, length, member.executable, level, bufs)
                    }
                    Err(e) => Err(LayerError::Corrupt(e.to_string())),
                },
            };
            if let Err(e) = scanned {
                self.file_failed(&path, e, SkipReason::Unreadable)?;
            }
        }
        Ok(())
    }

    /// The data of a GNU long-name entry (already checked against the path limit): a
    /// NUL-terminated path.
    fn read_long_name(&self, entry: &mut dyn Read, size: u64) -> Result<Vec<u8>, LayerError> {
        let mut name = self.read_small(entry, size)?;
        while name.last() == Some(&0) {
            name.pop();
        }
        Ok(name)
    }

    /// The `path` record of a pax extended header, if it has one.
    fn read_pax_path(&self, entry: &mut dyn Read, size: u64) -> Result<Option<Vec<u8>>, LayerError> {
        if size > MAX_PAX_BYTES {
            return Err(LayerError::Corrupt(format!("pax header of {size} bytes (limit {MAX_PAX_BYTES})")));
        }
        let data = self.read_small(entry, size)?;
        let mut path = None;
        for record in pax_records(&data) {
            let (key, value) = record.ok_or_else(|| LayerError::Corrupt("malformed pax header".into()))?;
            if key == b"path" {
                path = Some(value.to_vec());
            }
        }
        Ok(path)
    }

    /// Reads a small, already size-checked entry body.
    fn read_small(&self, entry: &mut dyn Read, size: u64) -> Result<Vec<u8>, LayerError> {
        let n = usize::try_from(size).map_err(|_| LayerError::Corrupt("header size overflows".into()))?;
        let mut data = vec![0; n];
        entry.read_exact(&mut data).map_err(|e| self.budget.classify(&e))?;
        Ok(data)
    }
}

/// Cuts `name` to `limit` bytes when it is longer; gives its length then.
fn cut_name(name: &mut Vec<u8>, limit: u32) -> Option<u64> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let len = name.len();
    (len > limit).then(|| {
        name.truncate(limit);
        len as u64
    })
}

/// The records of a pax extended header: `"<len> <key>=<value>\n"`, where `<len>` counts the
/// whole record. Yields `None` for a malformed record (and then stops).
fn pax_records(mut data: &[u8]) -> impl Iterator<Item = Option<(&[u8], &[u8])>> {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        let record = (|| {
            let space = memchr::memchr(b' ', data)?;
            let len: usize = std::str::from_utf8(&data[..space]).ok()?.parse().ok()?;
            if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
                return None;
            }
            let body = &data[space + 1..len - 1];
            let eq = memchr::memchr(b'=', body)?;
            let rest = &data[len..];
            Some(((&body[..eq], &body[eq + 1..]), rest))
        })();
        match record {
            Some((kv, rest)) => {
                data = rest;
                Some(Some(kv))
            }
            None => {
                data = &[];
                Some(None)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_parse_and_reject_garbage() {
        let data = b"30 mtime=1432668921.098285006\n27 path=very/long/name.txt\n";
        let records: Vec<_> = pax_records(data).collect();
        assert_eq!(
            records,
            vec![
                Some((&b"mtime"[..], &b"1432668921.098285006"[..])),
                Some((&b"path"[..], &b"very/long/name.txt"[..]))
            ]
        );
        assert_eq!(pax_records(b"99 path=x\n").collect::<Vec<_>>(), vec![None]);
        assert_eq!(pax_records(b"abc").collect::<Vec<_>>(), vec![None]);
        assert_eq!(pax_records(b"").count(), 0);
    }
}
