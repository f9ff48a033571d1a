"""Rolling-origin backtest of the demand forecaster beside seasonal naive (52) and a statistical baseline.

Fold k trains on everything up to its origin (the forecaster recalibrates its intervals on data before
that origin only), forecasts ``horizon`` weeks and is scored on the actuals: WAPE, MASE (seasonal, 52),
bias, and the empirical coverage of the 80% / 95% intervals.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from models.demand import DemandConfig, DemandForecaster, stat_forecast
from models.metrics import bias, coverage, mase, seasonal_scale, wape


def fold_origins(last_week: pd.Timestamp, horizon: int, n_folds: int, step: int) -> list[pd.Timestamp]:
    """Origins (last training week) of each fold, oldest first; the newest fold ends at ``last_week``."""
    return [last_week - pd.Timedelta(weeks=horizon + step * (n_folds - 1 - k)) for k in range(n_folds)]


def backtest_demand(panel: pd.DataFrame, report: dict, config: DemandConfig | None = None, n_folds: int = 3,
                    step: int = 13) -> dict[str, Any]:
    """Returns {"folds": DataFrame (fold, origin, model, wape, mase, bias, coverage_80, coverage_95),
    "summary": {model: {metric: mean over folds}}, "predictions": DataFrame}."""
    if n_folds < 1:
        raise ValueError("backtest: n_folds must be >= 1")
    config = config or DemandConfig()
    h = config.horizon
    last = panel["ds"].max()
    rows, preds = [], []
    for k, origin in enumerate(fold_origins(last, h, n_folds, step)):
        hist = panel[panel["ds"] <= origin]
        test = panel[(panel["ds"] > origin) & (panel["ds"] <= origin + pd.Timedelta(weeks=h))]
        t0 = time.perf_counter()
        model = DemandForecaster(config).fit(hist, _report_for(hist, report, config))
        fc, _ = model.predict(hist, _report_for(hist, report, config), h)
        fit_s = time.perf_counter() - t0
        base = stat_forecast(hist, h, config.baseline, with_snaive=True)
        fc["unique_id"] = fc["product_id"] + "|" + fc["market_id"]
        fc = fc.rename(columns={"week": "ds"}).drop(columns=[c for c in ("stat",) if c in fc])
        ev = test[["unique_id", "ds", "y"]].merge(fc, on=["unique_id", "ds"], how="left").merge(
            base, on=["unique_id", "ds"], how="left")
        if "yhat_lgbm" not in ev:
            ev["yhat_lgbm"] = ev["yhat"]
        num = ["yhat", "yhat_lgbm", "stat", "snaive"]
        ev[num] = ev[num].fillna(0.0)
        scale = seasonal_scale(hist)
        for name, col in (("model", "yhat"), ("lgbm_only", "yhat_lgbm"), ("stat", "stat"), ("snaive", "snaive")):
            row = {"fold": k, "origin": origin.date().isoformat(), "model": name,
                   "wape": wape(ev["y"], ev[col]), "mase": mase(ev, col, scale), "bias": bias(ev["y"], ev[col])}
            if name == "model":
                row["coverage_80"] = coverage(ev["y"], ev["yhat_lo_80"], ev["yhat_hi_80"])
                row["coverage_95"] = coverage(ev["y"], ev["yhat_lo_95"], ev["yhat_hi_95"])
                row["fit_seconds"] = fit_s
            rows.append(row)
        ev["fold"] = k
        preds.append(ev)
    folds = pd.DataFrame(rows)
    summary = {m: {c: float(np.nanmean(g[c])) for c in g.columns
                   if c not in ("fold", "origin", "model") and g[c].notna().any()}
               for m, g in folds.groupby("model")}
    sn, md, st = summary["snaive"]["wape"], summary["model"]["wape"], summary["stat"]["wape"]
    summary["skill"] = {"wape_vs_snaive": 1 - md / sn if sn else float("nan"),
                        "wape_vs_stat": 1 - md / st if st else float("nan")}
    return {"folds": folds, "summary": summary, "predictions": pd.concat(preds, ignore_index=True)}


def _report_for(hist: pd.DataFrame, report: dict, config: DemandConfig) -> dict:
    """The input report restricted to a fold: too_short / all_zero re-judged on the fold's history."""
    rep = {k: v for k, v in report.items() if k not in ("too_short", "all_zero")}
    n = hist.groupby("unique_id")["y"].agg(["size", lambda s: float(s.abs().sum())])
    n.columns = ["size", "abs_sum"]
    rep["all_zero"] = [{"unique_id": u} for u in n.index[n["abs_sum"] == 0]]
    rep["too_short"] = [{"unique_id": u} for u in n.index[(n["abs_sum"] > 0) & (n["size"] < config.min_history)]]
    return rep
