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

from models.conformal import step_bounds, step_quantiles
from models.metrics import seasonal_scale

LEVELS = (80, 95)
DEFAULT_HIERARCHY = [[], ["powertrain"], ["powertrain", "product_id"], ["region"], ["region", "market_id"]]
HIERARCHY_COLUMNS = ["level", "node", "week", "yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"]


def _level_name(cols: list[str]) -> str:
    return "/".join(cols) if cols else "total"


def _nodes(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    if not cols:
        return pd.Series("total", index=frame.index)
    if cols == ["unique_id"]:
        return frame["unique_id"].astype(str)
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
                       hierarchy: list[list[str]] | None = None, method: str = "bottom_up") -> pd.DataFrame:
    """``level, node, week, yhat, yhat_lo/hi_80/95`` for every level of ``hierarchy`` (bottom included).

    ``bottom_fc``: the forecaster's output (``unique_id, ds, yhat`` + bands); ``history``: its panel
    (``unique_id, ds, y``); ``attrs``: ``unique_id`` + the hierarchy columns; ``model``: the fitted
    ``DemandForecaster`` (its rolling-origin predictions calibrate each level).

    ``method``: ``bottom_up`` (aggregates are sums of the bottom forecasts) or ``mint_shrink`` (MinTrace with a
    shrunk error covariance, hierarchicalforecast: every aggregate node also gets its own statistical base
    forecast, and the bottom forecasts are revised so that all levels agree; the output then carries the revised
    bottom level ``bottom`` too). Either way the levels are exact sums of the (revised) bottom series."""
    hierarchy = DEFAULT_HIERARCHY if hierarchy is None else hierarchy
    spec = model.spec
    h = int(bottom_fc.groupby("unique_id").size().max())
    cv = model.cv.dropna(subset=[model.winner])[["unique_id", "ds", "cutoff", "y", model.winner]]
    cv = cv.rename(columns={model.winner: "yhat"})
    if (history["y"] >= 0).all():
        cv["yhat"] = cv["yhat"].clip(lower=0)
    if method == "mint_shrink":
        bottom_fc, cv = mint_bottom(model, bottom_fc, history, attrs, hierarchy, cv)
        hierarchy = [*hierarchy, ["unique_id"]]
    elif method != "bottom_up":
        raise ValueError(f"hierarchy method {method!r}: bottom_up or mint_shrink")
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
        acv["signed"] = (acv["y"] - acv["yhat"]) / acv["scale"]
        acv["score"] = acv["signed"].abs()
        hh = max(h, model.config.horizon)
        if getattr(model.config, "conformal_signed", False):
            bounds = step_bounds(acv, hh, LEVELS, model.config.conformal_halflife)
        else:
            q = step_quantiles(acv, hh, LEVELS, model.config.conformal_halflife)
            bounds = {lv: ([-x for x in q[lv]], list(q[lv])) for lv in q}
        full_scale = _recent_scale(hist, spec.season, recent)
        first = pts.groupby("node")["ds"].transform("min")
        step = spec.steps_between(first.to_numpy(), pts["ds"].to_numpy()) + 1
        s = pts["node"].map(full_scale).fillna(0.0).to_numpy()
        for lv in LEVELS:
            qlo, qhi = (np.asarray(x, float) for x in bounds[lv])
            idx = np.minimum(step, len(qlo)) - 1
            pts[f"yhat_lo_{lv}"] = np.maximum(pts["yhat"].to_numpy() + qlo[idx] * s, 0.0)
            pts[f"yhat_hi_{lv}"] = pts["yhat"].to_numpy() + qhi[idx] * s
        pts["level"] = "bottom" if cols == ["unique_id"] else name
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


def summing_matrix(attrs: pd.DataFrame, hierarchy: list[list[str]], bottom: list[str]
                   ) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """S (nodes x bottom series, 0/1) with the aggregate nodes of ``hierarchy`` first and the bottom series
    last, and the (level, node) key of every row."""
    a = attrs.set_index("unique_id").reindex(bottom).reset_index()
    rows, keys = [], []
    for cols in hierarchy:
        nodes = _nodes(a, cols).to_numpy()
        for node in sorted(set(nodes)):
            rows.append((nodes == node).astype(float))
            keys.append((_level_name(cols), str(node)))
    S = np.vstack([*rows, np.eye(len(bottom))])
    return S, keys + [("bottom", u) for u in bottom]


