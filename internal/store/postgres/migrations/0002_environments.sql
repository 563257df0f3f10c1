-- Environments (SPEC 4), as in the SQLite store. name_fold is the name as
-- environment.Fold returns it; it and id compare bytewise (COLLATE "C"), like
-- Go strings and SQLite's BINARY, so that both engines sort alike. tags holds
-- the tag set as a JSON array in the order given; environment_tags repeats
-- it, one row per tag, for the tag filter. quotas and storage hold
-- environment.Quotas and environment.Storage as JSON text (limits only).
CREATE TABLE environments (
    id        TEXT COLLATE "C" PRIMARY KEY,
    name      TEXT NOT NULL,
    name_fold TEXT COLLATE "C" NOT NULL,
    trial     BOOLEAN NOT NULL DEFAULT false,
    state     TEXT NOT NULL,
    tags      TEXT NOT NULL DEFAULT '[]',
    created   BIGINT NOT NULL,
    quotas    TEXT NOT NULL DEFAULT '{}',
    storage   TEXT NOT NULL DEFAULT '{}',
    -- revision is bumped by every update; updates and deletes name the
    -- revision they read, so concurrent read-modify-writes cannot lose one.
    revision  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX environments_name ON environments (name_fold, id);
CREATE INDEX environments_created ON environments (created, id);

CREATE TABLE environment_tags (
    environment_id TEXT COLLATE "C" NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    tag            TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (environment_id, tag)
);
CREATE INDEX environment_tags_tag ON environment_tags (tag, environment_id);
