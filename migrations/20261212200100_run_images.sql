-- Runs over time (issue 17, point 4): which images each run saw, so that any run can be
-- reported and two runs compared.
--
-- Images are keyed by digest and shared by every run that meets them, and a tag row follows
-- its tag to whatever it points at now; neither says what an earlier census saw. Each resolve
-- of a tag in a run records the image it found here, known images (no pull spent) included.

CREATE TABLE run_images (
    run_id       bigint NOT NULL REFERENCES census_runs(id) ON DELETE CASCADE,
    tag_id       bigint NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    image_id     bigint NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    resolved_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, tag_id)
);
CREATE INDEX run_images_image_idx ON run_images (image_id, run_id);

-- Whether an image belongs to the run a report is scoped to: the transaction-local setting
-- `hubcensus.run_id` (set by `hubcensus report --run ID`, like `hubcensus.nrd_window_days`);
-- unset or empty, every image does (the whole database, as before runs were recorded).
CREATE FUNCTION in_report_run(image bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('hubcensus.run_id', true), '') IS NULL
        OR EXISTS (SELECT 1 FROM run_images ri
                   WHERE ri.image_id = image
                     AND ri.run_id = nullif(current_setting('hubcensus.run_id', true), '')::bigint)
$$;

-- The report's two base views, scoped by that setting; every view above them (the category
-- table, the exclusive count) follows. Same columns as before.
CREATE OR REPLACE VIEW image_categories AS
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
WHERE in_report_run(image_id)
GROUP BY image_id, category;

CREATE OR REPLACE VIEW analysed_images AS
SELECT img.*
FROM images img
WHERE img.config_scanned
  AND NOT EXISTS (
      SELECT 1 FROM image_layers il JOIN layers l ON l.id = il.layer_id
      WHERE il.image_id = img.id AND l.scan_state = 'pending')
  AND in_report_run(img.id);
