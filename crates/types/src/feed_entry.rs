//! One value a threat-intelligence feed lists: what intel's parsers produce and the store
//! keeps, as one type.

use chrono::NaiveDate;

use crate::{Category, IndicatorKind};

/// One listed indicator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeedEntry {
    /// What kind of value: `Domain` for a registrable domain, `Host` for a name below one, `Ip`,
    /// `Url`.
    pub kind: IndicatorKind,
    /// The normalised value (the same normalisation as extracted indicators).
    pub value: String,
    /// The category the feed implies.
    pub category: Category,
    /// The date the feed gives it: registration date (NRD), date added (URLhaus), or the date
    /// the caller gave the whole file.
    pub listed_on: Option<NaiveDate>,
}
