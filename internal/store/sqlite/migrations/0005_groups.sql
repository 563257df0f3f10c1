-- Users' profiles and user groups (SPEC 5). A user without a password has an
-- empty password_hash and cannot sign in. Group names are unique by name_key
-- (the name folded to lower case in Go, so both stores agree). The lists of a
-- group are JSON arrays; access_right is a JSON object, NULL when never set.
-- Memberships keep the order they were given in (pos).
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';

CREATE TABLE usergroups (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    name_key         TEXT NOT NULL UNIQUE,
    cluster_admin    INTEGER NOT NULL DEFAULT 0,
    access_account   INTEGER NOT NULL DEFAULT 0,
    manage_account   INTEGER NOT NULL DEFAULT 0,
    ldap_group_names TEXT NOT NULL DEFAULT '[]',
    sso_group_names  TEXT NOT NULL DEFAULT '[]',
    access_right     TEXT,
    created          INTEGER NOT NULL
);

CREATE TABLE memberships (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES usergroups (id) ON DELETE CASCADE,
    pos      INTEGER NOT NULL,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX memberships_group ON memberships (group_id);

-- Console access now needs a cluster-admin group: every user so far could
-- sign in, so every user so far joins it.
INSERT INTO usergroups (id, name, name_key, cluster_admin, created)
    VALUES ('cluster-admins', 'Cluster admins', 'cluster admins', 1, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
INSERT INTO memberships (user_id, group_id, pos) SELECT id, 'cluster-admins', 0 FROM users;
