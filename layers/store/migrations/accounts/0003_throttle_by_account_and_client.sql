-- riskmap accounts, migration 3: sign-in throttling by account and client address (replaces the
-- lock-out).
CREATE TABLE riskmap_login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at TEXT NOT NULL
);
UPDATE riskmap_users SET failed_logins = 0, locked_until = NULL;
