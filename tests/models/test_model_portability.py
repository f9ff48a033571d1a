"""The registered forecasters load and predict outside the project (issue 11, item 4): a fresh Python with
the project's packages off sys.path loads ``models:/co2plan-demand@champion`` and
``models:/co2plan-energy@champion`` and predicts, from the code logged with the model."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from core import lake
from core.settings import PROJECT_ROOT
from models.emissions import forecast_emissions
from models.stages import train_demand

FAST = {"n_estimators": 30, "num_leaves": 15, "min_child_samples": 5, "cv_windows": 2, "cv_step": 8,
        "candidates": ["lgbm", "snaive"]}

CLEAN_LOAD = textwrap.dedent("""
    import importlib.util, json, sys
    # the project is installed editable: drop its finder and path hooks, and the checkout from sys.path
    sys.meta_path[:] = [f for f in sys.meta_path
                        if "editable" not in getattr(f, "__name__", type(f).__name__).lower()]
    sys.path[:] = [p for p in sys.path if p not in ("", ".", {root!r}, {root!r} + "/")]
    for name in ("core", "features", "models", "optimisation", "co2plan"):
        assert importlib.util.find_spec(name) is None, name + " is importable before the model loads"
    import mlflow, pandas as pd
    mlflow.set_tracking_uri({uri!r})
    out = {{}}
    demand = mlflow.pyfunc.load_model("models:/co2plan-demand@champion")
    hist = pd.read_parquet({hist!r})
    out["demand_rows"] = len(demand.predict(hist, params={{"horizon": 4}}))
    energy = mlflow.pyfunc.load_model("models:/co2plan-energy@champion")
    ex = pd.read_parquet({example!r})
    out["energy_rows"] = len(energy.predict(ex))
    out["project_modules"] = sorted(
        name for name, m in sys.modules.items()
        if (getattr(m, "__file__", None) or "").startswith({root!r} + "/") and ".venv" not in m.__file__)
    out["code_modules"] = sorted(n for n, m in sys.modules.items()
                                 if "/code/models/" in (getattr(m, "__file__", None) or ""))
    print(json.dumps(out))
""")


@pytest.mark.slow
def test_champions_load_and_predict_outside_project(tmp_path, mlflow_store, small_demand, small_plants):
    root = str(tmp_path / "lake")
    for name in ("demand_history", "products", "markets"):
        lake.write_table(small_demand[name], "validated", "r1", name, root)
    plants = small_plants["plants"].assign(country=["DE", "FR", "PL"])
    lake.write_table(plants, "validated", "r1", "plants", root)
    for name in ("production_history", "energy_use"):
        lake.write_table(small_plants[name], "validated", "r1", name, root)
    train_demand("r1", root, horizon=4, config=FAST, step=8, n_folds=2)
    forecast_emissions("r1", root, horizon=4, config={"n_estimators": 30})

    hist = tmp_path / "hist.parquet"
    small_demand["demand_history"].merge(
        small_demand["products"][["product_id", "powertrain", "segment"]]).to_parquet(hist)
    energy_in = small_plants["production_history"].head(3)
    example = tmp_path / "energy.parquet"
    energy_in.rename(columns={"units": "volume"}).assign(carrier="electricity")[
        ["plant_id", "week", "carrier", "volume"]].astype({"week": "datetime64[ns]"}).to_parquet(example)
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = CLEAN_LOAD.format(root=str(PROJECT_ROOT), uri=mlflow_store, hist=str(hist), example=str(example))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MLFLOW_TRACKING_URI": mlflow_store}
    proc = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["demand_rows"] == 12 * 4
    assert out["energy_rows"] == 3
    assert out["project_modules"] == []  # nothing came from the checkout
    assert "models.pyfunc" in out["code_modules"]  # it came from the code logged with the model


def test_registered_models_have_descriptions(tmp_path, mlflow_store, small_plants):
    """Issue 11 item 5: the registry says what each model is and what each version was trained on."""
    from mlflow import MlflowClient

    from models import registry

    root = str(tmp_path / "lake")
    plants = small_plants["plants"].assign(country=["DE", "FR", "PL"])
    lake.write_table(plants, "validated", "r1", "plants", root)
    for name in ("production_history", "energy_use"):
        lake.write_table(small_plants[name], "validated", "r1", name, root)
    out = forecast_emissions("r1", root, horizon=4, config={"n_estimators": 20})
    client = MlflowClient()
    assert "Input: plant_id, week, carrier, volume" in client.get_registered_model(registry.ENERGY_MODEL).description
    mv = client.get_model_version(registry.ENERGY_MODEL, out["model_version"])
    assert mv.description.startswith("trained on lake run r1; backtest WAPE 0.")
