"""Airflow's metadata database on PostgreSQL: `airflow db migrate` and a real `airflow dags test` of a
tiny DAG calling two cheap co2plan stages (extract + validate of the demo sample into a temporary lake).
The weekly DAG itself runs on SQLite in tests/dags; here only the configuration differs."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from prod_helpers import clean_env, pg_query

from co2plan.airflow_home import airflow_bin, airflow_env
from core.tables import TABLE_ORDER

DAG_ID = "co2plan_prod_smoke"
DATE = "2026-11-23"
RUN_ID = f"prod-{DATE}"  # pipeline.lake_run_id("prod", context) of the run's logical date

SMOKE_DAG = textwrap.dedent(f'''
    """Written by tests/production: extract + validate of the demo sample, run ids through XCom."""
    import pendulum
    from airflow.sdk import dag, task


    @dag(dag_id="{DAG_ID}", schedule=None, start_date=pendulum.datetime(2026, 1, 5, tz="UTC"), catchup=False)
    def co2plan_prod_smoke():
        @task
        def extract(**context) -> dict:
            from co2plan import pipeline

            out = pipeline.extract_stage(pipeline.lake_run_id("prod", context), source="sample:demo")
            return {{"run_id": out["run_id"], "rows": {{t: v["rows"] for t, v in out["tables"].items()}}}}

        @task
        def validate(extracted: dict) -> dict:
            from co2plan import pipeline

            out = pipeline.validate_stage(extracted["run_id"])
            return {{"run_id": out["run_id"], "status": out["status"], "totals": out["totals"]}}

        validate(extract())


    co2plan_prod_smoke()
''')


def test_default_stays_embedded_and_production_is_configuration_only(tmp_path):
    default = airflow_env(home=tmp_path / "a", base={})
    assert default["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'a' / 'airflow.db'}"
    assert default["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    prod = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://airflow@db:5432/airflow",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor", "AIRFLOW__CORE__DAGS_FOLDER": "/opt/dags"}
    env = airflow_env(home=tmp_path / "b", base=dict(prod))
    assert {k: env[k] for k in prod} == prod  # values already set win over the project defaults


@pytest.fixture(scope="module")
def pg_airflow(pg_database, tmp_path_factory) -> dict[str, str]:
    """A migrated Airflow metadata database on PostgreSQL, a DAGs folder holding only the smoke DAG, and
    a temporary lake and sample folder. Returns the environment to run the Airflow CLI in."""
    pytest.importorskip("asyncpg", reason="Airflow 3.3 derives its async metadata engine from the URL as "
                                          "postgresql+asyncpg://: pip install asyncpg")
    url = pg_database("airflow")
    tmp = tmp_path_factory.mktemp("prod_airflow")
    (tmp / "dags").mkdir()
    (tmp / "dags" / f"{DAG_ID}.py").write_text(SMOKE_DAG)
    base = clean_env(AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=url, AIRFLOW__CORE__DAGS_FOLDER=str(tmp / "dags"),
                     LAKE=str(tmp / "lake"), CO2PLAN_SAMPLE_DIR=str(tmp / "sample"),
                     MLFLOW_TRACKING_URI=f"sqlite:///{tmp / 'mlflow.db'}")
    env = airflow_env(home=tmp / "airflow_home", base=base)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == url
    proc = subprocess.run([airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return env


def test_db_migrate_creates_the_airflow_schema_in_postgres(pg_airflow):
    url = pg_airflow["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    tables = {r[0] for r in pg_query(url, "select table_name from information_schema.tables "
                                          "where table_schema = 'public'")}
    assert {"alembic_version", "dag", "dag_run", "task_instance", "xcom", "serialized_dag"} <= tables
    assert len(pg_query(url, "select version_num from alembic_version")) == 1
    assert not (Path(pg_airflow["AIRFLOW_HOME"]) / "airflow.db").exists()  # no SQLite fallback


def test_dag_runs_end_to_end_with_postgres_metadata(pg_airflow):
    proc = subprocess.run([airflow_bin(), "dags", "test", DAG_ID, DATE], env=pg_airflow, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    url = pg_airflow["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]

    runs = pg_query(url, "select state, to_char(logical_date at time zone 'UTC', 'YYYY-MM-DD') from dag_run "
                         "where dag_id = %s", (DAG_ID,))
    assert runs == [("success", DATE)]
    tis = pg_query(url, "select task_id, state from task_instance where dag_id = %s order by task_id", (DAG_ID,))
    assert tis == [("extract", "success"), ("validate", "success")]

    # the lake: every canonical table extracted and validated, row counts equal to the sample's files
    lake, sample = Path(pg_airflow["LAKE"]), Path(pg_airflow["CO2PLAN_SAMPLE_DIR"])
    expected = {t: pq.ParquetFile(sample / f"{t}.parquet").metadata.num_rows for t in TABLE_ORDER}
    assert min(expected.values()) > 0
    for stage in ("raw", "validated", "quarantine"):
        for t in TABLE_ORDER:
            assert (lake / stage / RUN_ID / f"{t}.parquet").is_file(), f"{stage}/{RUN_ID}/{t}.parquet missing"
    got = {t: pq.ParquetFile(lake / "validated" / RUN_ID / f"{t}.parquet").metadata.num_rows for t in TABLE_ORDER}
    assert got == expected
    manifest = json.loads((lake / "runs" / RUN_ID / "manifest.json").read_text())
    assert {"extract", "validate"} <= set(manifest)

    # XCom in PostgreSQL carries the run id and the small summary, not data frames
    xcoms = dict(pg_query(url, "select task_id, value from xcom where dag_id = %s and key = 'return_value'",
                          (DAG_ID,)))
    extracted, validated = (_json(xcoms[t]) for t in ("extract", "validate"))
    assert extracted["run_id"] == validated["run_id"] == RUN_ID
    assert extracted["rows"] == expected
    assert validated["status"] == "ok"
    assert validated["totals"] == {"rows_in": sum(expected.values()), "valid": sum(expected.values()),
                                   "quarantined": 0}


def _json(value):
    return json.loads(value) if isinstance(value, (str, bytes)) else value
