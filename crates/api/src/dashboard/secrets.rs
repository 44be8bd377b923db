//! The dashboard's secrets: passwords (Argon2id), session ids and setup
//! tokens (256 random bits, stored as SHA-256), and CSRF tokens derived from
//! the cookie they protect.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The PHC string of an Argon2id hash with a random salt, or `None` if the
/// hasher refuses the input (it does not for any UTF-8 string).
pub fn hash_password(password: &str) -> Option<String> {
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes).ok()?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .ok()
        .map(|h| h.to_string())
}

/// Whether `password` matches the stored PHC string (constant time inside argon2).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A valid hash of no one's password: signing in as an unknown email still
/// pays for one verification, so timing does not tell which emails exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// 256 random bits, URL-safe base64 (43 characters).
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A generated password for `evalguard users create`: 128 random bits.
pub fn generate_password() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores of a session id or setup token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The CSRF token of the forms served under a cookie value: knowing it
/// requires the cookie, which another site cannot read.
pub fn csrf_token(cookie_value: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"evalguard-csrf\0");
    hasher.update(cookie_value.as_bytes());
    hex::encode(hasher.finalize())
}

pub fn csrf_matches(cookie_value: &str, presented: &str) -> bool {
    csrf_token(cookie_value)
        .as_bytes()
        .ct_eq(presented.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct horsE", &phc));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(!verify_password("anything", decoy_hash()));
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
    }

    #[test]
    fn csrf_tokens_belong_to_their_cookie() {
        let token = csrf_token("cookie-a");
        assert!(csrf_matches("cookie-a", &token));
        assert!(!csrf_matches("cookie-b", &token));
        assert!(!csrf_matches("cookie-a", ""));
    }
}
