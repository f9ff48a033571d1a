"""Demand forecaster benchmark: time and WAPE of the mlforecast pipeline beside a bare LightGBM fit on the
same feature matrix and beside the statistical baseline, all in one run.

    .venv/bin/python benchmarks/bench_forecast.py                 # the `large` sample
    .venv/bin/python benchmarks/bench_forecast.py --synthetic 10000 # 10k synthetic series x 156 weeks

Holdout: the last ``--horizon`` weeks. Printed:
- features: mlforecast feature matrix (MLForecast.preprocess)
- bare LightGBM: LGBMRegressor.fit on that matrix (same hyperparameters) -> the time baseline;
  its WAPE comes from the same recursive forecast with the bare booster swapped in
- pipeline: MLForecast.fit (features + fit; target <= 1.5x bare) and + predict(horizon) (recursive forecast)
(timings are the best of ``--repeat`` alternating runs: the machine may be shared)
- full forecaster: DemandForecaster.fit (incl. conformal calibration refits) + predict, for reference
- statistical baseline and seasonal naive (statsforecast) on the same holdout
"""

from __future__ import annotations

import argparse
import time

import pandas as pd


def load(args) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    if args.synthetic:
        from models.synthetic import demand_tables

        n_markets = 20
        t = demand_tables(n_products=max(1, args.synthetic // n_markets), n_markets=n_markets, n_weeks=156,
                          seed=11, noise=0.17)
        return t["demand_history"], t["products"], t["markets"], f"synthetic {args.synthetic} x 156"
    from features.sample import generate

    d = generate(args.size, 7)
    return d["demand_history"], d["products"], d["markets"], f"sample {args.size}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="large")
    ap.add_argument("--synthetic", type=int, default=0)
    ap.add_argument("--horizon", type=int, default=26)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--baseline", default="mstl")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    from lightgbm import LGBMRegressor

    from features.demand_features import STATIC_FEATURES, prepare_demand_panel
    from models.demand import DemandConfig, DemandForecaster, stat_forecast
    from models.metrics import wape

    dh, products, markets, label = load(args)
    h = args.horizon
    panel, report = prepare_demand_panel(dh, products, markets)
    cutoff = panel["ds"].max() - pd.Timedelta(weeks=int(h))
    train, test = panel[panel["ds"] <= cutoff], panel[panel["ds"] > cutoff]
    n_series = panel["unique_id"].nunique()
    print(f"data: {label}: {n_series} series, {panel['ds'].nunique()} weeks, {len(panel)} rows; "
          f"holdout {h} weeks; lightgbm n_jobs={args.n_jobs}", flush=True)
    cfg = DemandConfig(horizon=h, n_jobs=args.n_jobs, baseline=args.baseline)

    def score(fc: pd.DataFrame, col: str) -> float:
        m = test[["unique_id", "ds", "y"]].merge(fc[["unique_id", "ds", col]], on=["unique_id", "ds"], how="left")
        return wape(m["y"], m[col].fillna(0.0).clip(lower=0))

    f = DemandForecaster(cfg)
    f.categories = {c: sorted(train[c].astype(str).unique()) for c in STATIC_FEATURES}
    df = f._frame(train)

    mlf = f._new_mlf()
    t0 = time.perf_counter()
    X, y = mlf.preprocess(df, static_features=STATIC_FEATURES, return_X_y=True)
    t_feat = time.perf_counter() - t0
    params = mlf.models["lgbm"].get_params()

    # the machine is shared: alternate the two fits and keep the best of ``--repeat`` for each
    t_bare = t_fit = t_pred = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        bare = LGBMRegressor(**params).fit(X, y)
        t_bare = min(t_bare, time.perf_counter() - t0)
        mlf2 = f._new_mlf()
        t0 = time.perf_counter()
        mlf2.fit(df, static_features=STATIC_FEATURES)
        t_fit = min(t_fit, time.perf_counter() - t0)
        t0 = time.perf_counter()
        fc = mlf2.predict(h)
        t_pred = min(t_pred, time.perf_counter() - t0)
    w_pipe = score(fc, "lgbm")

    mlf2.models_["lgbm"] = bare  # the bare booster through the same recursive forecast
    w_bare = score(mlf2.predict(h), "lgbm")

    t0 = time.perf_counter()
    full = DemandForecaster(cfg).fit(train, report)
    out, _ = full.predict(train, report, h)
    t_full = time.perf_counter() - t0
    out = out.rename(columns={"week": "ds"})
    out["unique_id"] = out["product_id"] + "|" + out["market_id"]
    m = test.merge(out, on=["unique_id", "ds"])
    cov80 = ((m["y"] >= m["yhat_lo_80"]) & (m["y"] <= m["yhat_hi_80"])).mean()
    cov95 = ((m["y"] >= m["yhat_lo_95"]) & (m["y"] <= m["yhat_hi_95"])).mean()
    w_full = score(out, "yhat")

    t0 = time.perf_counter()
    st = stat_forecast(train, h, args.baseline, with_snaive=True)
    t_stat = time.perf_counter() - t0
    w_stat, w_sn = score(st, "stat"), score(st, "snaive")

    rows = [
        ("features only (MLForecast.preprocess)", t_feat, float("nan")),
        ("bare LightGBM fit on the same matrix", t_bare, w_bare),
        ("pipeline train: MLForecast.fit (features + fit)", t_fit, float("nan")),
        ("pipeline train + forecast: MLForecast.fit + predict", t_fit + t_pred, w_pipe),
        ("full forecaster incl. conformal calibration", t_full, w_full),
        (f"statistical baseline ({args.baseline}) + seasonal naive", t_stat, w_stat),
        ("seasonal naive (52)", float("nan"), w_sn),
    ]
    print(f"{'step':50s} {'seconds':>9s} {'WAPE':>7s}")
    for name, sec, w in rows:
        print(f"{name:50s} {sec:9.2f} {w:7.4f}")
    print(f"ratio pipeline train / bare LightGBM fit: {t_fit / t_bare:.2f}x (target <= 1.5x)")
    print(f"ratio pipeline train + {h}-week forecast / bare LightGBM fit: {(t_fit + t_pred) / t_bare:.2f}x")
    print(f"ratio full forecaster / bare LightGBM fit: {t_full / t_bare:.2f}x "
          f"({full.calibration_windows} calibration refits)")
    print(f"holdout interval coverage: 80% -> {cov80:.3f}, 95% -> {cov95:.3f}")
    print(f"WAPE skill vs seasonal naive: {1 - w_full / w_sn:.3f}; vs {args.baseline}: {1 - w_full / w_stat:.3f}")


if __name__ == "__main__":
    main()
