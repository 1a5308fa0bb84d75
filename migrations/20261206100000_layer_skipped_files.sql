-- What the scan of a layer saw but did not (fully) read, and why (issue #15): files of zeros
-- (a high uid's sparse `/var/log/lastlog`), compressed files and nested archive members cut as
-- decompression bombs on their own, archives nested too deep, too big to enter or corrupt,
-- unreadable zip members, paths cut at the length limit. None of these ends the layer's scan:
-- the walk goes on past them, so they are facts about a scanned layer, not its error. A layer
-- keeps at most 256 of them here; `files_skipped` counts them all.
ALTER TABLE layers ADD COLUMN files_skipped integer NOT NULL DEFAULT 0 CHECK (files_skipped >= 0);

CREATE TABLE layer_skipped_files (
    layer_id   bigint NOT NULL REFERENCES layers(id) ON DELETE CASCADE,
    path       text NOT NULL,   -- inside the layer; `outer.jar!/inner` inside a nested archive
    reason     text NOT NULL,   -- zero_filled, bomb, too_deep, too_big, corrupt, unreadable, path_too_long
    detail     text NOT NULL,   -- for a person: the size, the ratio, the parse error
    PRIMARY KEY (layer_id, path, reason)
);
