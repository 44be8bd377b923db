-- `Idempotency-Key` of ingest requests (`POST /api/v1/traffic`): one row per
-- keyed request, written in the ingest's own transaction, so that a repeat
-- answers the first request's outcome and stores nothing twice. Scoped to the
-- organization and the endpoint; the body's SHA-256 tells a repeat from a
-- reuse of the key with another body.
CREATE TABLE ingest_keys (
    org_id           UUID NOT NULL,
    endpoint         TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    body_sha256      BYTEA NOT NULL,
    stored           BIGINT NOT NULL,    -- samples newly stored by the first request
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, endpoint, idempotency_key)
);
