-- Tokens. Only the SHA-256 of a token is stored; times are Unix milliseconds.
-- scopes holds the scope names separated by single spaces, with a leading and
-- a trailing space, so "holds scope X" is scopes LIKE '% X %'. seq orders
-- tokens created within the same millisecond.
CREATE TABLE tokens (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    hash           BLOB NOT NULL,
    name           TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    created        INTEGER NOT NULL,
    expires        INTEGER,
    revoked        INTEGER NOT NULL DEFAULT 0,
    last_use       INTEGER,
    last_use_ip    TEXT,
    environment_id TEXT
);
CREATE INDEX tokens_created ON tokens (created DESC, seq DESC);
CREATE INDEX tokens_user ON tokens (user_id);
CREATE INDEX tokens_environment ON tokens (environment_id) WHERE environment_id IS NOT NULL;

-- Every change that matters to verification (revocation, scopes, expiry,
-- deletion), whoever makes it (this server, another process such as the CLI),
-- is logged here so that running servers drop their cached verifications.
CREATE TABLE token_changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id TEXT NOT NULL
);
CREATE TRIGGER tokens_changed AFTER UPDATE OF revoked, scopes, expires, hash, environment_id ON tokens
BEGIN
    INSERT INTO token_changes (token_id) VALUES (NEW.id);
END;
CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens
BEGIN
    INSERT INTO token_changes (token_id) VALUES (OLD.id);
END;
