"""MLflow logging of planning solves (experiment ``co2plan-plan``)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from core.settings import mlflow_artifact_root, mlflow_tracking_uri
from optimisation.kpis import scalar_metrics

EXPERIMENT = "co2plan-plan"


def _experiment_id(client) -> str:
    exp = client.get_experiment_by_name(EXPERIMENT)
    if exp is not None:
        return exp.experiment_id
    return client.create_experiment(EXPERIMENT, artifact_location=f"{mlflow_artifact_root()}/{EXPERIMENT}")


def log_solve(run_name: str, params: dict[str, Any], kpis: dict[str, Any], tables: dict[str, pd.DataFrame],
              tags: dict[str, str] | None = None, parent_run_id: str | None = None) -> str:
    """One MLflow run: scenario params, numeric KPIs as metrics, status as a tag, the KPI dict and
    the plan tables (parquet) as artifacts. ``tags["kind"]`` says what the run is (plan, pareto, report);
    with ``parent_run_id`` it is a child of that run (the Pareto sweep under its plan), so the experiment's
    top level lists plans only. Returns the MLflow run id."""
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(mlflow_tracking_uri())
    client = MlflowClient()
    exp_id = _experiment_id(client)
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name, parent_run_id=parent_run_id or None) as run:
        mlflow.log_params({k: v for k, v in params.items()})
        mlflow.log_metrics(scalar_metrics(kpis))
        mlflow.set_tags({"status": str(kpis.get("status")), "solver": str(kpis.get("solver")),
                         "diagnosis": str(kpis.get("diagnosis", {}).get("message", ""))[:4000], **(tags or {})})
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "plan"
            folder.mkdir()
            for name, df in tables.items():
                df.to_parquet(folder / f"{name}.parquet", index=False)
            (folder / "kpis.json").write_text(json.dumps(kpis, indent=2, default=str))
            mlflow.log_artifacts(str(folder), artifact_path="plan")
        return run.info.run_id
