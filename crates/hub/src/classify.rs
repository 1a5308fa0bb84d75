//! The sampling frame's decision: why a repository is left out, from what Hub said about it.

use hubcensus_types::{Badge, ExclusionReason, RepoRef};

use crate::{ExclusionPolicy, RepoSummary};

/// Why the frame leaves `reference` out under `policy`, or `None` to keep it.
///
/// Reasons are tried in a fixed order, and the first one the policy applies wins:
///
/// 1. official — the `library/` namespace, or the `official` badge;
/// 2. verified publisher, 3. sponsored OSS — only v4 search's badge says (reference §1.3);
/// 4. unavailable — private, or the detail endpoint answered 404 (private or gone);
/// 5. imageless — Hub lists no content at all (`content_types` empty): nothing was ever pushed,
///    the metadata-only repositories of JFrog's spam campaigns;
/// 6. not an image — content, but none of it `image` (helm, wasm, models, plugins);
/// 7. inactive — `status_description` is `inactive` (namespace listings and the detail say;
///    search hits do not).
///
/// What the record does not say is not guessed: a v4 hit without content types or status is
/// kept until a listing or the detail says otherwise.
pub fn classify(
    reference: &RepoRef,
    summary: &RepoSummary,
    policy: &ExclusionPolicy,
) -> Option<ExclusionReason> {
    reasons(reference, summary).into_iter().find(|r| policy.excludes(*r))
}

/// Every reason that applies, in precedence order.
fn reasons(reference: &RepoRef, s: &RepoSummary) -> Vec<ExclusionReason> {
    let mut out = Vec::new();
    if reference.is_official() || s.badge == Some(Badge::Official) {
        out.push(ExclusionReason::Official);
    }
    match s.badge {
        Some(Badge::VerifiedPublisher) => out.push(ExclusionReason::VerifiedPublisher),
        Some(Badge::OpenSource) => out.push(ExclusionReason::SponsoredOss),
        _ => {}
    }
    if s.is_private == Some(true) || s.unavailable == Some(true) {
        out.push(ExclusionReason::Unavailable);
    }
    let content = s.content_types.as_deref();
    if content.is_some_and(<[String]>::is_empty) {
        out.push(ExclusionReason::Imageless);
    }
    let not_image_content = content.is_some_and(|c| !c.is_empty() && !c.iter().any(|t| t == "image"));
    let not_image_type = [&s.repository_type, &s.search_type]
        .into_iter()
        .flatten()
        .any(|t| matches!(t.as_str(), "plugin" | "extension"));
    if not_image_content || not_image_type {
        out.push(ExclusionReason::NotImage);
    }
    if s.status.as_deref() == Some("inactive") {
        out.push(ExclusionReason::Inactive);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> RepoRef {
        s.parse().unwrap()
    }

    fn types(t: &[&str]) -> Option<Vec<String>> {
        Some(t.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn precedence_and_policy() {
        let all = ExclusionPolicy::default();
        let community =
            RepoSummary { badge: Some(Badge::None), content_types: types(&["image"]), ..Default::default() };
        assert_eq!(classify(&r("alice/app"), &community, &all), None);
        assert_eq!(classify(&r("nginx"), &community, &all), Some(ExclusionReason::Official));

        let dvp_empty = RepoSummary {
            badge: Some(Badge::VerifiedPublisher),
            content_types: types(&[]),
            ..Default::default()
        };
        assert_eq!(classify(&r("acme/x"), &dvp_empty, &all), Some(ExclusionReason::VerifiedPublisher));
        let mut only_imageless = ExclusionPolicy::keep_all();
        only_imageless.reasons.insert(ExclusionReason::Imageless);
        assert_eq!(classify(&r("acme/x"), &dvp_empty, &only_imageless), Some(ExclusionReason::Imageless));
        assert_eq!(classify(&r("acme/x"), &dvp_empty, &ExclusionPolicy::keep_all()), None);

        let oss = RepoSummary { badge: Some(Badge::OpenSource), ..Default::default() };
        assert_eq!(classify(&r("apache/x"), &oss, &all), Some(ExclusionReason::SponsoredOss));
        let gone = RepoSummary { unavailable: Some(true), ..Default::default() };
        assert_eq!(classify(&r("bob/x"), &gone, &all), Some(ExclusionReason::Unavailable));
    }

    #[test]
    fn content_decides_imageless_and_not_image() {
        let all = ExclusionPolicy::default();
        let helm = RepoSummary { content_types: types(&["helm"]), ..Default::default() };
        assert_eq!(classify(&r("a/chart"), &helm, &all), Some(ExclusionReason::NotImage));
        let mixed = RepoSummary { content_types: types(&["image", "unrecognized"]), ..Default::default() };
        assert_eq!(classify(&r("a/mixed"), &mixed, &all), None);
        let plugin = RepoSummary { repository_type: Some("plugin".into()), ..Default::default() };
        assert_eq!(classify(&r("a/plug"), &plugin, &all), Some(ExclusionReason::NotImage));
        let unknown = RepoSummary { search_type: Some("image".into()), ..Default::default() };
        assert_eq!(classify(&r("a/hit"), &unknown, &all), None, "a search hit alone proves nothing");
        let inactive = RepoSummary {
            content_types: types(&["image"]),
            status: Some("inactive".into()),
            ..Default::default()
        };
        assert_eq!(classify(&r("a/old"), &inactive, &all), Some(ExclusionReason::Inactive));
    }
}
