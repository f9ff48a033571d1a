"""MLflow with its backend store on PostgreSQL (artifacts in tmp_path): runs, the model registry and the
champion alias work through the project's own helpers (core.tracking, models.registry)."""

from __future__ import annotations

import pickle
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from prod_helpers import pg_query

from core import tracking
from models import registry

pytestmark = pytest.mark.postgres

MODEL = "co2plan-prod-smoke"


class ScaleModel(mlflow.pyfunc.PythonModel):
    """y = scale * x, with ``scale`` read from the pickled payload artifact."""

    def load_context(self, context):
        with open(context.artifacts["model"], "rb") as fh:
            self.scale = pickle.load(fh)["scale"]

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return pd.DataFrame({"y": model_input["x"].astype(float) * self.scale})


@pytest.fixture(scope="module")
def pg_store(pg_database, tmp_path_factory):
    """One fresh PostgreSQL database for this module (MLflow's schema migration takes most of the time)
    and an artifact root in a temporary folder."""
    return pg_database("mlflow"), tmp_path_factory.mktemp("mlflow") / "artifacts"


@pytest.fixture
def pg_mlflow(pg_store, monkeypatch):
    """MLFLOW_TRACKING_URI on the PostgreSQL store and MLFLOW_ARTIFACT_ROOT in the temporary folder; the
    previous global tracking URI is restored afterwards."""
    uri, root = pg_store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ARTIFACT_ROOT", root.as_uri())
    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    yield uri, root
    mlflow.set_tracking_uri(previous)
    mlflow.set_registry_uri(previous)


def _train(scale: float, wape: float) -> dict:
    x = pd.DataFrame({"x": [1.0, 2.0]})
    return registry.log_and_register(
        experiment="co2plan-demand", model_name=MODEL, python_model=ScaleModel(), payload={"scale": scale},
        params={"scale": scale, "features": ["x"]}, metrics={registry.SELECTION_METRIC: wape, "mae": 10 * wape},
        fold_metrics=pd.DataFrame({"fold": [0, 1], "model": ["model", "model"], "wape": [wape - 0.01, wape + 0.01]}),
        tags={"lake_run_id": "prod-smoke"}, input_example=x, output_example=pd.DataFrame({"y": x["x"] * scale}),
        importance=None)


def test_configure_creates_the_experiments_on_a_postgres_store(pg_mlflow):
    uri, root = pg_mlflow
    tracking.configure(uri)
    client = mlflow.MlflowClient(uri)
    for name in tracking.EXPERIMENTS:
        exp = client.get_experiment_by_name(name)
        assert exp is not None, f"experiment {name} was not created"
        assert exp.artifact_location == f"{root.as_uri()}/{name}"


def test_runs_registry_and_champion_round_trip_through_postgres(pg_mlflow):
    uri, root = pg_mlflow
    assert tracking.configure(uri) == uri and mlflow.get_tracking_uri() == uri

    first = _train(scale=2.0, wape=0.30)
    second = _train(scale=5.0, wape=0.40)  # worse: the champion stays on version 1
    assert [first["model_version"], second["model_version"]] == ["1", "2"]
    assert [first["champion_moved"], second["champion_moved"]] == [True, False]
    assert second["champion_version"] == "1" and second["previous_champion_wape"] == pytest.approx(0.30)

    # params and metrics come back from the store
    runs = mlflow.search_runs(experiment_names=["co2plan-demand"], order_by=[f"metrics.{registry.SELECTION_METRIC} ASC"])
    assert runs["params.scale"].tolist() == ["2.0", "5.0"]
    assert runs[f"metrics.{registry.SELECTION_METRIC}"].tolist() == pytest.approx([0.30, 0.40])
    assert runs["metrics.mae"].tolist() == pytest.approx([3.0, 4.0])
    assert set(runs["tags.lake_run_id"]) == {"prod-smoke"}
    hist = mlflow.MlflowClient().get_metric_history(second["mlflow_run_id"], "model_wape")
    assert sorted((m.step, round(m.value, 6)) for m in hist) == [(0, 0.39), (1, 0.41)]

    # the champion loads by alias (not the latest version) and predicts with version 1's payload: 2 * x
    model = mlflow.pyfunc.load_model(registry.champion_uri(MODEL))
    assert model.predict(pd.DataFrame({"x": [1.0, 2.0, 4.0]}))["y"].tolist() == pytest.approx([2.0, 4.0, 8.0])
    latest = mlflow.pyfunc.load_model(f"models:/{MODEL}/2")
    assert latest.predict(pd.DataFrame({"x": [1.0]}))["y"].tolist() == pytest.approx([5.0])

    # the metadata really is in PostgreSQL, the artifacts really are under MLFLOW_ARTIFACT_ROOT
    assert pg_query(uri, "select version from model_versions where name = %s order by version", (MODEL,)) == [(1,), (2,)]
    assert pg_query(uri, "select alias, version from registered_model_aliases where name = %s", (MODEL,)) == [
        ("champion", 1)]
    assert pg_query(uri, "select count(*) from runs r join experiments e on e.experiment_id = r.experiment_id "
                         "where e.name = 'co2plan-demand'") == [(2,)]
    for name in tracking.EXPERIMENTS:
        exp = mlflow.get_experiment_by_name(name)
        assert exp.artifact_location == f"{root.as_uri()}/{name}", name
    mlmodels = sorted(Path(root).rglob("MLmodel"))
    assert len(mlmodels) == 2, mlmodels
