-- Server nodes sharing this store (SPEC 5). Times are Unix milliseconds. A node
-- is registered under its address, so one that restarts there keeps its id.
CREATE TABLE nodes (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address       TEXT COLLATE "C" NOT NULL UNIQUE,
    build_version TEXT NOT NULL,
    started       BIGINT NOT NULL,
    heartbeat     BIGINT NOT NULL
);
