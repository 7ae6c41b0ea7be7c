"""Many point markers from one compact data array instead of one folium object per marker.

A folium ``Marker`` with a ``Popup`` emits about a kilobyte of JavaScript each; 200 testing sites
become 200 kB. Here the rows travel as one JSON array (escaped text only) and a short script
creates Leaflet awesome-markers with a popup table built from shared labels.
"""

from __future__ import annotations

from collections.abc import Sequence

from branca.element import MacroElement
from jinja2 import Template

from layers._render import esc, fmt, js_payload

__all__ = ["CompactMarkers", "marker_rows"]


class CompactMarkers(MacroElement):
    """Markers added to the parent layer (a FeatureGroup or a MarkerCluster).

    ``styles``: list of ``(fa_icon, marker_colour)``; ``rows``: ``[lat, lng, style_index,
    title_html, tooltip_html, value_html, ...]`` whose strings are already escaped; ``labels``:
    escaped labels of the values. Nothing unescaped reaches ``innerHTML``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var d = {{ this.payload }};
          var icons = d.s.map(function(s){
            return L.AwesomeMarkers.icon({icon: s[0], prefix: 'fa', markerColor: s[1], iconColor: 'white'});
          });
          var layer = {{ this._parent.get_name() }};
          var batch = [];
          d.r.forEach(function(r){
            var m = L.marker([r[0], r[1]], {icon: icons[r[2]], rmc: d.s[r[2]][1]});  // rmc: its colour, for cluster icons
            var rows = '';
            for (var i = 0; i < d.l.length; i++) {
              rows += '<tr><th>' + d.l[i] + '</th><td>' + r[5 + i] + '</td></tr>';
            }
            var note = d.n && r[5 + d.l.length] ? "<div class='rm-note'>" + r[5 + d.l.length] + '</div>' : '';
            m.bindPopup("<div class='rm-popup'><b>" + r[3] + '</b><table>' + rows + '</table>' + note + '</div>', {maxWidth: 320});
            m.bindTooltip(r[4]);
            batch.push(m);
          });
          if (layer.addLayers) { layer.addLayers(batch); } else { batch.forEach(function(m){ layer.addLayer(m); }); }
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        rows: Sequence[Sequence[object]],
        *,
        labels: Sequence[str],
        styles: Sequence[tuple[str, str]],
        with_note: bool = False,
    ):
        super().__init__()
        self._name = "CompactMarkers"
        self.payload = js_payload(
            {"s": [list(s) for s in styles], "l": [esc(x) for x in labels], "r": [list(r) for r in rows], "n": with_note}
        )


def marker_rows(
    lat: float, lng: float, style_index: int, title: object, tooltip: object, values: Sequence[object], note: object = None
) -> list[object]:
    """One escaped row for :class:`CompactMarkers` (5-decimal coordinates, about 1 m)."""
    row: list[object] = [round(float(lat), 5), round(float(lng), 5), int(style_index), esc(fmt(title)), esc(fmt(tooltip))]
    row += [esc(fmt(v)) for v in values]
    if note is not None:
        row.append(esc(fmt(note)) if note else "")
    return row
