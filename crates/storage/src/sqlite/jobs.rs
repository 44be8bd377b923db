//! The durable job queue. A claim is a lease: `lease_owner` and
//! `lease_expires_at`; a job whose lease expired is claimed again (with its
//! attempt count raised), so a crashed worker's job is never lost.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use evalguard_domain::job::{AutoEvalRequest, JobStatus};
use evalguard_domain::{Job, JobId, OrgId, Progress, Usage};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};

use super::webhooks::insert_deliveries;
use super::{
    Durability, Result, SqliteStore, from_json, from_json_opt, from_micros, from_micros_opt,
    lease_micros, micros, parse_uuid, to_json,
};
use crate::error::StorageError;
use crate::model::{ClaimedJob, JobCompletion, JobFilter, JobPlan, LeaseState, NewJob, QueueDepth};
use crate::traits::JobStore;

const JOB_COLUMNS: &str = "id, org_id, status, request, created_at, started_at, finished_at, progress, usage, \
     summary, flags, warnings, baseline, error, partial, stop_reason, attempts";
const DEFAULT_LIST_LIMIT: u32 = 100;

fn job_from_row(row: &SqliteRow) -> Result<(Job, AutoEvalRequest, u32)> {
    let status: String = row.try_get("status")?;
    let request: AutoEvalRequest = from_json(&row.try_get::<String, _>("request")?)?;
    let job = Job {
        id: JobId(parse_uuid(&row.try_get::<String, _>("id")?)?),
        org_id: OrgId(parse_uuid(&row.try_get::<String, _>("org_id")?)?),
        status: JobStatus::parse(&status)
            .ok_or_else(|| StorageError::Corrupt(format!("job status {status:?}")))?,
        target: request.target.clone(),
        sample_count: request.sample_count,
        created_at: from_micros(row.try_get("created_at")?)?,
        started_at: from_micros_opt(row.try_get("started_at")?)?,
        finished_at: from_micros_opt(row.try_get("finished_at")?)?,
        progress: from_json(&row.try_get::<String, _>("progress")?)?,
        partial: row.try_get("partial")?,
        stop_reason: row.try_get("stop_reason")?,
        summary: from_json(&row.try_get::<String, _>("summary")?)?,
        flags: from_json(&row.try_get::<String, _>("flags")?)?,
        warnings: from_json(&row.try_get::<String, _>("warnings")?)?,
        usage: from_json(&row.try_get::<String, _>("usage")?)?,
        baseline: from_json_opt(row.try_get("baseline")?)?,
        error: from_json_opt(row.try_get("error")?)?,
    };
    let attempts = u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX);
    Ok((job, request, attempts))
}

