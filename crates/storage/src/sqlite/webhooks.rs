//! Webhook endpoints and their delivery queue. A claimed delivery's
//! `next_attempt_at` is pushed forward by the lease, so a deliverer that dies
//! mid-attempt only delays it.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::{OrgId, ProjectId};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::{
    Durability, Result, SqliteStore, conflict_or, from_json, from_micros, from_micros_opt,
    lease_micros, micros, parse_project, parse_uuid, to_json,
};
use crate::model::{DeliveryAttempt, WebhookDelivery, WebhookEndpoint};
use crate::traits::WebhookStore;

const ENDPOINT_COLUMNS: &str = "id, org_id, project_id, url, events, secret, created_at";
const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_type, payload, status, attempts, next_attempt_at, \
     last_status_code, last_error, created_at, delivered_at";

/// Queues one delivery of an event per endpoint of the project subscribed to
/// it, inside the caller's write transaction (also `finish_job`'s).
pub(super) async fn insert_deliveries(
    conn: &mut SqliteConnection,
    org: &str,
    project: &str,
    event_type: &str,
    payload: &str,
) -> Result<u64> {
    let now = micros(Utc::now());
    let endpoints: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints
         WHERE org_id = ? AND project_id = ? AND EXISTS (SELECT 1 FROM json_each(events) WHERE value = ?)
         ORDER BY created_at, id",
    )
    .bind(org)
    .bind(project)
    .bind(event_type)
    .fetch_all(&mut *conn)
    .await?;
    for endpoint in &endpoints {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_type, payload, status, attempts,
                                             next_attempt_at, created_at)
             VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(org)
        .bind(endpoint)
        .bind(event_type)
        .bind(payload)
        .bind(now)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(endpoints.len() as u64)
}

fn endpoint_from_row(row: &SqliteRow) -> Result<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        org_id: OrgId(parse_uuid(&row.try_get::<String, _>("org_id")?)?),
        project_id: parse_project(&row.try_get::<String, _>("project_id")?)?,
        url: row.try_get("url")?,
        events: from_json(&row.try_get::<String, _>("events")?)?,
        secret: row.try_get("secret")?,
        created_at: from_micros(row.try_get("created_at")?)?,
    })
}

fn delivery_from_row(row: &SqliteRow) -> Result<WebhookDelivery> {
    let code: Option<i64> = row.try_get("last_status_code")?;
    Ok(WebhookDelivery {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        endpoint_id: parse_uuid(&row.try_get::<String, _>("endpoint_id")?)?,
        event_type: row.try_get("event_type")?,
        payload: from_json(&row.try_get::<String, _>("payload")?)?,
        status: row.try_get("status")?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: from_micros_opt(row.try_get("next_attempt_at")?)?,
        last_status_code: code.and_then(|c| u16::try_from(c).ok()),
        last_error: row.try_get("last_error")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        delivered_at: from_micros_opt(row.try_get("delivered_at")?)?,
    })
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, org_id, project_id, url, events, secret, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(endpoint.id.to_string())
        .bind(endpoint.org_id.0.to_string())
        .bind(endpoint.project_id.as_str())
        .bind(&endpoint.url)
        .bind(to_json(&endpoint.events)?)
        .bind(&endpoint.secret)
        .bind(micros(endpoint.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, format!("webhook endpoint {}", endpoint.id)))?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_endpoints(
        &self,
        org: OrgId,
        project: &ProjectId,
    ) -> Result<Vec<WebhookEndpoint>> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ? AND project_id = ? ORDER BY created_at, id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.0.to_string())
            .bind(project.as_str())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    async fn delete_endpoint(&self, org: OrgId, id: Uuid) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE org_id = ? AND id = ?")
            .bind(org.0.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn enqueue_event(
        &self,
        org: OrgId,
        project: &ProjectId,
        event_type: &str,
        payload: &serde_json::Value,
    ) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let queued = insert_deliveries(
            &mut tx,
            &org.0.to_string(),
            project.as_str(),
            event_type,
            &to_json(payload)?,
        )
        .await?;
        tx.commit().await?;
        Ok(queued)
    }

    async fn claim_delivery(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<(WebhookDelivery, WebhookEndpoint)>> {
        const DUE: &str =
            "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
             ORDER BY next_attempt_at, id LIMIT 1";
        let now = micros(now);
        // As for jobs: an idle poll looks with a reader, not the writer.
        let due: Option<String> = sqlx::query_scalar(DUE)
            .bind(now)
            .fetch_optional(&self.reader)
            .await?;
        if due.is_none() {
            return Ok(None);
        }
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        let candidate: Option<String> = sqlx::query_scalar(DUE)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = candidate else {
            tx.commit().await?;
            return Ok(None);
        };
        sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?")
            .bind(now.saturating_add(lease_micros(lease)))
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?");
        let delivery = sqlx::query(AssertSqlSafe(sql))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        let delivery = delivery_from_row(&delivery)?;
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?");
        let endpoint = sqlx::query(AssertSqlSafe(sql))
            .bind(delivery.endpoint_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let endpoint = endpoint_from_row(&endpoint)?;
        tx.commit().await?;
        Ok(Some((delivery, endpoint)))
    }

    async fn record_attempt(&self, delivery: Uuid, attempt: &DeliveryAttempt) -> Result<()> {
        let now = micros(Utc::now());
        let (status, next_attempt_at, delivered_at) = if attempt.delivered {
            ("delivered", None, Some(now))
        } else if let Some(retry_at) = attempt.retry_at {
            ("pending", Some(micros(retry_at)), None)
        } else {
            ("failed", None, None)
        };
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
                    last_status_code = ?, last_error = ?, delivered_at = COALESCE(?, delivered_at)
             WHERE id = ?",
        )
        .bind(status)
        .bind(next_attempt_at)
        .bind(attempt.status_code.map(i64::from))
        .bind(&attempt.error)
        .bind(delivered_at)
        .bind(delivery.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_deliveries(
        &self,
        org: OrgId,
        endpoint: Uuid,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = ? AND endpoint_id = ?
             ORDER BY created_at DESC, id DESC LIMIT ?"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.0.to_string())
            .bind(endpoint.to_string())
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }
}
