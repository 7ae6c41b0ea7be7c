-- riskmap store, migration 4: what a quarantine transfer plan needs (集中隔离转运, seed 002):
-- a hotel's reserved rooms and the people it suits, a traveller's household and special needs.
-- Empty for existing rows (no reserve beyond the setting, suitable for no special need, each
-- person a household of their own residence point).
ALTER TABLE layer_hotels ADD COLUMN "reserved_rooms" bigint;
ALTER TABLE layer_hotels ADD COLUMN "suitable_for" text;
ALTER TABLE layer_travellers ADD COLUMN "household_id" text;
ALTER TABLE layer_travellers ADD COLUMN "needs" text;
