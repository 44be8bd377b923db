//! `Idempotency-Key` of ingest requests on SQLite: the key's row is read and
//! written inside the ingest's `BEGIN IMMEDIATE` transaction, which the single
//! writer serialises, so two requests with one key never both store.

use sqlx::{Row, SqliteConnection};

use super::{Result, micros};
use crate::model::KeyedRequest;

/// What the first request with this key stored, or `None` when the key is
/// new; `IdempotencyKeyReused` when it came with another body.
pub(super) async fn first_answer(
    conn: &mut SqliteConnection,
    org: &str,
    request: &KeyedRequest<'_>,
) -> Result<Option<u64>> {
    let row = sqlx::query(
        "SELECT body_sha256, stored FROM ingest_keys
         WHERE org_id = ? AND endpoint = ? AND idempotency_key = ?",
    )
    .bind(org)
    .bind(request.endpoint)
    .bind(request.key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    request
        .answer_again(
            &row.try_get::<Vec<u8>, _>("body_sha256")?,
            row.try_get("stored")?,
        )
        .map(Some)
}

/// Remembers the key with what its request stored.
pub(super) async fn remember(
    conn: &mut SqliteConnection,
    org: &str,
    request: &KeyedRequest<'_>,
    stored: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ingest_keys (org_id, endpoint, idempotency_key, body_sha256, stored, created_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(org)
    .bind(request.endpoint)
    .bind(request.key)
    .bind(&request.body_sha256[..])
    .bind(i64::try_from(stored).unwrap_or(i64::MAX))
    .bind(micros(request.received_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
