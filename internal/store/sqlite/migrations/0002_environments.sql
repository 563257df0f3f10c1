-- Environments (SPEC 4). Times are Unix milliseconds. name_fold is the name as
-- environment.Fold returns it, for the case-insensitive name filter and sort;
-- it compares bytewise (BINARY), like Go strings. tags holds the tag set as a
-- JSON array in the order given; environment_tags repeats it, one row per
-- tag, for the tag filter. quotas and storage hold environment.Quotas and
-- environment.Storage as JSON (limits only; usage is not stored).
CREATE TABLE environments (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    name_fold TEXT NOT NULL,
    trial     INTEGER NOT NULL DEFAULT 0,
    state     TEXT NOT NULL,
    tags      TEXT NOT NULL DEFAULT '[]',
    created   INTEGER NOT NULL,
    quotas    TEXT NOT NULL DEFAULT '{}',
    storage   TEXT NOT NULL DEFAULT '{}',
    -- revision is bumped by every update; updates and deletes name the
    -- revision they read, so concurrent read-modify-writes cannot lose one.
    revision  INTEGER NOT NULL DEFAULT 0
);
-- One index per sort order, with id as the tie-breaker that keyset paging
-- resumes from.
CREATE INDEX environments_name ON environments (name_fold, id);
CREATE INDEX environments_created ON environments (created, id);

CREATE TABLE environment_tags (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    tag            TEXT NOT NULL,
    PRIMARY KEY (environment_id, tag)
);
CREATE INDEX environment_tags_tag ON environment_tags (tag, environment_id);
