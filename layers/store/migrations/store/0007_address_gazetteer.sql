-- riskmap store, migration 7: the address gazetteer (layers/addresses.py): road and address
-- names with their points, public, for the resident lookup's search.
CREATE TABLE layer_addresses (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "id" text,
    "name" text,
    "kind" text,
    "district_adcode" text,
    "demo" boolean,
    geom geometry(Geometry, 4326)
);
CREATE INDEX layer_addresses_geom ON layer_addresses USING gist (geom);
CREATE INDEX layer_addresses_id ON layer_addresses ("id");
