-- The audit log (extension): one row per audited action, or per address and
-- reason for aggregated failed authentications (count). seq orders events;
-- at is Unix milliseconds. No column ever holds a secret.
CREATE TABLE audit_events (
    seq         BIGSERIAL PRIMARY KEY,
    at          BIGINT NOT NULL,
    action      TEXT COLLATE "C" NOT NULL,
    actor_user  TEXT COLLATE "C" NOT NULL DEFAULT '',
    actor_token TEXT COLLATE "C" NOT NULL DEFAULT '',
    client_addr TEXT COLLATE "C" NOT NULL DEFAULT '',
    target      TEXT COLLATE "C" NOT NULL DEFAULT '',
    outcome     TEXT COLLATE "C" NOT NULL,
    detail      TEXT COLLATE "C" NOT NULL DEFAULT '',
    count       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_target ON audit_events (target, seq);
