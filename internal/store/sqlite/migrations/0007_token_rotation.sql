-- Token rotation (an extension). successor is the id of the token that
-- replaced this one; a token is rotated at most once. predecessor is the id of
-- the token this one replaced, until this one's first use revokes it. Neither
-- matters to a cached verification by itself (rotation also changes the old
-- token's expiry or revocation, which the change log triggers see), so the
-- triggers are left as they are.
ALTER TABLE tokens ADD COLUMN successor TEXT;
ALTER TABLE tokens ADD COLUMN predecessor TEXT;
