"""Supplier and plant risk: own risk from ESG and news events, propagated through the tiers by exposure,
and alerts with the paths from the risk to the plants, products and markets it hits.

- own(n) = 1 - (1 - W_ESG * esg_median(n)) * prod_e (1 - SEVERITY_W[sev_e] * CATEGORY_W[cat_e] * exp(-age_e / 90 d));
  a country-wide event (supplier_id empty) counts for every supplier in that country;
- level by level from the raw materials to the plants (topological generations):
  inherited(n) = sum_s W[n, s] * total(s) (W: the graph's input weights, summing to 1 per buyer),
  total(n) = 1 - (1 - own(n)) * (1 - DELTA * inherited(n)); a plant's risk is its inherited value;
- a product's risk is the production-weighted mean over the plants that build it;
- alerts: a supplier whose total crosses ``SUPPLIER_ALERT`` or a plant crossing ``PLANT_ALERT`` against
  the previous run (all nodes above the line on the first run).
The constants are policy, not physics: tune them in one place.
"""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd

from suppliers.graph import SupplyGraph, dependants, top_paths

W_ESG = 0.3
DELTA = 0.5
HALF_LIFE_DAYS = 90.0  # e-folding time of an event's weight
SEVERITY_W = {1: 0.2, 2: 0.5, 3: 1.0}
CATEGORY_W = {"sanctions": 1.0, "insolvency": 0.9, "labour_human_rights": 0.8, "environment": 0.6,
              "accident": 0.6, "none": 0.0}
SUPPLIER_ALERT = 0.6
PLANT_ALERT = 0.35


def event_weights(classified: pd.DataFrame, events: pd.DataFrame, suppliers: pd.DataFrame,
                  run_date: pd.Timestamp) -> pd.DataFrame:
    """One row per (supplier, event) with its weight (country events spread to the country's suppliers)."""
    ev = events[["event_id", "supplier_id", "country", "date", "text"]].merge(classified, on="event_id")
    age = (pd.Timestamp(run_date) - ev["date"]).dt.days.clip(lower=0).to_numpy(dtype=float)
    ev["weight"] = (ev["severity"].map(SEVERITY_W).fillna(0.0).to_numpy() * ev["category"].map(CATEGORY_W)
                    .fillna(0.0).to_numpy() * np.exp(-age / HALF_LIFE_DAYS))
    ev = ev[(ev["weight"] > 0) & (ev["date"] <= pd.Timestamp(run_date))]
    direct = ev[ev["supplier_id"].notna()]
    country = ev[ev["supplier_id"].isna()].drop(columns="supplier_id").merge(
        suppliers[["supplier_id", "country"]], on="country")
    return pd.concat([direct, country[direct.columns]], ignore_index=True)


def own_risk(suppliers: pd.DataFrame, esg: pd.DataFrame | None, weights: pd.DataFrame | None) -> pd.DataFrame:
    """supplier_id, esg_median, esg_spread, event_factor, n_events, own."""
    out = suppliers[["supplier_id", "country"]].copy()
    if esg is not None and len(esg):
        out = out.merge(esg[["supplier_id", "esg_median", "esg_spread"]], on="supplier_id", how="left")
    else:
        out["esg_median"], out["esg_spread"] = np.nan, np.nan
    unrated = out["esg_median"].isna()
    out["esg_median"] = out["esg_median"].fillna(0.5)  # unrated: the middle of the rank scale, not zero
    out["esg_rated"] = ~unrated
    if weights is not None and len(weights):
        w = weights.assign(l=np.log1p(-np.clip(weights["weight"].to_numpy(), 0, 0.999999)))
        agg = w.groupby("supplier_id").agg(l=("l", "sum"), n_events=("event_id", "size"))
        out = out.merge(agg, on="supplier_id", how="left")
    else:
        out["l"], out["n_events"] = np.nan, 0
    out["event_factor"] = 1 - np.exp(out["l"].fillna(0.0))
    out["n_events"] = out["n_events"].fillna(0).astype("int64")
    out["own"] = 1 - (1 - W_ESG * out["esg_median"]) * (1 - out["event_factor"])
    return out.drop(columns=["l"])


