"""Rolling-origin backtest of the demand forecaster beside seasonal naive and AutoETS, at any frequency.

Fold k trains on everything up to its origin (the forecaster selects its model and calibrates its intervals on
data before that origin only), forecasts ``horizon`` steps and is scored on the actuals: WAPE, MASE (seasonal
naive scale of the panel's season), bias, and the empirical coverage of the 80% / 95% intervals. Origins are
counted in steps of the panel's frequency.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from features.frequency import FreqSpec
from models.candidates import stat_forecast
from models.demand import DemandConfig, DemandForecaster
from models.metrics import bias, coverage, mase, seasonal_scale, wape


def fold_origins(last: pd.Timestamp, horizon: int, n_folds: int, step: int,
                 spec: FreqSpec | None = None) -> list[pd.Timestamp]:
    """Origins (last training period) of each fold, oldest first; the newest fold ends at ``last``.
    Steps are periods of ``spec`` (weekly W-MON when not given)."""
    spec = spec or FreqSpec("W-MON")
    return [spec.shift(pd.Timestamp(last), -(horizon + step * (n_folds - 1 - k))) for k in range(n_folds)]


def backtest_demand(panel: pd.DataFrame, report: dict, config: DemandConfig | None = None, n_folds: int = 3,
                    step: int = 13) -> dict[str, Any]:
    """Returns {"folds": DataFrame (fold, origin, model, wape, mase, bias, coverage_80, coverage_95),
    "summary": {model: {metric: mean over folds}}, "predictions": DataFrame}. Models: ``model`` (the selected
    forecaster), ``lgbm_only`` (its LightGBM member when it has one, else the selected model), ``stat``
    (AutoETS) and ``snaive`` (seasonal naive)."""
    if n_folds < 1:
        raise ValueError("backtest: n_folds must be >= 1")
    config = config or DemandConfig()
    spec = FreqSpec.from_panel(panel, config.freq, config.season_lengths)
    h = config.horizon
    last = panel["ds"].max()
    rows, preds = [], []
    for k, origin in enumerate(fold_origins(last, h, n_folds, step, spec)):
        hist = panel[panel["ds"] <= origin]
        test = panel[(panel["ds"] > origin) & (panel["ds"] <= spec.shift(origin, h))]
        t0 = time.perf_counter()
        rep = _report_for(hist, report, config)
        model = DemandForecaster(config).fit(hist, rep)
        X_df = None  # known-in-advance drivers: their values after the origin are known (issue 14)
        if config.future_exog:
            X_df = panel[panel["ds"] > origin][["unique_id", "ds", *config.future_exog]]
        fc, _ = model.predict(hist, rep, h, X_df=X_df)
        fit_s = time.perf_counter() - t0
        base = stat_forecast(hist, h, ["autoets", "snaive"], spec.freq, spec.season_lengths)
        base = base.rename(columns={"autoets": "stat"})
        fc = fc.drop(columns=[c for c in ("stat", "snaive") if c in fc])
        ev = test[["unique_id", "ds", "y"]].merge(fc, on=["unique_id", "ds"], how="left").merge(
            base, on=["unique_id", "ds"], how="left")
        if "yhat_lgbm" not in ev:
            ev["yhat_lgbm"] = ev["yhat"]
        ev["yhat_lgbm"] = ev["yhat_lgbm"].fillna(ev["yhat"])
        num = ["yhat", "yhat_lgbm", "stat", "snaive"]
        ev[num] = ev[num].fillna(0.0)
        scale = seasonal_scale(hist, spec.season)
        for name, col in (("model", "yhat"), ("lgbm_only", "yhat_lgbm"), ("stat", "stat"), ("snaive", "snaive")):
            row = {"fold": k, "origin": origin.date().isoformat(), "model": name,
                   "wape": wape(ev["y"], ev[col]), "mase": mase(ev, col, scale), "bias": bias(ev["y"], ev[col])}
            if name == "model":
                row["coverage_80"] = coverage(ev["y"], ev["yhat_lo_80"], ev["yhat_hi_80"])
                row["coverage_95"] = coverage(ev["y"], ev["yhat_lo_95"], ev["yhat_hi_95"])
                row["fit_seconds"] = fit_s
                row["selected"] = model.winner
            rows.append(row)
        ev["fold"] = k
        preds.append(ev)
    folds = pd.DataFrame(rows)
    summary = {m: {c: float(np.nanmean(g[c])) for c in g.columns
                   if c not in ("fold", "origin", "model", "selected") and g[c].notna().any()}
               for m, g in folds.groupby("model")}
    sn, md, st = summary["snaive"]["wape"], summary["model"]["wape"], summary["stat"]["wape"]
    summary["skill"] = {"wape_vs_snaive": 1 - md / sn if sn else float("nan"),
                        "wape_vs_stat": 1 - md / st if st else float("nan"),
                        "mase_vs_snaive": 1 - summary["model"]["mase"] / summary["snaive"]["mase"]}
    return {"folds": folds, "summary": summary, "predictions": pd.concat(preds, ignore_index=True)}


def _report_for(hist: pd.DataFrame, report: dict, config: DemandConfig) -> dict:
    """The input report restricted to a fold: too_short / all_zero re-judged on the fold's history."""
    rep = {k: v for k, v in report.items() if k not in ("too_short", "all_zero")}
    n = hist.groupby("unique_id")["y"].agg(["size", lambda s: float(s.abs().sum())])
    n.columns = ["size", "abs_sum"]
    rep["all_zero"] = [{"unique_id": u} for u in n.index[n["abs_sum"] == 0]]
    rep["too_short"] = [{"unique_id": u} for u in n.index[(n["abs_sum"] > 0) & (n["size"] < config.min_history)]]
    return rep