impl SqliteStore {
    pub(super) async fn fetch_job<'e, E>(
        executor: E,
        id: &str,
    ) -> Result<Option<(Job, AutoEvalRequest, u32)>>
    where
        E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
    {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(executor)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// Why a lease-guarded write did not happen: cancelled, or lost.
    async fn lease_state_after_miss(&self, id: JobId) -> Result<LeaseState> {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM jobs WHERE id = ?")
            .bind(id.0.to_string())
            .fetch_optional(&self.writer)
            .await?;
        Ok(match status.as_deref() {
            Some("cancelled") => LeaseState::Cancelled,
            _ => LeaseState::Lost,
        })
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn enqueue(&self, job: NewJob) -> Result<(Job, bool)> {
        self.enqueues
            .submit(super::group_commit::Enqueue(job))
            .await
    }

    async fn get_job(&self, org: OrgId, id: JobId) -> Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ? AND org_id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.0.to_string())
            .bind(org.0.to_string())
            .fetch_optional(&self.reader)
            .await?;
        Ok(row
            .as_ref()
            .map(job_from_row)
            .transpose()?
            .map(|(job, _, _)| job))
    }

    async fn list_jobs(&self, org: OrgId, filter: &JobFilter) -> Result<Vec<Job>> {
        let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE org_id = ?");
        if filter.project.is_some() {
            sql.push_str(" AND project_id = ?");
        }
        if filter.status.is_some() {
            sql.push_str(" AND status = ?");
        }
        if filter.before.is_some() {
            sql.push_str(" AND id < ?");
        }
        sql.push_str(" ORDER BY id DESC LIMIT ?");
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(org.0.to_string());
        if let Some(project) = &filter.project {
            query = query.bind(project.as_str().to_owned());
        }
        if let Some(status) = filter.status {
            query = query.bind(status.as_str());
        }
        if let Some(before) = filter.before {
            query = query.bind(before.0.to_string());
        }
        let limit = if filter.limit == 0 {
            DEFAULT_LIST_LIMIT
        } else {
            filter.limit
        };
        let rows = query.bind(i64::from(limit)).fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| job_from_row(row).map(|(job, _, _)| job))
            .collect()
    }

    async fn cancel_job(&self, org: OrgId, id: JobId) -> Result<Option<Job>> {
        let id = id.0.to_string();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE jobs SET status = 'cancelled', finished_at = ?, lease_expires_at = NULL
             WHERE id = ? AND org_id = ? AND status IN ('queued', 'running')",
        )
        .bind(micros(Utc::now()))
        .bind(&id)
        .bind(org.0.to_string())
        .execute(&mut *tx)
        .await?;
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ? AND org_id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&id)
            .bind(org.0.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row
            .as_ref()
            .map(job_from_row)
            .transpose()?
            .map(|(job, _, _)| job))
    }

    async fn claim_job(&self, worker: &str, lease: Duration) -> Result<Option<ClaimedJob>> {
        const RUNNABLE: &str = "SELECT id FROM jobs
             WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < ?)
             ORDER BY created_at, id LIMIT 1";
        let now = micros(Utc::now());
        // Idle polls look with a reader first: they must not queue for the
        // single writer (nor count as writes for the WAL checkpointer).
        let runnable: Option<String> = sqlx::query_scalar(RUNNABLE)
            .bind(now)
            .fetch_optional(&self.reader)
            .await?;
        if runnable.is_none() {
            return Ok(None);
        }
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        let candidate: Option<String> = sqlx::query_scalar(RUNNABLE)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = candidate else {
            tx.commit().await?;
            return Ok(None);
        };
        sqlx::query(
            "UPDATE jobs SET status = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1,
                             started_at = COALESCE(started_at, ?)
             WHERE id = ?",
        )
        .bind(worker)
        .bind(now.saturating_add(lease_micros(lease)))
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        let claimed = Self::fetch_job(&mut *tx, &id).await?;
        tx.commit().await?;
        Ok(claimed.map(|(job, request, attempt)| ClaimedJob {
            job,
            request,
            attempt,
        }))
    }

    async fn heartbeat(&self, id: JobId, worker: &str, lease: Duration) -> Result<LeaseState> {
        let expires = micros(Utc::now()).saturating_add(lease_micros(lease));
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        let done = sqlx::query(
            "UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 'running'",
        )
        .bind(expires)
        .bind(id.0.to_string())
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if done.rows_affected() > 0 {
            Ok(LeaseState::Held)
        } else {
            self.lease_state_after_miss(id).await
        }
    }

    async fn release_job(&self, id: JobId, worker: &str) -> Result<()> {
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        sqlx::query(
            "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL
             WHERE id = ? AND lease_owner = ? AND status = 'running'",
        )
        .bind(id.0.to_string())
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_plan(&self, id: JobId, plan: &JobPlan) -> Result<JobPlan> {
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        sqlx::query("UPDATE jobs SET plan = ? WHERE id = ? AND plan IS NULL")
            .bind(to_json(plan)?)
            .bind(id.0.to_string())
            .execute(&mut *tx)
            .await?;
        let stored: Option<Option<String>> =
            sqlx::query_scalar("SELECT plan FROM jobs WHERE id = ?")
                .bind(id.0.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        match stored {
            Some(Some(raw)) => from_json(&raw),
            _ => Err(StorageError::NotFound(format!("job {id}"))),
        }
    }

    async fn load_plan(&self, id: JobId) -> Result<Option<JobPlan>> {
        let stored: Option<Option<String>> =
            sqlx::query_scalar("SELECT plan FROM jobs WHERE id = ?")
                .bind(id.0.to_string())
                .fetch_optional(&self.reader)
                .await?;
        from_json_opt(stored.flatten())
    }

    async fn update_progress(
        &self,
        id: JobId,
        worker: &str,
        progress: Progress,
        usage: &Usage,
    ) -> Result<LeaseState> {
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        let done = sqlx::query(
            "UPDATE jobs SET progress = ?, usage = ? WHERE id = ? AND lease_owner = ? AND status = 'running'",
        )
        .bind(to_json(&progress)?)
        .bind(to_json(usage)?)
        .bind(id.0.to_string())
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if done.rows_affected() > 0 {
            Ok(LeaseState::Held)
        } else {
            self.lease_state_after_miss(id).await
        }
    }

    async fn finish_job(
        &self,
        id: JobId,
        worker: &str,
        completion: &JobCompletion,
    ) -> Result<bool> {
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        let owner: Option<(String, String)> = sqlx::query_as(
            "UPDATE jobs SET status = ?, finished_at = ?, progress = ?, partial = ?, stop_reason = ?, summary = ?,
                             flags = ?, warnings = ?, usage = ?, baseline = ?, error = ?, lease_expires_at = NULL
             WHERE id = ? AND lease_owner = ? AND status = 'running'
             RETURNING org_id, project_id",
        )
        .bind(completion.status.as_str())
        .bind(micros(completion.finished_at))
        .bind(to_json(&completion.progress)?)
        .bind(completion.partial)
        .bind(&completion.stop_reason)
        .bind(to_json(&completion.summary)?)
        .bind(to_json(&completion.flags)?)
        .bind(to_json(&completion.warnings)?)
        .bind(to_json(&completion.usage)?)
        .bind(completion.baseline.as_ref().map(to_json).transpose()?)
        .bind(completion.error.as_ref().map(to_json).transpose()?)
        .bind(id.0.to_string())
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((org, project)) = owner else {
            return Ok(false);
        };
        for event in &completion.events {
            insert_deliveries(
                &mut tx,
                &org,
                &project,
                &event.event_type,
                &to_json(&event.payload)?,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn queue_depth(&self) -> Result<QueueDepth> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status")
                .fetch_all(&self.reader)
                .await?;
        let mut depth = QueueDepth::default();
        for (status, count) in rows {
            let count = u64::try_from(count).unwrap_or(0);
            match JobStatus::parse(&status) {
                Some(JobStatus::Queued) => depth.queued = count,
                Some(JobStatus::Running) => depth.running = count,
                Some(JobStatus::Succeeded) => depth.succeeded = count,
                Some(JobStatus::Failed) => depth.failed = count,
                Some(JobStatus::Cancelled) => depth.cancelled = count,
                None => return Err(StorageError::Corrupt(format!("job status {status:?}"))),
            }
        }
        let oldest: Option<i64> =
            sqlx::query_scalar("SELECT MIN(created_at) FROM jobs WHERE status = 'queued'")
                .fetch_one(&self.reader)
                .await?;
        depth.oldest_queued_at = from_micros_opt(oldest)?;
        Ok(depth)
    }
}
