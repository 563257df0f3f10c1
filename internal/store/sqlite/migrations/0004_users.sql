-- Console users and their sign-in sessions (SPEC 5, 7). A user's id is the
-- name it signs in with; password_hash is an argon2id PHC string. A session
-- is stored under the SHA-256 (hex) of its cookie value, never the value.
-- Times are Unix milliseconds.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created       INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash   TEXT PRIMARY KEY,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created   INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen);
