-- People who sign in to the dashboard, their sessions and the first-run setup token.
-- Session ids and setup tokens are stored only as SHA-256 hashes.

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES orgs(id),
    email               TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    disabled_at         INTEGER
);
CREATE INDEX users_by_org ON users (org_id, email);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE setup_tokens (
    token_hash  TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL
);

-- The targets seen in traffic, kept at ingest so that listing them never
-- scans the traffic table. The trigger fires only for rows actually stored
-- (a repeated sample id is skipped by the insert and counted nowhere).
CREATE TABLE traffic_targets (
    org_id        TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    model         TEXT NOT NULL,
    prompt_id     TEXT NOT NULL,
    sample_count  INTEGER NOT NULL,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    PRIMARY KEY (org_id, project_id, model, prompt_id)
);

INSERT INTO traffic_targets (org_id, project_id, model, prompt_id, sample_count, first_seen, last_seen)
SELECT org_id, project_id, model, prompt_id, COUNT(*), MIN(ts), MAX(ts)
FROM traffic GROUP BY org_id, project_id, model, prompt_id;

CREATE TRIGGER traffic_targets_at_ingest AFTER INSERT ON traffic
BEGIN
    INSERT INTO traffic_targets (org_id, project_id, model, prompt_id, sample_count, first_seen, last_seen)
    VALUES (NEW.org_id, NEW.project_id, NEW.model, NEW.prompt_id, 1, NEW.ts, NEW.ts)
    ON CONFLICT (org_id, project_id, model, prompt_id) DO UPDATE SET
        sample_count = sample_count + 1,
        first_seen = MIN(first_seen, excluded.first_seen),
        last_seen = MAX(last_seen, excluded.last_seen);
END;
