"""Project-local Airflow: AIRFLOW_HOME under the checkout, SQLite metadata, this repo's dags/.

The embedded default needs no server: ``airflow dags test`` runs a DAG end to end in one process
against the SQLite metadata database. Production overrides these variables (Postgres metadata,
CeleryExecutor or KubernetesExecutor); see README.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from core import catalog
from core.settings import PROJECT_ROOT

__all__ = ["airflow_env", "airflow_bin", "ensure_db", "fail_fast_on_bad_input", "lake_asset", "dag_params"]


def airflow_env(home: str | Path | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for running Airflow on this project. Values already set in ``base`` win."""
    env = dict(os.environ if base is None else base)
    home = Path(home or env.get("AIRFLOW_HOME") or PROJECT_ROOT / "airflow_home")
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        # the project is installed into the venv; dags/ import co2plan, core, features, models, optimisation
        "PYTHONPATH": os.pathsep.join(p for p in [str(PROJECT_ROOT), env.get("PYTHONPATH", "")] if p),
    }
    for k, v in defaults.items():
        env.setdefault(k, v)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def ensure_db(env: dict[str, str]) -> None:
    """Create or upgrade the metadata database (idempotent, ~15 s the first time)."""
    stamp = Path(env["AIRFLOW_HOME"]) / ".migrated"
    conn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if stamp.exists() and stamp.read_text() == conn:
        return
    subprocess.run([airflow_bin(), "db", "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stamp.write_text(conn)


@contextmanager
def fail_fast_on_bad_input():
    """For DAG tasks: bad data or bad parameters fail the task at once with the stage's own message;
    only other errors (I/O, a database or tracking server briefly away) use the retries."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except (ValueError, LookupError) as e:  # TableUnusableError, AccountingError, ValidationError, ...
        # one line the CLI shows alone (instead of a traceback and the Airflow log)
        print(f"[co2plan] REFUSED {type(e).__name__}: {' '.join(str(e).split())}", flush=True)
        raise AirflowFailException(f"{type(e).__name__}: {e}") from e


def lake_asset(stage: str):
    """The Airflow Asset of a lake stage folder, as the catalog names it."""
    from airflow.sdk import Asset

    name, uri = catalog.asset_spec(stage)
    return Asset(name=name, uri=uri)


def dag_params(model_cls, overrides: dict | None = None, extra: dict | None = None) -> dict:
    """Airflow Params for every field of a pydantic model (defaults overridable), plus ``extra`` Params."""
    from airflow.sdk import Param

    from core.params import field_schemas

    overrides = overrides or {}
    return {**(extra or {}),
            **{name: Param(overrides.get(name, default), **schema)
               for name, (default, schema) in field_schemas(model_cls).items()}}
