-- `Idempotency-Key` of ingest requests (`POST /api/v1/traffic`): one row per
-- keyed request, written in the ingest's own transaction, so that a repeat
-- answers the first request's outcome and stores nothing twice. Scoped to the
-- organization and the endpoint; the body's SHA-256 tells a repeat from a
-- reuse of the key with another body.
CREATE TABLE ingest_keys (
    org_id           TEXT NOT NULL,
    endpoint         TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    body_sha256      BLOB NOT NULL,
    stored           INTEGER NOT NULL,   -- samples newly stored by the first request
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (org_id, endpoint, idempotency_key)
);

-- The targets aggregate is now upserted once per ingest transaction and
-- target (see `sqlite/traffic.rs`), not once per row by a trigger: at 1,000
-- rows a batch the row trigger was a second upsert per stored sample.
DROP TRIGGER traffic_targets_at_ingest;

-- A trace's samples are found through the unique (org_id, project_id,
-- sample_id) index, one range per project of the organization (see
-- `sqlite/trace_context.rs`): this second index cost a B-tree insert per
-- stored sample for a lookup that only OTLP documents arriving late make.
DROP INDEX traffic_by_sample_id;
