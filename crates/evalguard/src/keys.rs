//! `evalguard keys create`: bootstrap keys straight into the database.

use anyhow::Context;
use evalguard_domain::access::ApiKeySecret;
use evalguard_domain::{ProjectId, Role};
use evalguard_storage::{NewApiKey, Storage};

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
