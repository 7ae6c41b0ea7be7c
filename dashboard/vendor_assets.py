"""Copy the browser assets the map needs from ``node_modules/`` into ``dashboard/static/vendor/``.

Run after ``npm ci`` (which installs the versions pinned in ``package.json`` and
``package-lock.json``)::

    npm ci --no-audit --no-fund
    .venv/bin/python -m dashboard.vendor_assets

Each npm package's files keep their paths inside the package, under
``vendor/<package>/`` (the npm scope is dropped: ``@fortawesome/fontawesome-free``
becomes ``vendor/fontawesome-free/``). Besides plain copies the script

* builds ``vendor/bootstrap3/dist/css/bootstrap-glyphicons.css``: only the
  ``@font-face`` of "Glyphicons Halflings" and the ``.glyphicon*`` rules of Bootstrap
  3.4.1, a local equivalent of the ``bootstrap-glyphicons.css`` folium's map loads;
* copies from the installed folium package its build of Leaflet.heat
  (``templates/leaflet_heat.min.js``) and ``leaflet.awesome.rotate.min.css``; folium
  0.20's wheel does not ship the latter, and then an equivalent is generated;
* writes ``vendor/riskmap/leaflet-icon-path.js``, which sets Leaflet's default marker
  image path (see :mod:`dashboard.assets`);
* copies each package's license file (or, for a package published without one, writes
  a note of the license its ``package.json`` declares);
* checks that every file :mod:`dashboard.assets` refers to exists and that no copied
  stylesheet refers to a remote or missing file;
* writes ``vendor/MANIFEST.json`` with the source versions and a sha256 per file.

The folder is rebuilt from scratch in a temporary folder and swapped in at the end,
so running the script again gives the same result and a failed run leaves the
previous copy in place.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import posixpath
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dashboard.assets import ICON_PATH_SCRIPT, LEAFLET_IMAGES, TILES_BUNDLE, VENDOR_DIR, local_asset_paths

__all__ = ["NPM_PACKAGES", "VendorError", "build", "main"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = PROJECT_ROOT / "node_modules"
PACKAGE_JSON = PROJECT_ROOT / "package.json"
MANIFEST_NAME = "MANIFEST.json"
NPM_CI = "npm ci --no-audit --no-fund"


class VendorError(Exception):
    """A required input is missing or out of date; the message says what to do."""


@dataclass(frozen=True)
class NpmPackage:
    """What to take from one package in ``node_modules``.

    Attributes
    ----------
    npm_name : str
        The folder under ``node_modules`` (the dependency name in ``package.json``,
        which is an alias for ``bootstrap3``).
    vendor_name : str
        The folder under ``vendor/``.
    files : tuple of str
        Paths relative to the package folder; ``*`` globs are allowed and must match
        at least one file.
    licenses : tuple of str
        License files to copy. Empty when the package ships none: a note is written.
    """

    npm_name: str
    vendor_name: str
    files: tuple[str, ...]
    licenses: tuple[str, ...]


NPM_PACKAGES: tuple[NpmPackage, ...] = (
    NpmPackage(
        "leaflet",
        "leaflet",
        ("dist/leaflet.js", "dist/leaflet.css", "dist/images/*.png"),
        ("LICENSE",),
    ),
    NpmPackage("jquery", "jquery", ("dist/jquery.min.js",), ("LICENSE.txt",)),
    NpmPackage(
        "bootstrap",
        "bootstrap",
        ("dist/js/bootstrap.bundle.min.js", "dist/css/bootstrap.min.css"),
        ("LICENSE",),
    ),
    NpmPackage(
        "@fortawesome/fontawesome-free",
        "fontawesome-free",
        ("css/all.min.css", "webfonts/*"),
        ("LICENSE.txt",),
    ),
    NpmPackage(
        "leaflet.awesome-markers",
        "leaflet.awesome-markers",
        (
            "dist/leaflet.awesome-markers.js",
            "dist/leaflet.awesome-markers.css",
            "dist/images/*.png",
        ),
        ("LICENSE",),
    ),
    NpmPackage(
        "leaflet-draw",
        "leaflet-draw",
        ("dist/leaflet.draw.js", "dist/leaflet.draw.css", "dist/images/*"),
        (),
    ),
    NpmPackage(
        "leaflet.markercluster",
        "leaflet.markercluster",
        (
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
            "dist/MarkerCluster.Default.css",
        ),
        ("MIT-LICENCE.txt",),
    ),
    # Only the license: the HeatMap script is folium's patched build of this package.
    NpmPackage("leaflet.heat", "leaflet.heat", (), ("LICENSE",)),
    NpmPackage(
        "leaflet.fullscreen",
        "leaflet.fullscreen",
        ("Control.FullScreen.js", "Control.FullScreen.css", "icon-fullscreen.svg"),
        ("LICENSE",),
    ),
    # Bootstrap 3 is installed only for the Glyphicons font; see _build_glyphicons_css.
    NpmPackage("bootstrap3", "bootstrap3", ("dist/fonts/glyphicons-halflings-regular.*",), ("LICENSE",)),
    NpmPackage("protomaps-leaflet", "protomaps-leaflet", ("dist/protomaps-leaflet.js",), ("LICENSE",)),
)

GLYPHICONS_SOURCE = "dist/css/bootstrap.css"
GLYPHICONS_CSS = "bootstrap3/dist/css/bootstrap-glyphicons.css"
GLYPHICONS_FONTS = "bootstrap3/dist/fonts"

FOLIUM_HEAT_JS = "leaflet_heat.min.js"
FOLIUM_ROTATE_CSS = "leaflet.awesome.rotate.min.css"

_URL_RE = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""", re.IGNORECASE)
_IMPORT_RE = re.compile(r"@import\s+(?:url\()?\s*[\"']?([^\"')\s;]+)", re.IGNORECASE)
_COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)


