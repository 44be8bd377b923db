-- People who sign in to the dashboard, their sessions and the first-run setup token.
-- Session ids and setup tokens are stored only as SHA-256 hashes.

CREATE TABLE users (
    id                  UUID PRIMARY KEY,
    org_id              UUID NOT NULL REFERENCES orgs(id),
    email               TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    disabled_at         TIMESTAMPTZ
);
CREATE INDEX users_by_org ON users (org_id, email);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE setup_tokens (
    token_hash  TEXT PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL
);

-- The targets seen in traffic, kept at ingest so that listing them never
-- scans the traffic table. A statement-level trigger folds each insert
-- statement's new rows (only those stored: repeated sample ids are skipped)
-- into one upsert per target.
CREATE TABLE traffic_targets (
    org_id        UUID NOT NULL,
    project_id    TEXT NOT NULL,
    model         TEXT NOT NULL,
    prompt_id     TEXT NOT NULL,
    sample_count  BIGINT NOT NULL,
    first_seen    TIMESTAMPTZ NOT NULL,
    last_seen     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, project_id, model, prompt_id)
);

INSERT INTO traffic_targets (org_id, project_id, model, prompt_id, sample_count, first_seen, last_seen)
SELECT org_id, project_id, model, prompt_id, COUNT(*), MIN(ts), MAX(ts)
FROM traffic_samples GROUP BY org_id, project_id, model, prompt_id;

CREATE FUNCTION traffic_targets_at_ingest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO traffic_targets AS t (org_id, project_id, model, prompt_id, sample_count, first_seen, last_seen)
    SELECT org_id, project_id, model, prompt_id, COUNT(*), MIN(ts), MAX(ts)
    FROM new_rows GROUP BY org_id, project_id, model, prompt_id
    -- One lock order for concurrent ingests of the same targets.
    ORDER BY org_id, project_id, model, prompt_id
    ON CONFLICT (org_id, project_id, model, prompt_id) DO UPDATE SET
        sample_count = t.sample_count + excluded.sample_count,
        first_seen = LEAST(t.first_seen, excluded.first_seen),
        last_seen = GREATEST(t.last_seen, excluded.last_seen);
    RETURN NULL;
END $$;

CREATE TRIGGER traffic_targets_at_ingest AFTER INSERT ON traffic_samples
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION traffic_targets_at_ingest();
