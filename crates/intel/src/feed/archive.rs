//! WhoisDS-style daily newly-registered-domain archives: a zip holding `domain-names.txt`, one
//! domain per line, dated by the archive's *file name* (`2026-11-27.zip`,
//! `domain-names-2026-11-27.zip`) — the list itself carries no dates.
//!
//! Archives come from the internet: the member is read through a hard size limit (a daily list
//! is a few megabytes; a zip bomb stops at [`MAX_ARCHIVE_TEXT`]), and a zip that is not such an
//! archive is an error, not an empty feed.

use std::io::{Cursor, Read};

use chrono::NaiveDate;

use super::FeedError;

/// Most bytes read from the domain list inside an archive (256 MiB, some fifty times a busy day).
pub const MAX_ARCHIVE_TEXT: u64 = 256 * 1024 * 1024;

/// The member WhoisDS names its list.
const MEMBER: &str = "domain-names.txt";

/// Whether the bytes start like a zip archive.
pub(super) fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// The first `limit` bytes of the archive's domain list: `domain-names.txt` wherever it sits in
/// the archive, else its only `.txt` member. `Ok((text, complete))`.
pub(super) fn domain_list(bytes: &[u8], limit: u64) -> Result<(Vec<u8>, bool), FeedError> {
    let bad = |reason: String| FeedError::Archive { reason };
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(format!("not a readable zip: {e}")))?;
    let mut names = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let member = zip.by_index(i).map_err(|e| bad(format!("member #{i}: {e}")))?;
        if !member.is_dir() {
            names.push((i, String::from_utf8_lossy(member.name_raw()).into_owned()));
        }
    }
    let base = |n: &str| n.rsplit('/').next().unwrap_or(n).to_ascii_lowercase();
    let txt: Vec<&(usize, String)> = names.iter().filter(|(_, n)| base(n).ends_with(".txt")).collect();
    let index = names
        .iter()
        .find(|(_, n)| base(n) == MEMBER)
        .or(if txt.len() == 1 { txt.first().copied() } else { None })
        .map(|(i, _)| *i)
        .ok_or_else(|| {
            bad(format!(
                "no {MEMBER} (nor a single .txt member) among {} member(s): {:?}",
                names.len(),
                names.iter().take(5).map(|(_, n)| n.as_str()).collect::<Vec<_>>()
            ))
        })?;
    let member = zip.by_index(index).map_err(|e| bad(format!("{MEMBER}: {e}")))?;
    let mut text = Vec::new();
    member.take(limit.saturating_add(1)).read_to_end(&mut text).map_err(|e| bad(format!("{MEMBER}: {e}")))?;
    let complete = text.len() as u64 <= limit;
    text.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok((text, complete))
}

/// The first `YYYY-MM-DD` in a file name (`2026-11-27.zip`, `domain-names-2026-11-27.zip`,
/// `nrd-2022-06-01.txt`).
pub(crate) fn date_in_name(name: &str) -> Option<NaiveDate> {
    // Shape first: chrono's `%Y` takes a sign, so `-2026-11-2` would parse as year -2026.
    let shaped = |s: &str| {
        s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() })
    };
    let bytes = name.as_bytes();
    let digit_at = |i: Option<usize>| i.and_then(|i| bytes.get(i)).is_some_and(u8::is_ascii_digit);
    (0..name.len()).find_map(|i| {
        let candidate = name.get(i..i + 10)?;
        let bounded = !digit_at(i.checked_sub(1)) && !digit_at(Some(i + 10));
        (bounded && shaped(candidate))
            .then(|| NaiveDate::parse_from_str(candidate, "%Y-%m-%d").ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in members {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn the_list_is_read_through_a_limit() {
        let big = b"a-domain.com\n".repeat(1_000);
        let bytes = zip_of(&[("domain-names.txt", &big)]);
        let (head, complete) = domain_list(&bytes, 100).unwrap();
        assert_eq!((head.len(), complete), (100, false));
        let (all, complete) = domain_list(&bytes, big.len() as u64).unwrap();
        assert_eq!((all, complete), (big, true));
    }

    #[test]
    fn the_member_is_found_by_name_or_as_the_only_text() {
        let named = zip_of(&[("notes.txt", b"x"), ("dir/Domain-Names.TXT", b"y.com\n")]);
        assert_eq!(domain_list(&named, 10).unwrap().0, b"y.com\n");
        let only = zip_of(&[("list.txt", b"z.com\n"), ("LICENSE", b"...")]);
        assert_eq!(domain_list(&only, 10).unwrap().0, b"z.com\n");
        let none = zip_of(&[("a.csv", b"z.com\n")]);
        assert!(matches!(domain_list(&none, 10), Err(FeedError::Archive { .. })));
        assert!(matches!(domain_list(b"PK\x03\x04junk", 10), Err(FeedError::Archive { .. })));
    }

    #[test]
    fn dates_come_from_file_names() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 27);
        assert_eq!(date_in_name("2026-11-27.zip"), d);
        assert_eq!(date_in_name("domain-names-2026-11-27.zip"), d);
        assert_eq!(date_in_name("nrd_2026-11-27_free.zip"), d);
        assert_eq!(date_in_name("domain-names.zip"), None);
        assert_eq!(date_in_name("2026-13-01.zip"), None);
        assert_eq!(date_in_name("é2026-11-27.zip"), d, "multi-byte names");
        assert_eq!(date_in_name("nrd-12026-11-27.zip"), None, "no signs, no five-digit years");
    }
}
