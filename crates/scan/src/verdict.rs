//! Image verdicts: which findings of a lower layer an upper layer deletes.
//!
//! A file deleted by an upper layer is gone from the container's filesystem but still in the
//! image: anyone who pulls the image downloads the lower layer's blob and can read it. So such
//! findings are kept and flagged `deleted_in_upper_layer`, and the census counts images whose
//! only evidence is deleted apart from the others. The rules are the OCI image spec's whiteouts,
//! exactly as the SQL view `image_findings` (migrations/) applies them:
//!
//! - `.wh.NAME` in layer *n* deletes `NAME` and everything below it, in layers below *n*;
//! - `.wh..wh..opq` in directory `D` of layer *n* hides everything below `D` (not `D` itself)
//!   in layers below *n*;
//! - a path inside a nested archive (`app.jar!/x`) is deleted with its archive, and an opaque
//!   whiteout at the root (path `""`) hides everything below.

use hubcensus_types::Finding;

/// One whiteout of one layer: a deleted path, or an opaque directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// The deleted path, or the opaque directory (no leading `/`; `""` is the root).
    pub path: String,
    /// Whether this is an opaque-directory marker.
    pub opaque: bool,
}

impl Deletion {
    /// Whether this whiteout, in an upper layer, removes `path` of a lower layer.
    pub fn deletes(&self, path: &str) -> bool {
        let w = self.path.trim_end_matches('/');
        if w.is_empty() {
            return self.opaque;
        }
        let Some(rest) = path.strip_prefix(w) else {
            return false;
        };
        if rest.is_empty() {
            return !self.opaque;
        }
        rest.starts_with('/') || (!self.opaque && rest.starts_with("!/"))
    }
}

/// Flags findings that an upper layer deletes. `layers[i]` holds layer *i*'s findings (bottom
/// first) and `whiteouts[i]` its whiteouts; findings of layer *i* are compared with the
/// whiteouts of layers *i+1...*. Findings already flagged stay flagged.
pub fn mark_deleted(layers: &mut [&mut [Finding]], whiteouts: &[&[Deletion]]) {
    for (position, findings) in layers.iter_mut().enumerate() {
        let upper = whiteouts.get(position + 1..).unwrap_or(&[]);
        if upper.iter().all(|w| w.is_empty()) {
            continue;
        }
        for finding in findings.iter_mut() {
            if upper.iter().flat_map(|w| w.iter()).any(|w| w.deletes(&finding.path)) {
                finding.deleted_in_upper_layer = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use hubcensus_types::{Category, Confidence, Digest, Fingerprint, Subject};

    use super::*;

    fn finding(layer: usize, path: &str) -> Finding {
        Finding {
            category: Category::EmbeddedKeys,
            rule: "pem_private_key".into(),
            confidence: Confidence::High,
            subject: Subject::Layer(Digest::sha256_of(&[layer as u8])),
            path: path.into(),
            preview: "-----BEGIN…-- (len 1700)".into(),
            fingerprint: Fingerprint::of(path.as_bytes()),
            deleted_in_upper_layer: false,
            detail: Default::default(),
        }
    }

    fn wh(path: &str) -> Deletion {
        Deletion { path: path.into(), opaque: false }
    }

    fn opq(path: &str) -> Deletion {
        Deletion { path: path.into(), opaque: true }
    }

    #[test]
    fn a_plain_whiteout_deletes_the_path_and_everything_below_it() {
        let w = wh("root/.ssh");
        assert!(w.deletes("root/.ssh"));
        assert!(w.deletes("root/.ssh/id_rsa"));
        assert!(!w.deletes("root/.sshx/id_rsa"), "a sibling with a longer name is not below it");
        assert!(!w.deletes("root"));
        assert!(wh("opt/app.jar").deletes("opt/app.jar!/BOOT-INF/application.yml"));
    }

    #[test]
    fn an_opaque_directory_hides_its_contents_not_itself() {
        let w = opq("etc/ssl");
        assert!(w.deletes("etc/ssl/private/key.pem"));
        assert!(!w.deletes("etc/ssl"));
        assert!(!w.deletes("etc/ssl.conf"));
        assert!(opq("").deletes("anything/at/all"));
        assert!(!wh("").deletes("anything"), "a plain whiteout needs a name");
    }

    #[test]
    fn only_upper_layers_delete() {
        let mut l0 = vec![finding(0, "root/.ssh/id_rsa"), finding(0, "usr/bin/xmrig")];
        let mut l1 = vec![finding(1, "etc/app/key.pem")];
        let mut l2 = vec![finding(2, "root/.ssh/id_rsa")];
        let w0 = vec![wh("etc/app")];
        let w1 = vec![wh("root/.ssh")];
        let w2 = vec![opq("etc/app")];
        mark_deleted(&mut [&mut l0, &mut l1, &mut l2], &[&w0, &w1, &w2]);
        assert!(l0[0].deleted_in_upper_layer, "layer 1 deletes layer 0's key");
        assert!(!l0[1].deleted_in_upper_layer);
        assert!(l1[0].deleted_in_upper_layer, "layer 2's opaque dir hides layer 1's file");
        assert!(!l2[0].deleted_in_upper_layer, "a whiteout never deletes its own or a higher layer's file");
    }
}
