-- The census pipeline's bookkeeping: how often each layer was scanned (the "once per census"
-- promise, made measurable), and the last pull-quota snapshot of every worker (what
-- `hubcensus status` shows as the remaining quota). docs/data-model.md describes both.

-- Every recorded scan of a layer bumps its counter. A trigger, not application code, so that
-- whatever writes a scan outcome (Store::record_layer_scan sets scanned_at in the same
-- transaction) is counted exactly once per committed write. A census over a population whose
-- base layers are shared by thousands of images must end with scan_count = 1 everywhere, except
-- for layers whose scan was in flight when a worker died, and layers re-scanned with new rules.
ALTER TABLE layers ADD COLUMN scan_count integer NOT NULL DEFAULT 0 CHECK (scan_count >= 0);

CREATE FUNCTION layers_count_scan() RETURNS trigger AS $$
BEGIN
    NEW.scan_count := OLD.scan_count + 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- `UPDATE OF scanned_at` fires only for statements that assign scanned_at (the scan record),
-- not for ensure_layer's upsert of a known digest.
CREATE TRIGGER layers_count_scan BEFORE UPDATE OF scanned_at ON layers
    FOR EACH ROW EXECUTE FUNCTION layers_count_scan();

-- The pull quota as each worker last saw it in the registry's ratelimit-* headers. One row per
-- worker identity (host:pid:random) and registry; workers behind one address share Docker
-- Hub's quota, so `status` shows the smallest remaining count among recent snapshots.
CREATE TABLE worker_quota (
    worker          text NOT NULL,
    registry        text NOT NULL,
    quota_limit     bigint,
    remaining       bigint,
    window_secs     bigint,
    reset_at        timestamptz,
    pulls_spent     bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (worker, registry)
);

-- Rates per stage in `status` count jobs finished in the last minutes.
CREATE INDEX jobs_finished_idx ON jobs (stage, finished_at) WHERE state = 'done';

-- Why a selected tag has no image: the registry says it is gone, it offers no manifest for the
-- census platform, or its manifest is malformed or unsupported. A failed item is a row.
ALTER TABLE tags ADD COLUMN resolve_error text;
