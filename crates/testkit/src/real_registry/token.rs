//! The token service: the ES256 JWTs distribution's `token` auth accepts, granting whatever
//! each scope asks, and counting what it issued so a test can prove a client authenticated.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Json,
    extract::{RawQuery, State},
};
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use ring::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair},
};
use serde_json::{Value, json};

use super::ISSUER;

/// Signs tokens with a fresh P-256 key; its self-signed certificate goes in the registry's
/// `rootcertbundle` and in each token's `x5c` header.
pub struct TokenIssuer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    /// The certificate, PEM, for `rootcertbundle`.
    pem: String,
    /// The certificate, base64 DER, for the `x5c` header.
    x5c: String,
    issued: AtomicU64,
    /// Every scope asked for, in order.
    scopes: Mutex<Vec<String>>,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer").field("issued", &self.issued()).finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// A fresh key and its self-signed certificate. A registry trusts only the issuer whose
    /// certificate it was started with: another `TokenIssuer` forges tokens it must refuse.
    ///
    /// # Panics
    /// Key generation or signing setup fails (ring/rcgen).
    pub fn new() -> Self {
        let key = rcgen::KeyPair::generate().expect("a P-256 key");
        let mut params = rcgen::CertificateParams::new(vec!["hubcensus-test-token-signer".into()])
            .expect("certificate parameters");
        // distribution requires digitalSignature on the signing certificate.
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        let cert = params.self_signed(&key).expect("a self-signed certificate");
        let rng = SystemRandom::new();
        let signing = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.serialize_der(), &rng)
            .expect("the key as a ring signing key");
        Self {
            key: signing,
            rng,
            pem: cert.pem(),
            x5c: STANDARD.encode(cert.der()),
            issued: AtomicU64::new(0),
            scopes: Mutex::new(Vec::new()),
        }
    }

    /// The certificate (PEM) a registry must trust to accept this issuer's tokens.
    pub fn certificate_pem(&self) -> &str {
        &self.pem
    }

    /// A token for audience `service` granting every scope (`repository:NAME:ACTIONS`), valid
    /// 300 s, as Docker Hub's token service issues them.
    ///
    /// # Panics
    /// The clock is before 1970, or signing fails.
    pub fn token(&self, service: &str, scopes: &[String]) -> String {
        let n = self.issued.fetch_add(1, Ordering::SeqCst);
        self.scopes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(scopes);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("a clock after 1970").as_secs();
        let access: Vec<Value> = scopes
            .iter()
            .filter_map(|s| {
                let mut parts = s.splitn(3, ':');
                let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
            })
            .collect();
        let header = json!({"alg": "ES256", "typ": "JWT", "x5c": [self.x5c]});
        let claims = json!({
            "iss": ISSUER, "sub": "hubcensus-test", "aud": service, "exp": now + 300, "nbf": now - 10,
            "iat": now, "jti": format!("token-{n}"), "access": access,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(&self.rng, input.as_bytes()).expect("an ES256 signature");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    /// How many tokens were issued so far.
    pub fn issued(&self) -> u64 {
        self.issued.load(Ordering::SeqCst)
    }

    /// Every scope asked for so far, in order.
    pub fn scopes(&self) -> Vec<String> {
        self.scopes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

impl Default for TokenIssuer {
    fn default() -> Self {
        Self::new()
    }
}

/// `GET /token?service=...&scope=...`: Docker's token protocol, answered with both `token` and
/// `access_token`.
pub(super) async fn endpoint(
    State(issuer): State<Arc<TokenIssuer>>,
    RawQuery(query): RawQuery,
) -> Json<Value> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let service = pairs.iter().find(|(k, _)| k == "service").map(|(_, v)| v.clone()).unwrap_or_default();
    let scopes: Vec<String> = pairs.into_iter().filter(|(k, _)| k == "scope").map(|(_, v)| v).collect();
    let token = issuer.token(&service, &scopes);
    Json(json!({"token": token, "access_token": token, "expires_in": 300}))
}
