"""SageMaker script-mode training entry point for the demand forecaster (also runs locally).

Contract (the same locally and in a SageMaker training container):
- input:  ``SM_CHANNEL_TRAIN`` folder with demand_history (+ optional products, markets) as .parquet or .csv
- output: ``SM_MODEL_DIR/model.pkl`` (pickled models.demand.DemandForecaster) and ``SM_MODEL_DIR/metrics.json``;
  the backtest folds go to ``SM_OUTPUT_DATA_DIR/backtest_folds.csv`` when that variable is set
- hyperparameters: command-line ``--name value`` (how SageMaker passes them) or ``SM_HP_<NAME>`` variables;
  any DemandConfig field (horizon, n_estimators, learning_rate, ...) plus n_folds and fold_step.

Run locally: ``SM_MODEL_DIR=/tmp/m SM_CHANNEL_TRAIN=/tmp/train python -m models.sagemaker_entry --horizon 26``
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pandas as pd

from models.demand import DemandConfig


def _read(folder: Path, table: str, required: bool = True) -> pd.DataFrame | None:
    for ext, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
        path = folder / f"{table}{ext}"
        if path.exists():
            df = reader(path)
            if "week" in df:
                df["week"] = pd.to_datetime(df["week"])
            return df
    if required:
        raise FileNotFoundError(f"SM_CHANNEL_TRAIN={folder}: no {table}.parquet or {table}.csv")
    return None


def _coerce(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return str(value).lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int(float(value))
    if isinstance(default, float):
        return float(value)
    if default is None or isinstance(default, (list, dict)):  # JSON, a comma list, a number or a string
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            pass
        if isinstance(default, list) or "," in str(value):
            return [int(v) if v.strip().lstrip("-").isdigit() else v.strip() for v in str(value).split(",")]
    return value


def parse_hyperparameters(argv: list[str] | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """DemandConfig fields + n_folds/fold_step from SM_HP_* variables, overridden by ``--name value`` args."""
    env = dict(os.environ if env is None else env)
    defaults: dict[str, Any] = {f.name: getattr(DemandConfig(), f.name) for f in fields(DemandConfig)}
    defaults.update(n_folds=3, fold_step=13)
    parser = argparse.ArgumentParser(description="co2plan demand forecaster (SageMaker script mode)")
    for name in defaults:
        parser.add_argument(f"--{name}", f"--{name.replace('_', '-')}", dest=name, default=None)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"sagemaker_entry: ignoring unknown arguments {unknown}", file=sys.stderr)
    hp = {}
    for name, default in defaults.items():
        raw = getattr(args, name)
        if raw is None:
            raw = env.get(f"SM_HP_{name.upper()}")
        hp[name] = default if raw is None else _coerce(raw, default)
    return hp


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from features.demand_features import prepare_demand_panel
    from models.backtest import backtest_demand
    from models.demand import DemandForecaster

    model_dir = Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    train_dir = Path(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    out_dir = os.environ.get("SM_OUTPUT_DATA_DIR")
    hp = parse_hyperparameters(argv)
    n_folds, fold_step = int(hp.pop("n_folds")), int(hp.pop("fold_step"))
    config = DemandConfig.from_dict(hp)
    dh = _read(train_dir, "demand_history")
    products, markets = _read(train_dir, "products", False), _read(train_dir, "markets", False)
    panel, report = prepare_demand_panel(dh, products, markets, min_history=config.min_history)
    metrics: dict[str, Any] = {}
    if n_folds > 0:
        bt = backtest_demand(panel, report, config, n_folds=n_folds, step=fold_step)
        metrics = {m: v for m, v in bt["summary"].items()}
        if out_dir:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            bt["folds"].to_csv(Path(out_dir) / "backtest_folds.csv", index=False)
    model = DemandForecaster(config).fit(panel, report)
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "model.pkl").write_bytes(pickle.dumps(model))
    summary = {"config": hp, "n_folds": n_folds, "metrics": metrics,
               "report": {k: len(v) for k, v in report.items()}, "n_series": int(panel["unique_id"].nunique())}
    (model_dir / "metrics.json").write_text(json.dumps(summary, indent=2, default=str))
    print(json.dumps({"backtest_wape": metrics.get("model", {}).get("wape")}))
    return summary


if __name__ == "__main__":
    main()
