-- riskmap store, migration 8: a quarantine hotel's period in use (layers/hotels.py), so the time
-- machine shows the hotels in use on each day. Empty for existing rows (in use while the status
-- says so).
ALTER TABLE layer_hotels ADD COLUMN "in_use_since" date;
ALTER TABLE layer_hotels ADD COLUMN "in_use_until" date;
