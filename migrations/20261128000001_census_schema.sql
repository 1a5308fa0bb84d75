-- The census schema: the sampling frame, what was resolved and scanned, what was found, the
-- feeds that judge indicators, and the work queues that drive it all. docs/data-model.md
-- explains every table and view. Never edit this file once it has landed: add a migration.

-- Vocabularies. Enums keep the canonical ids of hubcensus-types and are ordered where order
-- means something (confidence).
CREATE TYPE confidence AS ENUM ('low', 'medium', 'high');
CREATE TYPE category AS ENUM (
    'cryptomining', 'embedded_keys', 'proxy_avoidance', 'newly_registered_domain',
    'malicious_domain', 'hacking_tool', 'dynamic_dns', 'typosquatting', 'other');
CREATE TYPE badge AS ENUM ('official', 'verified_publisher', 'open_source', 'none');
CREATE TYPE exclusion_reason AS ENUM (
    'official', 'verified_publisher', 'sponsored_oss', 'imageless', 'inactive', 'not_image',
    'unavailable');
CREATE TYPE job_state AS ENUM ('pending', 'leased', 'done', 'parked');
CREATE TYPE scan_state AS ENUM ('pending', 'scanned', 'failed', 'skipped');
CREATE TYPE finding_source AS ENUM ('layer', 'config', 'metadata');
CREATE TYPE indicator_kind AS ENUM ('domain', 'host', 'ip', 'url');

-- ---------------------------------------------------------------------------------------------
-- Runs and the sampling frame
-- ---------------------------------------------------------------------------------------------

-- One census (or worker-joined continuation of one). `parameters` is the whole effective
-- configuration that shapes the sample (strategies, tag policy, platform, window), so a result
-- can always be traced back to how it was drawn.
CREATE TABLE census_runs (
    id              bigserial PRIMARY KEY,
    label           text NOT NULL DEFAULT '',
    strategy        text[] NOT NULL DEFAULT '{}',
    parameters      jsonb NOT NULL DEFAULT '{}',
    hub_url         text NOT NULL,
    registry_url    text NOT NULL,
    platform        text NOT NULL DEFAULT 'linux/amd64',
    rules_version   text,
    feeds_version   text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK (finished_at IS NULL OR finished_at >= started_at)
);

-- Every repository discovery saw, kept or excluded. One row per `namespace/name`, whichever
-- strategy found it first; `repository_sightings` records every strategy that saw it.
CREATE TABLE repositories (
    id                     bigserial PRIMARY KEY,
    namespace              text NOT NULL,
    name                   text NOT NULL,
    -- trust status: the v4 search badge, and the flags derived from it and the namespace
    badge                  badge,
    is_official            boolean NOT NULL GENERATED ALWAYS AS (namespace = 'library' OR coalesce(badge = 'official', false)) STORED,
    is_verified_publisher  boolean NOT NULL GENERATED ALWAYS AS (coalesce(badge = 'verified_publisher', false)) STORED,
    is_sponsored_oss       boolean NOT NULL GENERATED ALWAYS AS (coalesce(badge = 'open_source', false)) STORED,
    -- popularity and activity as Hub reports them
    pull_count             bigint,
    star_count             integer,
    last_updated           timestamptz,
    date_registered        timestamptz,
    status                 text,          -- Hub's status_description: active | inactive
    repository_type        text,          -- image | plugin | null
    content_types          text[] NOT NULL DEFAULT '{}',
    -- metadata (scanned by the metadata rules; spam campaigns live here)
    description            text,
    full_description       text,
    -- the frame decision: NULL = kept in the sample
    excluded_reason        exclusion_reason,
    first_run_id           bigint REFERENCES census_runs(id),
    first_seen_at          timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (namespace, name)
);
CREATE INDEX repositories_excluded_idx ON repositories (excluded_reason);
CREATE INDEX repositories_namespace_idx ON repositories (namespace);

-- How each repository entered the frame: which run, which strategy, which shard.
CREATE TABLE repository_sightings (
    repository_id   bigint NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    run_id          bigint NOT NULL REFERENCES census_runs(id) ON DELETE CASCADE,
    source          text NOT NULL,   -- e.g. 'search_v4:ab', 'namespace:bitnami', 'names_file'
    seen_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repository_id, run_id, source)
);

