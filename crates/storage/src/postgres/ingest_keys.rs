//! `Idempotency-Key` of ingest requests on PostgreSQL. The key's row is
//! inserted first in the ingest transaction: a concurrent request with the
//! same key waits on it (unique index) until the first commits, then finds
//! it, so two requests with one key never both store.

use evalguard_domain::OrgId;
use sqlx::{PgConnection, Row};

use crate::error::StorageError;
use crate::model::KeyedRequest;

/// Claims the key for this request (`None`), or returns what the first
/// request with it stored; `IdempotencyKeyReused` when it had another body.
pub(super) async fn claim(
    conn: &mut PgConnection,
    org: OrgId,
    request: &KeyedRequest<'_>,
) -> Result<Option<u64>, StorageError> {
    let claimed = sqlx::query(
        "INSERT INTO ingest_keys (org_id, endpoint, idempotency_key, body_sha256, stored, created_at)
         VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT DO NOTHING",
    )
    .bind(org.0)
    .bind(request.endpoint)
    .bind(request.key)
    .bind(&request.body_sha256[..])
    .bind(request.received_at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if claimed == 1 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT body_sha256, stored FROM ingest_keys
         WHERE org_id = $1 AND endpoint = $2 AND idempotency_key = $3",
    )
    .bind(org.0)
    .bind(request.endpoint)
    .bind(request.key)
    .fetch_one(&mut *conn)
    .await?;
    request
        .answer_again(
            &row.try_get::<Vec<u8>, _>("body_sha256")?,
            row.try_get("stored")?,
        )
        .map(Some)
}

/// Records what the request that claimed the key stored.
pub(super) async fn record(
    conn: &mut PgConnection,
    org: OrgId,
    request: &KeyedRequest<'_>,
    stored: u64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE ingest_keys SET stored = $4
         WHERE org_id = $1 AND endpoint = $2 AND idempotency_key = $3",
    )
    .bind(org.0)
    .bind(request.endpoint)
    .bind(request.key)
    .bind(i64::try_from(stored).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
