//! An overlay whiteout: what a layer deletes from the layers below it.
//!
//! One type for one idea: the layer walker finds whiteouts, the scan engine's verdict applies
//! them to lower layers' findings, and the store records them for the SQL view that applies
//! them in a census. The rules are the OCI image spec's, exactly as the view `image_findings`
//! (migrations/) applies them:
//!
//! - `.wh.NAME` in layer *n* deletes `NAME` and everything below it, in layers below *n*;
//! - `.wh..wh..opq` in directory `D` of layer *n* hides everything below `D` (not `D` itself)
//!   in layers below *n*;
//! - a path inside a nested archive (`app.jar!/x`) is deleted with its archive, and an opaque
//!   whiteout at the root (path `""`) hides everything below.

use serde::{Deserialize, Serialize};

/// An overlay whiteout: the layer deletes a path of the layers below it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Whiteout {
    /// The deleted path (`etc/key` for `etc/.wh.key`), or for an opaque whiteout the directory
    /// whose lower contents are hidden (`etc` for `etc/.wh..wh..opq`; empty for the root). No
    /// leading `/`.
    pub path: String,
    /// Whether the whole directory below is hidden (`.wh..wh..opq`) rather than one name.
    pub opaque: bool,
}

impl Whiteout {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn wh(path: &str) -> Whiteout {
        Whiteout { path: path.into(), opaque: false }
    }

    fn opq(path: &str) -> Whiteout {
        Whiteout { path: path.into(), opaque: true }
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
}
