//! An OCI image layout served as a registry: the distribution API's manifest and blob GETs (and
//! HEADs) over the layout's files, without authentication, on a loopback port. It serves the
//! files as they are on disk, so a test that tampers with a blob file gets a registry that
//! lies about that blob — and the same image scanned as `oci:DIR` and as `docker://` must give
//! the same report.

use std::path::PathBuf;

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::Value;

/// Serves `dir` on `127.0.0.1:0` until the test's runtime ends; returns `HOST:PORT`.
pub(crate) async fn serve(dir: PathBuf) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let router = Router::new().route("/v2/{*path}", get(answer)).with_state(dir);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    host
}

/// `/v2/NS/NAME/manifests/REF` (a tag of index.json or a digest) and `/v2/NS/NAME/blobs/DIGEST`;
/// the repository name is not checked: the layout is the only repository. (axum answers HEAD
/// with this GET handler, body left out.)
async fn answer(State(dir): State<PathBuf>, Path(path): Path<String>) -> Response {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [_, _, "manifests", reference] => manifest(&dir, reference),
        [_, _, "blobs", digest] => match blob(&dir, digest) {
            Some(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
            None => unknown("BLOB_UNKNOWN"),
        },
        _ => unknown("NAME_UNKNOWN"),
    }
}

fn manifest(dir: &std::path::Path, reference: &str) -> Response {
    let digest = if reference.starts_with("sha256:") {
        reference.to_owned()
    } else {
        let index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        let tagged = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["annotations"]["org.opencontainers.image.ref.name"].as_str() == Some(reference));
        match tagged {
            Some(d) => d["digest"].as_str().unwrap().to_owned(),
            None => return unknown("MANIFEST_UNKNOWN"),
        }
    };
    let Some(bytes) = blob(dir, &digest) else { return unknown("MANIFEST_UNKNOWN") };
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let media_type = doc["mediaType"].as_str().unwrap().to_owned();
    (
        [
            (header::CONTENT_TYPE, media_type),
            (header::HeaderName::from_static("docker-content-digest"), digest),
        ],
        bytes,
    )
        .into_response()
}

fn blob(dir: &std::path::Path, digest: &str) -> Option<Vec<u8>> {
    let hex = digest.strip_prefix("sha256:")?;
    std::fs::read(dir.join("blobs/sha256").join(hex)).ok()
}

fn unknown(code: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "code": code, "message": "unknown", "detail": null }] });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}
