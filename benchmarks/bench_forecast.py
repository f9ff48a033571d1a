"""Demand forecaster benchmark: accuracy on public panels and speed against a bare LightGBM, in one run.

    .venv/bin/python benchmarks/bench_forecast.py --panel all            # public panels (PyPI wheels)
    .venv/bin/python benchmarks/bench_forecast.py --panel walmart
    .venv/bin/python benchmarks/bench_forecast.py --speed                # the `large` sample
    .venv/bin/python benchmarks/bench_forecast.py --speed --synthetic 10000  # 10k synthetic series x 156 weeks

Accuracy (``--panel``): the last ``horizon`` periods of each panel are held out; the full forecaster (model
selection, fallbacks, conformal intervals) is fit on the rest. Printed per panel and model: MASE (seasonal
naive in-sample scale of the panel's season), WAPE, interval coverage 80/95 (selected model), seconds. Rows:
selected, lgbm (the global LightGBM alone), autoets, snaive. Gates (exit code 1 when one fails): selected
MASE < seasonal naive, <= 1.02 x AutoETS, |coverage - nominal| <= 0.03 at 80 and 95.

Speed (``--speed``): bare LGBMRegressor.fit on the mlforecast feature matrix = 1.0; mlforecast fit + predict
(target <= 1.5x) and the full forecaster with selection and calibration (target <= 3x). Timings are the best
of ``--repeat`` alternating runs (the machine is shared). Peak RSS printed.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _mase(test: pd.DataFrame, fc: pd.DataFrame, col: str, scale: pd.Series) -> float:
    m = test[["unique_id", "ds", "y"]].merge(fc[["unique_id", "ds", col]], on=["unique_id", "ds"], how="left")
    err = (m["y"] - m[col].fillna(0.0)).abs().groupby(m["unique_id"]).mean()
    s = scale.reindex(err.index)
    ok = s > 0
    return float((err[ok] / s[ok]).mean())


def _wape(test, fc, col) -> float:
    from models.metrics import wape

    m = test[["unique_id", "ds", "y"]].merge(fc[["unique_id", "ds", col]], on=["unique_id", "ds"], how="left")
    return wape(m["y"], m[col].fillna(0.0))


def _cov(test: pd.DataFrame, fc: pd.DataFrame, level: int) -> float:
    m = test[["unique_id", "ds", "y"]].merge(fc, on=["unique_id", "ds"])
    return float(((m["y"] >= m[f"yhat_lo_{level}"]) & (m["y"] <= m[f"yhat_hi_{level}"])).mean())


def run_panel(name: str, tol: float = 0.03) -> tuple[list[dict], list[str]]:
    import panels

    from features.demand_features import prepare_panel
    from features.frequency import FreqSpec
    from models.candidates import stat_forecast
    from models.demand import DemandConfig, DemandForecaster
    from models.metrics import seasonal_scale

    df, settings = panels.PANELS[name]()
    h = int(settings.pop("horizon"))
    exog = settings.get("future_exog", [])
    panel, report = prepare_panel(df, min_history=2 * h, exog=exog)
    spec = FreqSpec.from_panel(panel)
    last = panel["ds"].max()
    cut = spec.shift(last, -h)
    train, test = panel[panel["ds"] <= cut], panel[panel["ds"] > cut]
    tr_panel, tr_report = prepare_panel(train, min_history=2 * h, freq=spec.freq, exog=exog)
    scale = seasonal_scale(train, spec.season)
    print(f"\n== {name}: {panel['unique_id'].nunique()} series, freq {spec.freq}, season {spec.season_lengths}, "
          f"{len(panel)} rows, holdout {h}", flush=True)
    rows, fails = [], []

    def fit_predict(cfg):
        t0 = time.perf_counter()
        model = DemandForecaster(cfg).fit(tr_panel, tr_report)
        X_df = test[["unique_id", "ds", *exog]] if exog else None
        fc, rep = model.predict(tr_panel, tr_report, h, X_df=X_df)
        return model, fc, rep, time.perf_counter() - t0

    model, fc, rep, sec = fit_predict(DemandConfig(horizon=h, **settings))
    m = test.merge(fc, on=["unique_id", "ds"])
    cov = {lv: float(((m["y"] >= m[f"yhat_lo_{lv}"]) & (m["y"] <= m[f"yhat_hi_{lv}"])).mean()) for lv in (80, 95)}
    rows.append({"panel": name, "model": f"selected ({model.winner})", "mase": _mase(test, fc, "yhat", scale),
                 "wape": _wape(test, fc, "yhat"), "cov80": cov[80], "cov95": cov[95], "seconds": sec,
                 "fallbacks": len(rep.get("fallback", []))})
    _, fl, _, sec_l = fit_predict(DemandConfig(horizon=h, candidates=["lgbm"], **settings))
    rows.append({"panel": name, "model": "lgbm", "mase": _mase(test, fl, "yhat", scale),
                 "wape": _wape(test, fl, "yhat"), "seconds": sec_l})
    t0 = time.perf_counter()
    st = stat_forecast(train, h, ["autoets", "snaive"], spec.freq, spec.season_lengths)
    sec_s = time.perf_counter() - t0
    for col in ("autoets", "snaive"):
        rows.append({"panel": name, "model": col, "mase": _mase(test, st, col, scale), "wape": _wape(test, st, col),
                     "seconds": sec_s})
    sel, ets, sn = rows[0]["mase"], rows[2]["mase"], rows[3]["mase"]
    if not sel < sn:
        fails.append(f"{name}: selected MASE {sel:.3f} not below seasonal naive {sn:.3f}")
    if not sel <= 1.02 * ets:
        fails.append(f"{name}: selected MASE {sel:.3f} > 1.02 x AutoETS {ets:.3f}")
    for lv in (80, 95):
        if abs(cov[lv] - lv / 100) > tol:
            fails.append(f"{name}: coverage {lv}% = {cov[lv]:.3f}")
    print(model.selection[["candidate", "members", "mase_select", "mase_holdout"]].to_string(index=False))
    return rows, fails


def run_speed(args) -> None:
    from lightgbm import LGBMRegressor

    from features.demand_features import prepare_demand_panel
    from models.demand import DemandConfig, DemandForecaster

    if args.synthetic:
        from models.synthetic import demand_tables

        n_markets = 20
        t = demand_tables(n_products=max(1, args.synthetic // n_markets), n_markets=n_markets, n_weeks=156,
                          seed=11, noise=0.17)
        dh, products, markets, label = t["demand_history"], t["products"], t["markets"], \
            f"synthetic {args.synthetic} x 156"
    else:
        from features.sample import generate

        d = generate(args.size, 7)
        dh, products, markets, label = d["demand_history"], d["products"], d["markets"], f"sample {args.size}"
    h = args.horizon
    panel, report = prepare_demand_panel(dh, products, markets)
    cutoff = panel["ds"].max() - pd.Timedelta(weeks=int(h))
    train = panel[panel["ds"] <= cutoff]
    print(f"data: {label}: {panel['unique_id'].nunique()} series, {panel['ds'].nunique()} weeks, {len(panel)} rows; "
          f"horizon {h}", flush=True)
    cfg = DemandConfig(horizon=h, n_jobs=args.n_jobs)
    if args.shared_spec == "off":
        cfg.shared_spec = []
    if args.stat_sample:
        cfg.stat_sample = args.stat_sample
    if args.candidates:
        cfg.candidates = args.candidates.split(",")
    if args.cv_windows:
        cfg.cv_windows = args.cv_windows
    import logging

    logging.basicConfig(format="  %(message)s")
    logging.getLogger("models.demand").setLevel(logging.INFO)  # phases as they finish (long runs)
    import mlforecast  # noqa: F401  (one-off library imports are not the forecaster's time: statsmodels alone
    import statsforecast.models  # noqa: F401  takes seconds to import, more on a loaded machine)

    t0 = time.perf_counter()
    full = DemandForecaster(cfg).fit(train, report)
    fc, _ = full.predict(train, report, h)
    t_full = time.perf_counter() - t0
    from models.metrics import seasonal_scale

    test = panel[panel["ds"] > cutoff]
    scale = seasonal_scale(train, full.spec.season)
    acc = (f"holdout ({h} weeks after the training data) MASE {_mase(test, fc, 'yhat', scale):.3f}, "
           f"WAPE {_wape(test, fc, 'yhat'):.3f}, coverage 80/95 {_cov(test, fc, 80):.3f}/{_cov(test, fc, 95):.3f}")
    print(f"full forecaster: {t_full:.1f}s, selected {full.winner} ({'+'.join(full.members)}), "
          f"{full.calibration_windows} windows, shared_spec {args.shared_spec}; {acc}; "
          f"peak RSS {peak_rss_mb():.0f} MB", flush=True)
    for phase, sec in full.timings.items():
        print(f"  phase {phase:44s} {sec:9.2f}s", flush=True)
    if full.form_scores:
        with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
            print(pd.DataFrame(full.form_scores).pivot_table(index=["candidate", "form"], columns="segment",
                                                             values="mase_select").to_string(), flush=True)
    with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
        print(full.selection[["candidate", "members", "mase_select", "mase_holdout", "series_scored",
                              "chosen", "spec"]].to_string(index=False), flush=True)

    # the same feature matrix and hyperparameters as the full forecaster's LightGBM
    f = DemandForecaster(cfg)
    f.spec, f.lags, f.windows, f.categories = full.spec, full.lags, full.windows, full.categories
    f.lgbm_params = {k: v for k, v in full.lgbm_params.items() if k != "monotone_constraints"}
    df = f._frame(train[~train["unique_id"].isin({r["unique_id"] for r in report["all_zero"]})])
    statics = f._statics()
    mlf = f._new_mlf()
    t0 = time.perf_counter()
    X, y = mlf.preprocess(df, static_features=statics, return_X_y=True)
    t_feat = time.perf_counter() - t0
    t_bare = t_fit = t_pred = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        LGBMRegressor(**f.lgbm_params).fit(X, y)
        t_bare = min(t_bare, time.perf_counter() - t0)
        mlf2 = f._new_mlf()
        t0 = time.perf_counter()
        mlf2.fit(df, static_features=statics)
        t_fit = min(t_fit, time.perf_counter() - t0)
        t0 = time.perf_counter()
        mlf2.predict(h)
        t_pred = min(t_pred, time.perf_counter() - t0)
    print(f"{'step':52s} {'seconds':>9s} {'ratio':>7s}")
    for name, sec in (("features only (MLForecast.preprocess)", t_feat), ("bare LightGBM fit on the same matrix", t_bare),
                      ("mlforecast train + forecast (fit + predict)", t_fit + t_pred),
                      ("full forecaster (selection, CV, conformal, fallbacks)", t_full)):
        print(f"{name:52s} {sec:9.2f} {sec / t_bare:7.2f}x")
    print(f"ratio mlforecast fit+predict / bare: {(t_fit + t_pred) / t_bare:.2f}x (target <= 1.5x); "
          f"full / bare: {t_full / t_bare:.2f}x (target <= 3x); peak RSS {peak_rss_mb():.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--panel", default="", help="panel name, comma list or 'all'")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--size", default="large")
    ap.add_argument("--synthetic", type=int, default=0)
    ap.add_argument("--horizon", type=int, default=26)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--stat-sample", type=int, default=0, help="speed: DemandConfig.stat_sample (0: default)")
    ap.add_argument("--shared-spec", choices=("on", "off"), default="on",
                    help="speed: statistical candidates share one specification per segment (DemandConfig)")
    ap.add_argument("--cv-windows", type=int, default=0, help="speed: DemandConfig.cv_windows (0: default)")
    ap.add_argument("--candidates", default="", help="speed: DemandConfig.candidates, comma list (default: all)")
    args = ap.parse_args()
    fails: list[str] = []
    if args.panel:
        import panels

        names = list(panels.PANELS) if args.panel == "all" else args.panel.split(",")
        rows = []
        for n in names:
            try:
                r, f = run_panel(n)
            except panels.PanelUnavailable as e:
                print(f"{n}: skipped: {e}")
                continue
            rows += r
            fails += f
        out = pd.DataFrame(rows)
        with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
            print("\n" + out.to_string(index=False))
        print(f"peak RSS {peak_rss_mb():.0f} MB")
    if args.speed or not args.panel:
        run_speed(args)
    for f in fails:
        print(f"GATE FAILED: {f}")
    if fails:
        raise SystemExit(1)
    _ = np


if __name__ == "__main__":
    main()
