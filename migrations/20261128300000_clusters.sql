-- Attribution clusters (issue #7): which flagged images share something that points at one
-- operator. Sysdig's analysts linked images by hand (the same wallet, the same pool, the same
-- key); these views do it for a whole census. docs/data-model.md describes them and
-- docs/queries.md ("Clusters") asks them questions.
--
-- Every link is (kind, key) → (image, repository):
--
-- | kind          | key                                  | evidence |
-- |---------------|--------------------------------------|----------|
-- | `wallet`      | sha256 of the Monero address         | `monero_wallet` findings (the preview is redacted, the fingerprint is not) |
-- | `pool`        | the pool's registrable domain, or IP | `mining_pool_domain` (its listed suffix) and `stratum_url` (its host, reduced to the domain indicator of the same subject) |
-- | `aws_account` | the 12-digit account id              | findings whose detail has `aws_account_id` (decoded offline from the key id by the rules) |
-- | `ssh_key`     | the OpenSSH `SHA256:` fingerprint    | findings whose detail has `ssh_fingerprint` (authorized keys, and private keys with their public half) |
-- | `token`       | sha256 of the token                  | `github_token`, `github_fine_grained_token`, `npm_token`, `npmrc_auth_token` |
-- | `domain`      | a registrable domain                 | `domain` indicators of flagged images (layers and config) |
-- | `layer`       | a layer digest                       | a layer at position > 0 of a flagged image |
-- | `namespace`   | the namespace                        | the repositories of flagged images |
--
-- Evidence counts at medium or high confidence (low holds the known false positives: AWS's
-- documented example key in hundreds of images must not tie them together), whether or not an
-- upper layer deletes it: a deleted file is still in every pull, and still says who built it.
--
-- Shared names that say nothing about an operator (a domain in every Debian copyright file, a
-- layer of python:3.12 that thousands of images build on) are left out by one threshold, the
-- session setting `hubcensus.cluster_max_clean_images` (default 20): a domain or layer that
-- more than that many unflagged images carry is common content, not a campaign's. 20 is far
-- below the images a popular base layer or a documentation domain reaches in any census worth
-- clustering (thousands in a 250,000-repository one), and above the handful of clean-looking
-- images an operator pushes beside the flagged ones. `SET hubcensus.cluster_max_clean_images =
-- 5` (or 100) re-asks the question.

-- Whether more than `p_max_clean` unflagged images carry a domain (in a layer or their config)
-- or a layer (give one, the other NULL), given that `p_flagged` flagged images carry it: the
-- same as "more than p_max_clean + p_flagged images in all", which needs no list of the flagged
-- ones. A count over all of a name's images would read hundreds of thousands of rows for a
-- domain in every Debian image or a layer of python:3.12 in a 250,000-repository census; this
-- reads a prefix of them, four times longer each round, and stops as soon as the prefix holds
-- enough distinct images (or is the whole list). Common names cost about as little as rare ones.
CREATE FUNCTION attribution_is_common(p_domain text, p_layer bigint, p_flagged bigint, p_max_clean int)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
    needed bigint := p_max_clean + p_flagged + 1;
    prefix bigint := p_max_clean + p_flagged + 1;
    rows_read bigint;
    images bigint;
BEGIN
    LOOP
        SELECT count(*), count(DISTINCT x.image_id) INTO rows_read, images
        FROM (SELECT il.image_id
              FROM indicators i JOIN image_layers il ON il.layer_id = i.layer_id
              WHERE i.kind = 'domain' AND i.value = p_domain
              UNION ALL
              SELECT i.image_id
              FROM indicators i
              WHERE i.kind = 'domain' AND i.value = p_domain AND i.image_id IS NOT NULL
              UNION ALL
              -- An image may hold one layer twice (the empty layer): images are counted, not rows.
              SELECT il.image_id FROM image_layers il WHERE il.layer_id = p_layer
              LIMIT prefix) x;
        IF images >= needed THEN
            RETURN true;
        ELSIF rows_read < prefix THEN
            RETURN false;
        END IF;
        prefix := prefix * 4;
    END LOOP;
END;
$$;

