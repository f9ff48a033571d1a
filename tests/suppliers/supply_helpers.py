"""Hand-built supply networks for the suppliers tests (helpers, imported by the test modules)."""

from __future__ import annotations

import pandas as pd


def suppliers_frame(spec: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """{supplier_id: (commodity, country)} -> a suppliers table."""
    return pd.DataFrame([{"supplier_id": s, "name": s, "country": co, "lat": None, "lon": None, "commodity": c,
                          "tier": 1, "kind": "supplier"} for s, (c, co) in spec.items()])


def links_frame(rows: list[tuple]) -> pd.DataFrame:
    """[(from, to, commodity, share, volume[, spend])] -> a supply_links table."""
    out = []
    for i, r in enumerate(rows):
        f, t, c, share, vol = r[:5]
        spend = r[5] if len(r) > 5 else vol * 100.0
        out.append({"link_id": f"L{i}", "from_id": f, "to_id": t, "commodity": c, "annual_volume": vol,
                    "volume_unit": "kWh" if c in ("cell", "battery_pack") else "t", "annual_spend_eur": spend,
                    "spend_year": 2025, "share": share, "capacity_per_week": None})
    return pd.DataFrame(out)


def plants_frame(ids=("P",)) -> pd.DataFrame:
    return pd.DataFrame({"plant_id": list(ids), "name": list(ids), "country": "DE"})
