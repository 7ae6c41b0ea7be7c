"""Text that would be stored garbled or cut short is refused by row and column, naming the encoding.

Attacks that used to pass: a Big5 CSV "detected" as GBK and stored garbled; a .cpg that names the
wrong legacy encoding believed; a NUL byte that cut a name short while the import reported success.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.errors import ImportRejected
from layers.io import import_file, read_file
from layers.store.gpkg import GpkgStore

HEAD = "编号,名称,类型,开放时间,经度,纬度\n"


@pytest.fixture
def store(one_site_store: GpkgStore) -> GpkgStore:
    return one_site_store


def test_a_big5_csv_is_read_as_big5(tmp_path: Path, store: GpkgStore) -> None:
    p = tmp_path / "big5.csv"
    p.write_bytes(("id,name,type,hours,lon,lat\n"
                   "A1,臺北醫院採樣點,hospital,24h,112.55,37.86\nA2,萬柏林區便民點,convenience,8-20,112.56,37.87\n").encode("big5"))
    raw = read_file(p)
    assert raw.encoding == "Big5"
    import_file(p, "testing_sites", store=store)
    assert set(store.read("testing_sites")["name"]) == {"原有", "臺北醫院採樣點", "萬柏林區便民點"}


def test_a_gbk_csv_is_still_gbk(tmp_path: Path) -> None:
    p = tmp_path / "gbk.csv"
    p.write_bytes((HEAD + "A1,太原医院采样点,医院,24h,112.55,37.86\nA2,万柏林区便民点,便民,8-20,112.56,37.87\n").encode("gb18030"))
    assert read_file(p).encoding == "GBK/GB18030"


def test_bytes_in_no_encoding_are_refused_naming_what_was_tried(tmp_path: Path) -> None:
    p = tmp_path / "noise.csv"
    p.write_bytes(HEAD.encode("utf-8") + bytes(range(0x80, 0x100)) * 3 + b",x,y\n")
    with pytest.raises(ImportRejected, match="已尝试 UTF-8、GBK/GB18030、Big5"):
        read_file(p)


@pytest.mark.parametrize(
    ("cell", "why"),
    [("新\x00点", "控制字符（U+0000）"), ("新\x07点", "控制字符（U+0007）"), ("新\ufffd点", "无法解码的字符（U+FFFD）"), ("新\ue000点", "私用区字符（U+E000）")],
)
def test_bad_characters_are_refused_by_row_and_column(tmp_path: Path, store: GpkgStore, cell: str, why: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(HEAD + f"A1,{cell},医院,24h,112.55,37.86\nA2,好的,医院,24h,112.56,37.86\n", encoding="utf-8")
    before = store.path.read_bytes()
    with pytest.raises(ImportRejected) as exc:
        import_file(p, "testing_sites", store=store)
    ((row, column, zh, en),) = [r[:4] for r in exc.value.rows]
    assert (row, column) == (2, "名称 name")
    assert why in zh and "按 UTF-8 解码" in zh and "read as UTF-8" in en
    assert store.path.read_bytes() == before


def _shp_zip(tmp_path: Path, names: list[str], dbf_codec: str, cpg: str | None) -> Path:
    g = gpd.GeoDataFrame({"id": [f"A{i}" for i in range(len(names))], "name": names, "type": ["fixed"] * len(names),
                          "hours": ["24h"] * len(names)},
                         geometry=[shapely.Point(112.55 + i / 1000, 37.86) for i in range(len(names))], crs="EPSG:4326")
    g.to_file(tmp_path / "x.shp", encoding=dbf_codec)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for ext in ("shp", "shx", "dbf", "prj"):
            z.write(tmp_path / f"x.{ext}", f"x.{ext}")
        if cpg is not None:
            z.writestr("x.cpg", cpg)
    out = tmp_path / "x.zip"
    out.write_bytes(buf.getvalue())
    return out


BIG5_NAMES = ["臺北醫院採樣點", "萬柏林區便民點", "國際機場採樣站", "體育館臨時採樣點"]


def test_a_cpg_that_lies_is_not_believed(tmp_path: Path) -> None:
    path = _shp_zip(tmp_path, BIG5_NAMES, "big5", "GBK")
    with pytest.raises(ImportRejected, match="cpg 声明编码为 gb18030，但 .dbf 内容不是该编码"):
        read_file(path)


def test_a_big5_dbf_without_cpg_is_detected(tmp_path: Path) -> None:
    raw = read_file(_shp_zip(tmp_path, BIG5_NAMES, "big5", None))
    assert raw.encoding == "Big5" and list(raw.frame["name"]) == BIG5_NAMES
