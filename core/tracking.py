"""MLflow set-up shared by every stage: tracking URI and experiments with artifacts under mlflow/."""

from __future__ import annotations

import os

from core.settings import mlflow_artifact_root, mlflow_tracking_uri

EXPERIMENTS = ("co2plan-demand", "co2plan-energy", "co2plan-plan", "co2plan-weekly")


def configure(tracking_uri: str | None = None) -> str:
    """Point MLflow at the project store and make sure the experiments exist with a stable
    artifact location (a sqlite store otherwise puts artifacts under ./mlruns of the caller's cwd)."""
    import mlflow

    uri = tracking_uri or mlflow_tracking_uri()
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    # a database-backed store without a server: give the experiments a stable artifact location
    if uri.split(":", 1)[0].split("+", 1)[0] in ("sqlite", "postgresql", "mysql", "mssql"):
        root = mlflow_artifact_root(uri)
        client = mlflow.MlflowClient(uri)
        for name in EXPERIMENTS:
            if client.get_experiment_by_name(name) is None:
                client.create_experiment(name, artifact_location=f"{root.rstrip('/')}/{name}")
    return uri
