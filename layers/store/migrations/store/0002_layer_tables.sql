-- riskmap store, migration 2: one table per registry layer (layers/*.py specs as of this migration).
-- Columns in the spec's order; riskmap_row keeps the written order; geometries in WGS-84 (SRID 4326)
-- with a GiST index; the id column indexed. A later change to a spec needs a new migration.

-- risk_areas: Medium/high risk areas / 中高风险区
CREATE TABLE layer_risk_areas (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "id" text,
    "level" text,
    "province" text,
    "city" text,
    "county" text,
    "adcode" text,
    "area_name" text,
    "since" date,
    "lifted" date,
    "source" text,
    "approximate" boolean,
    "demo" boolean,
    geom geometry(Geometry, 4326)
);
CREATE INDEX layer_risk_areas_geom ON layer_risk_areas USING gist (geom);
CREATE INDEX layer_risk_areas_id ON layer_risk_areas ("id");

-- zones: Control zones / 封控/管控/防范区
CREATE TABLE layer_zones (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "id" text,
    "tier" text,
    "name" text,
    "reason" text,
    "start" date,
    "planned_end" date,
    "lifted" date,
    "last_case" date,
    "district_adcode" text,
    "demo" boolean,
    "version" bigint,
    "saved_by" text,
    "saved_at" text,
    geom geometry(Geometry, 4326)
);
CREATE INDEX layer_zones_geom ON layer_zones USING gist (geom);
CREATE INDEX layer_zones_id ON layer_zones ("id");

-- hotels: Quarantine hotels / 集中隔离酒店
CREATE TABLE layer_hotels (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "id" text,
    "name" text,
    "district_adcode" text,
    "address" text,
    "rooms_total" bigint,
    "rooms_occupied" bigint,
    "status" text,
    "staff_certified" bigint,
    "demo" boolean,
    geom geometry(Geometry, 4326)
);
CREATE INDEX layer_hotels_geom ON layer_hotels USING gist (geom);
CREATE INDEX layer_hotels_id ON layer_hotels ("id");

-- testing_sites: Testing sites / 核酸检测点
CREATE TABLE layer_testing_sites (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "id" text,
    "name" text,
    "type" text,
    "district_adcode" text,
    "address" text,
    "hours" text,
    "capacity_per_hour" bigint,
    "free" boolean,
    "demo" boolean,
    geom geometry(Geometry, 4326)
);
CREATE INDEX layer_testing_sites_geom ON layer_testing_sites USING gist (geom);
CREATE INDEX layer_testing_sites_id ON layer_testing_sites ("id");

-- neighbourhoods: Neighbourhoods / 社区/村
CREATE TABLE layer_neighbourhoods (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "id" text,
    "name" text,
    "district_adcode" text,
    "district" text,
    "street" text,
    "population" bigint,
    "demo" boolean,
    geom geometry(Geometry, 4326)
);
CREATE INDEX layer_neighbourhoods_geom ON layer_neighbourhoods USING gist (geom);
CREATE INDEX layer_neighbourhoods_id ON layer_neighbourhoods ("id");

-- travellers: Travellers / 返（抵）并人员
CREATE TABLE layer_travellers (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "id" text,
    "name" text,
    "phone" text,
    "id_number" text,
    "address" text,
    "arrival_date" date,
    "neighbourhood_id" text,
    "inbound" boolean,
    "entry_quarantine_days" bigint,
    "companion" boolean,
    "companion_date" date,
    "bigdata_push" boolean,
    "push_date" date,
    "demo" boolean,
    geom geometry(Geometry, 4326)
);
CREATE INDEX layer_travellers_geom ON layer_travellers USING gist (geom);
CREATE INDEX layer_travellers_id ON layer_travellers ("id");

-- visits: Travel history / 旅居史
CREATE TABLE layer_visits (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "traveller_id" text,
    "place" text,
    "adcode" text,
    "from_date" date,
    "to_date" date
);

-- daily_reports: Daily reports / 日报告
CREATE TABLE layer_daily_reports (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "date" date,
    "new_local_confirmed" bigint,
    "new_suspected" bigint,
    "new_local_asymptomatic" bigint,
    "new_imported_confirmed" bigint,
    "new_imported_asymptomatic" bigint,
    "recovered" bigint,
    "returnees_key_regions" bigint,
    "tests" bigint,
    "cum_confirmed" bigint,
    "cum_imported_confirmed" bigint,
    "cum_imported_asymptomatic" bigint,
    "cum_tests" bigint,
    "demo" boolean
);
CREATE INDEX layer_daily_reports_id ON layer_daily_reports ("date");

-- daily_report_revisions: Daily report revisions / 日报告修订记录
CREATE TABLE layer_daily_report_revisions (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "date" date,
    "revision" bigint,
    "saved_at" text,
    "saved_by" text,
    "note" text,
    "new_local_confirmed" bigint,
    "new_suspected" bigint,
    "new_local_asymptomatic" bigint,
    "new_imported_confirmed" bigint,
    "new_imported_asymptomatic" bigint,
    "recovered" bigint,
    "returnees_key_regions" bigint,
    "tests" bigint,
    "cum_confirmed" bigint,
    "cum_imported_confirmed" bigint,
    "cum_imported_asymptomatic" bigint,
    "cum_tests" bigint,
    "demo" boolean
);

-- zone_history: Zone history / 区域版本记录
CREATE TABLE layer_zone_history (
    riskmap_row bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "id" text,
    "zone_id" text,
    "version" bigint,
    "action" text,
    "changes" text,
    "saved_by" text,
    "saved_at" text,
    "tier" text,
    "name" text,
    "reason" text,
    "start" date,
    "planned_end" date,
    "lifted" date,
    "last_case" date,
    "district_adcode" text,
    "demo" boolean,
    geom geometry(Geometry, 4326)
);
CREATE INDEX layer_zone_history_geom ON layer_zone_history USING gist (geom);
CREATE INDEX layer_zone_history_id ON layer_zone_history ("id");
