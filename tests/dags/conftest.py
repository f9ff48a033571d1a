"""Airflow under pytest: a temporary AIRFLOW_HOME with a real SQLite metadata database, this repo's
dags/, a temporary lake and a temporary MLflow store. Environment is set before airflow is imported."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="co2plan-airflow-"))

from co2plan.airflow_home import airflow_bin, airflow_env  # noqa: E402

ENV = airflow_env(_HOME / "airflow", base={k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")})
ENV["LAKE"] = str(_HOME / "lake")
ENV["MLFLOW_TRACKING_URI"] = f"sqlite:///{_HOME / 'mlflow' / 'mlflow.db'}"
(_HOME / "mlflow").mkdir(exist_ok=True)
os.environ.update({k: v for k, v in ENV.items() if k.startswith(("AIRFLOW", "LAKE", "MLFLOW"))})


@pytest.fixture(scope="session")
def airflow_db() -> dict[str, str]:
    """Migrate the metadata database once for the session; returns the environment to run Airflow in."""
    subprocess.run([airflow_bin(), "db", "migrate"], env=ENV, check=True, capture_output=True)
    return ENV
