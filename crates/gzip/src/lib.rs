//! DEFLATE through ISA-L's inflate (igzip), the fastest streaming DEFLATE decoder there is:
//! gzip layers ([`GzipDecoder`]) and the raw DEFLATE members of zip archives ([`Inflater`]).
//!
//! Most Docker Hub layers are gzip, so inflate sets the pace of a census. zlib-rs runs at
//! zlib's speed; ISA-L's hand-written AVX2/AVX-512 decoder is 1.4× faster on the same layer and
//! streams (libdeflate, faster still, needs the whole stream and its whole output in memory,
//! which a 2 GiB layer under a 256 MiB bound cannot give). On the thousands of small members
//! of jars and wheels it is faster still, because its Huffman tables are cheaper to build.
//! `docs/decisions/0002-gzip-backend.md` has the measurements.
//!
//! ISA-L parses the gzip header and trailer itself and verifies each member's CRC-32 and size,
//! so a flipped bit or a cut stream is an error here, never silently short output. Members are
//! read one after another (eStargz and concatenating tools write many); a stream that ends
//! inside a member is `UnexpectedEof`, which the walker records as a truncated layer.
//!
//! ISA-L is the `isal` feature, off by default so that `cargo build` and `cargo install` work on
//! any machine: without it the same types decode through zlib-rs (flate2), pure Rust, with the
//! same contract at zlib's speed. `make` turns the feature on when the library is installed.
//! The library is Debian's `libisal2` (`libisal-dev` to build), linked through isal-sys'
//! generated bindings; their `inflate_state` layout is that of ISA-L 2.30 (checked field by
//! field against Debian 12's header). Every `unsafe` block is in `state.rs`.

#[cfg(feature = "isal")]
mod deflate;
#[cfg(all(test, feature = "isal"))]
mod differential;
#[cfg(feature = "isal")]
mod gzip;
#[cfg(feature = "isal")]
mod state;
#[cfg(not(feature = "isal"))]
mod zlib;

#[cfg(feature = "isal")]
pub use deflate::{DeflateReader, Inflater};
#[cfg(feature = "isal")]
pub use gzip::GzipDecoder;
#[cfg(not(feature = "isal"))]
pub use zlib::{DeflateReader, GzipDecoder, Inflater};

/// Which inflate this build uses: `"isal"` (ISA-L's igzip, the `isal` feature) or `"zlib-rs"`
/// (pure Rust, the default), for logs and benchmarks.
pub const BACKEND: &str = if cfg!(feature = "isal") { "isal" } else { "zlib-rs" };
