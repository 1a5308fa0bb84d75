-- Frame coverage as a figure (issue 17, point 3): how much of Docker Hub discovery saw.
--
-- Every discovery task records the total Hub reports for its query or listing beside what it
-- collected, so a report can set "collected ÷ reported" per source; and each sighting says
-- which source saw the repository, so two sources' overlap gives a capture–recapture estimate
-- of the frame's true size. `repository_sightings.source` already holds the task's key
-- ('search_v4:none:pull_count_desc:ab', 'namespace:bitnami', 'names_file:...:0+500',
-- 'legacy_search:q'); the strategy is its first field, derived here rather than stored twice.

ALTER TABLE repository_sightings
    ADD COLUMN strategy text NOT NULL GENERATED ALWAYS AS (split_part(source, ':', 1)) STORED;
CREATE INDEX repository_sightings_run_strategy_idx ON repository_sightings (run_id, strategy, repository_id);

-- One row per discovery task and run: what Hub said the task's query or listing holds
-- (`reported`: a v4 search's `total`, a listing's or legacy search's `count`, a names-file
-- chunk's names; NULL when it did not say) and what the task collected. `root` marks the tasks
-- whose reported totals add up to the source's without overlap (seed searches, whole namespace
-- listings, names-file chunks); shards and partial reads report parts of those again.
CREATE TABLE discovery_tallies (
    run_id       bigint NOT NULL REFERENCES census_runs(id) ON DELETE CASCADE,
    task_key     text NOT NULL,
    strategy     text NOT NULL GENERATED ALWAYS AS (split_part(task_key, ':', 1)) STORED,
    root         boolean NOT NULL,
    reported     bigint CHECK (reported >= 0),
    collected    integer NOT NULL CHECK (collected >= 0),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, task_key)
);
CREATE INDEX discovery_tallies_strategy_idx ON discovery_tallies (run_id, strategy) WHERE root;
