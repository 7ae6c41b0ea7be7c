"""Typed settings: defaults < ``riskmap.toml`` < environment variables ``RISKMAP_*``.

Every setting is documented here and in the README. Unknown keys and bad values raise
:class:`geo.errors.SettingsError` at start with a message that names the key.

==================  =====================  ==================================================
key                 default                meaning
==================  =====================  ==================================================
store               ``var/riskmap.gpkg``   the store: a GeoPackage path (relative to the
                                           project root) or a ``postgresql://`` URL (PostGIS;
                                           password via PGPASSWORD or ~/.pgpass)
city_adcode         ``140100``             the city the dashboard is for (Taiyuan)
language            ``zh``                 default UI language: ``zh`` or ``en``
tile_url            (empty)                optional XYZ tile URL; empty = offline boundary
                                           basemap, nothing fetched from outside
tile_attribution    (empty)                attribution shown with the tiles; required with
                                           ``tile_url``
tile_crs            ``wgs84``              the tiles' coordinate system: ``wgs84`` or
                                           ``gcj02`` (Amap/Gaode, Tencent tiles)
demo_seed           ``20220328``           seed of the demo scenario generator
auth                ``builtin``            sign-in: ``builtin`` (accounts and passwords kept
                                           beside the store) or ``oidc`` (intranet single
                                           sign-on through ``st.login``; identities map to
                                           accounts by ``oidc_claim``; see the README)
oidc_provider       (empty)                the ``[auth.<name>]`` provider in
                                           ``.streamlit/secrets.toml``; empty = ``[auth]``
oidc_claim          ``email``              the identity claim that names the account
session_idle_minutes ``30``                a signed-in session ends after this many minutes
                                           without a page run
session_max_hours   ``12``                 … and this many hours after sign-in at the latest
transfer_seats      ``10``                 seats per vehicle in a quarantine transfer plan
hotel_reserve_share ``0.1``                share of each hotel's rooms a transfer plan never
                                           fills (kept in reserve, 隔离场所储备)
queue_stale_minutes ``60``                 a testing site's queue report older than this shows
                                           as "no recent report"
sampling_walk_km    ``1.0``                walking distance to a sampling site, straight line
                                           (1 km ≈ 15 minutes; no road network offline)
sampling_pooling    ``10``                 people per tube in a mass-testing plan: 1, 5 or 10
sampling_target_hours ``24``               hours to sample everyone in a delimited area
history_faded_days  ``7``                  the time machine draws a zone or risk area lifted
                                           within this many days faded
vector_tiles_min_features ``5000``         a map layer with at least this many features is
                                           drawn from vector tiles built in the background
                                           (``layers.tiles``); smaller ones inline; 0: never
tiles_dir           (empty)                where the vector tiles are kept; empty: beside a
                                           GeoPackage store (``<store>.tiles``), else
                                           ``var/tiles``
==================  =====================  ==================================================
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import SettingsError

__all__ = ["Settings", "load_settings", "PROJECT_ROOT"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "RISKMAP_"


@dataclass(frozen=True)
class Settings:
    """Validated settings. Build with :func:`load_settings`."""

    store: str = "var/riskmap.gpkg"
    city_adcode: str = "140100"
    language: str = "zh"
    tile_url: str = ""
    tile_attribution: str = ""
    tile_crs: str = "wgs84"
    demo_seed: int = 20220328
    auth: str = "builtin"
    oidc_provider: str = ""
    oidc_claim: str = "email"
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    import_max_file_mb: int = 100
    import_max_unpacked_mb: int = 500
    import_max_rows: int = 500_000
    import_max_vertices: int = 5_000_000
    community_report_cutoff: str = "18:00"
    transfer_seats: int = 10
    hotel_reserve_share: float = 0.1
    queue_stale_minutes: int = 60
    sampling_walk_km: float = 1.0
    sampling_pooling: int = 10
    sampling_target_hours: float = 24.0
    history_faded_days: int = 7
    vector_tiles_min_features: int = 5000
    tiles_dir: str = ""
    sources: tuple[str, ...] = field(default=(), compare=False)

    @property
    def session_limits(self) -> tuple[dt.timedelta, dt.timedelta]:
        """(idle, absolute): how long a session lives without a page run, and at most."""
        return dt.timedelta(minutes=self.session_idle_minutes), dt.timedelta(hours=self.session_max_hours)

    @property
    def import_limits(self):  # noqa: ANN201 - layers.io._readers.ImportLimits (imported lazily)
        """The import bounds these settings give (:class:`layers.io.ImportLimits`)."""
        from layers.io import ImportLimits

        return ImportLimits(
            file_mb=self.import_max_file_mb, unpacked_mb=self.import_max_unpacked_mb, rows=self.import_max_rows,
            vertices=self.import_max_vertices,
        )

    @property
    def report_cutoff(self) -> dt.time:
        """The time of day by which every community's daily report is due (``community_report_cutoff``)."""
        from geo.community import parse_cutoff

        return parse_cutoff(self.community_report_cutoff)

    @property
    def offline_basemap(self) -> bool:
        """True when no tile URL is configured: the basemap is drawn from local boundaries."""
        return not self.tile_url

    @property
    def store_path(self) -> Path:
        """Absolute path of a GeoPackage store."""
        p = Path(self.store)
        return p if p.is_absolute() else PROJECT_ROOT / p

    @property
    def tiles_path(self) -> Path:
        """Where vector tiles are kept (see ``tiles_dir``)."""
        from layers.store import is_url

        if self.tiles_dir:
            p = Path(self.tiles_dir)
            return p if p.is_absolute() else PROJECT_ROOT / p
        if is_url(self.store):
            return PROJECT_ROOT / "var" / "tiles"
        return self.store_path.with_suffix(".tiles")

    @property
    def store_location(self) -> str:
        """The store for :func:`layers.store.open_store`: a ``postgresql://`` URL as set, else the
        absolute path of the GeoPackage. May hold a password: show it with
        :func:`layers.store.display_location`."""
        from layers.store import is_url

        if is_url(self.store):
            return self.store
        return str(self.store_path)


