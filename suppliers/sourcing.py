"""Inputs of the plan's component sourcing (optimisation.sourcing): the qualified tier-1 suppliers of
each plant's key components with capacity, Scope 3 category 1 intensity, price and risk, and the
component need per vehicle.

- ``sourcing_options``: one row per (plant, supplier, commodity) over the links into plants that carry a
  ``capacity_per_week`` (the key inputs: battery packs, cells), in the commodity's base unit
  (suppliers.factors.UNIT_TO_BASE). ``tco2e_per_unit`` = the link's category 1 t CO2e / its annual volume
  (so the supplier's accepted submission when there is one, else the average-data or spend-based
  fallback, ``dq_tier`` says which); without a cat 1 row the material factor (average data, tier 3).
  ``price_eur_per_unit`` = annual spend / annual volume; ``risk`` = the supplier's propagated risk total.
- ``sourcing_upstream``: each option supplier's exposure to upstream suppliers and countries (tier 2+),
  so that an outage of a cell maker or of a country reaches the pack makers that depend on it.
- ``component_needs``: kWh of battery pack per vehicle by powertrain (``PACK_KWH``, typical pack sizes:
  BEV 75 kWh, PHEV 15 kWh, ICE none), for the commodities ``battery_pack`` and ``cell``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from suppliers.factors import UNIT_TO_BASE, material_factors

#: battery kWh per vehicle by powertrain (typical values; policy, tune here)
PACK_KWH = {"BEV": 75.0, "PHEV": 15.0, "ICE": 0.0}
BATTERY = ("battery_pack", "cell")
OPTION_COLUMNS = ["plant_id", "supplier_id", "commodity", "country", "capacity_per_week", "tco2e_per_unit",
                  "price_eur_per_unit", "risk", "dq_tier", "method", "link_id", "unit"]


def sourcing_options(links: pd.DataFrame, suppliers: pd.DataFrame, plant_ids, cat1: pd.DataFrame | None = None,
                     risk: pd.DataFrame | None = None) -> pd.DataFrame:
    lk = links[links["to_id"].isin(set(plant_ids)) & links["capacity_per_week"].notna()].copy()
    mult = lk["volume_unit"].map({u: m for u, (_, m) in UNIT_TO_BASE.items()}).astype(float).to_numpy()
    lk["unit"] = lk["volume_unit"].map({u: b for u, (b, _) in UNIT_TO_BASE.items()})
    vol = lk["annual_volume"].to_numpy(float) * mult
    lk["capacity_per_week"] = lk["capacity_per_week"].to_numpy(float) * mult
    lk["price_eur_per_unit"] = np.divide(lk["annual_spend_eur"].to_numpy(float), vol, out=np.full(len(lk), np.nan),
                                         where=vol > 0)
    mat = material_factors().set_index("commodity")["factor_t_per_unit"]
    lk["tco2e_per_unit"] = lk["commodity"].map(mat).astype(float)
    lk["dq_tier"], lk["method"] = 3, "average_data"
    if cat1 is not None and len(cat1):
        c = cat1.sort_values("year").drop_duplicates("link_id", keep="last").set_index("link_id")
        t = c["tco2e"].reindex(lk["link_id"]).to_numpy(float)
        ok = np.isfinite(t) & (vol > 0)
        lk.loc[ok, "tco2e_per_unit"] = t[ok] / vol[ok]
        lk.loc[ok, "dq_tier"] = c["dq_tier"].reindex(lk["link_id"]).to_numpy()[ok]
        lk.loc[ok, "method"] = c["method"].reindex(lk["link_id"]).to_numpy()[ok]
    lk["risk"] = 0.0
    if risk is not None and len(risk):
        r = risk[risk["kind"] == "supplier"].set_index("node_id")["total"]
        lk["risk"] = r.reindex(lk["from_id"]).fillna(0.0).to_numpy(float)
    lk["country"] = lk["from_id"].map(suppliers.set_index("supplier_id")["country"]).fillna("")
    lk = lk.rename(columns={"to_id": "plant_id", "from_id": "supplier_id"})
    # one option per (plant, supplier, commodity): capacities add, intensity and price volume-weighted
    lk["_v"] = np.maximum(vol, 1e-12)
    g = lk.groupby(["plant_id", "supplier_id", "commodity"], sort=True)
    out = g.agg(country=("country", "first"), capacity_per_week=("capacity_per_week", "sum"),
                risk=("risk", "max"), dq_tier=("dq_tier", "max"), method=("method", "first"),
                link_id=("link_id", "first"), unit=("unit", "first"), _v=("_v", "sum")).reset_index()
    for c in ("tco2e_per_unit", "price_eur_per_unit"):
        out[c] = (lk[c] * lk["_v"]).groupby([lk["plant_id"], lk["supplier_id"], lk["commodity"]], sort=True).sum(
            min_count=1).to_numpy() / out["_v"].to_numpy()
    out["dq_tier"] = out["dq_tier"].astype(int)
    return out[OPTION_COLUMNS]


def component_needs(products: pd.DataFrame, commodities=BATTERY) -> pd.DataFrame:
    """product_id, commodity, qty_per_unit (kWh) for the battery commodities with options."""
    kwh = products["powertrain"].map(PACK_KWH).fillna(0.0).to_numpy(float)
    rows = [pd.DataFrame({"product_id": products["product_id"].to_numpy(), "commodity": c, "qty_per_unit": kwh})
            for c in BATTERY if c in set(commodities)]
    cols = ["product_id", "commodity", "qty_per_unit"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


UPSTREAM_COLUMNS = ["supplier_id", "node_id", "country", "exposure"]
UPSTREAM_MIN = 0.005  # exposures below half a percent are left out


def _propagate(R: sp.csr_matrix, W: sp.csr_matrix, depth: int = 12) -> sp.csr_matrix:
    total, cur = R.copy(), R
    for _ in range(depth):
        cur = (cur @ W).tocsr()
        cur.eliminate_zeros()
        if cur.nnz == 0:
            break
        total = total + cur
    return total.tocsr()


def sourcing_upstream(G, supplier_ids) -> pd.DataFrame:
    """Upstream exposure of each tier-1 option supplier: the share of its input value whose chain passes a
    node (``node_id``: a supplier) or any node of a country (``node_id`` = ``country:XX``; propagation stops at
    the first node in the country, so paths through several of its nodes count once). The plan scales the
    supplier's capacity by 1 - exposure x (1 - capacity_pct) under an outage upstream."""
    sids = [s for s in dict.fromkeys(supplier_ids) if s in G.nodes]
    if not sids:
        return pd.DataFrame(columns=UPSTREAM_COLUMNS)
    R = G.W[G.index(sids)]
    E = _propagate(R, G.W).tocoo()
    country = pd.Series({n: G.g.nodes[n].get("country") for n in G.nodes})
    keep = E.data > UPSTREAM_MIN
    nodes = G.nodes.to_numpy()[E.col[keep]]
    frames = [pd.DataFrame({"supplier_id": np.asarray(sids, dtype=object)[E.row[keep]], "node_id": nodes,
                            "country": country.reindex(nodes).to_numpy(), "exposure": np.minimum(E.data[keep], 1.0)})]
    cvals = country.reindex(G.nodes).to_numpy()
    for c in sorted({str(v) for v in cvals if v is not None and v == v}):
        stop = sp.diags((cvals != c).astype(float))  # rows of the country's nodes cut: first hit only
        Ec = _propagate(R, (stop @ G.W).tocsr())
        exp_c = np.asarray(Ec[:, np.flatnonzero(cvals == c)].sum(axis=1)).ravel()
        ok = exp_c > UPSTREAM_MIN
        if ok.any():
            frames.append(pd.DataFrame({"supplier_id": np.asarray(sids, dtype=object)[ok], "node_id": f"country:{c}",
                                        "country": c, "exposure": np.minimum(exp_c[ok], 1.0)}))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["supplier_id", "node_id"]).reset_index(drop=True)[UPSTREAM_COLUMNS]
