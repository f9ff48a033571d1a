"""The embedded Airflow listens on loopback only and is sized to the machine (issue 11, item 10)."""

from __future__ import annotations

import os
import subprocess

from co2plan.airflow_home import airflow_bin, airflow_env


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}


def test_defaults_are_loopback_and_sized(tmp_path):
    env = airflow_env(tmp_path / "af", base=_clean_env())
    cpus = len(os.sched_getaffinity(0))
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__PARALLELISM"] == str(cpus)
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == str(cpus)
    # Airflow itself resolves these values (what `airflow standalone` and the generated airflow.cfg use)
    out = subprocess.run([airflow_bin(), "config", "get-value", "api", "host"], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "127.0.0.1"
    out = subprocess.run([airflow_bin(), "config", "get-value", "core", "parallelism"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == str(cpus)


def test_explicit_production_hosts_win(tmp_path):
    env = airflow_env(tmp_path / "af", base={**_clean_env(), "AIRFLOW__API__HOST": "0.0.0.0",
                                              "AIRFLOW__CORE__PARALLELISM": "8"})
    assert env["AIRFLOW__API__HOST"] == "0.0.0.0" and env["AIRFLOW__CORE__PARALLELISM"] == "8"
