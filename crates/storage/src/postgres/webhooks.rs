//! Webhook endpoints and the durable delivery queue. A claim pushes the
//! delivery's `next_attempt_at` forward by the lease, so a sender that dies
//! mid-attempt leaves it to be claimed again once the lease is over.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::{OrgId, ProjectId};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::types::Json;
use uuid::Uuid;

use super::{PostgresStore, conflict_or, unsigned};
use crate::error::StorageError;
use crate::model::{DeliveryAttempt, WebhookDelivery, WebhookEndpoint};
use crate::traits::WebhookStore;

const ENDPOINT_COLUMNS: &str = "id, org_id, project_id, url, events, secret, created_at";
const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_type, payload, status, attempts, next_attempt_at, \
     last_status_code, last_error, created_at, delivered_at";

/// Queues one delivery of an event per endpoint of the project subscribed to
/// it, on the caller's connection (inside `finish_job`'s transaction there).
pub(super) async fn insert_deliveries(
    conn: &mut PgConnection,
    org: Uuid,
    project: &str,
    event_type: &str,
    payload: &serde_json::Value,
) -> Result<u64, StorageError> {
    let endpoints: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints WHERE org_id = $1 AND project_id = $2 AND $3 = ANY(events) \
         ORDER BY created_at, id",
    )
    .bind(org)
    .bind(project)
    .bind(event_type)
    .fetch_all(&mut *conn)
    .await?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    // Ids are made here (UUIDv7) so that deliveries sort by creation.
    let ids: Vec<Uuid> = endpoints.iter().map(|_| Uuid::now_v7()).collect();
    let now = Utc::now();
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_type, payload, status, next_attempt_at, created_at) \
         SELECT u.id, $1, u.endpoint_id, $2, $3, 'pending', $4, $4 \
         FROM UNNEST($5::uuid[], $6::uuid[]) AS u(id, endpoint_id)",
    )
    .bind(org)
    .bind(event_type)
    .bind(Json(payload))
    .bind(now)
    .bind(ids)
    .bind(endpoints)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

fn endpoint_from_row(row: &PgRow) -> Result<WebhookEndpoint, StorageError> {
    let project: String = row.try_get("project_id")?;
    Ok(WebhookEndpoint {
        id: row.try_get("id")?,
        org_id: OrgId(row.try_get("org_id")?),
        project_id: ProjectId::parse(&project)
            .map_err(|_| StorageError::Corrupt(format!("bad project id {project:?}")))?,
        url: row.try_get("url")?,
        events: row.try_get("events")?,
        secret: row.try_get("secret")?,
        created_at: row.try_get("created_at")?,
    })
}

fn delivery_from_row(row: &PgRow) -> Result<WebhookDelivery, StorageError> {
    let code: Option<i32> = row.try_get("last_status_code")?;
    Ok(WebhookDelivery {
        id: row.try_get("id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        event_type: row.try_get("event_type")?,
        payload: row.try_get::<Json<serde_json::Value>, _>("payload")?.0,
        status: row.try_get("status")?,
        attempts: unsigned(i64::from(row.try_get::<i32, _>("attempts")?), "attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_status_code: code
            .map(|c| unsigned(i64::from(c), "last_status_code"))
            .transpose()?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, org_id, project_id, url, events, secret, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(endpoint.id)
        .bind(endpoint.org_id.0)
        .bind(endpoint.project_id.as_str())
        .bind(&endpoint.url)
        .bind(&endpoint.events)
        .bind(&endpoint.secret)
        .bind(endpoint.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, || format!("webhook endpoint {}", endpoint.id)))?;
        Ok(())
    }

    async fn list_endpoints(
        &self,
        org: OrgId,
        project: &ProjectId,
    ) -> Result<Vec<WebhookEndpoint>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND project_id = $2 \
             ORDER BY created_at, id"
        ));
        let rows = sqlx::query(sql)
            .bind(org.0)
            .bind(project.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    async fn delete_endpoint(&self, org: OrgId, id: Uuid) -> Result<bool, StorageError> {
        // Its deliveries go with it (ON DELETE CASCADE).
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn enqueue_event(
        &self,
        org: OrgId,
        project: &ProjectId,
        event_type: &str,
        payload: &serde_json::Value,
    ) -> Result<u64, StorageError> {
        let mut conn = self.pool.acquire().await?;
        insert_deliveries(&mut conn, org.0, project.as_str(), event_type, payload).await
    }

    async fn claim_delivery(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<(WebhookDelivery, WebhookEndpoint)>, StorageError> {
        let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::days(1));
        let mut tx = self.pool.begin().await?;
        let picked: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = picked else {
            tx.commit().await?;
            return Ok(None);
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id = $1 RETURNING {DELIVERY_COLUMNS}"
        ));
        let row = sqlx::query(sql)
            .bind(id)
            .bind(now + lease)
            .fetch_one(&mut *tx)
            .await?;
        let delivery = delivery_from_row(&row)?;
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
        ));
        let row = sqlx::query(sql)
            .bind(delivery.endpoint_id)
            .fetch_one(&mut *tx)
            .await?;
        let endpoint = endpoint_from_row(&row)?;
        tx.commit().await?;
        Ok(Some((delivery, endpoint)))
    }

    async fn record_attempt(
        &self,
        delivery: Uuid,
        attempt: &DeliveryAttempt,
    ) -> Result<(), StorageError> {
        // Delivered → done; a retry time → pending until then; neither → given up.
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $2, last_error = $3, \
                 status = CASE WHEN $4 THEN 'delivered' WHEN $5::timestamptz IS NULL THEN 'failed' ELSE 'pending' END, \
                 next_attempt_at = CASE WHEN $4 THEN NULL ELSE $5 END, \
                 delivered_at = CASE WHEN $4 THEN $6 ELSE delivered_at END \
             WHERE id = $1",
        )
        .bind(delivery)
        .bind(attempt.status_code.map(i32::from))
        .bind(&attempt.error)
        .bind(attempt.delivered)
        .bind(attempt.retry_at)
        .bind(Utc::now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_deliveries(
        &self,
        org: OrgId,
        endpoint: Uuid,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        ));
        let rows = sqlx::query(sql)
            .bind(org.0)
            .bind(endpoint)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }
}
