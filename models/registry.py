"""MLflow tracking and registry helpers shared by the demand and energy forecasters.

One experiment per model ("co2plan-demand", "co2plan-energy"); each training run logs params, per-fold
metrics (``<model>_<metric>`` with step = fold), aggregates (``backtest_wape`` etc.), the lake run id and
dataset hash as tags, a feature-importance PNG and the pyfunc model with signature and input example.
The new version is registered; the alias ``champion`` moves to it only when its ``backtest_wape`` is
strictly lower than the current champion's (or there is no champion yet).
"""

from __future__ import annotations

import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from core.settings import mlflow_artifact_root, mlflow_tracking_uri

DEMAND_EXPERIMENT = "co2plan-demand"
ENERGY_EXPERIMENT = "co2plan-energy"
DEMAND_MODEL = "co2plan-demand"
ENERGY_MODEL = "co2plan-energy"
CHAMPION = "champion"
SELECTION_METRIC = "backtest_wape"


def configure(tracking_uri: str | None = None) -> str:
    """Point mlflow at ``tracking_uri`` (default: settings.mlflow_tracking_uri(), i.e. MLFLOW_TRACKING_URI)."""
    uri = tracking_uri or mlflow_tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def ensure_experiment(name: str) -> str:
    """Experiment id of ``name``, created with its artifacts under settings.mlflow_artifact_root()."""
    client = MlflowClient()
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    return client.create_experiment(name, artifact_location=f"{mlflow_artifact_root().rstrip('/')}/{name}")


def champion_version(model_name: str) -> Any | None:
    """The ModelVersion carrying the champion alias, or None."""
    try:
        return MlflowClient().get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        return None


def _version_metric(mv) -> float | None:
    tag = (mv.tags or {}).get(SELECTION_METRIC)
    if tag is not None:
        return float(tag)
    run = MlflowClient().get_run(mv.run_id)
    return run.data.metrics.get(SELECTION_METRIC)


def promote_if_better(model_name: str, version: str, wape: float, gate: dict[str, Any] | None = None
                      ) -> dict[str, Any]:
    """Move ``champion`` to ``version`` iff its WAPE beats the current champion's, or, when ``gate`` is given
    (champion re-scored on the challenger's folds), iff ``gate["passed"]``. Returns the decision."""
    client = MlflowClient()
    client.set_model_version_tag(model_name, version, SELECTION_METRIC, repr(float(wape)))
    current = champion_version(model_name)
    old = _version_metric(current) if current is not None else None
    moved = current is None or old is None or float(wape) < float(old)
    if gate is not None and current is not None:
        moved = bool(gate["passed"])
    if moved:
        client.set_registered_model_alias(model_name, CHAMPION, str(version))
    return {"champion_moved": bool(moved), "champion_version": str(version if moved else current.version),
            "previous_champion_version": None if current is None else str(current.version),
            "previous_champion_wape": old, "challenger_wape": float(wape)}


def pip_requirements() -> list[str]:
    """Pinned requirements of the pyfunc models (explicit: MLflow's inference would reload the model in a
    subprocess, which takes seconds)."""
    from importlib.metadata import PackageNotFoundError, version

    reqs = []
    for pkg in ("mlflow", "lightgbm", "mlforecast", "statsforecast", "utilsforecast", "pandas", "numpy",
                "scikit-learn", "pyarrow"):
        try:
            reqs.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:
            continue
    return reqs


#: what each registered model is, for the MLflow registry page
MODEL_DESCRIPTIONS = {
    DEMAND_MODEL: ("Weekly demand forecaster (LightGBM via mlforecast and statistical candidates, conformal 80%/95% "
                   "intervals) per product x market. Input: demand history rows (week, product_id, market_id, units, "
                   "powertrain, segment); a version trained with known-in-advance drivers also takes the driver "
                   "columns (tag 'drivers'), on the history rows and on future rows with units empty. Output: week, "
                   "product_id, market_id, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95, yhat_hi_95 for "
                   "params['horizon'] weeks after the last input week. The 'champion' alias moves to a new version "
                   "only when it beats the champion's spec re-run on the same rolling-origin folds (MASE)."),
    ENERGY_MODEL: ("Plant energy model: weekly energy per plant and carrier from the units built. Input: plant_id, "
                   "week, carrier, volume. Output: the input plus 'energy' (the carrier's canonical unit). The "
                   "planner uses the champion's linearisation as t CO2e per unit. The 'champion' alias moves only "
                   "when the linear model's backtest WAPE beats the champion's config re-run on the same folds; "
                   "tag 'last_coefficients_lake_run' = the last lake run whose coefficients this version supplied."),
}


