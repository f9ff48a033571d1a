"""Faults an operator meets, through real Airflow (`airflow dags test`) on real files: an absurd demand
row, a failed re-run of a published week, an unreachable source database."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from dag_helpers import run_dag

pytestmark = pytest.mark.slow

DATE = "2026-11-16"
RUN_ID = f"weekly-{DATE}"
CONF = {"horizon_weeks": 8, "pareto_points": 0, "retrain": "never", "run_id": RUN_ID}


def _digests(lake: Path, key: str) -> dict[str, str]:
    return {str(f.relative_to(lake)): hashlib.sha256(f.read_bytes()).hexdigest()
            for stage in ("raw", "validated", "forecast", "plan") for f in sorted((lake / stage / key).rglob("*"))
            if f.is_file()}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """The demo sample as CSV with one demand row of 1e12 units (data row 101)."""
    from features.sample import write_sample

    folder = write_sample(tmp_path_factory.mktemp("src") / "demo", size="demo", seed=7, fmt="csv")
    path = folder / "demand_history.csv"
    lines = path.read_text().splitlines()
    cells = lines[101].split(",")
    cells[-1] = "1e12"
    lines[101] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def published(airflow_db, source) -> dict:
    proc = run_dag(airflow_db, "weekly_plan_refresh", {**CONF, "source": str(source)}, DATE)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return json.loads((Path(airflow_db["LAKE"]) / "published" / f"{RUN_ID}.json").read_text())


def test_absurd_demand_row_is_quarantined_and_the_plan_is_sane(airflow_db, published):
    lake = Path(airflow_db["LAKE"])
    key = published["run_key"]
    val = json.loads((lake / "runs" / key / "manifest.json").read_text())["validate"]
    d = val["tables"]["demand_history"]
    assert d["quarantined"] == 1 and d["valid"] + d["quarantined"] == d["rows_in"]
    assert d["by_reason"]["units:plausibility_capacity"] == 1
    assert "demand_history.units:capacity" in {f["rule"] for f in val["plausibility"]["findings"]}
    # the plan's demand is of the sample's order (about 10^4 units a week), not 10^12
    assert published["kpis"]["demand_units"] / published["horizon_weeks"] < 1e6
    assert published["kpis"]["service_level"] > 0.8


def test_failed_rerun_keeps_the_published_run(airflow_db, published, source, tmp_path):
    import shutil

    from co2plan import pipeline

    lake = Path(airflow_db["LAKE"])
    key = published["run_key"]
    pointer = lake / "published" / f"{RUN_ID}.json"
    latest = lake / "published" / "latest.json"
    before = (pointer.read_bytes(), latest.read_bytes(), _digests(lake, key))
    bad = shutil.copytree(source, tmp_path / "bad")
    (bad / "lanes.csv").unlink()
    proc = run_dag(airflow_db, "weekly_plan_refresh", {**CONF, "source": str(bad)}, DATE)
    assert proc.returncode != 0
    assert (pointer.read_bytes(), latest.read_bytes(), _digests(lake, key)) == before
    assert pipeline.resolve_run(RUN_ID, root=str(lake)) == key
    # a scenario on the published week still finds every table (it failed with "missing table(s)")
    out = pipeline.scenario_stage({"scenario_id": "after_bad_rerun", "base_run_id": RUN_ID, "horizon_weeks": 8},
                                  root=str(lake))
    assert out["run_id"] == key and out["status"] in ("optimal", "time_limit")


def test_unreachable_source_is_retried(airflow_db):
    env = {**airflow_db, "CO2PLAN_RETRY_DELAY_S": "1"}
    proc = run_dag(env, "weekly_plan_refresh", {**CONF, "run_id": "db-down",
                                                "source": "postgresql://u@127.0.0.1:1/x"}, "2026-11-09")
    assert proc.returncode != 0
    db = airflow_db["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as con:
        state, tries = con.execute(
            "select state, try_number from task_instance where task_id = 'extract' and run_id = (select run_id "
            "from dag_run where dag_id = 'weekly_plan_refresh' order by id desc limit 1)").fetchone()
    assert (state, tries) == ("failed", 3)


def test_inline_password_in_conf_is_refused_before_a_run_exists(airflow_db):
    """`airflow dags test -c` with a password in the source URL: the Param schema refuses it and the
    password is nowhere in the metadata database."""
    secret = "Inline-Probe-77"
    proc = run_dag(airflow_db, "weekly_plan_refresh", {**CONF, "run_id": "inline-pw",
                                                       "source": f"postgresql://u:{secret}@127.0.0.1:1/x"}, "2026-11-02")
    assert proc.returncode != 0
    assert "source" in proc.stdout + proc.stderr
    db = Path(airflow_db["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///"))
    assert secret.encode() not in db.read_bytes()
    assert not list((Path(airflow_db["LAKE"]) / "runs").glob("inline-pw*"))
