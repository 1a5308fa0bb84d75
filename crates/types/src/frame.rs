//! The sampling frame's vocabulary: Docker Hub badges and the reasons a repository is excluded.

use crate::string_enum::string_enum;

string_enum! {
    /// The trust badge Docker Hub's v4 search gives a repository. The namespace, repository and tag
    /// endpoints carry no badge at all; only search does.
    pub enum Badge("badge") {
        /// Docker Official Image (`library/` namespace).
        Official = "official",
        /// Docker Verified Publisher.
        VerifiedPublisher = "verified_publisher",
        /// Docker-Sponsored Open Source (`open_source` in the API).
        OpenSource = "open_source",
        /// Community content (`none`, or a null badge).
        None = "none",
    }
}

impl Badge {
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

string_enum! {
    /// Why a repository seen by discovery is left out of the analysed sample. Recorded per
    /// repository: the frame is part of the result.
    pub enum ExclusionReason("exclusion reason") {
        /// `library/` namespace, or the `official` badge.
        Official = "official",
        /// The `verified_publisher` badge.
        VerifiedPublisher = "verified_publisher",
        /// The `open_source` (Docker-Sponsored Open Source) badge.
        SponsoredOss = "sponsored_oss",
        /// No tags / no image content at all (metadata-only repositories).
        Imageless = "imageless",
        /// Hub reports the repository inactive (`status` 0, `status_description` `inactive`:
        /// nothing in it pushed or pulled for six months). Only namespace listings and the
        /// repository detail say; search hits do not.
        Inactive = "inactive",
        /// Not an image: plugins, helm charts, wasm, models.
        NotImage = "not_image",
        /// Private, or gone (the registry answers 401 for both).
        Unavailable = "unavailable",
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
