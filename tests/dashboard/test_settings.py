import pytest

from dashboard.settings import load_settings
from geo.errors import SettingsError


def test_defaults(tmp_path):
    s = load_settings(toml_path=tmp_path / "none.toml", environ={})
    assert s.store == "var/riskmap.gpkg" and s.language == "zh" and s.offline_basemap
    assert s.report_cutoff.isoformat() == "18:00:00"


def test_toml_then_env_override(tmp_path):
    p = tmp_path / "riskmap.toml"
    p.write_text('language = "en"\nstore = "var/x.gpkg"\n', encoding="utf-8")
    s = load_settings(toml_path=p, environ={"RISKMAP_STORE": "var/y.gpkg"})
    assert s.language == "en" and s.store == "var/y.gpkg"


@pytest.mark.parametrize(
    ("toml", "env", "match"),
    [
        ('colour = "red"\n', {}, "unknown setting 'colour'"),
        ("", {"RISKMAP_COLOUR": "x"}, "unknown setting RISKMAP_COLOUR"),
        ('language = "fr"\n', {}, "'language'"),
        ('tile_url = "https://t/{z}/{x}/{y}.png"\n', {}, "'tile_attribution' is required"),
        ('tile_url = "https://t/tiles.png"\ntile_attribution = "x"\n', {}, "'tile_url' must contain"),
        ('tile_crs = "bd09"\n', {}, "'tile_crs'"),
        ("", {"RISKMAP_DEMO_SEED": "abc"}, "'demo_seed'"),
        ('store = "var/x.sqlite"\n', {}, "'store'"),
        ('community_report_cutoff = "6pm"\n', {}, "'community_report_cutoff' must be a time of day HH:MM"),
        ("", {"RISKMAP_COMMUNITY_REPORT_CUTOFF": "25:00"}, "'community_report_cutoff'"),
        ("language = [", {}, "not valid TOML"),
        ("history_faded_days = 90\n", {}, "'history_faded_days'"),
        ("", {"RISKMAP_HISTORY_FADED_DAYS": "soon"}, "'history_faded_days'"),
    ],
)
def test_bad_settings_name_the_key(tmp_path, toml, env, match):
    p = tmp_path / "riskmap.toml"
    p.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError, match=match):
        load_settings(toml_path=p, environ=env)
