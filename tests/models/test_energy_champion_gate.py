"""Issue 14 item 6: the energy model's champion gate on the same folds, and the plan's emission coefficients
from the champion (real MLflow sqlite store, real parquet lake)."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from core import lake
from models import registry
from models.emissions import (
    carrier_intensity_table,
    emission_coefficients,
    energy_panel,
    forecast_emissions,
    planning_weeks,
)
from models.pyfunc import unwrap

FAST = {"n_estimators": 30}
# a deliberately poor linear spec: 8 weeks cannot separate the seasonal terms from the fixed load
SHORT = {**FAST, "linear_weeks": 8}
H = 6


def _write_run(root: str, run: str, tables: dict[str, pd.DataFrame], energy_factor: float = 1.0) -> None:
    plants = tables["plants"].assign(country=["DE", "FR", "PL"])
    eu = tables["energy_use"].assign(quantity=tables["energy_use"]["quantity"] * energy_factor)
    for name, df in (("plants", plants), ("production_history", tables["production_history"]), ("energy_use", eu)):
        lake.write_table(df, "validated", run, name, root)


@pytest.fixture
def lake_root(tmp_path, small_plants):
    root = str(tmp_path / "lake")
    _write_run(root, "r1", small_plants)
    return root


def _coefficients_of(model, root: str, run: str) -> pd.DataFrame:
    """What ``model`` gives for ``run``'s planning weeks, computed here from the model's linear terms."""
    plants = lake.read_table("validated", run, "plants", root)
    panel, _ = energy_panel(lake.read_table("validated", run, "energy_use", root),
                            lake.read_table("validated", run, "production_history", root))
    weeks = planning_weeks(panel["week"].max(), H)
    ci, _ = carrier_intensity_table(plants, weeks, None, None, "AR5", model.linear[["plant_id", "carrier"]])
    return emission_coefficients(model, ci, weeks)


def _load(version: str | None = None):
    ref = f"{registry.ENERGY_MODEL}/{version}" if version else f"{registry.ENERGY_MODEL}@{registry.CHAMPION}"
    return unwrap(mlflow.pyfunc.load_model(f"models:/{ref}"))


def _written(root: str, run: str) -> pd.DataFrame:
    return lake.read_table("forecast", run, "plant_emission_coefficients", root)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    key = ["plant_id", "week", "scope"]
    a = a.assign(week=pd.to_datetime(a["week"])).sort_values(key).reset_index(drop=True)
    b = b.assign(week=pd.to_datetime(b["week"])).sort_values(key).reset_index(drop=True)
    if len(a) != len(b) or not (a[key].astype(str).to_numpy() == b[key].astype(str).to_numpy()).all():
        return False
    cols = ["marginal_tco2e_per_unit", "fixed_tco2e"]
    return bool(np.allclose(a[cols].to_numpy(), b[cols].to_numpy(), rtol=1e-12, atol=0))


def test_worse_challenger_keeps_the_champion_and_its_coefficients(lake_root, mlflow_store):
    first = forecast_emissions("r1", lake_root, horizon=H, config=FAST)
    assert first["trained"] and first["champion_moved"] and first["coefficients_model_version"] == "1"
    worse = forecast_emissions("r1", lake_root, horizon=H, config=SHORT)
    assert worse["trained"] and worse["model_version"] == "2"
    gate = worse["gate"]
    assert gate["gate"] == "same_folds" and gate["passed"] is False and gate["folds"] == 3
    assert gate["challenger_wape"] > gate["champion_wape"]
    assert worse["champion_moved"] is False and worse["champion_version"] == "1"
    assert worse["coefficients_model_version"] == "1" and worse["coefficients_from"] == "champion"
    # the champion scored on the challenger's own folds: same origins, and the per-fold table is in MLflow
    g = pd.read_csv(MlflowClient().download_artifacts(worse["mlflow_run_id"], "gate.csv"))
    folds = pd.read_csv(MlflowClient().download_artifacts(worse["mlflow_run_id"], "backtest_folds.csv"))
    assert sorted(g["origin"]) == sorted(folds.loc[folds["model"] == "linear", "origin"])
    assert g["wape_challenger"].mean() == pytest.approx(gate["challenger_wape"])
    # the coefficients written are the champion's, not the challenger's
    champion = _load()
    assert champion.config.linear_weeks is None
    written = _written(lake_root, "r1")
    assert _same(written, _coefficients_of(champion, lake_root, "r1"))
    assert not _same(written, _coefficients_of(_load("2"), lake_root, "r1"))
    # the records say which version supplied them
    assert lake.read_manifest("r1", lake_root)["forecast/emissions"]["coefficients_model_version"] == "1"
    assert MlflowClient().get_run(worse["mlflow_run_id"]).data.tags["coefficients_model_version"] == "1"
    mv = MlflowClient().get_model_version(registry.ENERGY_MODEL, "1")
    assert mv.tags["last_coefficients_lake_run"] == "r1"


def test_retrain_never_trains_nothing_and_uses_the_champion(lake_root, mlflow_store, small_plants):
    # no champion yet: retrain=never trains once
    once = forecast_emissions("r1", lake_root, horizon=H, config=FAST, retrain="never")
    assert once["trained"] and once["coefficients_model_version"] == "1"
    # a new run whose plants use 25 % more energy: a refit would change every coefficient
    _write_run(lake_root, "r2", small_plants, energy_factor=1.25)
    out = forecast_emissions("r2", lake_root, horizon=H, config=FAST, retrain="never")
    assert out["trained"] is False and out["model_version"] is None and out["gate"] == {"gate": "retrain_never"}
    assert out["coefficients_model_version"] == "1" and out["coefficients_from"] == "champion"
    runs = mlflow.search_runs(experiment_names=[registry.ENERGY_EXPERIMENT])
    assert len(runs) == 1  # nothing trained or logged
    assert [str(v.version) for v in MlflowClient().search_model_versions(f"name='{registry.ENERGY_MODEL}'")] == ["1"]
    written = _written(lake_root, "r2")
    assert _same(written, _coefficients_of(_load(), lake_root, "r2"))
    # with auto the same run trains a challenger whose own coefficients are ~25 % higher
    auto = forecast_emissions("r2", lake_root, horizon=H, config=FAST)
    assert auto["trained"] and auto["model_version"] == "2"
    refit = _coefficients_of(_load("2"), lake_root, "r2")
    ratio = (refit["marginal_tco2e_per_unit"].sum() / written["marginal_tco2e_per_unit"].sum())
    assert ratio == pytest.approx(1.25, rel=0.05)
    assert lake.read_manifest("r2", lake_root)["forecast/emissions"]["coefficients_model_version"] == \
        auto["coefficients_model_version"]


def test_better_challenger_is_promoted_and_supplies_the_coefficients(lake_root, mlflow_store):
    weak = forecast_emissions("r1", lake_root, horizon=H, config=SHORT)
    assert weak["coefficients_model_version"] == "1"
    better = forecast_emissions("r1", lake_root, horizon=H, config=FAST)
    gate = better["gate"]
    assert gate["gate"] == "same_folds" and gate["passed"] is True
    assert gate["challenger_wape"] < gate["champion_wape"] and gate["wins"] >= gate["wins_needed"]
    assert better["champion_moved"] is True and better["champion_version"] == "2"
    assert better["coefficients_model_version"] == "2" and better["coefficients_from"] == "challenger"
    assert str(MlflowClient().get_model_version_by_alias(registry.ENERGY_MODEL, "champion").version) == "2"
    champion = _load()
    assert champion.config.linear_weeks is None
    written = _written(lake_root, "r1")
    assert _same(written, _coefficients_of(champion, lake_root, "r1"))
    assert not _same(written, _coefficients_of(_load("1"), lake_root, "r1"))


def test_champion_without_a_plant_of_the_run_is_replaced_even_with_retrain_never(tmp_path, mlflow_store,
                                                                                  small_plants):
    root = str(tmp_path / "lake")
    two = {k: v[v["plant_id"] != "PL2"] if "plant_id" in v else v for k, v in small_plants.items()}
    two["plants"] = small_plants["plants"][small_plants["plants"]["plant_id"] != "PL2"].assign(country=["DE", "FR"])
    for name, df in two.items():
        lake.write_table(df, "validated", "r0", name, root)
    forecast_emissions("r0", root, horizon=H, config=FAST)
    _write_run(root, "r1", small_plants)
    out = forecast_emissions("r1", root, horizon=H, config=FAST, retrain="never")
    assert out["trained"] and out["gate"]["gate"] == "champion_incomplete" and "PL2/electricity" in \
        out["gate"]["reason"]
    assert out["champion_moved"] is True and out["coefficients_model_version"] == "2"
    assert set(_written(root, "r1")["plant_id"]) == {"PL0", "PL1", "PL2"}


def test_same_config_refits_refresh_the_energy_champion(lake_root, mlflow_store):
    """An unchanged config every week: the champion's recipe refit on this run's data replaces it, so the plan's
    coefficients follow the newest energy data instead of the first week's fit."""
    forecast_emissions("r1", lake_root, horizon=H, config=FAST)
    again = forecast_emissions("r1", lake_root, horizon=H, config=FAST)
    assert again["gate"]["gate"] == "same_config_refresh" and again["champion_moved"] is True
    assert again["coefficients_model_version"] == "2" and again["champion_version"] == "2"
    assert _same(_written(lake_root, "r1"), _coefficients_of(_load("2"), lake_root, "r1"))
