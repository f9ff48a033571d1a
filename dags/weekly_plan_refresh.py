"""Weekly plan refresh: extract -> validate -> account -> train/load champion -> forecast -> optimise
-> report -> publish.

Thin wiring only: every task calls one stage of co2plan.pipeline with a lake run id and returns a
small dict of URIs and figures (XCom never carries data frames). Heavy imports happen inside tasks.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, task

from co2plan.airflow_home import fail_fast_on_bad_input
from co2plan.settings import lake_root

LAKE = lake_root()


def _asset(stage: str) -> Asset:
    uri = LAKE if "://" in LAKE else f"file://{LAKE}"
    return Asset(name=f"co2plan_{stage}", uri=f"{uri}/{stage}")


def _run_id(context) -> str:
    from co2plan.pipeline import lake_run_id

    return lake_run_id("weekly", context)


@dag(
    dag_id="weekly_plan_refresh",
    schedule=os.environ.get("CO2PLAN_WEEKLY_SCHEDULE", "0 5 * * 1"),  # Monday 05:00 UTC
    start_date=pendulum.datetime(2026, 1, 5, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["co2plan", "weekly"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30), "retry_exponential_backoff": True},
    params={
        "source": Param("sample:demo", type="string", title="Source",
                        description="Where to extract from: 'sample:demo' / 'sample:large' (the embedded sample), "
                                    "a folder or fsspec URL of CSV/Parquet, or a SQLAlchemy URL."),
        "retrain": Param("auto", enum=["auto", "never"], title="Retrain forecasters",
                         description="auto: train a challenger and promote it only if it beats the champion; "
                                     "never: forecast with the current champion (train once if none)."),
        "horizon_weeks": Param(26, type="integer", minimum=4, maximum=52, title="Horizon (weeks)"),
        "co2_reduction_pct": Param(5.0, type=["null", "number"], exclusiveMinimum=0, exclusiveMaximum=100,
                                   title="CO2 budget (% below the unconstrained plan)",
                                   description="The weekly plan's CO2 budget; empty plans without a budget."),
        "gwp_set": Param("AR5", enum=["AR4", "AR5", "AR6"], title="GWP set"),
        "run_id": Param(None, type=["null", "string"], title="Lake run id",
                        description="Override the run id (default weekly-<logical date>)."),
        "pareto_points": Param(6, type="integer", minimum=0, maximum=30, **{"not": {"const": 1}},
                               title="Pareto points",
                               description="Points of the cost/CO2 frontier (0 skips the sweep, else >= 2)."),
    },
    doc_md=__doc__,
)
def weekly_plan_refresh():
    @task(outlets=[_asset("raw")])
    def extract(params=None, **context) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.extract_stage(_run_id(context), source=params["source"])

    @task(outlets=[_asset("validated"), _asset("quarantine")])
    def validate(extracted: dict) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.validate_stage(extracted["run_id"])

    @task(outlets=[_asset("ledger")])
    def account(validated: dict, params=None) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.account_stage(validated["run_id"], gwp_set=params["gwp_set"])

    @task
    def train_or_load(validated: dict, params=None) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.train_stage(validated["run_id"], retrain=params["retrain"],
                                    horizon_weeks=params["horizon_weeks"])

    @task(outlets=[_asset("forecast")])
    def forecast(trained: dict, accounted: dict, params=None) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.forecast_stage(trained["run_id"], horizon_weeks=params["horizon_weeks"],
                                           gwp_set=params["gwp_set"])

    @task(outlets=[_asset("plan")])
    def optimise(forecasted: dict, params=None) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.optimise_stage(forecasted["run_id"], horizon_weeks=params["horizon_weeks"],
                                           pareto_points=params["pareto_points"],
                                           params={"co2_reduction_pct": params["co2_reduction_pct"]})

    @task(outlets=[_asset("report")])
    def report(planned: dict) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.report_stage(planned["run_id"])

    @task(outlets=[_asset("published")])
    def publish(reported: dict) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.publish_stage(reported["run_id"])

    extracted = extract()
    validated = validate(extracted)
    accounted = account(validated)
    trained = train_or_load(validated)
    planned = optimise(forecast(trained, accounted))
    publish(report(planned))


weekly_plan_refresh()
