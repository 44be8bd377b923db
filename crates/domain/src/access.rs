//! API keys and roles. A key is `eg_<key id>_<secret>`: the key id (12 hex
//! characters) is public and indexed; the secret is 256 random bits. Only the
//! SHA-256 of the whole key is stored, and it is compared in constant time.

use rand::RngExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::{OrgId, ProjectId};

/// Roles within an organization, ordered: viewer < member < admin < owner.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "viewer" => Some(Role::Viewer),
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const KEY_PREFIX: &str = "eg_";
const KEY_ID_LEN: usize = 12;
const SECRET_LEN: usize = 64;

/// A freshly generated API key. The full text is shown to the user once.
#[derive(Clone)]
pub struct ApiKeySecret {
    key_id: String,
    full: String,
}

impl std::fmt::Debug for ApiKeySecret {
    // Never print the secret, even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeySecret({}…)", self.key_id)
    }
}

impl ApiKeySecret {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let id_bytes: [u8; KEY_ID_LEN / 2] = rng.random();
        let secret: [u8; SECRET_LEN / 2] = rng.random();
        let key_id = hex::encode(id_bytes);
        let full = format!("{KEY_PREFIX}{key_id}_{}", hex::encode(secret));
        Self { key_id, full }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The whole key, to be shown once and never stored.
    pub fn expose(&self) -> &str {
        &self.full
    }

    pub fn hash(&self) -> String {
        hash_key(&self.full)
    }
}

/// A key as presented in an `Authorization` header, split into its public id.
#[derive(Debug)]
pub struct PresentedKey<'a> {
    pub key_id: &'a str,
    full: &'a str,
}

impl<'a> PresentedKey<'a> {
    /// `None` when the text cannot be a key we issued (the caller answers 401).
    pub fn parse(raw: &'a str) -> Option<Self> {
        let rest = raw.strip_prefix(KEY_PREFIX)?;
        let (key_id, secret) = rest.split_once('_')?;
        let well_formed = key_id.len() == KEY_ID_LEN
            && secret.len() == SECRET_LEN
            && key_id.bytes().all(|b| b.is_ascii_hexdigit())
            && secret.bytes().all(|b| b.is_ascii_hexdigit());
        well_formed.then_some(Self { key_id, full: raw })
    }

    /// Constant-time comparison against a stored hash.
    pub fn matches(&self, stored_hash: &str) -> bool {
        let presented = hash_key(self.full);
        presented.as_bytes().ct_eq(stored_hash.as_bytes()).into()
    }
}

fn hash_key(full: &str) -> String {
    hex::encode(Sha256::digest(full.as_bytes()))
}

/// Who is calling: resolved from a valid, unrevoked key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org_id: OrgId,
    pub key_id: String,
    pub role: Role,
    /// When set, the key may only touch this project.
    pub project: Option<ProjectId>,
}

impl Principal {
    pub fn has_role(&self, needed: Role) -> bool {
        self.role >= needed
    }

    /// Whether this key may act on `project` (always true for unscoped keys).
    pub fn can_access_project(&self, project: &ProjectId) -> bool {
        self.project.as_ref().is_none_or(|p| p == project)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Member);
        assert!(Role::Member < Role::Admin);
        assert!(Role::Admin < Role::Owner);
        for r in [Role::Viewer, Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn generated_keys_parse_and_match_only_their_hash() {
        let key = ApiKeySecret::generate();
        let presented = PresentedKey::parse(key.expose()).expect("parses");
        assert_eq!(presented.key_id, key.key_id());
        assert!(presented.matches(&key.hash()));
        let other = ApiKeySecret::generate();
        assert!(!presented.matches(&other.hash()));
        assert!(!format!("{key:?}").contains(&key.expose()[16..]));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        for raw in ["", "eg_", "sk-abc", "eg_zzzzzzzzzzzz_00", "eg_0123456789ab"] {
            assert!(PresentedKey::parse(raw).is_none(), "{raw}");
        }
    }
}
