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

__all__ = ["airflow_env", "airflow_bin", "ensure_db", "fail_fast_on_bad_input", "lake_asset", "dag_params",
           "standalone"]


def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


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
        # the embedded default listens on loopback only; production sets its hosts explicitly
        # (docs/PRODUCTION.md). Airflow's own defaults are 0.0.0.0 for the API server.
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__WORKERS": "1",
        # worker processes sized to this machine, not Airflow's fixed 32 / 16
        "AIRFLOW__CORE__PARALLELISM": str(_cpus()),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(_cpus()),
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


def standalone(env: dict[str, str], port: int | None = None) -> int:
    """``co2plan airflow standalone``: the API server, scheduler, DAG processor and triggerer in one process
    group, like ``airflow standalone`` but without the log servers (Airflow binds those to every interface;
    with the LocalExecutor the API server reads the task logs from local files), and the API server on
    ``[api] host`` (127.0.0.1 unless set). Ctrl-C stops all; if one dies, the others are stopped."""
    import signal
    import time

    ensure_db(env)
    host = env.get("AIRFLOW__API__HOST", "127.0.0.1")
    port = int(port or env.get("AIRFLOW__API__PORT") or 8080)
    local = host if host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    env = {**env, "AIRFLOW__API__PORT": str(port)}
    env.setdefault("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://{local}:{port}/execution/")
    commands = {"api-server": ["api-server", "--host", host, "--port", str(port)],
                "scheduler": ["scheduler", "--skip-serve-logs"],
                "dag-processor": ["dag-processor"],
                "triggerer": ["triggerer", "--skip-serve-logs"]}
    procs = {name: subprocess.Popen([airflow_bin(), *cmd], env=env) for name, cmd in commands.items()}
    passwords = Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
    print(f"[co2plan] Airflow UI on http://{local}:{port} (listening on {host} only; set AIRFLOW__API__HOST to "
          f"change); login passwords: {passwords}", flush=True)
    stop = {"sig": None}

    def on_signal(signum, _frame):
        stop["sig"] = signum

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    rc = 0
    try:
        while stop["sig"] is None:
            dead = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
            if dead:
                print(f"[co2plan] {', '.join(dead)} exited ({dead}); stopping the others", flush=True)
                rc = next(iter(dead.values())) or 1
                break
            time.sleep(1)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        for s, h in old.items():
            signal.signal(s, h)
    return rc