-- ---------------------------------------------------------------------------------------------
-- Tags and images
-- ---------------------------------------------------------------------------------------------

-- Images keyed by the digest of the platform manifest that was analysed (one per tag and
-- platform). Several tags and repositories can point at one image.
CREATE TABLE images (
    id               bigserial PRIMARY KEY,
    digest           text NOT NULL UNIQUE,
    media_type       text NOT NULL,
    os               text NOT NULL DEFAULT '',
    architecture     text NOT NULL DEFAULT '',
    variant          text NOT NULL DEFAULT '',
    config_digest    text,
    created          timestamptz,       -- config.created (builder's clock, may lie)
    pushed_at        timestamptz,       -- earliest tag_last_pushed seen for it (Hub's clock)
    pull_cost        integer NOT NULL DEFAULT 0,   -- manifest GETs spent resolving it
    layer_count      integer,
    compressed_size  bigint,
    config_scanned   boolean NOT NULL DEFAULT false,
    rules_version    text,               -- rules that scanned its config
    error            text,               -- why it could not be resolved or scanned fully
    resolved_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (pull_cost >= 0)
);
CREATE INDEX images_pushed_idx ON images (pushed_at);

-- Tags of kept repositories. `digest` is what the tag points at (an index or a manifest);
-- `image_id` is the image resolved for the census platform.
CREATE TABLE tags (
    id               bigserial PRIMARY KEY,
    repository_id    bigint NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name             text NOT NULL,
    digest           text,
    media_type       text,
    last_pushed      timestamptz,
    last_updated     timestamptz,
    tag_status       text,
    full_size        bigint,
    selected         boolean NOT NULL DEFAULT false,   -- chosen by the tag policy
    image_id         bigint REFERENCES images(id),
    UNIQUE (repository_id, name)
);
CREATE INDEX tags_image_idx ON tags (image_id);

-- Per-platform manifest digests of a tag, as Hub's tags endpoint lists them (images[]);
-- attestation entries appear as unknown/unknown.
CREATE TABLE tag_platforms (
    tag_id         bigint NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    os             text NOT NULL,
    architecture   text NOT NULL,
    variant        text NOT NULL DEFAULT '',
    digest         text NOT NULL,
    size           bigint,
    last_pushed    timestamptz,
    PRIMARY KEY (tag_id, digest)
);

-- ---------------------------------------------------------------------------------------------
-- Layers (unique by digest: downloaded and scanned once per census)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE layers (
    id                 bigserial PRIMARY KEY,
    digest             text NOT NULL UNIQUE,
    media_type         text NOT NULL,
    compressed_size    bigint,
    scan_state         scan_state NOT NULL DEFAULT 'pending',
    skip_reason        text,         -- foreign, non-distributable, not a layer, ...
    error              text,         -- the limit or corruption that ended the scan
    bytes_scanned      bigint NOT NULL DEFAULT 0,   -- uncompressed tar bytes read
    entries_scanned    bigint NOT NULL DEFAULT 0,
    truncated_files    integer NOT NULL DEFAULT 0,  -- files scanned head+tail only
    rules_version      text,
    scanned_at         timestamptz,
    scan_millis        integer,
    CHECK (scan_state <> 'skipped' OR skip_reason IS NOT NULL),
    CHECK (scan_state <> 'failed' OR error IS NOT NULL)
);
CREATE INDEX layers_state_idx ON layers (scan_state);

CREATE TABLE image_layers (
    image_id    bigint NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    position    integer NOT NULL CHECK (position >= 0),   -- 0 = base layer
    layer_id    bigint NOT NULL REFERENCES layers(id),
    diff_id     text,                                     -- config rootfs.diff_ids[position]
    PRIMARY KEY (image_id, position)
);
CREATE INDEX image_layers_layer_idx ON image_layers (layer_id);

-- Whiteouts a layer carries: `.wh.NAME` deletes `path` (and all below it) from lower layers;
-- `.wh..wh..opq` (opaque) hides everything below the directory `path`.
CREATE TABLE layer_whiteouts (
    layer_id   bigint NOT NULL REFERENCES layers(id) ON DELETE CASCADE,
    path       text NOT NULL,
    opaque     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (layer_id, path, opaque)
);

-- ---------------------------------------------------------------------------------------------
-- Findings and indicators
-- ---------------------------------------------------------------------------------------------

-- One rule decision about one place. Exactly one subject: a layer (shared by every image that
-- has it), an image's config, or a repository's metadata. The matched value itself is never
-- stored: `preview` is redacted and `fingerprint` is its sha256.
CREATE TABLE findings (
    id              bigserial PRIMARY KEY,
    source          finding_source NOT NULL,
    layer_id        bigint REFERENCES layers(id) ON DELETE CASCADE,
    image_id        bigint REFERENCES images(id) ON DELETE CASCADE,
    repository_id   bigint REFERENCES repositories(id) ON DELETE CASCADE,
    category        category NOT NULL,
    rule_id         text NOT NULL,
    confidence      confidence NOT NULL,
    path            text NOT NULL,
    preview         text NOT NULL,
    fingerprint     text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    detail          jsonb NOT NULL DEFAULT '{}',
    rules_version   text,
    found_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (
        (source = 'layer'    AND layer_id IS NOT NULL AND image_id IS NULL AND repository_id IS NULL) OR
        (source = 'config'   AND image_id IS NOT NULL AND layer_id IS NULL AND repository_id IS NULL) OR
        (source = 'metadata' AND repository_id IS NOT NULL AND layer_id IS NULL AND image_id IS NULL))
);
-- The same decision written twice is one row (retries, two workers racing on one layer).
CREATE UNIQUE INDEX findings_layer_uniq ON findings (layer_id, rule_id, path, fingerprint) WHERE layer_id IS NOT NULL;
CREATE UNIQUE INDEX findings_image_uniq ON findings (image_id, rule_id, path, fingerprint) WHERE image_id IS NOT NULL;
CREATE UNIQUE INDEX findings_repository_uniq ON findings (repository_id, rule_id, path, fingerprint) WHERE repository_id IS NOT NULL;
CREATE INDEX findings_category_idx ON findings (category, confidence);
CREATE INDEX findings_fingerprint_idx ON findings (fingerprint);

-- Distinct network names per subject, kept whether or not any feed lists them today.
CREATE TABLE indicators (
    id              bigserial PRIMARY KEY,
    layer_id        bigint REFERENCES layers(id) ON DELETE CASCADE,
    image_id        bigint REFERENCES images(id) ON DELETE CASCADE,
    repository_id   bigint REFERENCES repositories(id) ON DELETE CASCADE,
    kind            indicator_kind NOT NULL,
    value           text NOT NULL,
    first_path      text,          -- where it was first seen in that subject
    CHECK (num_nonnulls(layer_id, image_id, repository_id) = 1)
);
CREATE UNIQUE INDEX indicators_layer_uniq ON indicators (layer_id, kind, value) WHERE layer_id IS NOT NULL;
CREATE UNIQUE INDEX indicators_image_uniq ON indicators (image_id, kind, value) WHERE image_id IS NOT NULL;
CREATE UNIQUE INDEX indicators_repository_uniq ON indicators (repository_id, kind, value) WHERE repository_id IS NOT NULL;
CREATE INDEX indicators_value_idx ON indicators (kind, value);

-- ---------------------------------------------------------------------------------------------
-- Feeds
-- ---------------------------------------------------------------------------------------------

-- One imported feed file. The same bytes imported twice are one feed (sha256).
CREATE TABLE feeds (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL,        -- urlhaus | nrd | domains | hosts | category_csv | ...
    name          text NOT NULL,
    sha256        text NOT NULL UNIQUE,
    category      category,             -- the category its entries imply, if uniform
    published_on  date,                 -- the feed's own date, when it has one
    imported_at   timestamptz NOT NULL DEFAULT now(),
    entry_count   integer NOT NULL DEFAULT 0
);

-- Entries: a domain, host, IP or URL; the category it implies; the date the feed gives it
-- (registration date for newly-registered-domain lists, date added for URLhaus).
CREATE TABLE feed_entries (
    feed_id     bigint NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    kind        indicator_kind NOT NULL,
    value       text NOT NULL,
    category    category NOT NULL,
    listed_on   date,
    PRIMARY KEY (feed_id, kind, value, category)
);
CREATE INDEX feed_entries_value_idx ON feed_entries (kind, value);

-- ---------------------------------------------------------------------------------------------
-- Work queues
-- ---------------------------------------------------------------------------------------------

-- Every stage's work, one row per (stage, key). Workers lease jobs with FOR UPDATE SKIP
-- LOCKED; a lease has an owner and an expiry renewed by heartbeats; an expired lease is taken
-- again; a job that failed max_attempts times is parked with its last error.
CREATE TABLE jobs (
    id                bigserial PRIMARY KEY,
    stage             text NOT NULL,
    key               text NOT NULL,
    run_id            bigint REFERENCES census_runs(id) ON DELETE SET NULL,
    payload           jsonb NOT NULL DEFAULT '{}',
    priority          integer NOT NULL DEFAULT 0,    -- lower runs first
    state             job_state NOT NULL DEFAULT 'pending',
    lease_owner       text,
    lease_expires_at  timestamptz,
    attempts          integer NOT NULL DEFAULT 0,
    max_attempts      integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    not_before        timestamptz NOT NULL DEFAULT now(),
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    UNIQUE (stage, key),
    CHECK ((state = 'leased') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);
-- Serves the lease query: ready jobs of a stage in priority order, and expired leases.
CREATE INDEX jobs_ready_idx ON jobs (stage, priority, id) WHERE state = 'pending';
CREATE INDEX jobs_leased_idx ON jobs (stage, lease_expires_at) WHERE state = 'leased';
CREATE INDEX jobs_state_idx ON jobs (stage, state);

-- ---------------------------------------------------------------------------------------------
-- Views: per-image verdicts and the Sysdig-style table
-- ---------------------------------------------------------------------------------------------

-- Every finding that concerns an image: its layers' findings (with whether an upper layer of
-- that image whites the path out), its config findings and its repositories' metadata findings.
-- Whiteouts (the same rules as hubcensus-image's verdict.rs): `.wh.NAME` deletes the path, all
-- below it, and everything inside it when it is an archive (`app.jar!/x`); an opaque marker in
-- directory D hides everything below D; an opaque marker at the root ('') hides everything.
CREATE VIEW image_findings AS
SELECT il.image_id, f.id AS finding_id, f.source, f.category, f.rule_id, f.confidence, f.path,
       f.preview, f.fingerprint, l.digest AS layer_digest, il.position AS layer_position,
       EXISTS (
           SELECT 1
           FROM image_layers upper_il
           JOIN layer_whiteouts w ON w.layer_id = upper_il.layer_id
           WHERE upper_il.image_id = il.image_id
             AND upper_il.position > il.position
             AND ((NOT w.opaque AND (f.path = w.path OR starts_with(f.path, w.path || '/')
                                     OR starts_with(f.path, w.path || '!/')))
                  OR (w.opaque AND (w.path = '' OR starts_with(f.path, w.path || '/'))))
       ) AS deleted_in_upper_layer
FROM findings f
JOIN layers l ON l.id = f.layer_id
JOIN image_layers il ON il.layer_id = f.layer_id
UNION ALL
SELECT f.image_id, f.id, f.source, f.category, f.rule_id, f.confidence, f.path, f.preview,
       f.fingerprint, NULL, NULL, false
FROM findings f
WHERE f.image_id IS NOT NULL
UNION ALL
SELECT DISTINCT t.image_id, f.id, f.source, f.category, f.rule_id, f.confidence, f.path,
       f.preview, f.fingerprint, NULL::text, NULL::integer, false
FROM findings f
JOIN tags t ON t.repository_id = f.repository_id AND t.image_id IS NOT NULL
WHERE f.repository_id IS NOT NULL;

-- Feed matches: an image's indicators (from its layers and config) that a feed lists.
-- newly_registered_domain counts only when the feed dates the domain within N days before the
-- image was pushed: N is the session setting hubcensus.nrd_window_days (default 30), so a
-- report can `SET hubcensus.nrd_window_days = 90` and ask again without re-scanning.
CREATE VIEW image_feed_matches AS
WITH image_indicators AS (
    SELECT il.image_id, i.kind, i.value
    FROM image_layers il JOIN indicators i ON i.layer_id = il.layer_id
    UNION
    SELECT i.image_id, i.kind, i.value FROM indicators i WHERE i.image_id IS NOT NULL
)
SELECT ii.image_id, fe.category, ii.kind, ii.value, fe.feed_id, fe.listed_on
FROM image_indicators ii
JOIN feed_entries fe ON fe.kind = ii.kind AND fe.value = ii.value
JOIN images img ON img.id = ii.image_id
WHERE fe.category <> 'newly_registered_domain'
   OR (fe.listed_on IS NOT NULL AND img.pushed_at IS NOT NULL
       AND fe.listed_on BETWEEN (img.pushed_at - make_interval(days =>
               coalesce(nullif(current_setting('hubcensus.nrd_window_days', true), '')::int, 30)))::date
           AND img.pushed_at::date);

-- One row per image and category. `counted` is what the report counts: at least one
-- medium/high-confidence finding (or feed match) that no upper layer deletes.
CREATE VIEW image_categories AS
SELECT image_id, category,
       max(confidence) AS max_confidence,
       count(*) AS findings,
       bool_and(deleted_in_upper_layer) AS only_deleted,
       bool_or(confidence >= 'medium' AND NOT deleted_in_upper_layer) AS counted
FROM (
    SELECT image_id, category, confidence, deleted_in_upper_layer FROM image_findings
    UNION ALL
    SELECT image_id, category, 'high'::confidence, false FROM image_feed_matches
) AS all_evidence
GROUP BY image_id, category;

-- Images analysed: resolved, with every layer either scanned or recorded as skipped/failed.
CREATE VIEW analysed_images AS
SELECT img.*
FROM images img
WHERE img.config_scanned
  AND NOT EXISTS (
      SELECT 1 FROM image_layers il JOIN layers l ON l.id = il.layer_id
      WHERE il.image_id = img.id AND l.scan_state = 'pending');

-- The Sysdig-style table: per category, the images and repositories counted, the share of
-- analysed images, images whose only evidence was deleted by an upper layer, and Sysdig's
-- 2022 figure beside it.
CREATE VIEW category_counts AS
WITH totals AS (SELECT count(*)::numeric AS analysed FROM analysed_images),
sysdig(category, sysdig_2022) AS (VALUES
    ('cryptomining'::category, 608), ('embedded_keys', 281), ('proxy_avoidance', 266),
    ('newly_registered_domain', 134), ('malicious_domain', 129), ('hacking_tool', 38),
    ('dynamic_dns', 33), ('typosquatting', NULL), ('other', 288))
SELECT s.category,
       count(DISTINCT ic.image_id) FILTER (WHERE ic.counted) AS images,
       count(DISTINCT t.repository_id) FILTER (WHERE ic.counted) AS repositories,
       round(100 * count(DISTINCT ic.image_id) FILTER (WHERE ic.counted)
             / nullif((SELECT analysed FROM totals), 0), 3) AS percent,
       count(DISTINCT ic.image_id) FILTER (WHERE ic.only_deleted AND ic.max_confidence >= 'medium') AS images_deleted_only,
       s.sysdig_2022
FROM sysdig s
LEFT JOIN image_categories ic ON ic.category = s.category
LEFT JOIN tags t ON t.image_id = ic.image_id
GROUP BY s.category, s.sysdig_2022
ORDER BY array_position(enum_range(NULL::category), s.category);

-- The exclusive view: each flagged image under one category, the first in the fixed priority
-- order (the enum's order), so the counts add up to the number of flagged images.
CREATE VIEW image_primary_category AS
SELECT DISTINCT ON (image_id) image_id, category
FROM image_categories
WHERE counted
ORDER BY image_id, array_position(enum_range(NULL::category), category);
