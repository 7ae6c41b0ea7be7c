"""Baseline "naive map, our delivery" for the command-centre benchmark: the same command page,
with ``build_map`` replaced by the naive builder (``bench/naive_map.py``) where the pages take it
from (``dashboard.maps`` for the command page, ``dashboard.mapview`` for the resident page).
The map still goes through the page's cache and prepared component, so this isolates what the
map's content costs. Run by ``bench/bench_command.py`` only.
"""

from pathlib import Path

import dashboard.maps as maps
import dashboard.mapview as mapview
from bench.naive_map import naive_build_map

maps.build_map = mapview.build_map = naive_build_map
_page = Path(__file__).resolve().parent / "page.py"
exec(compile(_page.read_text(encoding="utf-8"), str(_page), "exec"), {"__name__": "__main__"})  # noqa: S102