def propagate_risk(G: SupplyGraph, own: pd.Series) -> pd.DataFrame:
    """node_id, kind, own, inherited, total. ``own``: supplier_id -> own risk (missing: 0)."""
    n = len(G.nodes)
    o = own.reindex(G.nodes).fillna(0.0).to_numpy(dtype=float)
    inh = np.zeros(n)
    total = np.zeros(n)
    W = G.W.tocsr()
    for gen in nx.topological_generations(G.g):
        idx = G.index(list(gen))
        inh[idx] = W[idx] @ total
        total[idx] = 1 - (1 - o[idx]) * (1 - DELTA * inh[idx])
    plant = np.isin(G.nodes.to_numpy(), G.plants)
    total = np.where(plant, inh, total)
    return pd.DataFrame({"node_id": G.nodes.to_numpy(), "kind": np.where(plant, "plant", "supplier"),
                         "own": np.where(plant, 0.0, o), "inherited": inh, "total": total})


def product_risk(risk: pd.DataFrame, production: pd.DataFrame) -> pd.DataFrame:
    """product_id, risk: the production-weighted mean of its plants' risk."""
    vol = production.groupby(["plant_id", "product_id"], as_index=False)["units"].sum()
    vol["risk"] = vol["plant_id"].map(risk.set_index("node_id")["total"])
    vol = vol[vol["risk"].notna()]
    g = vol.assign(rw=vol["risk"] * vol["units"]).groupby("product_id")[["rw", "units"]].sum()
    return pd.DataFrame({"product_id": g.index, "risk": (g["rw"] / g["units"].where(g["units"] > 0)).to_numpy()})


def alerts(G: SupplyGraph, risk: pd.DataFrame, previous: pd.DataFrame | None = None,
           drivers: pd.DataFrame | None = None, plant_products: pd.DataFrame | None = None,
           lanes: pd.DataFrame | None = None, max_plants: int = 3) -> pd.DataFrame:
    """Nodes whose risk crossed the line since ``previous`` (a risk table of the previous run): node_id,
    kind, risk, previous_risk, threshold, drivers, plants, products, markets, paths (JSON lists)."""
    r = risk.copy()
    r["threshold"] = np.where(r["kind"] == "plant", PLANT_ALERT, SUPPLIER_ALERT)
    prev = previous.set_index("node_id")["total"] if previous is not None and len(previous) else pd.Series(dtype=float)
    r["previous_risk"] = r["node_id"].map(prev)
    crossed = (r["total"] >= r["threshold"]) & ~(r["previous_risk"] >= r["threshold"])
    hit = r[crossed].sort_values("total", ascending=False)
    ev = drivers if drivers is not None else pd.DataFrame(columns=["supplier_id", "text", "weight"])
    rows = []
    for rec in hit.itertuples(index=False):
        if rec.kind == "plant":
            d = {"plants": [rec.node_id], "products": sorted(set(plant_products.loc[
                plant_products["plant_id"] == rec.node_id, "product_id"])) if plant_products is not None else [],
                "markets": sorted(set(lanes.loc[lanes["plant_id"] == rec.node_id, "market_id"]))
                if lanes is not None else []}
            paths: list = []
            why = []
        else:
            d = dependants(G, node=rec.node_id, plant_products=plant_products, lanes=lanes)
            paths = sorted(({"plant": p, "path": path, "weight": round(w, 6)}
                            for p in d["plants"] for path, w in top_paths(G, rec.node_id, p, k=1)),
                           key=lambda x: -x["weight"])[:max_plants]
            top = ev[ev["supplier_id"] == rec.node_id].nlargest(2, "weight")
            why = top["text"].tolist()
        rows.append({"node_id": rec.node_id, "kind": rec.kind, "risk": round(float(rec.total), 4),
                     "previous_risk": rec.previous_risk, "threshold": rec.threshold,
                     "drivers": json.dumps(why), "plants": json.dumps(d["plants"]),
                     "products": json.dumps(d["products"]), "markets": json.dumps(d["markets"]),
                     "paths": json.dumps(paths)})
    cols = ["node_id", "kind", "risk", "previous_risk", "threshold", "drivers", "plants", "products", "markets",
            "paths"]
    return pd.DataFrame(rows, columns=cols)