# --------------------------------------------------------------------------- checks


def _missing(path: Path, hint: str = "") -> VendorError:
    """Build the error for a missing input file."""
    extra = f" ({hint})" if hint else ""
    return VendorError(
        f"missing {path}{extra}. Run `{NPM_CI}` in {PROJECT_ROOT} to install the pinned "
        "packages, then run `python -m dashboard.vendor_assets` again."
    )


def _pinned_versions(package_json: Path) -> dict[str, tuple[str, str]]:
    """Map each dependency to ``(real package name, pinned version)`` from package.json."""
    if not package_json.is_file():
        raise VendorError(f"missing {package_json}: it pins the browser packages to vendor")
    deps = json.loads(package_json.read_text(encoding="utf-8")).get("dependencies", {})
    pins: dict[str, tuple[str, str]] = {}
    for name, spec in deps.items():
        real, version = name, spec
        if spec.startswith("npm:"):  # alias: "npm:bootstrap@3.4.1"
            real, _, version = spec[4:].rpartition("@")
        pins[name] = (real, version)
    return pins


def _check_installed(node_modules: Path, package_json: Path) -> dict[str, str]:
    """Check that node_modules holds the pinned version of each package; return versions."""
    if not node_modules.is_dir():
        raise VendorError(
            f"{node_modules} does not exist. Run `{NPM_CI}` in {PROJECT_ROOT} first, "
            "then run `python -m dashboard.vendor_assets` again."
        )
    pins = _pinned_versions(package_json)
    versions: dict[str, str] = {}
    for pkg in NPM_PACKAGES:
        if pkg.npm_name not in pins:
            raise VendorError(f"{package_json} does not list {pkg.npm_name!r} in dependencies")
        real, pinned = pins[pkg.npm_name]
        meta_path = node_modules / pkg.npm_name / "package.json"
        if not meta_path.is_file():
            raise _missing(meta_path, f"package {pkg.npm_name} is not installed")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("name") != real or meta.get("version") != pinned:
            raise VendorError(
                f"{node_modules / pkg.npm_name} holds {meta.get('name')}@{meta.get('version')}, "
                f"but package.json pins {real}@{pinned}. Run `{NPM_CI}` in {PROJECT_ROOT}."
            )
        versions[pkg.vendor_name] = f"npm {real}@{pinned}"
    return versions


# ----------------------------------------------------------------------- copying


