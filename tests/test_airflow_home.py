"""The embedded Airflow listens on loopback only and is sized to the machine (issue 11, item 10)."""

from __future__ import annotations

import os
import subprocess

import pytest

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


@pytest.mark.slow
def test_standalone_listens_on_loopback_only(tmp_path):
    """`co2plan airflow standalone`: every listening socket of the process tree is on loopback."""
    import signal
    import sys
    import time
    import urllib.request

    import psutil

    port = next(p for p in range(28150, 28200) if _port_free(p))
    env = airflow_env(tmp_path / "af", base=_clean_env())
    env.update({"LAKE": str(tmp_path / "lake"), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
                "AIRFLOW__API__PORT": str(port)})
    proc = subprocess.Popen([sys.executable, "-m", "co2plan.cli", "airflow", "standalone"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "standalone did not come up"
                time.sleep(2)
        time.sleep(10)  # scheduler and triggerer up too
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        listening = set()
        for p in tree:
            try:
                conns = p.net_connections(kind="inet")
            except psutil.Error:
                continue
            listening |= {(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN}
        assert (("127.0.0.1", port)) in listening
        assert {ip for ip, _ in listening} <= {"127.0.0.1", "::1"}, listening
        assert not any(p == 8793 for _, p in listening)  # no log server
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
