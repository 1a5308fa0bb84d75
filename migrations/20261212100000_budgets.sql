-- Budgets shared by every worker of a census, on every machine (issue #17). Docker Hub counts
-- its limits per account (or anonymous address), not per process, so the budgets live here:
--
-- * kind 'rate' (the Hub API's requests per minute, a registry's manifest requests): a token
--   bucket refilled by elapsed database time. `tokens` is the level at `updated_at`; a take
--   always subtracts one in one UPDATE and the taker waits until the level it left is back to
--   zero, so a negative level is requests already scheduled ahead (GCRA). A taker killed while
--   waiting leaves at most its own scheduled requests unspent: never more than a window's worth.
-- * kind 'quota' (the pull quota): what the registry last said was left (`observed_remaining`,
--   when it spoke within the window) less every pull taken since, or, before it has spoken,
--   at most `capacity` pulls in any window, counted in `budget_spends`; `reserve` is left
--   unspent. Both counts reach `in_flight_secs` further back, so a pull taken but not yet
--   counted by the registry is never missed. `unlimited`: the registry's last manifest
--   answer carried no quota at all (a paid plan, a private registry).
CREATE TABLE budgets (
    name               text PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('rate', 'quota')),
    capacity           double precision NOT NULL CHECK (capacity >= 0),
    refill_per_sec     double precision NOT NULL CHECK (refill_per_sec >= 0),
    window_secs        double precision NOT NULL CHECK (window_secs > 0),
    reserve            double precision NOT NULL DEFAULT 0,
    in_flight_secs     double precision NOT NULL DEFAULT 0,
    tokens             double precision NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    observed_remaining bigint,
    observed_at        timestamptz,
    unlimited          boolean NOT NULL DEFAULT false
);

-- The pull quota's sliding window: one row per pull taken.
CREATE TABLE budget_spends (
    budget   text NOT NULL REFERENCES budgets (name) ON DELETE CASCADE,
    taken_at timestamptz NOT NULL,
    worker   text NOT NULL,
    -- When the pull's own answer came back (and its ratelimit-remaining was recorded): from
    -- then on the registry's word includes it. NULL while in flight (or never answered).
    answered_at timestamptz
);
CREATE INDEX budget_spends_window ON budget_spends (budget, taken_at);

-- Who spends each budget: for `status`.
CREATE TABLE budget_spenders (
    budget    text NOT NULL REFERENCES budgets (name) ON DELETE CASCADE,
    worker    text NOT NULL,
    spent     bigint NOT NULL DEFAULT 0,
    last_seen timestamptz NOT NULL,
    PRIMARY KEY (budget, worker)
);

-- Every budget as it stands now (database time): what may be taken (`available`; NULL when
-- unlimited) and, for a spent quota, when a pull is expected back. The one definition that
-- taking a pull and `status` both read.
CREATE VIEW budget_levels AS
SELECT b.name, b.kind, b.window_secs, b.reserve, b.observed_remaining, b.observed_at, b.unlimited,
       CASE b.kind WHEN 'rate' THEN b.capacity + 60 * b.refill_per_sec ELSE b.capacity END AS per_window,
       CASE b.kind WHEN 'quota' THEN s.in_window END AS taken_in_window,
       (CASE
            WHEN b.kind = 'rate' THEN LEAST(b.capacity, b.tokens
                + GREATEST(0, extract(epoch FROM c.now - b.updated_at)) * b.refill_per_sec)
            WHEN b.unlimited THEN NULL
            WHEN b.observed_at > c.now - c.win THEN b.observed_remaining - s.since_observed - b.reserve
            ELSE b.capacity - s.in_window - b.reserve
        END)::double precision AS available,
       -- When both counts allow a pull again: the registry's word has aged out of the window,
       -- and enough of the window's pulls have left it.
       CASE WHEN b.kind = 'quota' AND NOT b.unlimited THEN
            GREATEST(CASE WHEN b.observed_at > c.now - c.win THEN b.observed_at + c.win END, f.log_free_at)
       END AS back_at
FROM budgets b
CROSS JOIN LATERAL (
    SELECT clock_timestamp() AS now, make_interval(secs => b.window_secs) AS win,
           make_interval(secs => b.in_flight_secs) AS slack
) c
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE taken_at > c.now - c.win - c.slack) AS in_window,
           -- Pulls the registry's last word may not include yet: taken just before it or since,
           -- and not answered by then (a word written within half a second of the one before
           -- keeps the lower count, so an answer overtaken by an older word is not lost).
           count(*) FILTER (WHERE taken_at > b.observed_at - c.slack
                              AND (answered_at IS NULL OR answered_at > b.observed_at)) AS since_observed
    FROM budget_spends WHERE budget = b.name
) s
-- The pull whose leaving the window brings the count below the limit less the reserve.
LEFT JOIN LATERAL (
    SELECT taken_at + c.win + c.slack AS log_free_at
    FROM budget_spends
    WHERE budget = b.name AND taken_at > c.now - c.win - c.slack
    ORDER BY taken_at
    OFFSET GREATEST(0, s.in_window - (b.capacity - b.reserve))::bigint LIMIT 1
) f ON b.kind = 'quota' AND s.in_window >= b.capacity - b.reserve;
