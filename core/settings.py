"""Where things live. Every default works on a fresh clone; environment variables override."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def lake_root() -> str:
    """Root of the data lake: env LAKE (any fsspec URL, e.g. s3://bucket/co2plan) or ./lake."""
    return os.environ.get("LAKE", str(PROJECT_ROOT / "lake"))


def mlflow_tracking_uri() -> str:
    """MLFLOW_TRACKING_URI, defaulting to the local SQLite store under mlflow/."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    return f"sqlite:///{PROJECT_ROOT / 'mlflow' / 'mlflow.db'}"


def mlflow_artifact_root(tracking_uri: str | None = None) -> str:
    """Artifact root: env MLFLOW_ARTIFACT_ROOT, else ``artifacts/`` beside a SQLite store's file."""
    if os.environ.get("MLFLOW_ARTIFACT_ROOT"):
        return os.environ["MLFLOW_ARTIFACT_ROOT"]
    uri = tracking_uri or mlflow_tracking_uri()
    if uri.startswith("sqlite:///"):
        return (Path(uri[len("sqlite:///"):]).parent / "artifacts").as_uri()
    return (PROJECT_ROOT / "mlflow" / "artifacts").as_uri()


def sample_dir(size: str = "demo") -> str:
    """Where the embedded sample of a given size is generated (CSV/Parquet folder)."""
    return os.environ.get("CO2PLAN_SAMPLE_DIR", str(PROJECT_ROOT / "lake" / "_sample" / size))
