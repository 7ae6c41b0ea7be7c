-- riskmap accounts, migration 1: accounts and the audit trail (dashboard/accounts.py).
-- {id} and {bigint} are filled in per dialect (layers/store/sql.py).
CREATE TABLE riskmap_users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    areas TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    password_changed_at TEXT
);
CREATE TABLE riskmap_audit (
    id {id},
    at TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX riskmap_audit_at ON riskmap_audit (at);
CREATE INDEX riskmap_audit_name ON riskmap_audit (name, at);
