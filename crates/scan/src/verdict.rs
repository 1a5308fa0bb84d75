//! Image verdicts: which findings of a lower layer an upper layer deletes.
//!
//! A file deleted by an upper layer is gone from the container's filesystem but still in the
//! image: anyone who pulls the image downloads the lower layer's blob and can read it. So such
//! findings are kept and flagged `deleted_in_upper_layer`, and the census counts images whose
//! only evidence is deleted apart from the others. The rules are the OCI image spec's whiteouts,
//! exactly as the SQL view `image_findings` (migrations/) applies them ([`Whiteout::deletes`]).

use hubcensus_types::{Finding, Whiteout};

/// Flags findings that an upper layer deletes. `layers[i]` holds layer *i*'s findings (bottom
/// first) and `whiteouts[i]` its whiteouts; findings of layer *i* are compared with the
/// whiteouts of layers *i+1...*. Findings already flagged stay flagged.
pub fn mark_deleted(layers: &mut [&mut [Finding]], whiteouts: &[&[Whiteout]]) {
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

    fn wh(path: &str) -> Whiteout {
        Whiteout { path: path.into(), opaque: false }
    }

    fn opq(path: &str) -> Whiteout {
        Whiteout { path: path.into(), opaque: true }
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
