-- Tokens, as in the SQLite store: only the SHA-256 of a token is stored; times
-- are Unix milliseconds; scopes holds the scope names separated by single
-- spaces, with a leading and a trailing space, so "holds scope X" is
-- scopes LIKE '% X %'. seq orders tokens created within the same millisecond.
-- Text that is compared or ordered uses COLLATE "C" (bytewise, like Go and
-- SQLite's BINARY), whatever the database's locale.
CREATE TABLE tokens (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT COLLATE "C" NOT NULL UNIQUE,
    hash           BYTEA NOT NULL,
    name           TEXT NOT NULL,
    user_id        TEXT COLLATE "C" NOT NULL,
    scopes         TEXT COLLATE "C" NOT NULL,
    created        BIGINT NOT NULL,
    expires        BIGINT,
    revoked        BOOLEAN NOT NULL DEFAULT false,
    last_use       BIGINT,
    last_use_ip    TEXT,
    environment_id TEXT COLLATE "C"
);
CREATE INDEX tokens_created ON tokens (created DESC, seq DESC);
CREATE INDEX tokens_user ON tokens (user_id);
CREATE INDEX tokens_environment ON tokens (environment_id) WHERE environment_id IS NOT NULL;

-- Every change that matters to verification (revocation, scopes, expiry,
-- deletion), whoever makes it (any node, the CLI), is logged here so that
-- running servers drop their cached verifications, and announced on the
-- channel clusterapi_token_changes so that they do so at once.
CREATE TABLE token_changes (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_id TEXT NOT NULL
);

-- Readers ask for changes after the last sequence number they saw, so numbers
-- must become visible in order. Sequences hand them out at insert time, not at
-- commit, so every statement that can log a change first takes one
-- transaction-scoped lock: change-logging transactions commit one at a time,
-- in the order of their numbers. Taking it before any row lock (a statement
-- trigger) keeps it from deadlocking with row locks.
CREATE FUNCTION lock_token_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7263500001);
    RETURN NULL;
END $$;

CREATE FUNCTION log_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7263500001);
    IF TG_OP = 'DELETE' THEN
        INSERT INTO token_changes (token_id) VALUES (OLD.id);
    ELSE
        INSERT INTO token_changes (token_id) VALUES (NEW.id);
    END IF;
    -- Delivered at commit, once per transaction.
    PERFORM pg_notify('clusterapi_token_changes', '');
    RETURN NULL;
END $$;

CREATE TRIGGER tokens_lock_update BEFORE UPDATE OF revoked, scopes, expires, hash, environment_id ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION lock_token_changes();
CREATE TRIGGER tokens_lock_delete BEFORE DELETE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION lock_token_changes();
CREATE TRIGGER tokens_changed AFTER UPDATE OF revoked, scopes, expires, hash, environment_id ON tokens
    FOR EACH ROW EXECUTE FUNCTION log_token_change();
CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens
    FOR EACH ROW EXECUTE FUNCTION log_token_change();
