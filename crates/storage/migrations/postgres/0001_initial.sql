-- EvalGuard schema for PostgreSQL. Same tables and meaning as the SQLite
-- schema, with native types (UUID, TIMESTAMPTZ, JSONB, identity keys).

CREATE TABLE orgs (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    key_id       TEXT PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    hash         TEXT NOT NULL,
    role         TEXT NOT NULL,
    project_id   TEXT,
    name         TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);

CREATE TABLE projects (
    org_id     UUID NOT NULL,
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    settings   JSONB NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE rubrics (
    org_id         UUID NOT NULL,
    project_id     TEXT NOT NULL,
    name           TEXT NOT NULL,
    criteria       TEXT NOT NULL,
    score_min      DOUBLE PRECISION NOT NULL,
    score_max      DOUBLE PRECISION NOT NULL,
    pass_threshold DOUBLE PRECISION NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, project_id, name),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE
);

-- `key` orders samples of equal timestamp by arrival; jobs refer to it.
CREATE TABLE traffic_samples (
    key               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            UUID NOT NULL,
    project_id        TEXT NOT NULL,
    sample_id         TEXT NOT NULL,
    model             TEXT NOT NULL,
    prompt_id         TEXT NOT NULL,
    input             TEXT NOT NULL,
    output            TEXT NOT NULL,
    context           JSONB NOT NULL,
    reference         TEXT,
    ts                TIMESTAMPTZ NOT NULL,
    metadata          JSONB,
    latency_ms        DOUBLE PRECISION,
    prompt_tokens     BIGINT,
    completion_tokens BIGINT,
    UNIQUE (org_id, project_id, sample_id)
);
CREATE INDEX traffic_recent ON traffic_samples (org_id, project_id, model, prompt_id, ts DESC, key DESC);

CREATE TABLE jobs (
    id               UUID PRIMARY KEY,
    org_id           UUID NOT NULL,
    project_id       TEXT NOT NULL,
    status           TEXT NOT NULL,
    request          JSONB NOT NULL,
    idempotency_key  TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    progress_total   BIGINT NOT NULL DEFAULT 0,
    progress_done    BIGINT NOT NULL DEFAULT 0,
    progress_errors  BIGINT NOT NULL DEFAULT 0,
    partial          BOOLEAN NOT NULL DEFAULT FALSE,
    stop_reason      TEXT,
    summary          JSONB NOT NULL DEFAULT '{}',
    flags            JSONB NOT NULL DEFAULT '[]',
    usage            JSONB NOT NULL,
    baseline         JSONB,
    error            JSONB,
    plan             JSONB,
    lease_owner      TEXT,
    lease_expires_at TIMESTAMPTZ,
    attempts         INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_org_list ON jobs (org_id, id DESC);
-- Only the runnable jobs, so claiming stays cheap however many jobs finished.
CREATE INDEX jobs_runnable ON jobs (created_at, id) WHERE status IN ('queued', 'running');

CREATE TABLE job_results (
    job_id     UUID NOT NULL,
    role       TEXT NOT NULL,
    sample_key BIGINT NOT NULL,
    sample_id  TEXT NOT NULL,
    flagged    BOOLEAN NOT NULL,
    scores     JSONB NOT NULL,
    usage      JSONB NOT NULL,
    agreement  JSONB NOT NULL,
    PRIMARY KEY (job_id, role, sample_key)
);

CREATE TABLE judge_cache (
    key        TEXT PRIMARY KEY,
    verdict    JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE webhook_endpoints (
    id         UUID PRIMARY KEY,
    org_id     UUID NOT NULL,
    project_id TEXT NOT NULL,
    url        TEXT NOT NULL,
    events     TEXT[] NOT NULL,
    secret     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_project ON webhook_endpoints (org_id, project_id);

CREATE TABLE webhook_deliveries (
    id               UUID PRIMARY KEY,
    org_id           UUID NOT NULL,
    endpoint_id      UUID NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type       TEXT NOT NULL,
    payload          JSONB NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);
