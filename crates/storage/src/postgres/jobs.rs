//! The durable job queue. A claim locks one runnable row with `FOR UPDATE
//! SKIP LOCKED`, so concurrent workers (in any number of processes) never get
//! the same job; leases are measured with the database clock (`now()`).

use std::time::Duration;

use async_trait::async_trait;
use evalguard_domain::job::{AutoEvalRequest, BaselineInfo, JobError, JobStatus};
use evalguard_domain::{Job, JobId, OrgId, Progress, Usage};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use uuid::Uuid;

use super::webhooks::insert_deliveries;
use super::{PostgresStore, conflict_or, lease_micros, unsigned};
use crate::error::StorageError;
use crate::model::{ClaimedJob, JobCompletion, JobFilter, JobPlan, LeaseState, NewJob, QueueDepth};
use crate::traits::JobStore;

const JOB_COLUMNS: &str = "id, org_id, status, request, created_at, started_at, finished_at, progress_total, \
     progress_done, progress_errors, partial, stop_reason, summary, flags, warnings, usage, baseline, error, attempts";

fn status_from(raw: &str) -> Result<JobStatus, StorageError> {
    JobStatus::parse(raw)
        .ok_or_else(|| StorageError::Corrupt(format!("unknown job status {raw:?}")))
}

fn job_from_row(row: &PgRow) -> Result<(Job, AutoEvalRequest), StorageError> {
    let Json(request) = row.try_get::<Json<AutoEvalRequest>, _>("request")?;
    let status: String = row.try_get("status")?;
    let job = Job {
        id: JobId(row.try_get("id")?),
        org_id: OrgId(row.try_get("org_id")?),
        status: status_from(&status)?,
        target: request.target.clone(),
        sample_count: request.sample_count,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        progress: Progress {
            total: unsigned(row.try_get("progress_total")?, "progress_total")?,
            done: unsigned(row.try_get("progress_done")?, "progress_done")?,
            errors: unsigned(row.try_get("progress_errors")?, "progress_errors")?,
        },
        partial: row.try_get("partial")?,
        stop_reason: row.try_get("stop_reason")?,
        summary: row.try_get::<Json<_>, _>("summary")?.0,
        flags: row.try_get::<Json<_>, _>("flags")?.0,
        warnings: row.try_get::<Json<_>, _>("warnings")?.0,
        usage: row.try_get::<Json<Usage>, _>("usage")?.0,
        baseline: row
            .try_get::<Option<Json<BaselineInfo>>, _>("baseline")?
            .map(|j| j.0),
        error: row
            .try_get::<Option<Json<JobError>>, _>("error")?
            .map(|j| j.0),
    };
    Ok((job, request))
}

impl PostgresStore {
    /// What a worker that could not write learns: cancelled, or lost.
    async fn lease_lost_state(&self, id: JobId) -> Result<LeaseState, StorageError> {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match status.as_deref() {
            Some("cancelled") => LeaseState::Cancelled,
            _ => LeaseState::Lost,
        })
    }
}

