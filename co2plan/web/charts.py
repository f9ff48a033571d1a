"""Chart builders (Plotly figure JSON, drawn in the browser by the plotly.min.js shipped in the plotly
package, served from /static/vendor: no CDN, works offline).

Every chart names its unit, period and boundary (:func:`chart` refuses one without them), uses a fixed
colour per scope from a colour-blind-safe palette with at least 3:1 contrast on white, 13 px minimum font,
and a size that stays readable on a laptop. The figure JSON goes into ``<script type="application/json">``
with ``<``, ``>`` and ``&`` escaped, so a submitted string cannot close the script element.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["chart", "PALETTE", "SCOPE_COLOURS", "SCOPE_LABELS", "plotly_js_path", "plotly_version",
           "contrast_ratio", "safe_json", "bar", "lines", "stacked"]

#: Okabe-Ito hues, darkened where needed for 3:1 contrast on white
PALETTE = ["#0072B2", "#D55E00", "#007A5E", "#A8407F", "#5F5F5F", "#8A5A00", "#000000"]
SCOPE_COLOURS = {"scope1": "#D55E00", "scope2_market": "#0072B2", "scope2_location": "#5B3C99",
                 "scope3_cat4": "#007A5E", "total": "#000000", "target": "#5F5F5F"}
SCOPE_LABELS = {"scope1": "Scope 1", "scope2_market": "Scope 2 (market-based)",
                "scope2_location": "Scope 2 (location-based)", "scope3_cat4": "Scope 3 cat. 4 (transport)",
                "total": "Total (scope 1 + 2 market + 3 cat. 4)"}
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 14, "color": "#1a1a1a"}


def plotly_js_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def plotly_version() -> str:
    import plotly

    return plotly.__version__


def _lum(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    rgb = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str = "#ffffff") -> float:
    la, lb = sorted((_lum(a), _lum(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def safe_json(obj: Any) -> str:
    """JSON for a <script type="application/json"> element: no way to close the element from a value."""
    return (json.dumps(obj, default=float, allow_nan=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def chart(chart_id: str, traces: list[dict], *, title: str, unit: str, period: str, boundary: str,
          x_title: str = "", barmode: str | None = None, height: int = 420, table: list[list] | None = None,
          table_head: list[str] | None = None, layout_extra: dict | None = None) -> dict:
    """A chart for the ``chart`` template macro. Unit, period and boundary are required and shown under
    the title and on the y axis."""
    for name, v in (("title", title), ("unit", unit), ("period", period), ("boundary", boundary)):
        if not v or not str(v).strip():
            raise ValueError(f"chart {chart_id}: {name} is required")
    layout = {
        "height": height, "margin": {"l": 80, "r": 20, "t": 40, "b": 60}, "font": FONT,
        "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff",
        "xaxis": {"title": {"text": x_title}, "gridcolor": "#e5e5e5", "automargin": True,
                  **({"type": "category"} if x_title == "year" else {})},
        "yaxis": {"title": {"text": unit}, "gridcolor": "#e5e5e5", "rangemode": "tozero", "automargin": True,
                  "separatethousands": True},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 13}},
        "hoverlabel": {"font": {"size": 14}},
    }
    if barmode:
        layout["barmode"] = barmode
    for k, v in (layout_extra or {}).items():  # axis dicts are merged, other keys replaced
        layout[k] = {**layout[k], **v} if isinstance(layout.get(k), dict) and isinstance(v, dict) else v
    return {"id": chart_id, "height": height, "title": title, "unit": unit, "period": period, "boundary": boundary,
            "json": safe_json({"data": traces, "layout": layout}), "table": table or [], "table_head": table_head or []}


def bar(name: str, x: list, y: list, colour: str, **kw) -> dict:
    return {"type": "bar", "name": name, "x": x, "y": y, "marker": {"color": colour}, **kw}


def lines(name: str, x: list, y: list, colour: str, dash: str = "solid", **kw) -> dict:
    return {"type": "scatter", "mode": "lines+markers", "name": name, "x": x, "y": y,
            "line": {"color": colour, "width": 3, "dash": dash}, "marker": {"size": 8}, **kw}


def stacked(x: list, series: dict[str, list[float]]) -> list[dict]:
    return [bar(SCOPE_LABELS.get(k, k), x, v, SCOPE_COLOURS.get(k, PALETTE[i % len(PALETTE)]))
            for i, (k, v) in enumerate(series.items())]
