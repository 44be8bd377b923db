-- Times are integer microseconds since the Unix epoch (UTC), so that ordering
-- and range comparisons are plain integer comparisons. JSON values are TEXT.

CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    key_id        TEXT PRIMARY KEY,
    hash          TEXT NOT NULL,
    org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    role          TEXT NOT NULL,
    project_id    TEXT,
    name          TEXT,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_keys_by_org ON api_keys (org_id, created_at);

CREATE TABLE projects (
    org_id      TEXT NOT NULL,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE rubrics (
    org_id          TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    name            TEXT NOT NULL,
    criteria        TEXT NOT NULL,
    score_min       REAL NOT NULL,
    score_max       REAL NOT NULL,
    pass_threshold  REAL NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (org_id, project_id, name),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE
);

-- `key` is the StoredSample key: increasing, never reused (AUTOINCREMENT).
CREATE TABLE traffic (
    key                INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id             TEXT NOT NULL,
    project_id         TEXT NOT NULL,
    sample_id          TEXT NOT NULL,
    model              TEXT NOT NULL,
    prompt_id          TEXT NOT NULL,
    input              TEXT NOT NULL,
    output             TEXT NOT NULL,
    context            TEXT NOT NULL,
    reference          TEXT,
    ts                 INTEGER NOT NULL,
    metadata           TEXT,
    latency_ms         REAL,
    prompt_tokens      INTEGER,
    completion_tokens  INTEGER,
    UNIQUE (org_id, project_id, sample_id)
);
CREATE INDEX traffic_by_target ON traffic (org_id, project_id, model, prompt_id, ts DESC, key DESC);

CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    project_id        TEXT NOT NULL,
    status            TEXT NOT NULL,
    request           TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    progress          TEXT NOT NULL,
    usage             TEXT NOT NULL,
    summary           TEXT NOT NULL,
    flags             TEXT NOT NULL,
    baseline          TEXT,
    error             TEXT,
    partial           INTEGER NOT NULL DEFAULT 0,
    stop_reason       TEXT,
    idempotency_key   TEXT,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0,
    plan              TEXT
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_by_org ON jobs (org_id, id DESC);
CREATE INDEX jobs_by_project ON jobs (org_id, project_id, id DESC);
CREATE INDEX jobs_runnable ON jobs (status, created_at, id);

CREATE TABLE job_results (
    job_id      TEXT NOT NULL,
    role        TEXT NOT NULL,
    sample_key  INTEGER NOT NULL,
    sample_id   TEXT NOT NULL,
    flagged     INTEGER NOT NULL,
    scores      TEXT NOT NULL,
    usage       TEXT NOT NULL,
    agreement   TEXT NOT NULL,
    PRIMARY KEY (job_id, role, sample_key)
);

CREATE TABLE judge_cache (
    key         TEXT PRIMARY KEY,
    verdict     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_by_project ON webhook_endpoints (org_id, project_id);

CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    endpoint_id       TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type        TEXT NOT NULL,
    payload           TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER,
    last_status_code  INTEGER,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    delivered_at      INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);
