-- Retention sweeps and deletions by time delete in small batches, each
-- finding its oldest rows through an index rather than a table scan.
CREATE INDEX traffic_samples_ts ON traffic_samples (ts);
CREATE INDEX traffic_samples_project_ts ON traffic_samples (org_id, project_id, ts);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX judge_cache_created ON judge_cache (created_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
