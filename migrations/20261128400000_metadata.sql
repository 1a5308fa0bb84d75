-- Repository metadata (issue #7): descriptions are scanned like text files, names are judged
-- for typosquatting, and both are recorded on the repository (`findings.source = 'metadata'`,
-- `indicators.repository_id`). `image_findings` already carries metadata findings to every
-- image of the repository; this migration lets the feeds judge metadata indicators too, and
-- gives the repository-level verdicts that image-less repositories (the spam campaigns of
-- millions of repositories without a single tag) can only have.

-- Feed matches of an image now include its repositories' metadata indicators (a description
-- pointing at a URLhaus URL flags every image of the repository, as a metadata finding does).
-- Same columns as before; the newly-registered window is still judged against the image's
-- push date.
CREATE OR REPLACE VIEW image_feed_matches AS
WITH image_indicators AS (
    SELECT il.image_id, i.kind, i.value
    FROM image_layers il JOIN indicators i ON i.layer_id = il.layer_id
    UNION
    SELECT i.image_id, i.kind, i.value FROM indicators i WHERE i.image_id IS NOT NULL
    UNION
    SELECT t.image_id, i.kind, i.value
    FROM indicators i JOIN tags t ON t.repository_id = i.repository_id AND t.image_id IS NOT NULL
    WHERE i.repository_id IS NOT NULL
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

-- Feed matches of a repository's own metadata indicators, whether or not it has images. A
-- description has no push date of its own: the newly-registered window is judged against the
-- repository's last update (its last push), or its registration when nothing was ever pushed.
CREATE VIEW repository_feed_matches AS
SELECT i.repository_id, fe.category, i.kind, i.value, fe.feed_id, fe.listed_on
FROM indicators i
JOIN repositories r ON r.id = i.repository_id
JOIN feed_entries fe ON fe.kind = i.kind AND fe.value = i.value
WHERE i.repository_id IS NOT NULL
  AND (fe.category <> 'newly_registered_domain'
       OR (fe.listed_on IS NOT NULL AND coalesce(r.last_updated, r.date_registered) IS NOT NULL
           AND fe.listed_on BETWEEN (coalesce(r.last_updated, r.date_registered) - make_interval(days =>
                   coalesce(nullif(current_setting('hubcensus.nrd_window_days', true), '')::int, 30)))::date
               AND coalesce(r.last_updated, r.date_registered)::date));

-- One row per repository and category decided from metadata alone (description findings,
-- typosquatting verdicts, feed matches of description indicators). `counted` means at least
-- one medium/high-confidence finding or a feed match, as in `image_categories`. This is where
-- image-less repositories are counted; repositories with images also count through their
-- images in `image_categories`.
CREATE VIEW repository_metadata_categories AS
SELECT repository_id, category,
       max(confidence) AS max_confidence,
       count(*) AS findings,
       bool_or(confidence >= 'medium') AS counted
FROM (
    SELECT repository_id, category, confidence FROM findings WHERE source = 'metadata'
    UNION ALL
    SELECT repository_id, category, 'high'::confidence FROM repository_feed_matches
) AS evidence
GROUP BY repository_id, category;
