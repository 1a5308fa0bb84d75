//! The one definition of a string enum: a closed set of ids, each with one canonical text form
//! that is its database value, its JSON value and its `Display`, parsed back by `FromStr`.
//!
//! Categories, confidences, indicator kinds, badges, exclusion reasons and stages are all this
//! shape; writing `as_str`, `ALL`, `Display`, `FromStr` and serde's names by hand six times is
//! six chances for one spelling to drift from another. [`string_enum!`] declares the enum and
//! derives all of them from one list of `Variant = "id"` pairs.

/// Declares `enum $name` with its ids: `ALL` (declaration order), `as_str`, `Display`,
/// `FromStr` (failing with a [`ParseError`](crate::ParseError) naming `$what`), and serde's
/// names. Derives `Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord` (ordering is the
/// declaration order).
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $id:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $id)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($id),+].len()] = [$($name::$variant),+];

            /// The canonical id: the database, JSON and text form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $id, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
                    crate::ParseError::new($what, s, concat!("expected one of: ", $($id, " "),+).trim_end())
                })
            }
        }
    };
}

pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use crate::{Badge, Category, Confidence, ExclusionReason, IndicatorKind, Stage};

    /// serde's name, `Display` and `FromStr` agree for every value of every string enum.
    fn round_trips<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr + serde::Serialize,
        T::Err: std::fmt::Debug,
    {
        for v in all {
            let text = v.to_string();
            assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{text}\""));
            assert_eq!(text.parse::<T>().unwrap(), *v);
        }
    }

    #[test]
    fn every_string_enum_has_one_spelling_per_value() {
        round_trips(&Category::ALL);
        round_trips(&Confidence::ALL);
        round_trips(&IndicatorKind::ALL);
        round_trips(&Badge::ALL);
        round_trips(&ExclusionReason::ALL);
        round_trips(&Stage::ALL);
        assert_eq!(Stage::ScanLayer.as_str(), "scan_layer");
        assert_eq!(ExclusionReason::SponsoredOss.as_str(), "sponsored_oss");
        let err = "nope".parse::<Confidence>().unwrap_err().to_string();
        assert!(err.contains("confidence") && err.contains("low medium high"), "{err}");
    }
}
