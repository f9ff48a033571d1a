"""Starting and following a scenario run.

- :class:`AirflowRunner` (production): Airflow 3's REST API. ``POST /auth/token`` for a JWT with the
  service account (password read from a file, never logged), ``POST /api/v2/dags/scenario_plan/dagRuns``
  with ``logical_date: null`` and the validated conf, ``GET .../dagRuns/{id}`` for the state.
- :class:`LocalRunner` (embedded default, tests): the same stage function the DAG task calls,
  ``co2plan.pipeline.scenario_stage``, in one worker thread of the web process.

Both name the run ``scenario-<scenario_id>`` and return Airflow's states (queued, running, success, failed).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx

from co2plan.web.settings import WebSettings

__all__ = ["AirflowRunner", "LocalRunner", "make_runner", "RunnerError", "dag_run_id"]

DAG_ID = "scenario_plan"


class RunnerError(RuntimeError):
    """The orchestrator refused or could not be reached (HTTP 502 to the browser, message shown)."""


def dag_run_id(scenario_id: str) -> str:
    return f"scenario-{scenario_id}"


class AirflowRunner:
    def __init__(self, settings: WebSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.base = settings.airflow_api_url.rstrip("/")
        self.user = settings.airflow_user
        self.password_file = settings.airflow_password_file
        self._client = httpx.Client(base_url=self.base, timeout=15, transport=transport)
        self._token: str | None = None
        self._lock = threading.Lock()
        self._last_poll: dict[str, tuple[float, str]] = {}

    def _password(self) -> str:
        if not self.password_file:
            raise RunnerError("CO2PLAN_WEB_AIRFLOW_PASSWORD_FILE is not set: the web app cannot log in to Airflow")
        return Path(self.password_file).read_text(encoding="utf-8").strip()

    def _auth(self, refresh: bool = False) -> dict[str, str]:
        with self._lock:
            if self._token is None or refresh:
                r = self._client.post("/auth/token", json={"username": self.user, "password": self._password()})
                if r.status_code >= 400:
                    raise RunnerError(f"Airflow refused the service login (HTTP {r.status_code})")
                self._token = r.json()["access_token"]
            return {"Authorization": f"Bearer {self._token}"}

    def _call(self, method: str, url: str, **kw) -> httpx.Response:
        try:
            r = self._client.request(method, url, headers=self._auth(), **kw)
            if r.status_code == 401:  # token expired: one refresh
                r = self._client.request(method, url, headers=self._auth(refresh=True), **kw)
        except httpx.HTTPError as e:
            raise RunnerError(f"Airflow API unreachable at {self.base}: {type(e).__name__}") from e
        return r

    def trigger(self, scenario_id: str, conf: dict, note: str) -> str:
        run_id = dag_run_id(scenario_id)
        r = self._call("POST", f"/api/v2/dags/{DAG_ID}/dagRuns",
                       json={"dag_run_id": run_id, "logical_date": None, "conf": conf, "note": note})
        if r.status_code == 409:
            raise RunnerError(f"a run named {run_id} exists already: choose another scenario id")
        if r.status_code >= 400:
            raise RunnerError(f"Airflow refused the run (HTTP {r.status_code}): {r.text[:300]}")
        return run_id

    def state(self, run_id: str) -> str:
        last = self._last_poll.get(run_id)
        if last and time.monotonic() - last[0] < 2 and last[1] not in ("success", "failed"):
            return last[1]  # at most one Airflow call per 2 s per run
        r = self._call("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")
        if r.status_code == 404:
            return "unknown"
        if r.status_code >= 400:
            raise RunnerError(f"Airflow state query failed (HTTP {r.status_code})")
        state = str(r.json().get("state", "unknown"))
        self._last_poll[run_id] = (time.monotonic(), state)
        return state


class LocalRunner:
    """Runs ``pipeline.scenario_stage`` in one worker thread (one solve at a time)."""

    def __init__(self, lake_root: str | None = None) -> None:
        self.root = lake_root
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="co2plan-scenario")
        self._runs: dict[str, Future] = {}

    def trigger(self, scenario_id: str, conf: dict, note: str) -> str:
        from co2plan.pipeline import scenario_stage

        run_id = dag_run_id(scenario_id)
        if run_id in self._runs:
            raise RunnerError(f"a run named {run_id} exists already: choose another scenario id")
        self._runs[run_id] = self._pool.submit(scenario_stage, dict(conf), None, self.root)
        return run_id

    def state(self, run_id: str) -> str:
        f = self._runs.get(run_id)
        if f is None:
            return "unknown"
        if not f.done():
            return "running" if f.running() else "queued"
        exc = f.exception()
        if exc is not None:
            return "failed"
        out = f.result()
        return "success" if out.get("has_solution", True) else "failed"

    def error(self, run_id: str) -> str:
        f = self._runs.get(run_id)
        if f is not None and f.done() and f.exception() is not None:
            return str(f.exception())[:500]
        return ""


def make_runner(settings: WebSettings):
    if settings.scenario_runner == "local":
        return LocalRunner(settings.lake_root)
    if settings.scenario_runner == "airflow":
        return AirflowRunner(settings)
    raise ValueError(f"CO2PLAN_WEB_SCENARIO_RUNNER must be airflow or local, not {settings.scenario_runner!r}")
