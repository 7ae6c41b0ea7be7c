-- riskmap store, migration 3: the travellers layer carries the holder's 山西健康码 colour and the
-- day it was given (the screening rules' health_code rule, seed 004). Empty for existing rows.
ALTER TABLE layer_travellers ADD COLUMN "health_code" text;
ALTER TABLE layer_travellers ADD COLUMN "health_code_date" date;