#[async_trait]
impl JobStore for PostgresStore {
    async fn enqueue(&self, job: NewJob) -> Result<(Job, bool), StorageError> {
        // Two requests with one idempotency key may race: the partial unique
        // index lets exactly one insert through, the other reads that one.
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO jobs (id, org_id, project_id, status, request, idempotency_key, created_at, usage) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7) \
             ON CONFLICT (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
             RETURNING {JOB_COLUMNS}"
        ));
        let inserted = sqlx::query(sql)
            .bind(job.id.0)
            .bind(job.org_id.0)
            .bind(job.request.target.project_id.as_str())
            .bind(Json(&job.request))
            .bind(&job.idempotency_key)
            .bind(job.created_at)
            .bind(Json(Usage::default()))
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| conflict_or(e, || format!("job {}", job.id)))?;
        if let Some(row) = inserted {
            return Ok((job_from_row(&row)?.0, true));
        }
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE org_id = $1 AND idempotency_key = $2"
        ));
        let row = sqlx::query(sql)
            .bind(job.org_id.0)
            .bind(&job.idempotency_key)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StorageError::Conflict(format!("job {}", job.id)))?;
        let (existing, request) = job_from_row(&row)?;
        if request != job.request {
            return Err(StorageError::IdempotencyKeyReused);
        }
        Ok((existing, false))
    }

    async fn get_job(&self, org: OrgId, id: JobId) -> Result<Option<Job>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE org_id = $1 AND id = $2"
        ));
        let row = sqlx::query(sql)
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(|r| job_from_row(r).map(|(job, _)| job))
            .transpose()
    }

    async fn list_jobs(&self, org: OrgId, filter: &JobFilter) -> Result<Vec<Job>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE org_id = $1 \
               AND ($2::text IS NULL OR project_id = $2) \
               AND ($3::text IS NULL OR status = $3) \
               AND ($4::uuid IS NULL OR id < $4) \
             ORDER BY id DESC LIMIT $5"
        ));
        let rows = sqlx::query(sql)
            .bind(org.0)
            .bind(filter.project.as_ref().map(|p| p.as_str()))
            .bind(filter.status.map(JobStatus::as_str))
            .bind(filter.before.map(|b| b.0))
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| job_from_row(r).map(|(job, _)| job))
            .collect()
    }

    async fn cancel_job(&self, org: OrgId, id: JobId) -> Result<Option<Job>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET status = 'cancelled', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL \
             WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'running') RETURNING {JOB_COLUMNS}"
        ));
        if let Some(row) = sqlx::query(sql)
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
        {
            return Ok(Some(job_from_row(&row)?.0));
        }
        self.get_job(org, id).await
    }

    async fn claim_job(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedJob>, StorageError> {
        let mut tx = self.pool.begin().await?;
        let picked: Option<uuid::Uuid> = sqlx::query_scalar(
            "SELECT id FROM jobs \
             WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < now()) \
             ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = picked else {
            tx.commit().await?;
            return Ok(None);
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET status = 'running', lease_owner = $2, \
                 lease_expires_at = now() + $3 * interval '1 microsecond', attempts = attempts + 1, \
                 started_at = COALESCE(started_at, now()) \
             WHERE id = $1 RETURNING {JOB_COLUMNS}"
        ));
        let row = sqlx::query(sql)
            .bind(id)
            .bind(worker)
            .bind(lease_micros(lease))
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        let attempt = unsigned(i64::from(row.try_get::<i32, _>("attempts")?), "attempts")?;
        let (job, request) = job_from_row(&row)?;
        Ok(Some(ClaimedJob {
            job,
            request,
            attempt,
        }))
    }

    async fn heartbeat(
        &self,
        id: JobId,
        worker: &str,
        lease: Duration,
    ) -> Result<LeaseState, StorageError> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_expires_at = now() + $3 * interval '1 microsecond' \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        )
        .bind(id.0)
        .bind(worker)
        .bind(lease_micros(lease))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            return Ok(LeaseState::Held);
        }
        self.lease_lost_state(id).await
    }

    async fn release_job(&self, id: JobId, worker: &str) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        )
        .bind(id.0)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn save_plan(&self, id: JobId, plan: &JobPlan) -> Result<JobPlan, StorageError> {
        let stored: Option<Json<JobPlan>> = sqlx::query_scalar(
            "UPDATE jobs SET plan = COALESCE(plan, $2) WHERE id = $1 RETURNING plan",
        )
        .bind(id.0)
        .bind(Json(plan))
        .fetch_optional(&self.pool)
        .await?;
        stored
            .map(|Json(p)| p)
            .ok_or_else(|| StorageError::NotFound(format!("job {id}")))
    }

    async fn load_plan(&self, id: JobId) -> Result<Option<JobPlan>, StorageError> {
        let stored: Option<Option<Json<JobPlan>>> =
            sqlx::query_scalar("SELECT plan FROM jobs WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(stored.flatten().map(|Json(p)| p))
    }

    async fn update_progress(
        &self,
        id: JobId,
        worker: &str,
        progress: Progress,
        usage: &Usage,
    ) -> Result<LeaseState, StorageError> {
        let done = sqlx::query(
            "UPDATE jobs SET progress_total = $3, progress_done = $4, progress_errors = $5, usage = $6 \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        )
        .bind(id.0)
        .bind(worker)
        .bind(i64::from(progress.total))
        .bind(i64::from(progress.done))
        .bind(i64::from(progress.errors))
        .bind(Json(usage))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            return Ok(LeaseState::Held);
        }
        self.lease_lost_state(id).await
    }

    async fn finish_job(
        &self,
        id: JobId,
        worker: &str,
        completion: &JobCompletion,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let owner: Option<(Uuid, String)> = sqlx::query_as(
            "UPDATE jobs SET status = $3, progress_total = $4, progress_done = $5, progress_errors = $6, \
                 partial = $7, stop_reason = $8, summary = $9, flags = $10, usage = $11, baseline = $12, \
                 error = $13, finished_at = $14, warnings = $15, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running' \
             RETURNING org_id, project_id",
        )
        .bind(id.0)
        .bind(worker)
        .bind(completion.status.as_str())
        .bind(i64::from(completion.progress.total))
        .bind(i64::from(completion.progress.done))
        .bind(i64::from(completion.progress.errors))
        .bind(completion.partial)
        .bind(&completion.stop_reason)
        .bind(Json(&completion.summary))
        .bind(Json(&completion.flags))
        .bind(Json(&completion.usage))
        .bind(completion.baseline.as_ref().map(Json))
        .bind(completion.error.as_ref().map(Json))
        .bind(completion.finished_at)
        .bind(Json(&completion.warnings))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((org, project)) = owner else {
            return Ok(false);
        };
        for event in &completion.events {
            insert_deliveries(&mut tx, org, &project, &event.event_type, &event.payload).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn queue_depth(&self) -> Result<QueueDepth, StorageError> {
        let rows = sqlx::query("SELECT status, count(*) AS n FROM jobs GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        let mut depth = QueueDepth::default();
        for row in rows {
            let status: String = row.try_get("status")?;
            let n: u64 = unsigned(row.try_get("n")?, "count")?;
            match status_from(&status)? {
                JobStatus::Queued => depth.queued = n,
                JobStatus::Running => depth.running = n,
                JobStatus::Succeeded => depth.succeeded = n,
                JobStatus::Failed => depth.failed = n,
                JobStatus::Cancelled => depth.cancelled = n,
            }
        }
        depth.oldest_queued_at =
            sqlx::query_scalar("SELECT min(created_at) FROM jobs WHERE status = 'queued'")
                .fetch_one(&self.pool)
                .await?;
        Ok(depth)
    }
}
