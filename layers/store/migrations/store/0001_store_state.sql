-- riskmap store, migration 1: the store's own bookkeeping (layers/store/postgis.py).
-- riskmap_schema_migrations itself is created by the migration runner.

-- One row: the store version (bumped by every write transaction, which also locks this row so
-- writers take turns) and when the store was first written (NULL: no store yet).
CREATE TABLE riskmap_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version bigint NOT NULL,
    written_at timestamptz
);
INSERT INTO riskmap_state (version) VALUES ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint);

-- Scenario metadata (e.g. demo = true), in the order written.
CREATE TABLE riskmap_meta (
    position integer NOT NULL,
    key text PRIMARY KEY,
    value text NOT NULL
);

-- The layers written so far, in the order first written.
CREATE TABLE riskmap_layers (
    position bigint GENERATED ALWAYS AS IDENTITY,
    key text PRIMARY KEY
);
