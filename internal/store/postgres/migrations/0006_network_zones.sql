-- Network zones (SPEC 4.7), as in the SQLite store. id is the lower-case form
-- networkzone.Normalize returns; it compares bytewise (COLLATE "C"), like Go
-- strings and SQLite's BINARY, so that both engines list zones alike.
-- alternative_zones holds the alternative zone ids as a JSON array (text) in
-- the order given; they need not name stored zones.
CREATE TABLE network_zones (
    id                TEXT COLLATE "C" PRIMARY KEY,
    description       TEXT NOT NULL DEFAULT '',
    alternative_zones TEXT NOT NULL DEFAULT '[]',
    fallback_mode     TEXT NOT NULL
);
