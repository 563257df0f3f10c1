-- The audit log (extension): one row per audited action, or per address and
-- reason for aggregated failed authentications (count). seq orders events;
-- at is Unix milliseconds. No column ever holds a secret.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    action      TEXT NOT NULL,
    actor_user  TEXT NOT NULL DEFAULT '',
    actor_token TEXT NOT NULL DEFAULT '',
    client_addr TEXT NOT NULL DEFAULT '',
    target      TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    count       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_target ON audit_events (target, seq);
