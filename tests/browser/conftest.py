"""Browser tests: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against a real Airflow
API server (and scheduler) on 127.0.0.1, with a temporary AIRFLOW_HOME, lake and MLflow store.

Few and marked ``browser`` + ``slow``; skipped with a reason when chromium or playwright is missing.
Screenshots go to $CO2PLAN_SCREENSHOTS (default: a temporary folder)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CO2PLAN_CHROMIUM", "/usr/bin/chromium")
PORTS = range(int(os.environ.get("CO2PLAN_TEST_PORT_LO", "28100")), int(os.environ.get("CO2PLAN_TEST_PORT_HI",
                                                                                         "28200")))
RUN = "weekly-2026-11-23"
IDS = {"plant_id": ["P_DE_WOB", "P_CN_JV"], "market_id": ["M_DE", "M_US"], "product_id": ["PR_A", "PR_B"]}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    out = Path(os.environ.get("CO2PLAN_SCREENSHOTS") or tempfile.mkdtemp(prefix="co2plan-shots-"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")  # closed before tests/web start their own Playwright
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (dev extra)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


def _write_tiny_lake(root: str) -> None:
    import pandas as pd

    from core import catalog, lake

    catalog.VALIDATED["plants"].write(pd.DataFrame({"plant_id": IDS["plant_id"]}), RUN, root=root)
    catalog.VALIDATED["markets"].write(pd.DataFrame({"market_id": IDS["market_id"]}), RUN, root=root)
    catalog.VALIDATED["products"].write(pd.DataFrame({"product_id": IDS["product_id"]}), RUN, root=root)
    lake.update_manifest(RUN, "plan/baseline", {"status": "optimal"}, root)
    lake.atomic_write_bytes(catalog.latest_pointer_uri(root), json.dumps({"run_id": RUN, "ids": IDS}).encode())


class Airflow:
    def __init__(self, base: str, env: dict[str, str], home: Path):
        self.base, self.env, self.home = base, env, home

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def runs(self, dag_id: str = "scenario_plan") -> list[dict]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=-run_after&limit=20")[1]["dag_runs"]


@pytest.fixture(scope="session")
def airflow_server():
    """api-server + scheduler + dag-processor on 127.0.0.1 (no login: every user is admin)."""
    from co2plan.airflow_home import airflow_bin, airflow_env

    if os.environ.get("CO2PLAN_TEST_AIRFLOW_URL"):  # a server started by this fixture earlier (debugging)
        yield Airflow(os.environ["CO2PLAN_TEST_AIRFLOW_URL"], {}, Path(tempfile.gettempdir()))
        return
    tmp = Path(tempfile.mkdtemp(prefix="co2plan-browser-"))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LAKE", "MLFLOW"))}
    env = airflow_env(tmp / "airflow", base=clean)
    env.update({"LAKE": str(tmp / "lake"), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__CORE__PARALLELISM": "2"})
    _write_tiny_lake(env["LAKE"])
    subprocess.run([airflow_bin(), "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([airflow_bin(), "dags", "reserialize"], env=env, check=True, capture_output=True)
    port = _free_port()
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{port}/execution/"
    logs = tmp / "logs"
    logs.mkdir()
    procs = []
    for name, cmd in (("api", ["api-server", "--host", "127.0.0.1", "--port", str(port)]),
                      ("scheduler", ["scheduler", "--skip-serve-logs"]),
                      ("dag-processor", ["dag-processor"])):
        fh = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed at teardown
        procs.append((subprocess.Popen([airflow_bin(), *cmd], env=env, stdout=fh, stderr=subprocess.STDOUT,
                                       start_new_session=True), fh))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or procs[0][0].poll() is not None:
                    raise RuntimeError("api-server did not come up: "
                                       + (logs / "api.log").read_text()[-3000:]) from None
                time.sleep(1)
        yield Airflow(base, env, tmp)
    finally:
        for proc, _fh in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
        for proc, fh in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
            fh.close()
        if os.environ.get("CO2PLAN_KEEP_BROWSER_HOME") is None:
            shutil.rmtree(tmp, ignore_errors=True)