def _copy(src: Path, dest: Path, hint: str = "") -> None:
    """Copy one file, creating folders; fail clearly when the source is missing."""
    if not src.is_file():
        raise _missing(src, hint)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def _copy_npm_package(pkg: NpmPackage, node_modules: Path, out: Path) -> None:
    """Copy a package's listed files and its license into ``out/<vendor_name>``."""
    src_root = node_modules / pkg.npm_name
    dest_root = out / pkg.vendor_name
    for pattern in pkg.files:
        if any(ch in pattern for ch in "*?["):
            matches = sorted(p for p in src_root.glob(pattern) if p.is_file())
            if not matches:
                raise _missing(src_root / pattern, f"no file matches this pattern in {pkg.npm_name}")
            for src in matches:
                _copy(src, dest_root / src.relative_to(src_root))
        else:
            _copy(src_root / pattern, dest_root / pattern, f"needed from {pkg.npm_name}")
    if pkg.licenses:
        for name in pkg.licenses:
            _copy(src_root / name, dest_root / name, f"license of {pkg.npm_name}")
    else:
        meta = json.loads((src_root / "package.json").read_text(encoding="utf-8"))
        note = (
            f"{meta['name']} {meta['version']} is published on npm without a license file.\n"
            f"Its package.json declares the license: {meta.get('license', 'UNKNOWN')}.\n"
            "The copyright notice is kept in the header comment of its dist/ files.\n"
        )
        dest_root.mkdir(parents=True, exist_ok=True)
        (dest_root / "LICENSE-NOTE.txt").write_text(note, encoding="utf-8")


def _top_level_statements(css: str) -> list[str]:
    """Split a stylesheet into its top-level rules and at-rules (comments included)."""
    statements: list[str] = []
    depth = start = i = 0
    n = len(css)
    while i < n:
        if css.startswith("/*", i):
            end = css.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        ch = css[i]
        if ch in "\"'":
            j = i + 1
            while j < n and css[j] != ch:
                j += 2 if css[j] == "\\" else 1
            i = j + 1
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                statements.append(css[start : i + 1])
                start = i + 1
        elif ch == ";" and depth == 0:
            statements.append(css[start : i + 1])
            start = i + 1
        i += 1
    return statements


def _build_glyphicons_css(bootstrap3: Path, out: Path) -> None:
    """Write the Glyphicons-only subset of Bootstrap 3's stylesheet.

    Keeps the ``@font-face`` for "Glyphicons Halflings" and every top-level rule
    whose selectors all start with ``.glyphicon``; font URLs are rewritten to the
    copied fonts (and each font is checked to exist).
    """
    source = bootstrap3 / GLYPHICONS_SOURCE
    if not source.is_file():
        raise _missing(source, "Bootstrap 3 stylesheet, source of the Glyphicons rules")
    css = source.read_text(encoding="utf-8")
    banner = re.match(r"\s*(/\*!.*?\*/)", css, re.DOTALL)
    fonts_dir = out / GLYPHICONS_FONTS
    css_path = out / GLYPHICONS_CSS
    rel_fonts = Path("..") / fonts_dir.relative_to(css_path.parent.parent)

    def rewrite(match: re.Match[str]) -> str:
        url = next(g for g in match.groups() if g is not None)
        path, sep, rest = _split_url(url)
        name = Path(path).name
        if not (fonts_dir / name).is_file():
            raise VendorError(f"Glyphicons stylesheet refers to {url}, but {fonts_dir / name} was not copied")
        return f'url("{(rel_fonts / name).as_posix()}{sep}{rest}")'

    kept: list[str] = []
    for statement in _top_level_statements(css):
        body = _COMMENT_RE.sub("", statement).strip()
        prelude = body.split("{", 1)[0].strip()
        if prelude.startswith("@font-face") and "Glyphicons Halflings" in body:
            kept.append(_URL_RE.sub(rewrite, body))
        elif not prelude.startswith("@") and all(
            sel.strip().startswith(".glyphicon") for sel in prelude.split(",")
        ):
            kept.append(body)
    if not any(s.startswith("@font-face") for s in kept) or len(kept) < 100:
        raise VendorError(f"could not find the Glyphicons rules in {source}")
    header = (banner.group(1) + "\n") if banner else ""
    header += (
        "/* Glyphicons subset of Bootstrap 3.4.1 dist/css/bootstrap.css, "
        "built by dashboard.vendor_assets. */\n"
    )
    css_path.parent.mkdir(parents=True, exist_ok=True)
    css_path.write_text(header + "\n".join(kept) + "\n", encoding="utf-8")


def _split_url(url: str) -> tuple[str, str, str]:
    """Split ``a/b.eot?#iefix`` into ``("a/b.eot", "?", "#iefix")``."""
    match = re.search(r"[?#]", url)
    if not match:
        return url, "", ""
    return url[: match.start()], match.group(), url[match.end() :]


