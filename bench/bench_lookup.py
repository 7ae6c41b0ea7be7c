"""The resident lookup on the demo store: server time for one answer, beside a naive baseline.

Rows follow ``bench/__main__.py``; ``ratio`` is ``baseline / value`` (unit ``ms``, lower is
better). The demo store (seed 20220328, scenario day 2022-03-28) is built in a temporary folder.

1. ``lookup``: geocode a typed name (``通达街社区``), check zones and risk areas, list the 5
   nearest sites with open-now and next opening — with the gazetteer, the site index and the
   sealed-site flags built once (as the page caches them) — against a naive lookup: a difflib
   ratio against every gazetteer name, ``Geod.inv`` to every site and a full sort.
2. ``lookup_with_map``: the same plus the map HTML (``build_map`` with the clustered site layer,
   neighbourhoods, zones, risk areas and the answer's overlay, rendered) against the naive lookup
   plus a folium map with every site as its own ``folium.Marker`` with a popup, rendered. The
   baseline map draws *less* (no polygon layers), so its ratio understates the difference.
"""

from __future__ import annotations

import difflib
import tempfile
from datetime import datetime
from pathlib import Path

import numpy as np
from pyproj import Geod

from bench._timing import best_of

QUERY = "通达街社区"
DAY = "2022-03-28"
WHEN = datetime(2022, 3, 28, 10, 0)
K = 5
_GEOD = Geod(ellps="WGS84")


def _frames(store: Path):
    import pandas as pd

    from layers import get_spec
    from layers.store import open_store

    s = open_store(store)
    day = pd.Timestamp(DAY)
    return {
        key: get_spec(key).as_of(s.read(key, public=True), day).reset_index(drop=True)
        for key in ("neighbourhoods", "risk_areas", "zones", "testing_sites")
    }


def run() -> list[dict]:
    import folium
    import pandas as pd
    import shapely

    from dashboard.settings import Settings
    from data.demo import build_demo, demo_meta
    from geo.geocode import PlaceGazetteer
    from geo.nearest import NearestIndex
    from layers.boundaries import city_counties
    from layers.lookup import district_at, location_status, nearest_sites, sealed_zone_of_sites
    from layers.store.gpkg import write_new_store

    tmp = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    store = tmp / "riskmap.gpkg"
    write_new_store(store, build_demo(20220328), meta=demo_meta(20220328))
    frames = _frames(store)
    sites, zones, risk = frames["testing_sites"], frames["zones"], frames["risk_areas"]
    counties = city_counties("140100")
    gaz = PlaceGazetteer.from_frames(counties, frames["neighbourhoods"], sites)
    index = NearestIndex(sites)
    sealed = sealed_zone_of_sites(sites, zones)
    settings = Settings(store=str(store))

    def ours():
        place = gaz.search(QUERY)[0].place
        lon, lat = place.lon, place.lat
        district_at(lon, lat, counties)
        status = location_status(lon, lat, zones, risk)
        return (lon, lat), nearest_sites(
            index, sites, (lon, lat), k=K, when=WHEN, sealed_of_site=sealed, resident_sealed=status.sealed_zone_ids
        )

    names = list(gaz.places)
    site_xy = np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()])

    def naive():
        best = max(names, key=lambda p: difflib.SequenceMatcher(None, QUERY, p.name).ratio())
        pt = shapely.Point(best.lon, best.lat)
        [g.covers(pt) for g in counties.geometry]
        [g.covers(pt) for g in zones.geometry]
        [g.covers(pt) for g in risk.geometry]
        m = len(site_xy)
        d = _GEOD.inv(np.full(m, best.lon), np.full(m, best.lat), site_xy[:, 0], site_xy[:, 1])[2]
        order = np.argsort(d, kind="stable")[:K]
        return (best.lon, best.lat), order

    def ours_with_map():
        from dashboard.mapview import build_map

        loc, answers = ours()
        options = {"zones": {"as_of": pd.Timestamp(DAY)}, "testing_sites": {"when": WHEN}}
        m = build_map(settings, "zh", frames, render_options=options)
        fg = folium.FeatureGroup(name="nearest", control=False)
        for a in answers:
            folium.PolyLine([(loc[1], loc[0]), (a.lat, a.lon)]).add_to(fg)
            folium.CircleMarker((a.lat, a.lon), radius=9, tooltip=a.name).add_to(fg)
        fg.add_to(m)
        return m.get_root().render()

    def naive_with_map():
        loc, order = naive()
        m = folium.Map(location=(loc[1], loc[0]), zoom_start=14, tiles=None)
        for _, r in sites.iterrows():
            folium.Marker((r.geometry.y, r.geometry.x), popup=folium.Popup(f"{r['name']} {r['hours']}"), tooltip=r["name"]).add_to(m)
        for i in order:
            folium.PolyLine([(loc[1], loc[0]), (site_xy[i, 1], site_xy[i, 0])]).add_to(m)
        return m.get_root().render()

    ours(), naive()  # warm up imports and caches
    rows = []
    for name, fn, base, base_name in (
        ("resident_lookup_ms", ours, naive, "difflib against every name + Geod.inv to every site + sort"),
        (
            "resident_lookup_with_map_ms",
            ours_with_map,
            naive_with_map,
            "naive lookup + folium map, every site its own Marker, no polygon layers (rendered)",
        ),
    ):
        v = best_of(fn, 5) * 1000
        b = best_of(base, 5) * 1000
        rows.append(
            {
                "name": name,
                "unit": "ms",
                "value": round(v, 3),
                "baseline": round(b, 3),
                "baseline_name": base_name,
                "ratio": round(b / v, 1),
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
