"""Demand training and forecasting through the lake and a real MLflow store (SQLite in tmp_path)."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from core import catalog, lake
from models import registry
from models.demand import FORECAST_COLUMNS
from models.pyfunc import unwrap
from models.stages import demand_hierarchy, forecast_demand, train_demand

FAST = {"n_estimators": 40, "num_leaves": 15, "min_child_samples": 5, "cv_windows": 2, "cv_step": 8,
        "candidates": ["lgbm"]}
WEAK = {**FAST, "n_estimators": 2, "learning_rate": 0.01}


@pytest.fixture
def lake_run(tmp_path, small_demand):
    root = str(tmp_path / "lake")
    for name in ("demand_history", "products", "markets"):
        lake.write_table(small_demand[name], "validated", "r1", name, root)
    return root


def test_champion_moves_only_when_challenger_beats_it(lake_run, mlflow_store, small_demand):
    weak = train_demand("r1", lake_run, horizon=8, config=WEAK, step=8)
    assert weak["model_version"] == "1" and weak["champion_moved"] is True  # first version: champion
    good = train_demand("r1", lake_run, horizon=8, config=FAST, step=8)
    assert good["metrics"]["backtest_wape"] < weak["metrics"]["backtest_wape"]
    assert good["champion_moved"] is True and good["champion_version"] == "2"
    worse = train_demand("r1", lake_run, horizon=8, config=WEAK, step=8)
    assert worse["champion_moved"] is False and worse["champion_version"] == "2"
    # fair gate: the champion (v2's spec) was re-run on the challenger's folds, same origins on both sides
    assert good["gate"]["passed"] is True and worse["gate"]["passed"] is False
    assert worse["gate"]["folds"] == 3 and worse["gate"]["champion_mase"] < worse["gate"]["challenger_mase"]
    gate_csv = MlflowClient().download_artifacts(worse["mlflow_run_id"], "gate.csv")
    g = pd.read_csv(gate_csv)
    assert len(g) == 3 and g["origin"].is_unique and (g["mase_champion"] < g["mase_challenger"]).sum() >= 2
    assert worse["previous_champion_wape"] == pytest.approx(good["metrics"]["backtest_wape"])
    mv = MlflowClient().get_model_version_by_alias(registry.DEMAND_MODEL, "champion")
    assert str(mv.version) == "2"

    # runs are comparable with search_runs: params, aggregate metrics and lineage tags
    runs = mlflow.search_runs(experiment_names=[registry.DEMAND_EXPERIMENT], order_by=["metrics.backtest_wape ASC"])
    assert len(runs) == 3
    assert runs.iloc[0]["run_id"] == good["mlflow_run_id"]
    assert {"metrics.snaive_wape", "metrics.stat_wape", "metrics.backtest_coverage_80", "params.n_estimators",
            "tags.lake_run_id", "tags.dataset_hash"} <= set(runs.columns)
    assert set(runs["tags.dataset_hash"]) == {lake.frame_hash(small_demand["demand_history"])}
    assert set(runs["params.n_estimators"]) == {"2", "40"}
    client = MlflowClient()
    hist = client.get_metric_history(good["mlflow_run_id"], "model_wape")
    assert sorted(m.step for m in hist) == [0, 1, 2]
    arts = {a.path for a in client.list_artifacts(good["mlflow_run_id"])}
    assert {"feature_importance.png", "backtest_folds.csv", "fallbacks.csv", "selection.csv"} <= arts
    sel = catalog.DEMAND_SELECTION.read("r1", root=lake_run)
    assert sel["chosen"].sum() == 1 and set(sel["candidate"]) == {"lgbm"}
    assert good["selected"] == "lgbm"
    manifest = lake.read_manifest("r1", lake_run)
    assert manifest["forecast/demand_training"]["model_version"] == "3"

    # forecasting loads the champion by default
    out = forecast_demand("r1", lake_run, horizon=8)
    assert out["model_version"] == "2" and out["model_uri"].endswith("@champion")
    fc = lake.read_table("forecast", "r1", "demand_forecast", lake_run)
    assert list(fc.columns) == FORECAST_COLUMNS and len(fc) == 12 * 8
    hier = catalog.DEMAND_FORECAST_HIERARCHY.read("r1", root=lake_run)
    total = hier[hier["level"] == "total"].set_index("week")["yhat"].sort_index()
    assert total.to_numpy() == pytest.approx(fc.groupby("week")["yhat"].sum().sort_index().to_numpy(), rel=1e-9)
    # the hierarchy is built from the run's demand_forecast (no second model.predict): its finest levels are
    # exact sums of demand_forecast, and a changed forecast passed in is what the hierarchy sums
    for level, col in (("powertrain/product_id", "product_id"), ("region/market_id", "market_id")):
        lv = hier[hier["level"] == level].assign(key=lambda d: d["node"].str.split("/").str[-1])
        got = lv.set_index(["key", "week"])["yhat"].sort_index()
        want = fc.groupby([col, "week"])["yhat"].sum().sort_index()
        assert len(got) == len(want) and got.to_numpy() == pytest.approx(want.to_numpy(), rel=1e-12)
    champion = unwrap(registry.load_model(registry.champion_uri(registry.DEMAND_MODEL)))
    dh = small_demand["demand_history"]
    doubled = demand_hierarchy(champion, dh, small_demand["products"], small_demand["markets"], 8,
                               forecast=fc.assign(yhat=2 * fc["yhat"]))
    tot2 = doubled[doubled["level"] == "total"].set_index("week")["yhat"].sort_index()
    assert tot2.to_numpy() == pytest.approx(2 * total.to_numpy(), rel=1e-12)
    assert fc[FORECAST_COLUMNS[3:]].notna().all().all()
    assert fc["week"].min() == small_demand["demand_history"]["week"].max() + pd.Timedelta(weeks=1)
    manifest = lake.read_manifest("r1", lake_run)
    assert manifest["forecast/demand_forecast"]["model_version"] == "2"
    assert "forecast/demand_training" in manifest  # one section per stage, nothing overwritten

    # the registered pyfunc model (signature with the horizon param) gives the same forecast
    pyf = mlflow.pyfunc.load_model(registry.champion_uri(registry.DEMAND_MODEL))
    inp = small_demand["demand_history"].merge(small_demand["products"][["product_id", "powertrain", "segment"]])
    pf = pyf.predict(inp, params={"horizon": 8})
    key = ["week", "product_id", "market_id"]
    m = fc.merge(pf, on=key, suffixes=("", "_pyf"))
    assert len(m) == len(fc)
    assert m["yhat"].to_numpy() == pytest.approx(m["yhat_pyf"].to_numpy())
    assert pyf.metadata.get_params_schema() is not None


def test_forecast_without_champion_is_a_clear_error(lake_run, mlflow_store):
    with pytest.raises(RuntimeError, match="no champion"):
        forecast_demand("r1", lake_run, horizon=8)


def test_same_config_on_newer_data_refreshes_the_champion(lake_run, mlflow_store, small_demand):
    """The weekly job retrains with an unchanged config: re-scoring the same recipe on the same folds can only
    tie, so a tie must not freeze the model trained in week 1; the same recipe refit on newer data replaces it."""
    first = train_demand("r1", lake_run, horizon=8, config=FAST, step=8)
    again = train_demand("r1", lake_run, horizon=8, config=FAST, step=8)
    assert first["champion_moved"] is True and again["champion_moved"] is True
    assert again["champion_version"] == "2" and again["gate"]["gate"] == "same_config_refresh"
    other = train_demand("r1", lake_run, horizon=8, config=WEAK, step=8)  # a different recipe is scored
    assert other["gate"].get("gate") != "same_config_refresh" and other["champion_moved"] is False


def test_refresh_compares_the_settings_both_configs_have():
    from dataclasses import asdict

    from models.demand import DemandConfig
    from models.gates import _refresh

    new = asdict(DemandConfig(horizon=8))
    old = {k: v for k, v in new.items() if k != "shared_spec"}  # pickled before shared_spec existed
    assert _refresh(old, new, ("horizon",))
    assert not _refresh({**old, "n_estimators": 10}, new, ("horizon",))  # another recipe is scored
    assert not _refresh({"horizon": 8}, new, ("horizon",))  # too little in common to call it the same recipe
