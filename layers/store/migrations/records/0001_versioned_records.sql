-- riskmap records, migration 1: versioned records (layers/store/records.py).
-- Every save of a record is a row of riskmap_record_versions (never updated, never deleted);
-- riskmap_records holds the newest version of each (kind, key), so current state is one read.
-- scope: what a list is filtered by (a neighbourhood id for follow-up outcomes), indexed.
-- data: the record's fields as JSON text.
CREATE TABLE riskmap_record_versions (
    seq {id},
    kind TEXT NOT NULL,
    record_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    data TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    UNIQUE (kind, record_key, version)
);
CREATE TABLE riskmap_records (
    kind TEXT NOT NULL,
    record_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    seq {bigint} NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    data TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (kind, record_key)
);
CREATE INDEX riskmap_records_scope ON riskmap_records (kind, scope);