def _rotate_css() -> str:
    """Return CSS equivalent to folium's ``leaflet.awesome.rotate.min.css``.

    ``folium.Icon(angle=N)`` gives the icon's ``<i>`` the class ``fa-rotate-N``;
    these rules turn it by N degrees, for every whole angle from -360 to 360.
    """
    rules = [
        f".awesome-marker i.fa-rotate-{a}{{display:inline-block;transform:rotate({a}deg)}}"
        for a in range(-360, 361)
    ]
    return (
        "/* Stand-in for folium's leaflet.awesome.rotate.min.css, "
        "generated by dashboard.vendor_assets. */\n" + "\n".join(rules) + "\n"
    )


def _write_icon_path_script(out: Path) -> None:
    """Write the script that points ``L.Icon.Default.imagePath`` at the local Leaflet images.

    The path is relative to the script's own URL, so it holds under any
    ``server.baseUrlPath``; see :mod:`dashboard.assets` for why it is needed.
    """
    script = out / ICON_PATH_SCRIPT
    rel = posixpath.relpath(LEAFLET_IMAGES, posixpath.dirname(ICON_PATH_SCRIPT)) + "/"
    if not (script.parent / rel / "marker-icon.png").resolve().is_file():
        raise VendorError(f"{LEAFLET_IMAGES}marker-icon.png was not copied from leaflet")
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(
        "/* Generated by dashboard.vendor_assets: Leaflet's default marker images are\n"
        "   served next to leaflet.js. Set their path explicitly, because Leaflet's own\n"
        "   detection runs before streamlit-folium's stylesheets have loaded. */\n"
        "(function () {\n"
        '  "use strict";\n'
        "  var script = document.currentScript;\n"
        "  if (!script || !window.L || !L.Icon || !L.Icon.Default) { return; }\n"
        f"  L.Icon.Default.imagePath = new URL({json.dumps(rel)}, script.src).href;\n"
        "})();\n",
        encoding="utf-8",
    )


def _copy_folium_files(out: Path) -> str:
    """Copy folium's heat-map script, rotate stylesheet and license; return folium's version."""
    dist = importlib.metadata.distribution("folium")
    templates = Path(str(dist.locate_file("folium/templates")))
    dest = out / "folium"
    _copy(templates / FOLIUM_HEAT_JS, dest / FOLIUM_HEAT_JS, "installed folium package")
    rotate = templates / FOLIUM_ROTATE_CSS
    if rotate.is_file():
        _copy(rotate, dest / FOLIUM_ROTATE_CSS)
    else:
        (dest / FOLIUM_ROTATE_CSS).write_text(_rotate_css(), encoding="utf-8")
    license_files = [f for f in dist.files or [] if f.name.upper().startswith("LICENSE")]
    if not license_files:
        raise VendorError("the installed folium package has no LICENSE file in its metadata")
    _copy(Path(str(dist.locate_file(license_files[0]))), dest / "LICENSE.txt")
    return f"python folium {dist.version}"


# ----------------------------------------------------------------- verification


def css_references(css_file: Path) -> list[str]:
    """Return the URLs a stylesheet loads: ``url(...)`` values and ``@import`` targets.

    ``data:`` URIs and fragment-only references (``#default#VML``) are left out;
    comments are ignored.
    """
    css = _COMMENT_RE.sub("", css_file.read_text(encoding="utf-8"))
    refs = [next(g for g in m.groups() if g is not None) for m in _URL_RE.finditer(css)]
    refs += [m.group(1) for m in _IMPORT_RE.finditer(css)]
    return [r for r in refs if r and not r.startswith(("data:", "#"))]


def _verify(out: Path) -> None:
    """Check the built folder: referenced files exist, stylesheets stay local."""
    for path in local_asset_paths():
        rel = path.relative_to(VENDOR_DIR)
        if not (out / rel).is_file():
            raise VendorError(f"dashboard.assets refers to vendor/{rel.as_posix()}, which was not built")
    for css_file in sorted(out.rglob("*.css")):
        for ref in css_references(css_file):
            if ":" in ref or ref.startswith("//"):
                raise VendorError(f"{css_file} loads a remote resource: {ref}")
            target = (css_file.parent / _split_url(ref)[0]).resolve()
            if not target.is_file():
                raise VendorError(f"{css_file} refers to {ref}, which was not copied")


