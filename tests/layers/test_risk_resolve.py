"""A risk list given by admin names only is resolved to county boundaries, never guessed."""

import pytest
import shapely

from geo.errors import ImportRejected
from layers.boundaries import county_boundary
from layers.io import import_file
from layers.store.gpkg import GpkgStore

CSV = (
    "编号,风险等级,省,市,区县,区县代码,风险区名称,起始日期\n"
    "R1,high,浙江省,杭州市,上城区,,,2022-03-20\n"
    "R2,medium,上海市,上海市,浦东新区,,张江镇某小区,2022-03-22\n"
    "R3,medium,山西省,,,140105,,2022-03-22\n"
    "R4,medium,吉林省,吉林市,,,,2022-03-22\n"
    "R5,high,浙江省,杭洲市,上城区,,,2022-03-20\n"
)


def test_names_and_codes_resolve_to_county_boundaries(tmp_path):
    src = tmp_path / "risk.csv"
    src.write_text(CSV, encoding="utf-8")
    store = GpkgStore(tmp_path / "s.gpkg")
    with pytest.raises(ImportRejected) as err:
        import_file(src, "risk_areas", store=store)
    assert [(r.row, r.reason_en) for r in err.value.rows] == [
        (5, "a county-level place is needed (risk areas are resolved to a county)"),
        (6, "place not recognised"),
    ]
    assert not store.exists()  # all or nothing
    import_file(src, "risk_areas", store=store, skip_bad=True)
    got = store.read("risk_areas").set_index("id")
    assert sorted(got.index) == ["R1", "R2", "R3"]
    assert got.loc["R1", "approximate"] == False  # noqa: E712 - a nullable boolean
    assert got.loc["R2", "approximate"] == True  # noqa: E712 - below county level: the county, approximate
    assert shapely.equals_exact(got.loc["R3", "geometry"], county_boundary("140105"), tolerance=1e-6)
    assert (got.loc["R3", "city"], got.loc["R3", "county"]) == ("太原市", "小店区")  # filled from the code
    assert got.loc["R1", "adcode"] == "330102"
