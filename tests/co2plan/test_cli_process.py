"""`co2plan` as an operator runs it, as real processes on a temporary Airflow home, lake and MLflow store:
two overlapping runs each report their own state, a refusal prints alone, a source password stays out
of argv and every store, SIGTERM stops the whole process group, a truncated parquet names its dataset."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow

PASSWORD = "S3cr3t-Probe-42"
PG_DB = "co2plan_i12"
FAST = ["--horizon", "8", "--pareto-points", "0", "--retrain", "never"]


class Run:
    """A `co2plan` process whose output is collected line by line as it comes."""

    def __init__(self, env: dict[str, str], *args: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "co2plan.cli", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 900) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(text in line for line in self.lines):
                return
            if self.proc.poll() is not None and not self._t.is_alive():
                raise AssertionError(f"exited {self.proc.returncode} before {text!r}:\n" + self.output)
            time.sleep(0.2)
        raise AssertionError(f"no {text!r} within {timeout} s:\n" + self.output)

    def finish(self, timeout: float = 1200) -> int:
        rc = self.proc.wait(timeout=timeout)
        self._t.join(timeout=10)
        return rc

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def _pg_source() -> str | None:
    """The demo sample loaded into PostgreSQL database co2plan_i12 (schema demo), as a URL with a password
    (trust auth ignores it), or None when PostgreSQL is not reachable."""
    import sqlalchemy as sa

    from features.extract import load_tables_to_sql
    from features.sample import generate

    admin = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
                             isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as con:
            if not con.execute(sa.text("select 1 from pg_database where datname = :d"), {"d": PG_DB}).first():
                con.execute(sa.text(f"create database {PG_DB}"))
    except sa.exc.OperationalError:
        return None
    finally:
        admin.dispose()
    url = f"postgresql+psycopg2://postgres:{PASSWORD}@127.0.0.1:5432/{PG_DB}"
    load_tables_to_sql(generate(size="demo", seed=7), url, schema="demo")
    return f"{url}?schema=demo"


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("cli")
    e = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LAKE", "MLFLOW", "CO2PLAN"))}
    e.update(AIRFLOW_HOME=str(home / "airflow"), LAKE=str(home / "lake"),
             MLFLOW_TRACKING_URI=f"sqlite:///{home / 'mlflow' / 'mlflow.db'}", CO2PLAN_RETRY_DELAY_S="1")
    (home / "mlflow").mkdir()
    return e


@pytest.fixture(scope="module")
def overlap(env) -> dict:
    """Run A (the week 2026-11-23, source by reference) and, once A has extracted, run B on a source that
    does not exist; argv of every process is sampled for the password meanwhile."""
    pg = _pg_source()
    env_a = dict(env)
    source = "sample:demo"
    if pg:
        env_a["CO2PLAN_SRC"] = pg
        source = "env:CO2PLAN_SRC"
    seen: list[str] = []
    stop = threading.Event()

    def sample_argv() -> None:
        while not stop.is_set():
            for p in psutil.process_iter(["cmdline"]):
                cmd = " ".join(p.info["cmdline"] or [])
                if PASSWORD in cmd:
                    seen.append(cmd)
            time.sleep(0.5)

    sampler = threading.Thread(target=sample_argv, daemon=True)
    sampler.start()
    a = Run(env_a, "weekly", "--date", "2026-11-23", "--source", source, *FAST)
    try:
        a.wait_for("extract: done")
        b = Run(env, "weekly", "--date", "2026-11-23", "--source", "/nonexistent/erp", *FAST)
        rc_b = b.finish()
        rc_a = a.finish()
    finally:
        stop.set()
        a.proc.kill() if a.proc.poll() is None else None
    sampler.join(timeout=5)
    return {"a": a, "rc_a": rc_a, "b": b, "rc_b": rc_b, "argv_hits": seen, "pg": bool(pg)}


def test_overlapping_runs_each_report_their_own_state(overlap):
    assert overlap["rc_b"] != 0
    assert overlap["rc_a"] == 0, overlap["a"].output[-3000:]
    assert "finished in" in overlap["a"].output and ": success" in overlap["a"].output
    assert "service level" in overlap["a"].output  # the headline of its own plan
    key = next(line.split("lake key ", 1)[1].rstrip(")") for line in overlap["a"].lines if "lake key " in line)
    assert key.startswith("weekly-2026-11-23--a")
    assert f"co2plan {key} — scenario baseline: solver optimal" in overlap["a"].output


def test_refusal_prints_the_message_alone(overlap):
    out = overlap["b"].output
    assert "Traceback" not in out
    tail = out[out.index("finished in"):].splitlines()
    assert len(tail) <= 4, tail
    assert any("REFUSED" in line and "/nonexistent/erp" in line and "does not exist" in line for line in tail)
    assert any("full log:" in line for line in tail)


def test_no_password_in_argv_or_any_store(overlap, env):
    if not overlap["pg"]:
        pytest.skip("PostgreSQL not reachable: the run used sample:demo")
    assert overlap["argv_hits"] == []
    assert PASSWORD not in overlap["a"].output
    needle = PASSWORD.encode()
    places = [Path(env["AIRFLOW_HOME"]), Path(env["LAKE"]) / "runs", Path(env["LAKE"]) / "published",
              Path(env["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///")).parent]
    leaked = [str(f) for d in places for f in d.rglob("*") if f.is_file() and needle in f.read_bytes()]
    assert leaked == []
    db = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    with sqlite3.connect(db) as con:  # and the conf Airflow stored is the reference
        confs = [r[0] for r in con.execute("select conf from dag_run")]
    assert any(b"env:CO2PLAN_SRC" in (c if isinstance(c, bytes) else str(c).encode()) for c in confs)


def test_truncated_forecast_names_the_dataset(overlap, env):
    lake = Path(env["LAKE"])
    key = json.loads((lake / "published" / "latest.json").read_text())["run_key"]
    f = lake / "forecast" / key / "demand_forecast.parquet"
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    run = Run(env, "scenario", "--scenario-id", "trunc", "--set", "horizon_weeks=8")
    rc = run.finish()
    out = run.output
    assert rc != 0
    assert "dataset forecast/demand_forecast" in out and "truncated or corrupt" in out
    assert "co2plan weekly --date 2026-11-23" in out
    assert "Traceback" not in out and "<Buffer>" not in out


def test_sigterm_stops_the_process_group_and_keeps_the_log(env):
    db = Path(env["AIRFLOW_HOME"]) / "airflow.db"

    def runs() -> dict[str, str]:
        if not db.exists():
            return {}
        with sqlite3.connect(db) as con:
            return dict(con.execute("select run_id, state from dag_run where dag_id = 'weekly_plan_refresh'"))

    earlier = runs()
    run = Run(env, "weekly", "--date", "2026-11-30", *FAST)
    run.wait_for("extract: done")
    children = psutil.Process(run.proc.pid).children(recursive=True)
    assert children
    t0 = time.monotonic()
    run.proc.send_signal(signal.SIGTERM)
    rc = run.finish(timeout=120)
    assert rc == 128 + signal.SIGTERM
    assert time.monotonic() - t0 < 60
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == []
    key = next(line.split("lake key ", 1)[1].rstrip(")") for line in run.lines if "lake key " in line)
    log = Path(env["AIRFLOW_HOME"]) / "runs" / f"{key}.log"
    assert log.stat().st_size > 0 and "extract: done" in log.read_text()
    new = {r: st for r, st in runs().items() if r not in earlier}
    assert list(new.values()) == ["failed"], new  # stopped, not finished in the background
    assert "stopped by SIGTERM" in run.output
