-- riskmap store, migration 6: a neighbourhood's community office phone (public: residents in a
-- sealed zone are told to call it), shown on the resident page. Empty for existing rows.
ALTER TABLE layer_neighbourhoods ADD COLUMN "contact_phone" text;
