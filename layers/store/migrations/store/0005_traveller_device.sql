-- riskmap store, migration 5: a traveller's pseudonymous device id (the hash the location records
-- carry, never a phone number), so 时空伴随 detection (riskmap companions --flag) can flag the
-- travellers it finds. Empty for existing rows.
ALTER TABLE layer_travellers ADD COLUMN "device_id" text;
