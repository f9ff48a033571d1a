"""Scope 3 category 1 (purchased goods and services) from the tier-1 links into plants.

For each (plant, tier-1 supplier, commodity, year) the best GHG Protocol data-quality tier available:

1. ``supplier_specific``: an *accepted* supplier-specific submission of that supplier, commodity and
   year; its intensity (t CO2e per activity unit) x the link volume (allocation by volume);
2. ``hybrid``: the same with an accepted submission whose method is ``hybrid`` (the supplier's own
   scope 1+2 plus average factors for its inputs, as the supplier computed it);
3. ``average_data``: link volume x the material factor (``suppliers.factors.material_factors``);
4. ``spend_based``: link spend (EUR of spend_year -> USD 2021) x the EPA EEIO factor.

A flagged or rejected submission falls back to the next tier and says so in ``note``. Tier-2+ links and
submissions never add on top: they sit inside the tier-1 supplier's cradle-to-gate value already.
Submissions with method average_data or spend_based are not better than our own estimate and are not
used. The scope label is ``scope3_cat1``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from suppliers.factors import UNIT_TO_BASE, material_factors, spend_factors, usd2021_per_eur

COLUMNS = ("plant_id", "supplier_id", "commodity", "year", "link_id", "volume", "volume_unit", "tco2e", "dq_tier",
           "method", "basis", "note", "scope")


def scope3_cat1(links: pd.DataFrame, plant_ids, checked: pd.DataFrame | None = None,
                factors: pd.DataFrame | None = None, eeio: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per tier-1 link (plant, supplier, commodity, year = spend_year); see the module docstring.
    ``checked`` is the output of ``check_submissions`` (None: no submissions)."""
    lk = links[links["to_id"].isin(set(plant_ids))].reset_index(drop=True)
    mat = (factors if factors is not None else material_factors()).set_index("commodity")
    eeio_f = (eeio if eeio is not None else spend_factors()).set_index("commodity")["kg_co2e_per_usd2021"]
    unit_base = lk["volume_unit"].map({u: b for u, (b, _) in UNIT_TO_BASE.items()})
    mult = lk["volume_unit"].map({u: m for u, (_, m) in UNIT_TO_BASE.items()}).to_numpy(dtype=float)
    vol_base = np.where(unit_base.to_numpy() == lk["commodity"].map(mat["unit"]).to_numpy(),
                        lk["annual_volume"].to_numpy(dtype=float) * mult, np.nan)
    year = lk["spend_year"].to_numpy(dtype=np.int64)
    n = len(lk)
    t = np.full(n, np.nan)
    tier = np.zeros(n, dtype=np.int64)
    method = np.full(n, "", dtype=object)
    basis = np.full(n, "", dtype=object)
    note = np.full(n, "", dtype=object)

    if checked is not None and len(checked):
        live = checked[checked["status"] != "superseded"]
        for dq, meth in ((1, "supplier_specific"), (2, "hybrid")):
            sub = live[live["method"] == meth]
            if sub.empty:
                continue
            pos = _first_pos(sub, lk, year)
            has = pos >= 0
            p = np.maximum(pos, 0)
            status = sub["status"].to_numpy()[p]
            ok = has & (status == "accepted") & (tier == 0)
            inten = sub["intensity"].to_numpy(dtype=float)[p]
            use = ok & np.isfinite(inten) & np.isfinite(vol_base)
            t[use] = inten[use] * vol_base[use]
            tier[use], method[use] = dq, meth
            basis[use] = sub["submission_id"].to_numpy()[p][use]
            fell = has & ~use & (tier == 0) & (note == "")
            note[fell] = ("submission " + sub["submission_id"].to_numpy()[p][fell].astype(object) + " " +
                          status[fell].astype(object) + " (" + sub["reasons"].to_numpy()[p][fell].astype(object) +
                          "): fell back")
    fac = lk["commodity"].map(mat["factor_t_per_unit"]).to_numpy(dtype=float)
    use = (tier == 0) & np.isfinite(vol_base * fac)
    t[use] = vol_base[use] * fac[use]
    tier[use], method[use] = 3, "average_data"
    basis[use] = lk["commodity"].map(mat["source"]).to_numpy()[use]
    usd = np.array([usd2021_per_eur(y) for y in year]) if n else np.zeros(0)
    ef = lk["commodity"].map(eeio_f).to_numpy(dtype=float)
    use = (tier == 0) & np.isfinite(ef)
    t[use] = lk["annual_spend_eur"].to_numpy(dtype=float)[use] * usd[use] * ef[use] / 1000.0
    tier[use], method[use] = 4, "spend_based"
    basis[use] = "EPA SEF v1.2 NAICS " + lk["commodity"].map(spend_factors().set_index("commodity")["naics"]) \
        .fillna("").to_numpy()[use].astype(object)
    out = pd.DataFrame({
        "plant_id": lk["to_id"], "supplier_id": lk["from_id"], "commodity": lk["commodity"], "year": year,
        "link_id": lk["link_id"], "volume": lk["annual_volume"], "volume_unit": lk["volume_unit"], "tco2e": t,
        "dq_tier": tier, "method": method, "basis": basis, "note": note, "scope": "scope3_cat1",
    })
    return out.sort_values(["plant_id", "supplier_id", "commodity", "year"]).reset_index(drop=True)


def _first_pos(sub: pd.DataFrame, lk: pd.DataFrame, year: np.ndarray) -> np.ndarray:
    """Position of one submission per (supplier, commodity, year) when several exist (e.g. per plant):
    the accepted one first."""
    if sub.empty:
        return np.full(len(lk), -1, dtype=np.int64)
    order = sub.assign(_r=np.arange(len(sub)), _a=(sub["status"] != "accepted")).sort_values(["_a", "_r"])
    first = order.drop_duplicates(["supplier_id", "commodity", "year"])
    key = pd.MultiIndex.from_frame(first[["supplier_id", "commodity", "year"]].astype({"year": "int64"}))
    pos = key.get_indexer(pd.MultiIndex.from_arrays([lk["from_id"], lk["commodity"], year]))
    return np.where(pos >= 0, first["_r"].to_numpy()[np.maximum(pos, 0)], -1)


def rollup(cat1: pd.DataFrame) -> pd.DataFrame:
    """t CO2e per view: by data-quality tier, by supplier, by commodity (view, key, tco2e, share)."""
    parts = []
    total = cat1["tco2e"].sum()
    for view, col in (("dq_tier", "method"), ("supplier", "supplier_id"), ("commodity", "commodity")):
        g = cat1.groupby(col, as_index=False)["tco2e"].sum().rename(columns={col: "key"})
        parts.append(g.assign(view=view, share=g["tco2e"] / total if total else np.nan))
    return pd.concat(parts, ignore_index=True)[["view", "key", "tco2e", "share"]]
