-- riskmap accounts, migration 2: browser sessions and sign-in throttling.
CREATE TABLE riskmap_sessions (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE INDEX riskmap_sessions_name ON riskmap_sessions (name);
ALTER TABLE riskmap_users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE riskmap_users ADD COLUMN locked_until TEXT;
