//! Names files: one `namespace/name` per line (a public name dump, a list to re-check), looked up
//! one by one with the repository-detail endpoint.
//!
//! A dump can hold millions of lines, so it becomes many tasks of a few hundred lines each; the
//! seeding pass records each chunk's byte offset, so a worker seeks to its chunk instead of
//! reading the file from the top. Blank lines and `#` comments are skipped; a line that is not
//! a repository name is reported as a note, never fatal. A name the detail endpoint does not
//! know (404: private or gone) is still recorded — as unavailable — because the frame is data.

use std::{
    io::{BufRead as _, BufReader, Seek as _, SeekFrom},
    path::{Path, PathBuf},
};

use futures_util::{StreamExt as _, stream};
use hubcensus_types::{Badge, RepoRef};

use crate::{
    DiscoveredRepo, HubClient, HubError, RepoSummary, Source, TaskOutcome, classify, task::OutcomeBuilder,
};

/// Splits a names file into `(start_line, lines, byte_offset)` chunks of `per_chunk` lines.
pub(crate) fn chunks(path: &Path, per_chunk: u64) -> Result<Vec<(u64, u64, u64)>, HubError> {
    let per_chunk = per_chunk.max(1);
    let err = |source| HubError::NamesFile { path: path.to_owned(), source };
    let mut reader = BufReader::new(std::fs::File::open(path).map_err(err)?);
    let (mut out, mut line, mut offset, mut buf) = (Vec::new(), 0u64, 0u64, Vec::new());
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(err)? as u64;
        if n == 0 {
            break;
        }
        if line.is_multiple_of(per_chunk) {
            out.push((line, 0, offset));
        }
        if let Some(last) = out.last_mut() {
            last.1 += 1;
        }
        line += 1;
        offset += n;
    }
    Ok(out)
}

/// One line of a chunk: its number and text, or why it is not text.
type Line = (u64, Result<String, String>);

/// Reads `lines` lines from `byte_offset` (blocking: run off the runtime).
fn read_chunk(path: &Path, byte_offset: u64, start_line: u64, lines: u64) -> Result<Vec<Line>, HubError> {
    let err = |source| HubError::NamesFile { path: path.to_owned(), source };
    let mut file = std::fs::File::open(path).map_err(err)?;
    file.seek(SeekFrom::Start(byte_offset)).map_err(err)?;
    let mut reader = BufReader::new(file);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for i in 0..lines {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(err)? == 0 {
            break;
        }
        let text = String::from_utf8(buf.clone()).map_err(|_| "not UTF-8".to_owned());
        out.push((start_line + i, text));
    }
    Ok(out)
}

/// Runs one names-file chunk.
pub(crate) async fn run(
    client: &HubClient,
    path: &Path,
    start_line: u64,
    lines: u64,
    byte_offset: u64,
) -> Result<TaskOutcome, HubError> {
    let owned: PathBuf = path.to_owned();
    let chunk = tokio::task::spawn_blocking(move || read_chunk(&owned, byte_offset, start_line, lines))
        .await
        .map_err(|e| HubError::NamesFile { path: path.to_owned(), source: std::io::Error::other(e) })??;
    let mut out = OutcomeBuilder::default();
    let mut names: Vec<RepoRef> = Vec::new();
    for (number, text) in chunk {
        let line = match text {
            Ok(line) => line,
            Err(why) => {
                out.note(format!("{}:{}: {why}", path.display(), number + 1));
                continue;
            }
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.parse::<RepoRef>() {
            Ok(r) if !names.contains(&r) => names.push(r),
            Ok(_) => {}
            Err(e) => out.note(format!("{}:{}: {e}", path.display(), number + 1)),
        }
    }
    out.reported(Some(names.len() as u64));
    let config = client.config();
    let lookups: Vec<(RepoRef, Result<RepoSummary, HubError>)> = stream::iter(names)
        .map(|reference| async move {
            let result = client.repository(&reference).await;
            (reference, result)
        })
        .buffer_unordered(config.detail_concurrency.max(1))
        .collect()
        .await;
    for (reference, result) in lookups {
        let summary = match result {
            Ok(summary) => summary,
            Err(HubError::NotFound { .. }) => RepoSummary {
                badge: reference.is_official().then_some(Badge::Official),
                unavailable: Some(true),
                ..RepoSummary::default()
            },
            // The whole chunk is retried later; every lookup is idempotent.
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                out.note(format!("{reference}: {e}"));
                continue;
            }
        };
        let exclusion = classify(&reference, &summary, &config.exclude);
        out.push_repo(DiscoveredRepo { reference, summary, exclusion, source: Source::NamesFile });
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_carry_their_byte_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("names.txt");
        std::fs::write(&path, "a/b\n# comment\n\nnginx\nc/d\ne/f").unwrap();
        let found = chunks(&path, 2).unwrap();
        assert_eq!(found, [(0, 2, 0), (2, 2, 14), (4, 2, 21)]);
        let lines = read_chunk(&path, 21, 4, 2).unwrap();
        let texts: Vec<String> = lines.into_iter().map(|(_, t)| t.unwrap()).collect();
        assert_eq!(texts, ["c/d\n", "e/f"]);
        std::fs::write(&path, "").unwrap();
        assert!(chunks(&path, 2).unwrap().is_empty());
    }
}
