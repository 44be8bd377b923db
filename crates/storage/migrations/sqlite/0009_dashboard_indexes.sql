-- Score trends on the dashboard: a target's latest succeeded jobs, one index
-- range per target however many jobs the project has (queries must use
-- these very expressions for SQLite to use the index).
CREATE INDEX jobs_target_succeeded ON jobs (
    org_id, project_id, json_extract(request, '$.target.model'),
    json_extract(request, '$.target.prompt_id'), id DESC
) WHERE status = 'succeeded';
