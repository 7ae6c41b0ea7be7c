"""The demo scenario: deterministic, schema-true, geometrically sound, faithful to the seeds."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import data.demo as demo
from data import seed_facts as sf
from geo.crs import to_metric
from layers import REGISTRY, get_spec

URBAN = ("140105", "140106", "140107", "140108", "140109", "140110")
METRIC = "EPSG:32649"  # UTM 49N, Taiyuan's zone (what geo.crs.to_metric picks here)


@pytest.fixture(scope="module")
def built() -> dict[str, pd.DataFrame]:
    return demo.build_demo()


@pytest.fixture(scope="module")
def boundaries() -> demo.Boundaries:
    return demo.load_boundaries()


@pytest.fixture(scope="module")
def nb_metric(built) -> gpd.GeoDataFrame:
    m = to_metric(built["neighbourhoods"])
    assert m.crs.to_epsg() == 32649
    return m


# ---------------------------------------------------------------------------------------------
# determinism and schema


def test_same_seed_gives_identical_frames(built):
    again = demo.build_demo(demo.DEFAULT_SEED)
    assert set(again) == set(built)
    for key in built:
        pd.testing.assert_frame_equal(again[key], built[key], check_exact=True)


def test_other_seed_differs(built):
    other = demo.build_demo(7)
    for key in ("neighbourhoods", "testing_sites", "travellers", "visits"):
        assert not other[key].equals(built[key]), key
    assert not other["neighbourhoods"].geometry.geom_equals(built["neighbourhoods"].geometry).all()


def test_every_layer_is_built_and_coerces_unchanged(built):
    # revisions start empty; zone history is written by the store when the zones are
    assert set(built) == set(REGISTRY) - {"daily_report_revisions", "zone_history"}
    for key, frame in built.items():
        spec = get_spec(key)
        assert list(frame.columns[: len(spec.column_names)]) == spec.column_names, key
        pd.testing.assert_frame_equal(spec.coerce(frame), frame, check_exact=True)
        for c in spec.columns:
            if c.required:
                assert frame[c.name].notna().all(), f"{key}.{c.name} has missing values"
        if spec.geometry:
            assert isinstance(frame, gpd.GeoDataFrame)
            assert frame.crs.to_epsg() == 4326
            assert frame.geometry.is_valid.all(), key
            assert not frame.geometry.is_empty.any(), key
            kind = frame.geom_type.str.replace("Multi", "")
            assert (kind == spec.geometry).all(), key
        if spec.id_column:
            assert frame[spec.id_column].is_unique, key


@pytest.mark.parametrize(
    ("key", "pattern"),
    [
        ("neighbourhoods", r"N\d{4}"),
        ("testing_sites", r"S\d{4}"),
        ("hotels", r"H\d{3}"),
        ("risk_areas", r"R\d{3}"),
        ("zones", r"Z\d{3}"),
        ("travellers", r"T\d{5}"),
    ],
)
def test_ids_are_numbered_from_one(built, key, pattern):
    ids = built[key]["id"].astype(str)
    assert ids.str.fullmatch(pattern).all()
    numbers = ids.str[1:].astype(int)
    assert numbers.tolist() == list(range(1, len(ids) + 1))


def test_every_row_is_marked_demo(built):
    for key, frame in built.items():
        if "demo" in get_spec(key).column_names:
            assert frame["demo"].eq(True).all(), key


def test_meta_says_demo():
    meta = demo.demo_meta(123)
    assert meta["demo"] == "true"
    assert meta["seed"] == "123"
    assert meta["scenario_today"] == "2022-03-28"
    assert demo.DEMO_META["seed"] == str(demo.DEFAULT_SEED)
    assert all(isinstance(v, str) for v in meta.values())


@pytest.mark.parametrize(
    ("key", "lo", "hi"),
    [
        ("neighbourhoods", 300, 700),
        ("testing_sites", 180, 220),
        ("hotels", 25, 35),
        ("travellers", 18_000, 22_000),
        ("risk_areas", 50, 80),
        ("zones", 3, 20),
    ],
)
def test_counts_in_range(built, key, lo, hi):
    assert lo <= len(built[key]) <= hi


# ---------------------------------------------------------------------------------------------
# neighbourhoods


def test_neighbourhoods_nest_in_their_district(built, boundaries):
    nb = built["neighbourhoods"].to_crs(METRIC)
    districts = boundaries.taiyuan.set_index("adcode").to_crs(METRIC)
    for adcode, group in nb.groupby("district_adcode"):
        district = districts.geometry[adcode]
        outside = shapely.difference(group.geometry.to_numpy(), district)
        # what sticks out is a sliver along the district edge (the cells are stored in WGS-84 and
        # made disjoint there, so straight edges move by fractions of a millimetre in metres):
        # at most 1 cm thick anywhere (2 × area / perimeter) and under 25 m² per cell
        thick = 2 * shapely.area(outside) / np.maximum(shapely.length(outside), 1e-9)
        assert thick.max() < 0.01 and shapely.area(outside).max() < 25.0, adcode
        assert (group["district"] == districts.loc[adcode, "name"]).all()


def test_neighbourhoods_do_not_overlap(nb_metric):
    geoms = nb_metric.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert pairs.sum() > len(geoms)  # neighbours do touch: the test looks at real pairs
    # in metres the shared edges of the WGS-84 tessellation differ by fractions of a millimetre:
    # an overlap is at most 1 cm thick (2 × area / perimeter); exact disjointness is tested as stored
    inter = shapely.intersection(geoms[left[pairs]], geoms[right[pairs]])
    thick = 2 * overlap / np.maximum(shapely.length(inter), 1e-9)
    assert thick.max() < 0.01 and overlap.max() < 25.0  # m, m²


def test_neighbourhoods_are_a_tessellation_as_stored(built):
    """As stored (WGS-84), no two neighbourhoods share any area, and no point lies in two: a
    residence belongs to one neighbourhood (the demo used to have 165 slightly overlapping pairs)."""
    nb = built["neighbourhoods"]
    geoms = nb.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert int((overlap > 1e-14).sum()) == 0  # deg², about 1e-4 m²
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = nb.total_bounds
    probes = shapely.points(np.column_stack([rng.uniform(x0, x1, 50_000), rng.uniform(y0, y1, 50_000)]))
    p, _ = shapely.STRtree(geoms).query(probes, predicate="within")
    assert np.bincount(p).max() == 1


@pytest.mark.parametrize("adcode", [*URBAN, "140121", "140122", "140123", "140181"])
def test_neighbourhoods_cover_each_district(nb_metric, boundaries, adcode):
    district = boundaries.taiyuan.set_index("adcode").to_crs(METRIC).geometry[adcode]
    cells = nb_metric[nb_metric["district_adcode"] == adcode].geometry
    union = shapely.union_all(cells.to_numpy())
    assert abs(union.area - district.area) / district.area < 1e-3
    assert shapely.symmetric_difference(union, district).area / district.area < 1e-3


def test_urban_cells_are_dense_and_rural_cells_large(built, nb_metric):
    nb = built["neighbourhoods"]
    urban = nb["district_adcode"].isin(URBAN)
    assert urban.mean() > 0.8
    area_km2 = nb_metric.area / 1e6
    assert area_km2[urban].median() < 5 < area_km2[~urban].median()
    # denser toward the centre: cells within 5 km of the centre are smaller than those beyond 10 km
    centre = gpd.GeoSeries(shapely.points([demo.CITY_CENTRE]), crs=4326).to_crs(METRIC).iloc[0]
    dist = nb_metric.representative_point().distance(centre)
    assert area_km2[urban & (dist < 5000)].median() < area_km2[urban & (dist > 10_000)].median() / 3


def test_population_ranges(built):
    nb = built["neighbourhoods"]
    urban = nb["district_adcode"].isin(URBAN)
    assert nb.loc[urban, "population"].between(3000, 15000).all()
    assert nb.loc[~urban, "population"].between(500, 5000).all()


def test_streets_group_cells_within_a_district(built):
    nb = built["neighbourhoods"]
    per_street = nb.groupby("street")["district_adcode"].nunique()
    assert (per_street == 1).all()
    sizes = nb.groupby("street").size()
    assert sizes.min() >= 1 and sizes.median() >= 3
    assert (nb.groupby("district_adcode")["street"].nunique() >= 3).all()


def test_seed_communities_are_placed_in_their_district_and_street(built):
    nb = built["neighbourhoods"].set_index("name")
    for c in sf.COMMUNITIES:
        assert c.name in nb.index, c.name
        row = nb.loc[c.name]
        assert row["district_adcode"] == c.district_adcode, c.name
        assert row["district"] == c.district, c.name
        if c.street is not None:
            assert row["street"] == c.street, c.name
    yude, guanghua = nb.loc["御德苑社区"], nb.loc["光华街社区"]
    assert yude["street"] == guanghua["street"] == "小井峪街道"


def test_generated_names_are_obviously_demo(built):
    nb = built["neighbourhoods"]
    real = {c.name for c in sf.COMMUNITIES}
    generated = nb[~nb["name"].isin(real)]
    assert generated["name"].str.fullmatch(r".+第\d+(社区|村)").all()
    assert generated.apply(lambda r: r["name"].startswith(r["street"]), axis=1).all()
    real_streets = {s.name for s in sf.STREETS}
    gen_streets = pd.Series(sorted(set(nb["street"]) - real_streets))
    assert gen_streets.str.fullmatch(r".+第[一二三四五六七八九十]+(街道|镇)").all()
    assert nb["name"].is_unique


def test_seed_facts_name_their_source():
    for record in (*sf.COMMUNITIES, *sf.STREETS, *sf.PLACES, *sf.OUTBREAKS):
        for part in record.seed.split(", "):
            assert part in sf.SEED_FILES, record
    inferred = {c.name for c in sf.COMMUNITIES if c.district_inferred}
    assert {"西矿街南社区", "西峪社区", "并州路一社区", "通达街社区"} <= inferred
    assert not {"御德苑社区", "光华街社区", "南坡街社区"} & inferred
    assert {o.city for o in sf.outbreaks_on("2021-12-08")} == {"杭州市", "宁波市", "绍兴市", "呼伦贝尔市", "哈尔滨市"}
    assert len([o for o in sf.outbreaks_on("2022-03-28") if o.history_since == "2022-03-13"]) == 11


# ---------------------------------------------------------------------------------------------
# points: sites, hotels, travellers


def _containing(points: gpd.GeoDataFrame, nb: gpd.GeoDataFrame) -> pd.Series:
    joined = gpd.sjoin(points[["geometry"]], nb[["id", "geometry"]], predicate="within", how="left")
    return joined.groupby(level=0)["id"].first()


def test_sites_and_hotels_lie_in_neighbourhoods(built):
    nb = built["neighbourhoods"]
    for key in ("testing_sites", "hotels"):
        frame = built[key]
        inside = _containing(frame, nb)
        assert inside.notna().all(), key
        district = nb.set_index("id").loc[inside.to_numpy(), "district_adcode"].to_numpy()
        assert (district == frame["district_adcode"].to_numpy()).all(), key


def test_testing_sites_attributes(built):
    s = built["testing_sites"]
    assert set(s["type"]) == {"hospital", "fixed", "convenience", "mobile"}
    share_24h = (s["hours"] == "24h").mean()
    assert 0.05 <= share_24h <= 0.25
    spans = s.loc[s["hours"] != "24h", "hours"].str.split(",").explode()
    assert spans.str.fullmatch(r"\d\d:\d\d-\d\d:\d\d").all()
    crossing = spans[spans.str[:5] > spans.str[6:]]
    assert 0 < len(crossing) < 0.2 * len(s)  # a few sites open past midnight
    assert s["capacity_per_hour"].between(60, 800).all()
    assert s["free"].mean() > 0.8
    assert s["district_adcode"].isin(URBAN).mean() > 0.8


def test_hotels_attributes(built):
    h = built["hotels"]
    assert (h["rooms_occupied"] <= h["rooms_total"]).all()
    assert h["rooms_total"].between(40, 300).all()
    assert set(h["status"]) <= {"in_use", "standby", "closed"}
    assert (h.loc[h["status"] != "in_use", "rooms_occupied"] == 0).all()
    assert (h["district_adcode"] == "140108").sum() >= 3  # seed 004: 尖草坪区 training
    assert h["name"].str.fullmatch(r"演示隔离酒店\d+").all()


def test_each_traveller_lives_in_their_neighbourhood(built):
    t = built["travellers"]
    nb = built["neighbourhoods"].set_index("id")
    polys = nb.geometry.loc[t["neighbourhood_id"].to_numpy()].to_numpy()
    assert shapely.contains(polys, t.geometry.to_numpy()).all()


def _gb11643_ok(number: str) -> bool:
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return "10X98765432"[total % 11] == number[17]


def test_id_numbers_are_valid(built):
    t = built["travellers"]
    ids = t["id_number"].astype(str)
    assert ids.str.fullmatch(r"1401\d{13}[\dX]").all()
    assert ids.map(_gb11643_ok).all()
    birth = pd.to_datetime(ids.str[6:14], format="%Y%m%d", errors="coerce")
    assert birth.notna().all()
    assert birth.between("1940-01-01", "2010-12-31").all()
    assert ids.is_unique
    # the region part is the district the traveller lives in
    district = built["neighbourhoods"].set_index("id").loc[t["neighbourhood_id"].to_numpy(), "district_adcode"]
    assert (ids.str[:6].to_numpy() == district.to_numpy()).all()


def test_check_digit_function_matches_a_published_example():
    # GB 11643-1999 annex example: 11010519491231002X
    assert demo.id_card_check_digit("11010519491231002") == "X"
    assert _gb11643_ok("11010519491231002X")
    with pytest.raises(ValueError, match="17 digits"):
        demo.id_card_check_digit("1234")


def test_traveller_attributes(built):
    t = built["travellers"]
    assert t["phone"].astype(str).str.fullmatch(r"1[3589]\d{9}").all()
    assert t["name"].astype(str).str.len().between(2, 3).all()
    arr = t["arrival_date"]
    march = arr.between("2022-03-10", "2022-03-28")
    december = arr.between("2021-11-25", "2021-12-08")
    assert (march | december).all()
    assert 0.75 < march.mean() < 0.95
    assert 0.003 < t["inbound"].mean() < 0.03
    assert t.loc[t["inbound"], "entry_quarantine_days"].isin([14, 21]).all()
    assert t.loc[~t["inbound"], "entry_quarantine_days"].isna().all()
    for flag, date, lo, hi in (("companion", "companion_date", 0.01, 0.06), ("bigdata_push", "push_date", 0.01, 0.06)):
        assert lo < t[flag].mean() < hi
        assert t.loc[t[flag], date].notna().all()
        assert t.loc[~t[flag], date].isna().all()
        assert (t.loc[t[flag], date] >= t.loc[t[flag], "arrival_date"]).all()


# ---------------------------------------------------------------------------------------------
# visits


def test_visits_fit_the_travellers(built):
    v = built["visits"]
    t = built["travellers"].set_index("id")
    assert v["traveller_id"].isin(t.index).all()
    assert 2.2 < len(v) / len(t) < 2.8
    arrival = t.loc[v["traveller_id"].to_numpy(), "arrival_date"].to_numpy()
    f, to = v["from_date"].to_numpy(), v["to_date"].to_numpy()
    has = ~np.isnat(f) & ~np.isnat(to)
    assert (f[has] <= to[has]).all()
    assert (to[has] < arrival[has]).all()
    assert (f[has] >= arrival[has] - np.timedelta64(14, "D")).all()
    missing = ~has
    assert 0 < missing.mean() < 0.03


def test_visit_adcodes_mean_what_the_place_says(built, boundaries):
    v = built["visits"]
    gaz = boundaries.gazetteer.set_index("adcode")
    coded = v[v["adcode"].notna()]
    assert 0.2 < v["adcode"].isna().mean() < 0.4
    assert coded["adcode"].isin(gaz.index).all()
    names = gaz.loc[coded["adcode"].to_numpy(), "name"].to_numpy()
    # the unit the code stands for is named in the place text (short city names: 杭州 for 杭州市)
    ok = [str(p).startswith(n[:2]) or n in str(p) for p, n in zip(coded["place"], names, strict=True)]
    assert all(ok)


def test_visits_include_outbreak_cities_and_deliberate_junk(built):
    v = built["visits"]
    place = v["place"].astype(str)
    for city in ("杭州", "宁波", "绍兴", "肇庆", "淮南", "阜阳", "台州", "鹤岗", "南阳", "黄冈"):
        assert place.str.contains(city).any(), city
    junk = place.isin(["某地", "外地", "不详"])
    assert junk.any()
    assert v.loc[junk, "adcode"].isna().all()
    assert not place.str.contains("台湾|香港|澳门").any()


# ---------------------------------------------------------------------------------------------
# risk areas and zones


def test_risk_areas_resolve_through_the_gazetteer(built, boundaries):
    r = built["risk_areas"]
    gaz = boundaries.gazetteer.set_index("adcode")
    assert r["adcode"].isin(gaz.index).all()
    g = gaz.loc[r["adcode"].to_numpy()]
    assert (g["province"].to_numpy() == r["province"].to_numpy()).all()
    assert (g["city"].to_numpy() == r["city"].to_numpy()).all()
    assert (g["county"].to_numpy() == r["county"].to_numpy()).all()
    counties = boundaries.counties.set_index("adcode").geometry
    assert shapely.equals(r.geometry.to_numpy(), counties.loc[r["adcode"].to_numpy()].to_numpy()).all()
    assert set(r["level"]) == {"high", "medium", "cases_unrated"}
    assert (r.loc[r["level"] == "cases_unrated", "approximate"] == False).all()  # noqa: E712
    assert (r.loc[r["level"] != "cases_unrated", "approximate"] == True).all()  # noqa: E712
    lifted = r["lifted"].notna()
    assert (r.loc[lifted, "lifted"] > r.loc[lifted, "since"]).all()


def test_risk_areas_follow_the_seed_lists(built):
    r = built["risk_areas"]
    dec = r[r["source"] == "seed 001"]
    assert set(dec["city"]) == {"杭州市", "宁波市", "绍兴市", "呼伦贝尔市", "哈尔滨市"}
    zj = dec[dec["province"] == "浙江省"]
    assert len(zj) == sf.NATIONAL_LIST_2021_12_08["zhejiang_medium_areas"]
    assert (zj["level"] == "medium").all()
    assert (dec["lifted"] < pd.Timestamp("2022-03-28")).all()
    mar = r[r["source"] == "seed 004"]
    eleven = {o.city for o in sf.outbreaks_on("2022-03-28") if o.history_since == "2022-03-13"}
    assert eleven <= set(mar["city"])
    assert {"吉林省", "上海市"} <= set(mar["province"])
    assert mar["since"].between("2022-03-13", "2022-03-27").all()
    on_today = get_spec("risk_areas").as_of(mar, "2022-03-28")
    assert 0 < len(on_today) < len(mar)  # some were lifted before the scenario day
    yuci = r[r["county"] == "榆次区"]
    assert len(yuci) == 1 and yuci["area_name"].iloc[0] == "高村" and yuci["source"].iloc[0] == "seed 003"
    assert (r.loc[r["source"] == "seed 002", "county"] == "交城县").all()


def test_zones_are_nested_and_metric(built, nb_metric):
    z = built["zones"].to_crs(METRIC)
    assert set(z["tier"]) == {"sealed", "controlled", "precaution"}
    nb = nb_metric.set_index("name")
    for start, group in z.groupby("start"):
        tiers = group.set_index("tier").geometry
        sealed, controlled = tiers["sealed"], tiers["controlled"]
        assert shapely.intersection(sealed, controlled).area < 1.0, start
        if "precaution" in tiers:
            assert shapely.intersection(tiers["precaution"], shapely.union(sealed, controlled)).area < 1.0
        # controlled = a 500 m ring: inside the 500 m buffer, and reaching out most of the way
        assert controlled.difference(sealed.buffer(500.0 + 1.0)).area < 1.0
        assert controlled.hausdorff_distance(sealed) > 400.0
        # the sealed zone is made of whole neighbourhoods
        cells = nb_metric.geometry[nb_metric.geometry.intersection(sealed).area > 1.0]
        assert abs(shapely.union_all(cells.to_numpy()).area - sealed.area) < 1.0
    sealed = z[z["tier"] == "sealed"].set_index("start").geometry
    assert sealed[pd.Timestamp("2022-03-28")].contains(nb.geometry["通达街社区"].buffer(-1.0))
    assert sealed[pd.Timestamp("2022-10-28")].contains(nb.geometry["西矿街南社区"].buffer(-1.0))
    lifted = z[z["lifted"].notna()]
    assert len(lifted) >= 3 and (lifted["lifted"] < pd.Timestamp("2022-03-28")).all()
    active = get_spec("zones").as_of(built["zones"], "2022-03-28")
    assert set(active["district_adcode"]) == {"140105"}


# ---------------------------------------------------------------------------------------------
# daily reports


def test_daily_reports_cover_every_day(built):
    d = built["daily_reports"]
    expected = pd.date_range("2021-12-01", "2022-04-15", freq="D")
    assert d["date"].tolist() == expected.tolist()


def test_seed_000_day_matches_the_bulletin(built):
    d = built["daily_reports"].set_index("date")
    row = d.loc[pd.Timestamp("2022-02-07")]
    for key, value in sf.DAILY_REPORT_2022_02_07.items():
        assert row[key] == value, key
    assert row["tests"] == 17012
    assert row["cum_confirmed"] == 21
    assert row["cum_imported_confirmed"] == 99
    assert row["cum_imported_asymptomatic"] == 24
    assert row["new_imported_asymptomatic"] == 2
    assert row["recovered"] == 1


@pytest.mark.parametrize(
    ("cum", "new"),
    [
        ("cum_confirmed", "new_local_confirmed"),
        ("cum_imported_confirmed", "new_imported_confirmed"),
        ("cum_imported_asymptomatic", "new_imported_asymptomatic"),
        ("cum_tests", "tests"),
    ],
)
def test_cumulatives_add_up(built, cum, new):
    d = built["daily_reports"]
    c = d[cum].astype("int64").to_numpy()
    n = d[new].astype("int64").to_numpy()
    assert (np.diff(c) == n[1:]).all()
    assert c[0] - n[0] >= 0


def test_daily_figures_are_small_and_zero_days_common(built):
    d = built["daily_reports"]
    from layers.daily_reports import FIGURES

    for key, *_ in FIGURES:
        assert (d[key] >= 0).all(), key
    cases = d[["new_local_confirmed", "new_local_asymptomatic", "new_imported_confirmed", "new_imported_asymptomatic"]]
    assert (cases.sum(axis=1) == 0).mean() > 0.5  # 零报告 days
    assert cases.max().max() <= 10
    assert d["tests"].between(5_000, 500_000).all()
    assert d["returnees_key_regions"].sum() > 0


def test_demo_outcomes_are_seeded_and_all_accepted(built, tmp_path):
    from geo.screening import screen
    from layers.boundaries import gazetteer
    from layers.followup import record_outcomes_bulk, until_verified_kinds
    from layers.rules import load_rule_sets
    from layers.store.records import Records

    base = screen(built["travellers"], built["visits"], built["risk_areas"], gazetteer(), load_rule_sets(),
                  as_of=demo.SCENARIO_TODAY, neighbourhoods=built["neighbourhoods"], zones=built["zones"])
    risk = built["risk_areas"]
    places = sorted(set(risk["province"] + risk["city"] + risk["county"]))
    rows = demo.demo_outcomes(base.obligations, 20220328, places=places)
    assert rows.equals(demo.demo_outcomes(base.obligations, 20220328, places=places))
    assert (rows["outcome"] == "push_verified").sum() > 0 and rows.loc[rows["outcome"] == "push_verified", "place"].isin(places).all()
    assert (pd.to_datetime(rows["at"]) < pd.Timestamp(demo.SCENARIO_TODAY) + pd.Timedelta(hours=8)).all()
    records = Records(tmp_path / "r.sqlite")
    saved, rejected = record_outcomes_bulk(records, rows, base.obligations,
                                           until_verified=until_verified_kinds(base.rule_set), user="demo")
    assert rejected == [] and saved > 1000

    # the check-ins of the people at home, before the scenario day: seeded, accepted, mostly done
    from geo.followup import apply_followup, checkin_items, home_days
    from layers.followup import load_checkins, load_states, record_checkins_bulk

    morning = pd.Timestamp(demo.SCENARIO_TODAY) + pd.Timedelta(hours=8)
    applied = apply_followup(base, load_states(records), now=morning)
    days = home_days(applied, now=morning)
    ck = demo.demo_checkins(days, 20220328)
    assert ck.equals(demo.demo_checkins(days, 20220328))
    assert (ck["day"] < pd.Timestamp(demo.SCENARIO_TODAY)).all() and (ck["at"] < morning).all()
    scope_of = dict(zip(applied.travellers["id"].astype(str), applied.travellers["neighbourhood_id"].fillna(""), strict=True))
    saved, rejected = record_checkins_bulk(records, ck, scope_of=scope_of, user="demo")
    assert rejected == [] and saved == len(ck) > 1000
    items = checkin_items(applied, load_checkins(records), now=morning)
    status = items[items["day"] < pd.Timestamp(demo.SCENARIO_TODAY)]["status"].value_counts(normalize=True)
    assert 0.9 < status["done"] < 0.98 and 0 < status["missed"] < 0.1

    # the communities' reports of the week: seeded, accepted by the same rules as a page's
    import datetime as dt

    from geo.community import report_status, system_figures
    from layers.community import load_reports, save_reports_bulk

    system = pd.concat([
        system_figures(applied, load_states(records), items, day=d).reindex(applied.neighbourhoods["id"].astype(str), fill_value=0)
        .rename_axis("neighbourhood_id").reset_index().assign(day=d)
        for d in pd.date_range(end=demo.SCENARIO_TODAY, periods=3)
    ], ignore_index=True)
    reps = demo.demo_community_reports(system, 20220328)
    assert reps.equals(demo.demo_community_reports(system, 20220328))
    saved, rejected = save_reports_bulk(records, reps, system, user="demo", cutoff=dt.time(18))
    assert rejected == [] and saved == len(reps)
    yesterday = report_status(applied.neighbourhoods, load_reports(records), day=pd.Timestamp(demo.SCENARIO_TODAY) - pd.Timedelta(days=1),
                              now=morning, cutoff=dt.time(18))["status"].value_counts(normalize=True)
    assert yesterday["missing"] < 0.05 and yesterday["zero"] > 0.1


def test_the_address_gazetteer_is_demo_data_inside_its_neighbourhoods(built):
    import shapely

    a = built["addresses"]
    assert a["demo"].all() and a["id"].is_unique and a["name"].is_unique
    assert set(a["kind"]) == {"road", "address"}
    nb = built["neighbourhoods"]
    city = shapely.union_all(nb.geometry.to_numpy())
    assert shapely.covers(city, a.geometry.to_numpy()).all()
    assert (a["kind"] == "address").sum() == 2 * len(nb)  # every neighbourhood has addresses to find
