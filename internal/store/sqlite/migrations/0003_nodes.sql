-- Server nodes sharing this store (SPEC 5). Times are Unix milliseconds. A node
-- is registered under its address, so one that restarts there keeps its id.
CREATE TABLE nodes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    address       TEXT NOT NULL UNIQUE,
    build_version TEXT NOT NULL,
    started       INTEGER NOT NULL,
    heartbeat     INTEGER NOT NULL
);
