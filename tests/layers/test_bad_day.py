"""A bad day: damaged files, a full disk, a read-only folder, a truncated store, an audit trail that
cannot be written. Each gives a clear message naming the file or value and what to do, never a
traceback, and the store stays as it was."""

from __future__ import annotations

import errno
import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.errors import ImportRejected
from layers.io import import_file
from layers.store.gpkg import GpkgStore, StoreDamaged, StoreWriteFailed, write_new_store


def _sites(n: int = 1) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [f"A{i}" for i in range(n)], "name": [f"采样点{i}" for i in range(n)], "type": ["fixed"] * n, "hours": ["24h"] * n},
        geometry=[shapely.Point(112.55 + i * 0.001, 37.86) for i in range(n)], crs="EPSG:4326",
    )


@pytest.fixture
def store(tmp_path: Path) -> GpkgStore:
    path = tmp_path / "s.gpkg"
    write_new_store(path, {"testing_sites": _sites(2)})
    return GpkgStore(path)


def _csv(tmp_path: Path) -> Path:
    p = tmp_path / "new.csv"
    p.write_text("编号,名称,类型,开放时间,经度,纬度\nB1,新点,固定采样点,24h,112.56,37.87\n", encoding="utf-8")
    return p


def test_a_zip_with_a_bad_crc_is_named(tmp_path: Path, store: GpkgStore) -> None:
    _sites().to_file(tmp_path / "x.shp")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for ext in ("shp", "shx", "dbf", "prj"):
            z.write(tmp_path / f"x.{ext}", f"x.{ext}")
    data = bytearray(buf.getvalue())
    data[60] ^= 0xFF  # inside the first member's compressed data
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    before = store.path.read_bytes()
    with pytest.raises(ImportRejected, match=r"^bad\.zip：文件已损坏（.*），请重新导出或重新下载后再导入 / bad\.zip: the file is damaged"):
        import_file(bad, "testing_sites", store=store)
    assert store.path.read_bytes() == before


def test_deeply_nested_json_is_named(tmp_path: Path, store: GpkgStore) -> None:
    p = tmp_path / "deep.geojson"
    p.write_text('{"type":"FeatureCollection","features":[' + "[" * 50_000 + "]" * 50_000 + "]}", encoding="utf-8")
    with pytest.raises(ImportRejected, match=r"^deep\.geojson：JSON 嵌套层数过多"):
        import_file(p, "testing_sites", store=store)


@pytest.mark.parametrize(
    ("where", "code", "zh", "en"),
    [
        ("write", errno.ENOSPC, "磁盘已满", "the disk is full"),
        ("tempfile", errno.EROFS, "文件夹只读", "the folder is read-only"),
        ("tempfile", errno.EACCES, "没有写入权限", "no permission to write"),
    ],
)
def test_a_full_disk_or_read_only_folder_leaves_the_store_unchanged(tmp_path, store, monkeypatch, where, code, zh, en):
    import layers.store.gpkg as ls

    def boom(*_a, **_k):
        raise OSError(code, "simulated")

    monkeypatch.setattr(ls, "_write_layer" if where == "write" else "tempfile", boom if where == "write" else type("T", (), {"mkstemp": staticmethod(boom)}))
    before = store.path.read_bytes()
    with pytest.raises(StoreWriteFailed) as exc:
        import_file(_csv(tmp_path), "testing_sites", store=store)
    assert f"无法写入数据库 s.gpkg：{zh}" in str(exc.value) and f"cannot write the store s.gpkg: {en}" in str(exc.value)
    assert "the store is unchanged" in str(exc.value)
    assert store.path.read_bytes() == before
    assert list(store.path.parent.glob("*.tmp.gpkg")) == []


def test_a_truncated_store_is_named_when_read(store: GpkgStore) -> None:
    size = store.path.stat().st_size
    with store.path.open("r+b") as fh:
        fh.truncate(size // 3)
    with pytest.raises(StoreDamaged, match=r"数据库文件 s\.gpkg 已损坏或不完整.*restore it from a backup"):
        store.read("testing_sites")
    with pytest.raises(StoreDamaged):
        store.meta()


def test_the_cli_says_what_broke(tmp_path, store, capsys, monkeypatch):
    from dashboard.cli import main

    size = store.path.stat().st_size
    with store.path.open("r+b") as fh:
        fh.truncate(size // 3)
    assert main(["screen", "--as-of", "2022-03-28", "--store", str(store.path)]) == 2
    err = capsys.readouterr().err
    assert "store unavailable" in err and "Traceback" not in err and "s.gpkg" in err


def test_an_import_that_cannot_be_audited_does_not_happen(tmp_path, store, monkeypatch, capsys):
    """Defect: with a damaged accounts database an import wrote its rows and then failed to audit."""
    import dashboard.audit as audit
    from dashboard.cli import main

    def broken(*_a, **_k):
        raise OSError("database disk image is malformed")

    monkeypatch.setattr(audit, "record", broken)
    before = store.path.read_bytes()
    assert main(["import", "testing_sites", str(_csv(tmp_path)), "--store", str(store.path)]) == 1
    assert "无法记录审计日志，未写入任何数据" in capsys.readouterr().err
    assert store.path.read_bytes() == before

    with pytest.raises(RuntimeError, match="no audit"):
        import_file(_csv(tmp_path), "testing_sites", store=store, audit=lambda n, bad: (_ for _ in ()).throw(RuntimeError("no audit")))
    assert store.path.read_bytes() == before


def test_a_new_store_is_private_from_its_first_byte(tmp_path: Path) -> None:
    """Defect: `riskmap demo` created the GeoPackage world-readable (0644) until its first write."""
    import os
    import stat

    old = os.umask(0o022)  # a usual umask: files would be created 0644
    try:
        path = tmp_path / "new.gpkg"
        write_new_store(path, {"testing_sites": _sites(1)})
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        GpkgStore(path).write_layer("testing_sites", _sites(2).iloc[1:].assign(id="Z9"))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_copies_a_killed_writer_left_are_removed_by_the_next_writer(tmp_path: Path, store: GpkgStore, caplog) -> None:
    """Defect: every killed GeoPackage write left a whole-store copy (12 kills: 7 copies of 37 MB)."""
    leftovers = [store.path.with_name(f"{store.path.name}.abc{i}.tmp.gpkg") for i in range(3)]
    for p in leftovers:
        p.write_bytes(store.path.read_bytes())
    other = store.path.with_name("other.gpkg.x.tmp.gpkg")  # another store's copy is not ours to remove
    other.write_bytes(b"x")
    with caplog.at_level("WARNING", logger="riskmap.store"):
        store.write_layer("testing_sites", _sites(3).iloc[2:].assign(id="Z8"))
    assert not any(p.exists() for p in leftovers) and other.exists()
    assert "removed 3 temporary copies a stopped writer left beside s.gpkg" in caplog.text
