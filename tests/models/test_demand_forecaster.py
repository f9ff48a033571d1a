"""Demand forecaster: metrics, conformal quantile, bad input, intervals, backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.demand_features import STATIC_FEATURES, prepare_demand_panel
from features.frequency import FreqSpec
from models.backtest import backtest_demand, fold_origins
from models.demand import FORECAST_COLUMNS, DemandForecaster, conformal_quantile, fit_table, forecast_table
from models.metrics import bias, coverage, mase, seasonal_scale, wape


def test_metrics_hand_computed():
    y, f = np.array([10.0, 20.0, 30.0]), np.array([12.0, 18.0, 33.0])
    assert wape(y, f) == pytest.approx(7 / 60)
    assert bias(y, f) == pytest.approx(3 / 60)
    assert coverage(y, [9, 21, 29], [11, 22, 31]) == pytest.approx(2 / 3)
    hist = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=54, freq="W-MON"),
                         "y": np.r_[np.arange(52.0), 5.0, 9.0]})
    # |y_52 - y_0| = |5 - 0| = 5, |y_53 - y_1| = |9 - 1| = 8 -> scale 6.5
    assert seasonal_scale(hist)["a"] == pytest.approx(6.5)
    act = pd.DataFrame({"unique_id": ["a", "a"], "y": [10.0, 20.0], "f": [13.0, 20.0]})
    assert mase(act, "f", seasonal_scale(hist)) == pytest.approx(1.5 / 6.5)


def test_conformal_quantile_finite_sample():
    s = np.arange(1.0, 11.0)  # 10 scores
    assert conformal_quantile(s, 80) == 9.0  # ceil(11 * 0.8) = 9th smallest
    assert conformal_quantile(s, 95) == 10.0  # capped at n
    assert np.isnan(conformal_quantile([], 80))


def test_fold_origins_roll_back_from_the_end():
    o = fold_origins(pd.Timestamp("2026-11-16"), horizon=26, n_folds=3, step=13)
    assert [str(x.date()) for x in o] == ["2025-11-17", "2026-02-16", "2026-05-18"]  # end - 52, 39, 26 weeks
    o = fold_origins(pd.Timestamp("2026-11-01"), horizon=6, n_folds=2, step=3, spec=FreqSpec("MS"))
    assert [str(x.date()) for x in o] == ["2026-02-01", "2026-05-01"]  # steps are months


def _bad_history(small_demand):
    dh = small_demand["demand_history"].copy()
    weeks = sorted(dh["week"].unique())
    a = (dh["product_id"] == "P000") & (dh["market_id"] == "M00")
    dh.loc[a & (dh["week"] == weeks[10]), "units"] = -5.0  # negative
    gap = (dh["product_id"] == "P001") & (dh["market_id"] == "M00") & dh["week"].isin(weeks[30:33])
    dh = dh[~gap]  # 3-week gap
    dh.loc[(dh["product_id"] == "P002") & (dh["market_id"] == "M00"), "units"] = 0.0  # all zero
    ended = (dh["product_id"] == "P003") & (dh["market_id"] == "M00") & dh["week"].isin(weeks[-4:])
    dh = dh[~ended]  # stopped selling 4 weeks before the end
    short = pd.DataFrame({"week": weeks[-10:], "product_id": "P000", "market_id": "M09",
                          "units": [10.0, 12, 11, 13, 9, 10, 14, 12, 11, 12]})
    return pd.concat([dh, short], ignore_index=True)


def test_bad_input_is_repaired_and_reported(small_demand):
    dh = _bad_history(small_demand)
    panel, rep = prepare_demand_panel(dh, small_demand["products"], small_demand["markets"], min_history=26)
    ids = {k: [r["unique_id"] for r in v] for k, v in rep.items()}
    assert ids["negative"] == ["P000|M00"] and ids["gaps"] == ["P001|M00"]
    assert ids["all_zero"] == ["P002|M00"] and ids["ended_early"] == ["P003|M00"]
    assert ids["too_short"] == ["P000|M09"]
    assert (panel["y"] >= 0).all() and panel["y"].notna().all()
    g = panel[panel["unique_id"] == "P001|M00"].set_index("ds")["y"]
    weeks = sorted(dh["week"].unique())
    lo, hi = g[weeks[29]], g[weeks[33]]
    assert g[weeks[31]] == pytest.approx(lo + (hi - lo) * 2 / 4)  # linear interpolation
    assert (panel[panel["unique_id"] == "P003|M00"].set_index("ds")["y"].loc[weeks[-4]:] == 0).all()
    # every series ends on the same week
    assert panel.groupby("unique_id")["ds"].max().nunique() == 1


def test_forecast_never_nan_and_reports_fallbacks_and_unseen(small_demand, fast_config):
    dh = _bad_history(small_demand)
    model, rep = fit_table(dh, small_demand["products"], small_demand["markets"], fast_config)
    assert "P000|M09" not in model.train_ids and "P002|M00" not in model.train_ids
    # forecast on new data that also contains a series never seen in training (new product P099)
    new = small_demand["demand_history"][small_demand["demand_history"]["product_id"] == "P001"].copy()
    new["product_id"] = "P099"
    products = pd.concat([small_demand["products"], pd.DataFrame(
        {"product_id": ["P099"], "powertrain": ["BEV"], "segment": ["Z-new"]})], ignore_index=True)
    fc, frep = forecast_table(model, pd.concat([dh, new]), products, small_demand["markets"], 8)
    assert list(fc.columns) == FORECAST_COLUMNS
    n_series = dh.groupby(["product_id", "market_id"]).ngroups + new.groupby(["product_id", "market_id"]).ngroups
    assert len(fc) == n_series * 8
    num = fc[FORECAST_COLUMNS[3:]]
    assert num.notna().all().all() and (num >= 0).all().all()
    assert (fc["yhat_lo_95"] <= fc["yhat_lo_80"]).all() and (fc["yhat_lo_80"] <= fc["yhat"]).all()
    assert (fc["yhat"] <= fc["yhat_hi_80"]).all() and (fc["yhat_hi_80"] <= fc["yhat_hi_95"]).all()
    unseen = {r["unique_id"] for r in frep["unseen"]}
    assert {"P099|M00", "P099|M01", "P099|M02", "P000|M09", "P002|M00"} <= unseen
    assert [r["unique_id"] for r in frep["unseen_attribute"]] == ["P099|M00", "P099|M01", "P099|M02"]
    zero = fc[(fc["product_id"] == "P002") & (fc["market_id"] == "M00")]
    assert (zero[FORECAST_COLUMNS[3:]] == 0).all().all()
    short = fc[(fc["product_id"] == "P000") & (fc["market_id"] == "M09")]
    assert short["yhat"].std() < 1.0 and 9 < short["yhat"].mean() < 14  # AutoETS on the 10 weeks (mean 11.4)
    assert "AutoETS(non-seasonal)" in {r["unique_id"]: r["detail"] for r in frep["fallback"]}["P000|M09"]
    weeks = sorted(dh["week"].unique())
    assert fc["week"].min() == weeks[-1] + pd.Timedelta(weeks=1)


def test_static_features_are_real_attributes_not_repeated_columns(small_demand, fast_config):
    fast_config.candidates = ["lgbm"]
    model, _ = fit_table(small_demand["demand_history"], small_demand["products"], small_demand["markets"],
                         fast_config)
    feats = list(model.mlf.ts.features_order_)
    for col in STATIC_FEATURES:
        assert col in feats
    assert {"lag1", "lag52", "week_of_year", "month"} <= set(feats)
    assert "product_id" not in feats and "market_id" not in feats
    assert model.calibration_points > 0 and len(model.quantiles[80]) == 8
    assert all(a <= b for a, b in zip(model.quantiles[80], model.quantiles[95], strict=True))


def test_empty_and_malformed_inputs_raise_clear_errors(small_demand):
    with pytest.raises(ValueError, match="missing columns"):
        prepare_demand_panel(small_demand["demand_history"].drop(columns="units"))
    bad = small_demand["demand_history"].copy()
    bad.loc[0, "week"] = pd.Timestamp("2023-01-03")  # a Tuesday among Mondays
    with pytest.raises(ValueError, match="irregular"):
        prepare_demand_panel(bad)
    z = small_demand["demand_history"].assign(units=0.0)
    panel, rep = prepare_demand_panel(z)
    with pytest.raises(ValueError, match="no series with enough"):
        DemandForecaster().fit(panel, rep)


def test_backtest_structure_and_baselines(small_demand, fast_config):
    panel, rep = prepare_demand_panel(small_demand["demand_history"], small_demand["products"],
                                      small_demand["markets"])
    bt = backtest_demand(panel, rep, fast_config, n_folds=3, step=8)
    folds = bt["folds"]
    assert sorted(folds["fold"].unique()) == [0, 1, 2]
    assert set(folds["model"]) == {"model", "lgbm_only", "stat", "snaive"}
    assert folds["selected"].dropna().isin(["lgbm", "autoets", "snaive", "ensemble"]).all()
    m = folds[folds["model"] == "model"]
    assert m[["wape", "mase", "bias", "coverage_80", "coverage_95"]].notna().all().all()
    # seasonal naive recomputed by hand on the last fold
    p = bt["predictions"]
    last = p[p["fold"] == 2]
    hist = panel.set_index(["unique_id", "ds"])["y"]
    exp = [hist[(u, d - pd.Timedelta(weeks=52))] for u, d in zip(last["unique_id"], last["ds"], strict=True)]
    assert last["snaive"].to_numpy() == pytest.approx(np.array(exp))
    sn = folds[(folds["model"] == "snaive") & (folds["fold"] == 2)]["wape"].iloc[0]
    assert sn == pytest.approx(wape(last["y"], last["snaive"]))
    assert bt["summary"]["model"]["wape"] < bt["summary"]["snaive"]["wape"]


def test_short_history_derives_shorter_lags_instead_of_failing(fast_config):
    from models.synthetic import demand_tables

    t = demand_tables(n_products=2, n_markets=2, n_weeks=60, seed=1)
    model, _ = fit_table(t["demand_history"], t["products"], t["markets"], fast_config)
    assert max(model.lags) < 52 and max(model.windows) < 52  # cut to what 60 weeks allow
    fc, _ = forecast_table(model, t["demand_history"], t["products"], t["markets"], 8)
    assert len(fc) == 4 * 8 and fc["yhat"].notna().all()
    t = demand_tables(n_products=1, n_markets=1, n_weeks=12, seed=1)
    with pytest.raises(ValueError, match="needs at least"):
        fit_table(t["demand_history"], t["products"], t["markets"], fast_config.__class__(horizon=8, min_history=5))