-- Every link, before any threshold on cluster size. One row per (kind, key, image, repository);
-- `label` is what a person reads for the key (the redacted preview of a wallet or token, the
-- key itself otherwise); `categories` are the image's counted categories in priority order
-- (empty for a clean image that shares a layer with flagged ones).
CREATE VIEW attribution_links AS
WITH counted AS MATERIALIZED (
    -- Each flagged image (the images of image_primary_category) with its counted categories.
    SELECT image_id, array_agg(category ORDER BY category) AS categories
    FROM image_categories
    WHERE counted
    GROUP BY image_id
),
flagged AS MATERIALIZED (
    SELECT image_id FROM counted
),
settings AS (
    SELECT coalesce(nullif(current_setting('hubcensus.cluster_max_clean_images', true), '')::int, 20)
               AS max_clean_images
),
-- Findings that can link images, whatever their subject.
relevant AS MATERIALIZED (
    SELECT f.id, f.layer_id, f.image_id, f.repository_id, f.rule_id, f.preview, f.fingerprint, f.detail
    FROM findings f
    WHERE f.confidence >= 'medium'
      AND (f.rule_id IN ('monero_wallet', 'mining_pool_domain', 'stratum_url', 'github_token',
                         'github_fine_grained_token', 'npm_token', 'npmrc_auth_token')
           OR f.detail ? 'aws_account_id' OR f.detail ? 'ssh_fingerprint')
),
-- The images each of them concerns: through a layer, the config, or a repository's metadata.
evidence AS (
    SELECT il.image_id, r.id AS finding_id
    FROM relevant r JOIN image_layers il ON il.layer_id = r.layer_id
    UNION
    SELECT r.image_id, r.id FROM relevant r WHERE r.image_id IS NOT NULL
    UNION
    SELECT t.image_id, r.id
    FROM relevant r JOIN tags t ON t.repository_id = r.repository_id AND t.image_id IS NOT NULL
),
evidence_links AS (
    SELECT 'wallet'::text AS kind, r.fingerprint AS key, r.preview AS label, e.image_id
    FROM evidence e JOIN relevant r ON r.id = e.finding_id
    WHERE r.rule_id = 'monero_wallet'
    UNION ALL
    -- A stratum URL names a host (xmr.c3pool.com, or an operator's own proxy); the pool is its
    -- registrable domain, which the indicator extractor recorded for the same subject.
    SELECT 'pool', p.key, p.key, e.image_id
    FROM evidence e
    JOIN relevant r ON r.id = e.finding_id
    CROSS JOIN LATERAL (
        SELECT CASE
                   WHEN r.rule_id = 'mining_pool_domain' THEN r.detail ->> 'suffix'
                   ELSE coalesce(
                       (SELECT i.value
                        FROM indicators i
                        WHERE i.kind = 'domain'
                          AND (i.layer_id = r.layer_id OR i.image_id = r.image_id
                               OR i.repository_id = r.repository_id)
                          AND (lower(r.detail ->> 'pool') = i.value
                               OR right(lower(r.detail ->> 'pool'), length(i.value) + 1) = '.' || i.value)
                        ORDER BY length(i.value) DESC
                        LIMIT 1),
                       lower(r.detail ->> 'pool'))
               END AS key
    ) p
    WHERE r.rule_id IN ('mining_pool_domain', 'stratum_url') AND p.key IS NOT NULL
    UNION ALL
    SELECT 'aws_account', r.detail ->> 'aws_account_id', r.detail ->> 'aws_account_id', e.image_id
    FROM evidence e JOIN relevant r ON r.id = e.finding_id
    WHERE r.detail ? 'aws_account_id'
    UNION ALL
    SELECT 'ssh_key', r.detail ->> 'ssh_fingerprint', r.detail ->> 'ssh_fingerprint', e.image_id
    FROM evidence e JOIN relevant r ON r.id = e.finding_id
    WHERE r.detail ? 'ssh_fingerprint'
    UNION ALL
    SELECT 'token', r.fingerprint, r.preview, e.image_id
    FROM evidence e JOIN relevant r ON r.id = e.finding_id
    WHERE r.rule_id IN ('github_token', 'github_fine_grained_token', 'npm_token', 'npmrc_auth_token')
),
-- Registrable domains that flagged images reference (layers and config, as image_feed_matches).
flagged_domains AS MATERIALIZED (
    SELECT il.image_id, i.value
    FROM flagged fl
    JOIN image_layers il ON il.image_id = fl.image_id
    JOIN indicators i ON i.layer_id = il.layer_id AND i.kind = 'domain'
    UNION
    SELECT i.image_id, i.value
    FROM flagged fl JOIN indicators i ON i.image_id = fl.image_id AND i.kind = 'domain'
),
-- Those carried by few unflagged images, each judged once.
uncommon_domains AS MATERIALIZED (
    SELECT c.value
    FROM (SELECT value, count(*) AS flagged FROM flagged_domains GROUP BY value) c
    WHERE NOT attribution_is_common(c.value, NULL, c.flagged, (SELECT max_clean_images FROM settings))
),
domain_links AS (
    SELECT 'domain'::text AS kind, d.value AS key, d.value AS label, d.image_id
    FROM flagged_domains d JOIN uncommon_domains u ON u.value = d.value
),
-- Layers of flagged images, with how many flagged images have them, kept when one is above its
-- base and few unflagged images have it.
uncommon_layers AS MATERIALIZED (
    SELECT f.layer_id
    FROM (SELECT il.layer_id, count(DISTINCT il.image_id) AS flagged, bool_or(il.position > 0) AS above_base
          FROM flagged fl JOIN image_layers il ON il.image_id = fl.image_id
          GROUP BY il.layer_id) f
    WHERE f.above_base
      AND NOT attribution_is_common(NULL, f.layer_id, f.flagged, (SELECT max_clean_images FROM settings))
),
-- Every image that has such a layer above its base.
layer_sets AS (
    SELECT il.layer_id, array_agg(DISTINCT il.image_id ORDER BY il.image_id) AS images,
           min(il.position) AS first_position
    FROM uncommon_layers u JOIN image_layers il ON il.layer_id = u.layer_id
    WHERE il.position > 0
    GROUP BY il.layer_id
),
-- The layers of one shared stack link the same images: one cluster per set of images, keyed by
-- the stack's lowest shared layer (where the shared ancestry begins).
layer_links AS (
    SELECT 'layer'::text AS kind, k.digest AS key, k.digest AS label, unnest(k.images) AS image_id
    FROM (SELECT DISTINCT ON (s.images) l.digest, s.images
          FROM layer_sets s JOIN layers l ON l.id = s.layer_id
          ORDER BY s.images, s.first_position, l.digest) k
),
image_links AS (
    SELECT * FROM evidence_links
    UNION ALL
    SELECT * FROM domain_links
    UNION ALL
    SELECT * FROM layer_links
),
all_links AS (
    -- An image belongs to every repository with a tag pointing at it.
    SELECT l.kind, l.key, l.label, l.image_id, t.repository_id
    FROM image_links l
    JOIN (SELECT DISTINCT image_id, repository_id FROM tags WHERE image_id IS NOT NULL) t
      ON t.image_id = l.image_id
    UNION ALL
    -- A namespace links the flagged images of its repositories (only through those).
    SELECT 'namespace', r.namespace, r.namespace, t.image_id, r.id
    FROM flagged fl
    JOIN tags t ON t.image_id = fl.image_id
    JOIN repositories r ON r.id = t.repository_id
)
SELECT l.kind, l.key, min(l.label) AS label, l.image_id, l.repository_id,
       coalesce(min(c.categories), '{}'::category[]) AS categories
FROM all_links l
LEFT JOIN counted c ON c.image_id = l.image_id
GROUP BY l.kind, l.key, l.image_id, l.repository_id;

-- The members of every cluster: one row per (cluster, image, repository), with the image's
-- digest, its tags in that repository and its counted categories. A cluster is a key shared by
-- at least two repositories or at least two images; a layer or a namespace must span two
-- repositories (two tags of one repository share their layers and their namespace by
-- construction). This view, not attribution_clusters, applies that rule, so that a query of
-- both reads the links once.
CREATE VIEW attribution_cluster_members AS
WITH links AS MATERIALIZED (
    SELECT * FROM attribution_links
),
clustered AS (
    SELECT kind, key
    FROM links
    GROUP BY kind, key
    HAVING count(DISTINCT repository_id) >= 2
        OR (count(DISTINCT image_id) >= 2 AND kind NOT IN ('layer', 'namespace'))
),
members AS (
    SELECT l.* FROM links l JOIN clustered c ON c.kind = l.kind AND c.key = l.key
)
SELECT m.kind, m.key, m.label, m.image_id, img.digest AS image_digest, m.repository_id, r.namespace,
       r.namespace || '/' || r.name AS repository, r.pull_count,
       coalesce((SELECT array_agg(t.name ORDER BY t.name)
                 FROM tags t
                 WHERE t.repository_id = m.repository_id AND t.image_id = m.image_id), '{}') AS tags,
       m.categories
FROM members m
JOIN images img ON img.id = m.image_id
JOIN repositories r ON r.id = m.repository_id;

-- One row per cluster: its images, repositories and namespaces, the summed pull counts of its
-- repositories, and the counted categories of its images in priority order.
CREATE VIEW attribution_clusters AS
WITH members AS MATERIALIZED (
    SELECT kind, key, label, image_id, repository_id, namespace, pull_count, categories
    FROM attribution_cluster_members
),
pulls AS (
    SELECT kind, key, sum(coalesce(pull_count, 0))::bigint AS pull_count
    FROM (SELECT DISTINCT kind, key, repository_id, pull_count FROM members) r
    GROUP BY kind, key
),
categories AS (
    SELECT m.kind, m.key, array_agg(DISTINCT c.category ORDER BY c.category) AS categories
    FROM members m CROSS JOIN LATERAL unnest(m.categories) AS c(category)
    GROUP BY m.kind, m.key
)
SELECT m.kind, m.key, min(m.label) AS label,
       count(DISTINCT m.image_id) AS images,
       count(DISTINCT m.repository_id) AS repositories,
       count(DISTINCT m.namespace) AS namespaces,
       p.pull_count,
       coalesce(c.categories, '{}'::category[]) AS categories
FROM members m
JOIN pulls p ON p.kind = m.kind AND p.key = m.key
LEFT JOIN categories c ON c.kind = m.kind AND c.key = m.key
GROUP BY m.kind, m.key, p.pull_count, c.categories;
