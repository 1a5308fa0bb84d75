//! Reading responses: bounded bodies, and non-success statuses turned into errors that carry
//! the registry's own error codes.

use hubcensus_net::Response;
use reqwest::{StatusCode, header::HeaderName};

use crate::{ErrorEnvelope, RegistryError, RegistryErrorCode};

/// Error bodies are read only this far: they are a line of JSON, or an HTML page we ignore.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// A header as text, if present and printable.
pub(crate) fn header<'a>(response: &'a Response, name: &HeaderName) -> Option<&'a str> {
    response.inner.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Reads the whole body, refusing more than `limit` bytes (checked against Content-Length
/// first, then while reading, so a lying length cannot make us buffer more).
pub(crate) async fn read_limited(
    response: &mut Response,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, RegistryError> {
    let too_large = || RegistryError::TooLarge { what: what.to_owned(), limit };
    if response.inner.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match response.inner.chunk().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(source) => return Err(RegistryError::Interrupted { what: what.to_owned(), source }),
        }
    }
}

/// The error for a response this operation cannot use: 404 (and the spec's `*_UNKNOWN` codes)
/// is [`RegistryError::NotFound`]; anything else [`RegistryError::Status`] with the envelope's
/// codes and messages.
pub(crate) async fn status_error(mut response: Response, what: &str) -> RegistryError {
    let status = response.inner.status();
    let url = response.final_url.to_string();
    let body = read_limited(&mut response, MAX_ERROR_BODY, what).await.unwrap_or_default();
    let envelope = ErrorEnvelope::parse(&body);
    let unknown = envelope.as_ref().is_some_and(|e| {
        e.has(&RegistryErrorCode::ManifestUnknown)
            || e.has(&RegistryErrorCode::BlobUnknown)
            || e.has(&RegistryErrorCode::NameUnknown)
    });
    let detail = envelope
        .map(|e| e.errors.iter().map(|(c, m)| format!("{c:?}: {m}")).collect::<Vec<_>>().join("; "))
        .unwrap_or_default();
    if status == StatusCode::NOT_FOUND || unknown {
        let reason = if detail.is_empty() { format!("{status}") } else { format!("{status}: {detail}") };
        return RegistryError::NotFound { what: what.to_owned(), reason };
    }
    RegistryError::Status { url, status: status.as_u16(), detail }
}