def _write_manifest(out: Path, sources: dict[str, str]) -> None:
    """Write ``MANIFEST.json``: source versions and the sha256 of every file."""
    files = {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }
    manifest = {"generator": "dashboard.vendor_assets", "sources": sources, "files": files}
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------ build


#: Scripts concatenated, in this order, into one file (see :func:`_write_bundle`).
BUNDLE = "riskmap/leaflet-bundle.js"
BUNDLE_PARTS = (
    "leaflet/dist/leaflet.js",
    "jquery/dist/jquery.min.js",  # folium's Popup builds its element with jQuery
    "riskmap/leaflet-icon-path.js",
    "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
    "leaflet.markercluster/dist/leaflet.markercluster.js",
    "folium/leaflet_heat.min.js",
    "leaflet.fullscreen/Control.FullScreen.js",
    "leaflet-draw/dist/leaflet.draw.js",
)
#: The same with protomaps-leaflet after it (``TILES_BUNDLE``), for the maps that draw vector
#: tiles (:func:`dashboard.assets.map_scripts`): one file for them too, not two loaded in turn.
TILES_BUNDLE_PARTS = (*BUNDLE_PARTS, "protomaps-leaflet/dist/protomaps-leaflet.js")


def _write_bundle(out: Path, name: str = BUNDLE, parts: Sequence[str] = BUNDLE_PARTS) -> None:
    """Leaflet and the plugins the app uses in one script.

    streamlit-folium loads a map's scripts one after another (to keep their order), so seven
    files cost seven round trips before the map can draw; one file costs one. The icon-path
    script finds the images relative to its own URL, which stays ``riskmap/`` in the bundle.
    """
    texts = []
    for rel in parts:
        src = out / rel
        if not src.is_file():
            raise _missing(src)
        texts.append(f"/* ---- {rel} ---- */\n" + src.read_text(encoding="utf-8") + "\n;\n")
    (out / name).write_text("".join(texts), encoding="utf-8")


def build(
    node_modules: Path = NODE_MODULES, dest: Path = VENDOR_DIR, package_json: Path = PACKAGE_JSON
) -> dict[str, str]:
    """Rebuild ``dest`` (``dashboard/static/vendor``) from ``node_modules`` and folium.

    Parameters
    ----------
    node_modules : pathlib.Path
        The ``node_modules`` folder made by ``npm ci``.
    dest : pathlib.Path
        The vendor folder to (re)create.
    package_json : pathlib.Path
        The ``package.json`` whose pins the installed packages must match.

    Returns
    -------
    dict of str to str
        ``MANIFEST.json``'s file list: path relative to ``dest`` -> sha256.

    Raises
    ------
    VendorError
        When ``node_modules`` is missing or stale, or a needed file is missing.
    """
    sources = _check_installed(node_modules, package_json)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".vendor-build-", dir=dest.parent))
    old = dest.parent / f".{dest.name}-old"
    try:
        for pkg in NPM_PACKAGES:
            _copy_npm_package(pkg, node_modules, staging)
        _build_glyphicons_css(node_modules / "bootstrap3", staging)
        _write_icon_path_script(staging)
        sources["folium"] = _copy_folium_files(staging)
        _write_bundle(staging)
        _write_bundle(staging, TILES_BUNDLE, TILES_BUNDLE_PARTS)
        _verify(staging)
        _write_manifest(staging, sources)
        if old.exists():
            shutil.rmtree(old)
        if dest.exists():
            dest.rename(old)
        staging.rename(dest)
    finally:
        for leftover in (staging, old):
            if leftover.exists():
                shutil.rmtree(leftover)
    manifest = json.loads((dest / MANIFEST_NAME).read_text(encoding="utf-8"))
    return manifest["files"]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m dashboard.vendor_assets``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success, 1 on a :class:`VendorError` (printed to stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.vendor_assets",
        description="Copy Leaflet and plugin assets from node_modules into dashboard/static/vendor.",
    )
    parser.add_argument("--node-modules", type=Path, default=NODE_MODULES, help="default: %(default)s")
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR, help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        files = build(args.node_modules, args.dest)
    except VendorError as exc:
        print(f"vendor_assets: error: {exc}", file=sys.stderr)
        return 1
    print(f"vendor_assets: wrote {len(files)} files to {args.dest} (see {MANIFEST_NAME})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
