"""Shared fixtures for the forecaster tests: tiny synthetic panels and a real MLflow store in tmp_path."""

from __future__ import annotations

import pytest

from models.demand import DemandConfig
from models.synthetic import demand_tables, plant_tables


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch):
    """A real MLflow tracking store (SQLite) with artifacts under tmp_path."""
    import mlflow

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ARTIFACT_ROOT", (tmp_path / "artifacts").as_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # a registry URI left by an earlier test's registry.configure would win otherwise
    yield uri
    # forget the temporary store so that later tests fall back to their own environment
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


@pytest.fixture(scope="session")
def small_demand():
    return demand_tables(n_products=4, n_markets=3, n_weeks=120, seed=3)


@pytest.fixture(scope="session")
def small_plants():
    return plant_tables(n_plants=3, n_weeks=120, seed=5)


@pytest.fixture
def fast_config():
    return DemandConfig(horizon=8, n_estimators=40, num_leaves=15, min_child_samples=5, cv_windows=3,
                        cv_step=8, candidates=["lgbm", "autoets", "snaive", "ensemble"])