def describe(model_name: str, version: str, metrics: dict[str, float], tags: dict[str, str]) -> None:
    """Descriptions on the registered model and on the version (lake run, backtest WAPE)."""
    client = MlflowClient()
    if model_name in MODEL_DESCRIPTIONS:
        client.update_registered_model(model_name, description=MODEL_DESCRIPTIONS[model_name])
    wape = metrics.get(SELECTION_METRIC)
    text = f"trained on lake run {tags.get('lake_run_id', '?')}"
    if wape is not None:
        text += f"; backtest WAPE {float(wape):.4f}"
    client.update_model_version(model_name, version, description=text)


def code_paths() -> list[str]:
    """The project packages a pyfunc model needs to load and predict (its class and the pickled forecaster
    are defined there), logged with the model as ``code/``: MLflow puts that folder on sys.path when it
    loads the model, so ``models:/...@champion`` loads in any environment with the model's requirements.
    core, features and models import only declared libraries (their ``__init__`` exports are lazy)."""
    import core
    import features
    import models

    return [str(Path(m.__file__).parent) for m in (core, features, models)]


def importance_figure(importance: pd.Series, title: str, top: int = 20):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    imp = importance.sort_values(ascending=True).tail(top)
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(imp) + 1.2))
    ax.barh(imp.index.astype(str), imp.to_numpy())
    ax.set_xlabel("gain")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def log_and_register(*, experiment: str, model_name: str, python_model: mlflow.pyfunc.PythonModel,
                     payload: Any, params: dict[str, Any], metrics: dict[str, float],
                     fold_metrics: pd.DataFrame | None, tags: dict[str, str], input_example: pd.DataFrame,
                     output_example: pd.DataFrame, importance: pd.Series | None,
                     predict_params: dict[str, Any] | None = None,
                     extra_artifacts: dict[str, pd.DataFrame] | None = None,
                     gate: dict[str, Any] | None = None) -> dict[str, Any]:
    """Log one training run, register the model and apply the champion rule.

    ``payload`` is pickled into the model's artifacts as ``model.pkl`` (the python_model loads it).
    ``fold_metrics`` has a ``fold`` column, a ``model`` column and metric columns.
    """
    from mlflow.models import infer_signature

    configure(mlflow.get_tracking_uri())
    exp_id = ensure_experiment(experiment)
    run_name = f"{model_name}/{tags['lake_run_id']}" if tags.get("lake_run_id") else None
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name) as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tags(tags)
        mlflow.log_params({k: (v if not isinstance(v, list | tuple | dict) else str(v)) for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v is not None and pd.notna(v)})
        if fold_metrics is not None:
            from mlflow.entities import Metric

            now = int(time.time() * 1000)
            batch = [Metric(f"{row['model']}_{col}", float(row[col]), now, int(row["fold"]))
                     for _, row in fold_metrics.iterrows() for col in fold_metrics.columns
                     if col not in ("fold", "model", "origin") and pd.notna(row[col])]
            MlflowClient().log_batch(run.info.run_id, metrics=batch)
            path = Path(tmp) / "backtest_folds.csv"
            fold_metrics.to_csv(path, index=False)
            mlflow.log_artifact(str(path))
        for name, frame in (extra_artifacts or {}).items():
            path = Path(tmp) / f"{name}.csv"
            frame.to_csv(path, index=False)
            mlflow.log_artifact(str(path))
        if importance is not None and len(importance):
            fig = importance_figure(importance, f"{model_name}: feature importance")
            mlflow.log_figure(fig, "feature_importance.png")
            import matplotlib.pyplot as plt

            plt.close(fig)
        pkl = Path(tmp) / "model.pkl"
        pkl.write_bytes(pickle.dumps(payload))
        signature = infer_signature(input_example, output_example, params=predict_params)
        info = mlflow.pyfunc.log_model(name="model", python_model=python_model, artifacts={"model": str(pkl)},
                                       signature=signature, input_example=input_example,
                                       registered_model_name=model_name, pip_requirements=pip_requirements(),
                                       code_paths=code_paths())
        version = str(info.registered_model_version)
        describe(model_name, version, metrics, tags)
        decision = promote_if_better(model_name, version, metrics[SELECTION_METRIC], gate)
        mlflow.set_tag("champion_moved", str(decision["champion_moved"]))
    return {"mlflow_run_id": run.info.run_id, "model_name": model_name, "model_version": version,
            "model_uri": f"models:/{model_name}/{version}", **decision}


def load_model(model_uri: str):
    """Load a pyfunc model (e.g. ``models:/co2plan-demand@champion``). In the project, the packages are
    imported first so the model's logged copy of the code (put on sys.path by MLflow) never shadows them."""
    import core  # noqa: F401
    import features  # noqa: F401
    import models.demand  # noqa: F401
    import models.emissions  # noqa: F401
    import models.pyfunc  # noqa: F401

    configure(mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None)
    return mlflow.pyfunc.load_model(model_uri)


def champion_uri(model_name: str) -> str:
    return f"models:/{model_name}@{CHAMPION}"
