"""Weekly plan refresh: extract -> portal pickup -> validate -> supply (supplier graph, risk, category 1) ->
account -> train/load champion -> forecast -> optimise -> report -> publish.

Thin wiring only: every task calls one stage of co2plan.pipeline (Params from co2plan.WeeklyParams,
Assets from the lake catalog) with a lake run id and returns a
small dict of URIs and figures (XCom never carries data frames). Heavy imports happen inside tasks.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import dag, task

from co2plan import WeeklyParams, dag_default_args, dag_params, fail_fast_on_bad_input, lake_asset


def _run_id(context, params=None) -> str:
    """This attempt's lake key ``weekly-<Monday>--<attempt>`` (a failed attempt never touches a published one).
    ``co2plan weekly`` passes run_id/attempt as params; a task that names ``params`` as an argument does not
    get it in ``**context``, so it is passed here explicitly."""
    from co2plan import lake_run_key

    return lake_run_key("weekly", {**context, "params": params if params is not None else context.get("params")})


@dag(
    dag_id="weekly_plan_refresh",
    schedule=os.environ.get("CO2PLAN_WEEKLY_SCHEDULE", "0 5 * * 1"),  # Monday 05:00 UTC
    start_date=pendulum.datetime(2026, 1, 5, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["co2plan", "weekly"],
    default_args=dag_default_args(),
    params=dag_params(WeeklyParams),
    doc_md=__doc__,
)
def weekly_plan_refresh():
    @task(outlets=[lake_asset("raw")])
    def extract(params=None, **context) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.extract_stage(_run_id(context, params), source=params["source"])

    @task(outlets=[lake_asset("raw")])
    def pickup(extracted: dict, **context) -> dict:
        """Supplier-portal submissions (web app database, CO2PLAN_WEB_DB) into the run's raw
        supplier_submissions, as of this run's cut-off; no portal database: a logged no-op."""
        from co2plan import portal

        run = context.get("dag_run")
        as_of = context.get("data_interval_end") or getattr(run, "run_after", None)
        with fail_fast_on_bad_input():
            return {**portal.pickup_stage(extracted["run_id"], as_of=as_of), "run_id": extracted["run_id"]}

    @task(outlets=[lake_asset("validated"), lake_asset("quarantine")])
    def validate(extracted: dict, params=None) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.validate_stage(extracted["run_id"], max_bad_share=params["max_bad_share"])

    @task(outlets=[lake_asset("ledger")])
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

    @task(outlets=[lake_asset("forecast")])
    def forecast(trained: dict, accounted: dict, params=None) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.forecast_stage(trained["run_id"], horizon_weeks=params["horizon_weeks"],
                                           gwp_set=params["gwp_set"], retrain=params["retrain"])

    @task(outlets=[lake_asset("plan")])
    def optimise(forecasted: dict, params=None) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.optimise_stage(forecasted["run_id"], horizon_weeks=params["horizon_weeks"],
                                           pareto_points=params["pareto_points"],
                                           params={"co2_reduction_pct": params["co2_reduction_pct"],
                                                   "trajectory_rate_pct": None if params["co2_reduction_pct"]
                                                   else params.get("trajectory_rate_pct")})

    @task(outlets=[lake_asset("supply")])
    def supply(validated: dict) -> dict:
        from co2plan import pipeline

        return pipeline.supply_stage(validated["run_id"])

    @task(outlets=[lake_asset("report")])
    def report(planned: dict) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.report_stage(planned["run_id"])

    @task(outlets=[lake_asset("published")])
    def publish(reported: dict, params=None) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.publish_stage(reported["run_id"], force=params["force_publish"],
                                          min_service_level=params["publish_min_service_level"],
                                          max_jump=params["publish_max_jump"])

    extracted = extract()
    validated = validate(pickup(extracted))
    accounted = account(validated)
    trained = train_or_load(validated)
    supplied = supply(validated)  # issue 16: beside the forecasters
    planned = optimise(forecast(trained, accounted))
    supplied >> planned  # the plan reads the supply stage's sourcing options (optimisation.sourcing)
    # the ledger's Scope 3 coverage reads the supply stage's category 1 (seconds, beside the forecaster's
    # training): without this edge the two raced and a re-run could write a different coverage table
    supplied >> accounted
    publish(report(planned))


weekly_plan_refresh()
