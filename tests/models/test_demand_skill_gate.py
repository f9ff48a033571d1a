"""The done-when skill gate on a slice of the demo sample (every 3rd series, ~50 series, ~20 s)."""

from __future__ import annotations

import pytest

from features.demand_features import prepare_demand_panel
from models.backtest import backtest_demand
from models.demand import DemandConfig


@pytest.mark.slow
@pytest.mark.smoke
def test_demand_model_beats_baselines_with_calibrated_intervals_on_demo_slice():
    sample = pytest.importorskip("features.sample")
    d = sample.generate("demo", 7)
    dh = d["demand_history"]
    ids = sorted(dh.groupby(["product_id", "market_id"]).size().index)[::3]
    keep = dh.set_index(["product_id", "market_id"]).index.isin(ids)
    panel, report = prepare_demand_panel(dh[keep], d["products"], d["markets"])
    assert panel["unique_id"].nunique() >= 40
    bt = backtest_demand(panel, report, DemandConfig(), n_folds=3, step=13)
    s = bt["summary"]
    assert len(bt["folds"]["fold"].unique()) == 3
    assert s["model"]["wape"] <= 0.8 * s["snaive"]["wape"]
    assert s["model"]["wape"] < s["stat"]["wape"]
    assert abs(s["model"]["coverage_80"] - 0.80) <= 0.05
    assert abs(s["model"]["coverage_95"] - 0.95) <= 0.05
