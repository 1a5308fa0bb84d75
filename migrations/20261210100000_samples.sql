-- Probability samples of the frame (issue #16): a census run may analyse a simple random
-- sample (or a stratified one) of its kept repositories instead of all of them. The draw's
-- parameters live with the run, and each sampled repository carries its stratum and
-- inclusion probability, so the report's estimates (and anyone's SQL) can weight it.

CREATE TABLE samples (
    run_id           bigint PRIMARY KEY REFERENCES census_runs(id) ON DELETE CASCADE,
    design           text NOT NULL CHECK (design IN ('srs', 'stratified')),
    size             integer NOT NULL CHECK (size > 0),   -- n asked for (the latest extension)
    seed             bigint NOT NULL,                      -- the draw key's seed (u64, stored as its bits)
    -- Lower pull-count bounds of the bands after the first (`[1000, 100000]`: three bands); []
    -- for a simple random sample.
    bands            bigint[] NOT NULL DEFAULT '{}',
    allocation       text NOT NULL DEFAULT 'proportional' CHECK (allocation IN ('proportional', 'neyman')),
    -- Neyman's input: a pilot's prevalence per band.
    pilot_prevalence double precision[],
    -- Per band at the latest draw: [{"stratum", "population", "sampled"}].
    strata           jsonb NOT NULL DEFAULT '[]',
    frame_size       bigint,        -- kept repositories (and earlier members) at the latest draw
    draws            integer NOT NULL DEFAULT 0,   -- 1 after the first draw, 2 after one extension...
    drawn_at         timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (design = 'stratified' OR cardinality(bands) = 0)
);

CREATE TABLE sample_repositories (
    run_id                bigint NOT NULL REFERENCES samples(run_id) ON DELETE CASCADE,
    repository_id         bigint NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    stratum               integer NOT NULL CHECK (stratum >= 0),
    -- n_h / N_h at the latest draw (n / N for a simple random sample).
    inclusion_probability double precision NOT NULL CHECK (inclusion_probability > 0 AND inclusion_probability <= 1),
    draw                  integer NOT NULL CHECK (draw >= 1),   -- the draw that added it
    PRIMARY KEY (run_id, repository_id)
);
CREATE INDEX sample_repositories_repository ON sample_repositories (repository_id);
