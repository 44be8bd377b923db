//! `evalguard keys create|list|revoke`: keys straight in the database, for
//! bootstrapping and for an operator without a working key.

use std::fmt::Write as _;

use anyhow::{Context, anyhow};
use chrono::{DateTime, SecondsFormat, Utc};
use evalguard_domain::access::ApiKeySecret;
use evalguard_domain::{ProjectId, Role};
use evalguard_storage::{ApiKeyRecord, NewApiKey, Storage};

pub struct CreateKey {
    pub org: String,
    pub role: Role,
    pub project: Option<ProjectId>,
    pub name: Option<String>,
}

/// Creates the organization if missing and a key in it; returns the secret,
/// which is never stored (only its hash is).
pub async fn create_key(storage: &Storage, request: CreateKey) -> anyhow::Result<ApiKeySecret> {
    let org_id = storage
        .access
        .ensure_org(&request.org)
        .await
        .context("creating the organization")?;
    let secret = ApiKeySecret::generate();
    storage
        .access
        .create_api_key(NewApiKey {
            org_id,
            key_id: secret.key_id().to_owned(),
            hash: secret.hash(),
            role: request.role,
            project: request.project,
            name: request.name,
        })
        .await
        .context("storing the key")?;
    Ok(secret)
}

/// The organization's keys (revoked ones included), oldest first. Only
/// public ids: secrets are never stored. Fails when the organization does
/// not exist (listing never creates one).
pub async fn list_keys(storage: &Storage, org: &str) -> anyhow::Result<Vec<ApiKeyRecord>> {
    let org_id = storage
        .access
        .find_org(org)
        .await
        .context("reading the organization")?
        .ok_or_else(|| anyhow!("no organization named {org:?}"))?;
    let mut keys = storage
        .access
        .list_api_keys(org_id)
        .await
        .context("listing the keys")?;
    keys.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
    Ok(keys)
}

/// A table of keys: id, role, project, name, created, last used, revoked.
pub fn keys_table(keys: &[ApiKeyRecord]) -> String {
    fn when(at: Option<DateTime<Utc>>) -> String {
        at.map_or_else(
            || "-".to_owned(),
            |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
    }
    let mut out = String::from("ID\tROLE\tPROJECT\tNAME\tCREATED\tLAST_USED\tREVOKED\n");
    for key in keys {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            key.key_id,
            key.role.as_str(),
            key.project.as_ref().map_or("-", ProjectId::as_str),
            key.name.as_deref().unwrap_or("-"),
            when(Some(key.created_at)),
            when(key.last_used_at),
            when(key.revoked_at),
        );
    }
    out
}

/// What revoking a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Now,
    Already,
}

/// Revokes the key with this public id (the `ID` column of `keys list`, or
/// the part of a secret between `eg_` and the next `_`). Idempotent: a key
/// revoked before stays revoked at its first time.
pub async fn revoke_key(storage: &Storage, key_id: &str) -> anyhow::Result<Revoked> {
    let key = storage
        .access
        .find_api_key(key_id)
        .await
        .context("reading the key")?
        .ok_or_else(|| anyhow!("no key with id {key_id:?}"))?;
    if key.revoked_at.is_some() {
        return Ok(Revoked::Already);
    }
    let found = storage
        .access
        .revoke_api_key(key.org_id, key_id, Utc::now())
        .await
        .context("revoking the key")?;
    if !found {
        return Err(anyhow!("no key with id {key_id:?}"));
    }
    Ok(Revoked::Now)
}
