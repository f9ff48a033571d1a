"""Helpers for the DAG tests: run a DAG through the real `airflow dags test` CLI, read run states."""

from __future__ import annotations

import json
import sqlite3
import subprocess

from co2plan.airflow_home import airflow_bin


def run_dag(env: dict[str, str], dag_id: str, conf: dict | None = None, logical_date: str | None = None,
            timeout: int = 900) -> subprocess.CompletedProcess:
    cmd = [airflow_bin(), "dags", "test", dag_id]
    if logical_date:
        cmd.append(logical_date)
    if conf is not None:
        cmd += ["-c", json.dumps(conf)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def dag_run_states(env: dict[str, str], dag_id: str) -> list[tuple[str, str]]:
    db = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as con:
        return con.execute("select run_id, state from dag_run where dag_id = ? order by id", (dag_id,)).fetchall()
