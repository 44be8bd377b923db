-- The dashboard: a project's jobs newest first (overview, project page)
-- read through an index of their own rather than the organization's.
CREATE INDEX jobs_by_project ON jobs (org_id, project_id, id DESC);
-- Score trends: a target's latest succeeded jobs, one index range per target
-- however many jobs the project has.
CREATE INDEX jobs_target_succeeded ON jobs (
    org_id, project_id, (request->'target'->>'model'), (request->'target'->>'prompt_id'), id DESC
) WHERE status = 'succeeded';
