//! The sampling frame's vocabulary: Docker Hub badges and the reasons a repository is excluded.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::ParseError;

/// The trust badge Docker Hub's v4 search gives a repository. The namespace, repository and tag
/// endpoints carry no badge at all; only search does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Badge {
    /// Docker Official Image (`library/` namespace).
    Official,
    /// Docker Verified Publisher.
    VerifiedPublisher,
    /// Docker-Sponsored Open Source (`open_source` in the API).
    OpenSource,
    /// Community content (`none`, or a null badge).
    None,
}

impl Badge {
    /// Every badge.
    pub const ALL: [Badge; 4] = [Badge::Official, Badge::VerifiedPublisher, Badge::OpenSource, Badge::None];

    /// The API spelling (`verified_publisher`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Badge::Official => "official",
            Badge::VerifiedPublisher => "verified_publisher",
            Badge::OpenSource => "open_source",
            Badge::None => "none",
        }
    }

    /// The exclusion this badge implies in a community census, if any.
    pub const fn exclusion(self) -> Option<ExclusionReason> {
        match self {
            Badge::Official => Some(ExclusionReason::Official),
            Badge::VerifiedPublisher => Some(ExclusionReason::VerifiedPublisher),
            Badge::OpenSource => Some(ExclusionReason::SponsoredOss),
            Badge::None => None,
        }
    }
}

impl fmt::Display for Badge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Badge {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Badge::ALL.into_iter().find(|b| b.as_str() == s).ok_or_else(|| {
            ParseError::new("badge", s, "expected official, verified_publisher, open_source or none")
        })
    }
}

/// Why a repository seen by discovery is left out of the analysed sample. Recorded per
/// repository: the frame is part of the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionReason {
    /// `library/` namespace, or the `official` badge.
    Official,
    /// The `verified_publisher` badge.
    VerifiedPublisher,
    /// The `open_source` (Docker-Sponsored Open Source) badge.
    SponsoredOss,
    /// No tags / no image content at all (metadata-only repositories).
    Imageless,
    /// Not pushed or pulled within the census window.
    Inactive,
    /// Not an image: plugins, helm charts, wasm, models.
    NotImage,
    /// Private, or gone (the registry answers 401 for both).
    Unavailable,
}

impl ExclusionReason {
    /// Every reason.
    pub const ALL: [ExclusionReason; 7] = [
        ExclusionReason::Official,
        ExclusionReason::VerifiedPublisher,
        ExclusionReason::SponsoredOss,
        ExclusionReason::Imageless,
        ExclusionReason::Inactive,
        ExclusionReason::NotImage,
        ExclusionReason::Unavailable,
    ];

    /// The canonical id (`sponsored_oss`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ExclusionReason::Official => "official",
            ExclusionReason::VerifiedPublisher => "verified_publisher",
            ExclusionReason::SponsoredOss => "sponsored_oss",
            ExclusionReason::Imageless => "imageless",
            ExclusionReason::Inactive => "inactive",
            ExclusionReason::NotImage => "not_image",
            ExclusionReason::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for ExclusionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExclusionReason {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExclusionReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ParseError::new("exclusion reason", s, "not one of the exclusion ids"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_map_to_exclusions() {
        assert_eq!(Badge::Official.exclusion(), Some(ExclusionReason::Official));
        assert_eq!(Badge::OpenSource.exclusion(), Some(ExclusionReason::SponsoredOss));
        assert_eq!(Badge::None.exclusion(), None);
        for r in ExclusionReason::ALL {
            assert_eq!(r.as_str().parse::<ExclusionReason>().unwrap(), r);
        }
    }
}
