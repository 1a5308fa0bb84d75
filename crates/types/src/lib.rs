//! Domain types shared by every hubcensus crate.
//!
//! These are the nouns of a registry census — a repository reference, a content digest, a media
//! type, a platform, a finding category — each parsed once at the edge and then passed around as a
//! value that cannot be malformed. The crate does no I/O and knows nothing of HTTP, Postgres or
//! tokio, so the scanner, the crawler, the store and the simulator can all depend on it without
//! dragging each other in.
//!
//! Every type that is stored or printed has one canonical text form (`as_str` / `Display`) which
//! is also its database value and its JSON value; `FromStr` parses it back.

#![deny(missing_docs)]

mod string_enum;

mod category;
mod digest;
mod error;
mod feed_entry;
mod finding;
mod frame;
mod media_type;
mod platform;
mod reference;
mod stage;
mod whiteout;

pub use category::{Category, Confidence};
pub use digest::Digest;
pub use error::{ParseError, error_chain};
pub use feed_entry::FeedEntry;
pub use finding::{Finding, Fingerprint, Indicator, IndicatorKind, Subject, redact};
pub use frame::{Badge, ExclusionReason};
pub use media_type::{Compression, MediaType, MediaTypeKind};
pub use platform::Platform;
pub use reference::RepoRef;
pub use stage::Stage;
pub use whiteout::Whiteout;
