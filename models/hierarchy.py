"""Coherent forecasts at every level of a grouped hierarchy (product -> powertrain -> total, market -> region
-> total) with an honest band per level.

Points are bottom-up: every aggregate node's forecast is the exact sum of its bottom series (``S @ bottom`` as a
groupby sum), so the levels add up by construction. Bands are *not* sums of bottom bounds: each level gets its
own conformal quantiles, computed from the forecaster's rolling-origin predictions aggregated to that level
(actuals and forecasts summed per node and window), scaled by the node's seasonal-naive MAE. The total's band
is therefore the band of the total, far narrower than the sum of per-series bands.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.conformal import step_quantiles
from models.metrics import seasonal_scale

LEVELS = (80, 95)
DEFAULT_HIERARCHY = [[], ["powertrain"], ["powertrain", "product_id"], ["region"], ["region", "market_id"]]
HIERARCHY_COLUMNS = ["level", "node", "week", "yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"]


def _level_name(cols: list[str]) -> str:
    return "/".join(cols) if cols else "total"


def _nodes(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    if not cols:
        return pd.Series("total", index=frame.index)
    return frame[cols].astype(str).agg("/".join, axis=1)


def aggregate(bottom: pd.DataFrame, attrs: pd.DataFrame, cols: list[str], value_cols: list[str]) -> pd.DataFrame:
    """Sum ``value_cols`` of the bottom rows (``unique_id, ds, ...``) to the nodes of level ``cols``."""
    b = bottom.merge(attrs, on="unique_id", how="left")
    b["node"] = _nodes(b, cols)
    keys = ["node", "ds"] + (["cutoff"] if "cutoff" in b else [])
    return b.groupby(keys, as_index=False)[value_cols].sum()


def _recent_scale(hist: pd.DataFrame, season: int, recent: int) -> pd.Series:
    return seasonal_scale(hist.sort_values(["unique_id", "ds"]).groupby("unique_id").tail(recent + season), season)


def hierarchy_forecast(model, bottom_fc: pd.DataFrame, history: pd.DataFrame, attrs: pd.DataFrame,
                       hierarchy: list[list[str]] | None = None) -> pd.DataFrame:
    """``level, node, week, yhat, yhat_lo/hi_80/95`` for every level of ``hierarchy`` (bottom included).

    ``bottom_fc``: the forecaster's output (``unique_id, ds, yhat`` + bands); ``history``: its panel
    (``unique_id, ds, y``); ``attrs``: ``unique_id`` + the hierarchy columns; ``model``: the fitted
    ``DemandForecaster`` (its rolling-origin predictions calibrate each level)."""
    hierarchy = DEFAULT_HIERARCHY if hierarchy is None else hierarchy
    spec = model.spec
    h = int(bottom_fc.groupby("unique_id").size().max())
    cv = model.cv.dropna(subset=[model.winner])[["unique_id", "ds", "cutoff", "y", model.winner]]
    cv = cv.rename(columns={model.winner: "yhat"})
    if (history["y"] >= 0).all():
        cv["yhat"] = cv["yhat"].clip(lower=0)
    cutoffs = sorted(cv["cutoff"].unique())
    age = {c: len(cutoffs) - 1 - i for i, c in enumerate(cutoffs)}
    out = []
    for cols in hierarchy:
        name = _level_name(cols)
        pts = aggregate(bottom_fc[["unique_id", "ds", "yhat"]], attrs, cols, ["yhat"])
        hist = aggregate(history[["unique_id", "ds", "y"]], attrs, cols, ["y"]).rename(columns={"node": "unique_id"})
        acv = aggregate(cv, attrs, cols, ["y", "yhat"])
        recent = max(2 * spec.season, 24)
        sc = pd.concat([_recent_scale(hist[hist["ds"] <= cut], spec.season, recent).rename("scale").reset_index()
                        .assign(cutoff=cut) for cut in cutoffs], ignore_index=True).rename(columns={"unique_id": "node"})
        acv = acv.merge(sc, on=["node", "cutoff"], how="left")
        acv = acv[acv["scale"] > 0].copy()
        acv["step"] = spec.steps_between(acv["cutoff"].to_numpy(), acv["ds"].to_numpy())
        acv["age"] = acv["cutoff"].map(age)
        acv["score"] = (acv["y"] - acv["yhat"]).abs() / acv["scale"]
        q = step_quantiles(acv, max(h, model.config.horizon), LEVELS, model.config.conformal_halflife)
        full_scale = _recent_scale(hist, spec.season, recent)
        first = pts.groupby("node")["ds"].transform("min")
        step = spec.steps_between(first.to_numpy(), pts["ds"].to_numpy()) + 1
        s = pts["node"].map(full_scale).fillna(0.0).to_numpy()
        for lv in LEVELS:
            qq = np.asarray(q[lv], float)
            width = qq[np.minimum(step, len(qq)) - 1] * s
            pts[f"yhat_lo_{lv}"] = np.maximum(pts["yhat"].to_numpy() - width, 0.0)
            pts[f"yhat_hi_{lv}"] = pts["yhat"].to_numpy() + width
        pts["level"] = name
        out.append(pts)
    res = pd.concat(out, ignore_index=True).rename(columns={"ds": "week"})
    return res[HIERARCHY_COLUMNS].sort_values(["level", "node", "week"]).reset_index(drop=True)


def demand_attrs(panel: pd.DataFrame, markets: pd.DataFrame | None = None) -> pd.DataFrame:
    """``unique_id, product_id, market_id, powertrain, region`` for the co2plan panel (region from the
    markets table when it has one, else the market itself)."""
    a = panel.drop_duplicates("unique_id")[["unique_id", "product_id", "market_id", "powertrain"]].copy()
    region = None
    if markets is not None:
        for col in ("region", "country"):
            if col in markets:
                region = markets[["market_id", col]].rename(columns={col: "region"})
                break
    if region is not None:
        a = a.merge(region.astype(str), on="market_id", how="left")
        a["region"] = a["region"].fillna("unknown")
    else:
        a["region"] = a["market_id"]
    return a
