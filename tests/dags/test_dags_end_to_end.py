"""Both DAGs end to end through real Airflow (`airflow dags test`) on a real SQLite metadata database,
a temporary lake and a temporary MLflow store, on the demo sample."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from dag_helpers import dag_run_states, run_dag

pytestmark = [pytest.mark.slow, pytest.mark.smoke]

DATE = "2026-11-23"
RUN_ID = f"weekly-{DATE}"
# a budget 5 % below the same plan without one (the default is the 4.2 %/yr trajectory, which may be missed)
WEEKLY_CONF = {"horizon_weeks": 8, "pareto_points": 3, "co2_reduction_pct": 5.0}


def _digest(lake: Path, stages: list[str], key: str) -> dict[str, str]:
    """sha256 of every table of one attempt, by path relative to the attempt's folder."""
    out = {}
    for stage in stages:
        for f in sorted((lake / stage / key).rglob("*.parquet")):
            out[f"{stage}/{f.relative_to(lake / stage / key)}"] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def _latest(lake: Path) -> dict:
    return json.loads((lake / "published" / "latest.json").read_text())


@pytest.fixture(scope="module")
def weekly(airflow_db):
    proc = run_dag(airflow_db, "weekly_plan_refresh", WEEKLY_CONF, DATE)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return airflow_db


@pytest.fixture(scope="module")
def key(weekly) -> str:
    """The lake key of the fixture's attempt (``<run id>--<attempt>``), from the published pointer."""
    return _latest(Path(weekly["LAKE"]))["run_key"]


def test_weekly_refresh_runs_end_to_end(weekly, key):
    lake = Path(weekly["LAKE"])
    assert key.startswith(RUN_ID + "--a")
    states = dag_run_states(weekly, "weekly_plan_refresh")
    assert states and states[-1][1] == "success"
    manifest = json.loads((lake / "runs" / key / "manifest.json").read_text())
    for section in ["extract", "validate", "accounting", "forecast/demand_training", "forecast/demand_forecast",
                    "forecast/emissions", "plan/baseline", "report", "publish"]:
        assert section in manifest, f"manifest lacks {section}: {sorted(manifest)}"
    assert manifest["validate"]["totals"]["quarantined"] == 0
    plan = manifest["plan/baseline"]
    assert plan["status"] == "optimal"
    k = plan["kpis"]
    # the weekly plan carries a CO2 budget 5% below the unconstrained plan; it binds, so its price is > 0
    assert k["co2e_total_t"] <= k["co2_budget_t"] * (1 + 1e-6)
    assert k["co2_mac_eur_per_t"] > 0
    assert plan["pareto"]["points"] == WEEKLY_CONF["pareto_points"]
    assert (lake / "report" / key / "report.html").stat().st_size > 10_000
    assert (lake / "report" / key / "summary.png").read_bytes()[:4] == b"\x89PNG"
    published = _latest(lake)
    assert (published["run_id"], published["run_key"]) == (RUN_ID, key)
    assert manifest["publish"]["status"] == "published"


def test_weekly_rerun_same_run_id_is_idempotent(weekly, key):
    """A re-run of the week is a new attempt under its own key, with byte-identical tables; the later
    attempt becomes the published one and the first stays untouched."""
    lake = Path(weekly["LAKE"])
    stages = ["raw", "validated", "quarantine", "ledger", "forecast", "plan"]
    before = _digest(lake, stages, key)
    assert len(before) > 20
    proc = run_dag(weekly, "weekly_plan_refresh", {**WEEKLY_CONF, "retrain": "never"}, DATE)
    assert proc.returncode == 0, proc.stdout[-4000:]
    second = _latest(lake)["run_key"]
    assert second != key and second.startswith(RUN_ID + "--")
    after = _digest(lake, stages, second)
    # retrain=never writes no training outputs (what the catalog says train_demand produces: backtest, input
    # report, model selection); every other table is identical
    from core import catalog

    training = {f"{d.stage}/{d.table}.parquet" for d in catalog.DATASETS if d.producer == "models.stages.train_demand"}
    assert len(training) >= 3
    assert set(before) - set(after) == training
    assert after == {k: v for k, v in before.items() if k in after}
    assert _digest(lake, stages, key) == before


def test_scenario_dag_runs_and_is_logged_to_mlflow(weekly):
    import mlflow

    conf = {"scenario_id": "cut15", "co2_reduction_pct": 15, "base_run_id": RUN_ID, "horizon_weeks": 8}
    proc = run_dag(weekly, "scenario_plan", conf)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert dag_run_states(weekly, "scenario_plan")[-1][1] == "success"
    mlflow.set_tracking_uri(weekly["MLFLOW_TRACKING_URI"])
    runs = mlflow.search_runs(experiment_names=["co2plan-plan"])
    assert {"baseline", "cut15"} <= set(runs["params.scenario_id"])


def test_bad_scenario_is_refused(airflow_db):
    proc = run_dag(airflow_db, "scenario_plan", {"co2_reduction_pct": 150})
    assert proc.returncode != 0
    assert "co2_reduction_pct" in proc.stdout + proc.stderr


def test_bad_source_fails_fast_with_the_table_named(airflow_db, tmp_path):
    """A source without a required table stops the run at extraction, with no retries, naming it."""
    import sqlite3

    from features.sample import write_sample

    folder = write_sample(tmp_path / "src", size="demo", seed=7, fmt="csv")
    (folder / "lanes.csv").unlink()
    proc = run_dag(airflow_db, "weekly_plan_refresh", {"source": str(folder), "run_id": "bad-source"},
                   "2026-11-30")
    assert proc.returncode != 0
    assert "lanes" in proc.stdout + proc.stderr
    db = airflow_db["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as con:
        state, tries = con.execute("select state, try_number from task_instance where task_id = 'extract' "
                                   "and run_id = (select run_id from dag_run where dag_id = 'weekly_plan_refresh' "
                                   "order by id desc limit 1)").fetchone()
    assert (state, tries) == ("failed", 1)
    assert not list((Path(airflow_db["LAKE"]) / "validated").glob("bad-source*"))