_KEYS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "sources"}


#: Settings types read from text or TOML numbers: type → (conversion, what the error says was expected).
_NUMBERS = {"int": (int, "an integer"), "float": (float, "a number")}


def _coerce(key: str, value: object, origin: str) -> object:
    want = _KEYS[key].type
    if want in _NUMBERS:
        convert, expected = _NUMBERS[want]
        if isinstance(value, bool):
            msg = f"setting {key!r} from {origin}: expected {expected}, got {value!r}"
            raise SettingsError(msg)
        try:
            return convert(value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            msg = f"setting {key!r} from {origin}: expected {expected}, got {value!r}"
            raise SettingsError(msg) from exc
    if not isinstance(value, str):
        msg = f"setting {key!r} from {origin}: expected text, got {value!r}"
        raise SettingsError(msg)
    return value.strip()


def _in_range(s: Settings, key: str, lo: float, hi: float) -> None:
    """Refuse ``key`` outside ``lo`` to ``hi`` (both allowed), naming the key and the bounds."""
    value = getattr(s, key)
    if not lo <= value <= hi:
        msg = f"setting {key!r} must be {lo} to {hi}, got {value!r}"
        raise SettingsError(msg)


def _validate(s: Settings) -> None:
    if s.language not in ("zh", "en"):
        msg = f"setting 'language' must be 'zh' or 'en', got {s.language!r}"
        raise SettingsError(msg)
    if s.tile_crs not in ("wgs84", "gcj02"):
        msg = f"setting 'tile_crs' must be 'wgs84' or 'gcj02', got {s.tile_crs!r}"
        raise SettingsError(msg)
    if not (len(s.city_adcode) == 6 and s.city_adcode.isdigit()):
        msg = f"setting 'city_adcode' must be a 6-digit administrative code, got {s.city_adcode!r}"
        raise SettingsError(msg)
    if s.tile_url:
        if not s.tile_url.startswith(("http://", "https://", "/")):
            msg = f"setting 'tile_url' must be an http(s) URL or a path on this server, got {s.tile_url!r}"
            raise SettingsError(msg)
        if not all(t in s.tile_url for t in ("{x}", "{y}", "{z}")):
            msg = f"setting 'tile_url' must contain {{x}}, {{y}} and {{z}}, got {s.tile_url!r}"
            raise SettingsError(msg)
        if not s.tile_attribution:
            msg = "setting 'tile_attribution' is required when 'tile_url' is set (tile licences require it)"
            raise SettingsError(msg)
    if s.auth not in ("builtin", "oidc"):
        msg = f"setting 'auth' must be 'builtin' or 'oidc', got {s.auth!r}"
        raise SettingsError(msg)
    if s.auth == "oidc" and not s.oidc_claim:
        msg = "setting 'oidc_claim' must name an identity claim (e.g. 'email') when 'auth' is 'oidc'"
        raise SettingsError(msg)
    _in_range(s, "session_idle_minutes", 1, 24 * 60)
    _in_range(s, "session_max_hours", 1, 24 * 31)
    for key in ("import_max_file_mb", "import_max_unpacked_mb", "import_max_rows", "import_max_vertices"):
        if getattr(s, key) < 1:
            msg = f"setting {key!r} must be at least 1, got {getattr(s, key)!r}"
            raise SettingsError(msg)
    from geo.community import CommunityReportError, parse_cutoff

    try:
        parse_cutoff(s.community_report_cutoff)
    except CommunityReportError:
        msg = f"setting 'community_report_cutoff' must be a time of day HH:MM, got {s.community_report_cutoff!r}"
        raise SettingsError(msg) from None
    _in_range(s, "transfer_seats", 1, 60)
    _in_range(s, "sampling_walk_km", 0.1, 10)
    if s.sampling_pooling not in (1, 5, 10):
        msg = f"setting 'sampling_pooling' must be 1, 5 or 10, got {s.sampling_pooling!r}"
        raise SettingsError(msg)
    _in_range(s, "sampling_target_hours", 1, 24 * 7)
    _in_range(s, "queue_stale_minutes", 5, 24 * 60)
    _in_range(s, "history_faded_days", 0, 60)
    if s.vector_tiles_min_features < 0:
        msg = f"setting 'vector_tiles_min_features' must be 0 (never) or more, got {s.vector_tiles_min_features!r}"
        raise SettingsError(msg)
    if not 0.0 <= s.hotel_reserve_share < 1.0:
        msg = f"setting 'hotel_reserve_share' must be at least 0 and below 1, got {s.hotel_reserve_share!r}"
        raise SettingsError(msg)
    if not s.store:
        msg = "setting 'store' must not be empty"
        raise SettingsError(msg)
    from layers.store import is_url

    if not is_url(s.store) and not s.store.endswith(".gpkg"):
        msg = f"setting 'store' must be a .gpkg path or a postgresql:// URL, got {s.store!r}"
        raise SettingsError(msg)


def load_settings(
    *, toml_path: Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read defaults, then ``riskmap.toml`` (project root, or ``RISKMAP_CONFIG``), then ``RISKMAP_*``.

    Raises
    ------
    SettingsError
        For an unknown key, a value of the wrong type or an invalid value; the message names the key.
    """
    env = dict(os.environ if environ is None else environ)
    values: dict[str, object] = {}
    sources: list[str] = ["defaults"]
    if toml_path is None:
        toml_path = Path(env.get(ENV_PREFIX + "CONFIG", PROJECT_ROOT / "riskmap.toml"))
    if toml_path.exists():
        try:
            raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            msg = f"{toml_path.name}: not valid TOML: {exc}"
            raise SettingsError(msg) from exc
        for key, value in raw.items():
            if key not in _KEYS:
                msg = f"{toml_path.name}: unknown setting {key!r}; known: {', '.join(sorted(_KEYS))}"
                raise SettingsError(msg)
            values[key] = _coerce(key, value, toml_path.name)
        sources.append(toml_path.name)
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name[len(ENV_PREFIX):].lower()
        if key not in _KEYS:
            msg = f"environment: unknown setting {name}; known: " + ", ".join(
                ENV_PREFIX + k.upper() for k in sorted(_KEYS)
            )
            raise SettingsError(msg)
        values[key] = _coerce(key, value, name)
        sources.append(name)
    settings = Settings(**values, sources=tuple(sources))  # type: ignore[arg-type]
    _validate(settings)
    return settings