def mint_bottom(model, bottom_fc: pd.DataFrame, history: pd.DataFrame, attrs: pd.DataFrame,
                hierarchy: list[list[str]], cv: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MinTrace (mint_shrink) revision of the bottom forecasts and of their backtest predictions.

    Base forecasts: the forecaster's for the bottom series; for each aggregate node the statistical
    candidate that scored best in the forecaster's selection (AutoETS when none was scored), fitted on the
    node's summed history, with its own backtest on the forecaster's windows. The error covariance W comes from
    the backtest errors of every node (Schaefer-Strimmer shrinkage, hierarchicalforecast's MinTrace);
    P = (S' W^-1 S)^-1 S' W^-1 maps all base forecasts to revised bottom forecasts, applied to the future and,
    for calibration, to every backtest window. Bottom series without backtest predictions (sampled panels)
    count with zero error in W and in the revised backtest."""
    from hierarchicalforecast.methods import MinTrace

    from models.candidates import STAT_CANDIDATES, stat_cv, stat_forecast

    spec = model.spec
    bottom = sorted(bottom_fc["unique_id"].unique())
    aggs = [c for c in hierarchy if c != ["unique_id"]]
    S, keys = summing_matrix(attrs, aggs, bottom)
    n_agg = len(keys) - len(bottom)
    sel = model.selection[model.selection["candidate"].isin(STAT_CANDIDATES)] if len(model.selection) else None
    name = str(sel.sort_values("mase_select")["candidate"].iloc[0]) if sel is not None and len(sel) else "autoets"
    # aggregate histories and base forecasts
    hist = pd.concat([aggregate(history[["unique_id", "ds", "y"]], attrs, cols, ["y"]).assign(
        unique_id=lambda d, lv=_level_name(cols): lv + "::" + d["node"]) for cols in aggs], ignore_index=True)
    hist = hist[["unique_id", "ds", "y"]]
    h = int(bottom_fc.groupby("unique_id").size().max())
    agg_fc = stat_forecast(hist, h, name, spec.freq, spec.season_lengths)
    cutoffs = sorted(cv["cutoff"].unique())
    step = int(model.config.cv_step or max(1, model.config.horizon // 2))
    agg_cv = stat_cv(hist, [name], spec.freq, spec.season_lengths, model.config.horizon, len(cutoffs), step)
    ids = [f"{lv}::{node}" for lv, node in keys[:n_agg]]
    # base forecast matrix (nodes x h)
    fut = sorted(bottom_fc["ds"].unique())
    yb = bottom_fc.pivot(index="unique_id", columns="ds", values="yhat").reindex(index=bottom, columns=fut)
    ya = agg_fc.pivot(index="unique_id", columns="ds", values=name).reindex(index=ids, columns=fut)
    y_hat = np.vstack([ya.to_numpy(float), yb.to_numpy(float)])
    # backtest matrices (nodes x (cutoff, ds))
    cols = sorted({(c, d) for c, d in zip(cv["cutoff"], cv["ds"], strict=True)})
    idx = pd.MultiIndex.from_tuples(cols, names=["cutoff", "ds"])

    def wide(frame, uid, val, order):
        return frame.pivot_table(index=uid, columns=["cutoff", "ds"], values=val, aggfunc="first"
                                 ).reindex(index=order, columns=idx)

    b_y, b_hat = wide(cv, "unique_id", "y", bottom), wide(cv, "unique_id", "yhat", bottom)
    truth = history.pivot_table(index="unique_id", columns="ds", values="y").reindex(bottom)
    b_y = b_y.fillna(pd.DataFrame(truth.reindex(columns=idx.get_level_values("ds")).to_numpy(), index=bottom,
                                  columns=idx))
    b_hat = b_hat.fillna(b_y)  # no backtest prediction: zero error
    a_y, a_hat = wide(agg_cv, "unique_id", "y", ids), wide(agg_cv, "unique_id", name, ids)
    y_ins = np.vstack([a_y.to_numpy(float), b_y.to_numpy(float)])
    yh_ins = np.vstack([a_hat.to_numpy(float), b_hat.to_numpy(float)])
    mt = MinTrace(method="mint_shrink")
    mt.fit(S=S, y_hat=np.nan_to_num(y_hat), y_insample=y_ins, y_hat_insample=yh_ins)
    P = np.asarray(mt.P)  # (bottom x nodes)
    rec = P @ np.nan_to_num(y_hat)
    nonneg = bool((history["y"] >= 0).all())
    if nonneg:
        rec = np.maximum(rec, 0.0)
    out = pd.DataFrame(rec, index=bottom, columns=fut).rename_axis(index="unique_id", columns="ds").stack(future_stack=True)
    out = out.rename("yhat").reset_index()
    rec_cv = P @ np.nan_to_num(np.where(np.isnan(yh_ins), y_ins, yh_ins))
    rc = pd.DataFrame(rec_cv, index=bottom, columns=idx).rename_axis(index="unique_id").stack(["cutoff", "ds"], future_stack=True)
    rc = rc.rename("yhat").reset_index().merge(b_y.stack(["cutoff", "ds"], future_stack=True).rename("y").reset_index(),
                                                on=["unique_id", "cutoff", "ds"])
    if nonneg:
        rc["yhat"] = rc["yhat"].clip(lower=0)
    return out, rc[["unique_id", "ds", "cutoff", "y", "yhat"]]
