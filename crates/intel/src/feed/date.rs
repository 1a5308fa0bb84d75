//! The date in a feed file's name: daily lists (`nrd-2022-06-01.txt`, WhoisDS's
//! `2026-11-27.zip`) date every entry by the file, and both `hubcensus feeds import` and
//! `hubcensus scan --feed` read it the same way.

use chrono::NaiveDate;

/// The first `YYYY-MM-DD` in a file name (`nrd-2022-06-01.txt`): the date of a feed file that
/// does not date its entries. The shape is checked first: chrono alone reads
/// `-2022-04-1` (of `nrd-2022-04-16`) as a date in the year -2022.
pub fn date_in_name(name: &str) -> Option<NaiveDate> {
    let shaped = |c: &[u8]| {
        c.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() })
    };
    name.as_bytes().windows(10).enumerate().find_map(|(i, candidate)| {
        if !shaped(candidate) {
            return None;
        }
        NaiveDate::parse_from_str(name.get(i..i + 10)?, "%Y-%m-%d").ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_come_from_names() {
        assert_eq!(date_in_name("nrd-2022-06-01.txt"), NaiveDate::from_ymd_opt(2022, 6, 1));
        assert_eq!(date_in_name("urlhaus.csv"), None);
        assert_eq!(date_in_name("nrd-2022-04-16.txt"), NaiveDate::from_ymd_opt(2022, 4, 16));
        assert_eq!(date_in_name("2022-13-01.txt"), None);
    }
}
