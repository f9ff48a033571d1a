"""Demo backtest with and without the known-in-advance drivers (issue 14).

    nice -n 10 .venv/bin/python benchmarks/bench_drivers.py [--size demo] [--folds 3] [--horizon 26]

Rolling-origin backtest (models.backtest, same folds for both) of the demand forecaster on the sample
network: once without drivers, once with ``features.drivers.DRIVER_FEATURES`` as future exogenous drivers
(their future values come from the driver tables, which are known in advance). Prints MASE / WAPE /
coverage per configuration, overall and for BEV series in markets whose incentive changed in the test window.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from features.demand_features import prepare_demand_panel
from features.drivers import DRIVER_FEATURES, DRIVER_MONOTONE, driver_features, with_drivers
from features.sample import generate
from models.backtest import backtest_demand
from models.demand import DemandConfig
from models.metrics import mase, seasonal_scale


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="demo")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--step", type=int, default=13)
    ap.add_argument("--horizon", type=int, default=26)
    ap.add_argument("--candidates", default="")
    a = ap.parse_args()
    t = generate(a.size)
    dh, products, markets = t["demand_history"], t["products"], t["markets"]
    feats, filled = driver_features(t, products, grid=dh)
    dhx = with_drivers(dh, feats)
    extra = {"candidates": a.candidates.split(",")} if a.candidates else {}
    for name, exog in (("without drivers", []), ("with drivers", list(DRIVER_FEATURES))):
        cfg = DemandConfig(horizon=a.horizon, future_exog=exog,
                           exog_monotone={k: v for k, v in DRIVER_MONOTONE.items() if k in exog}, **extra)
        panel, rep = prepare_demand_panel(dhx, products, markets, min_history=cfg.min_history, exog=exog)
        t0 = time.perf_counter()
        bt = backtest_demand(panel, rep, cfg, n_folds=a.folds, step=a.step)
        s = bt["summary"]
        pr = bt["predictions"]
        pt = pr["unique_id"].str.split("|").str[0].map(products.set_index("product_id")["powertrain"])
        scale = seasonal_scale(panel[["unique_id", "ds", "y"]], 52)
        bev = pr[pt == "BEV"]
        sel = sorted(bt["folds"].loc[bt["folds"]["model"] == "model", "selected"].unique())
        print(f"{name}: MASE {s['model']['mase']:.3f} (snaive {s['snaive']['mase']:.3f}, AutoETS "
              f"{s['stat']['mase']:.3f}, lgbm_only {s['lgbm_only']['mase']:.3f}); WAPE {s['model']['wape']:.3f}; "
              f"coverage80 {s['model']['coverage_80']:.3f} coverage95 {s['model']['coverage_95']:.3f}; "
              f"BEV-series MASE {mase(bev, 'yhat', scale):.3f}; selected {sel}; {time.perf_counter() - t0:.0f} s",
              flush=True)
        print(bt["folds"][bt["folds"]["model"].isin(["model", "lgbm_only"])][["fold", "origin", "model", "mase",
                                                                             "wape"]].to_string(index=False))
    print("neutral-filled driver rows:", filled)


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
