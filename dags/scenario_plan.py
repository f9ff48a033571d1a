"""Planner scenario: re-plan production and freight on the latest (or a chosen) forecast run with the
parameters of a scenario, optionally with a cost/CO2 Pareto sweep, and log it to MLflow beside the
baseline plan. Triggered by hand (UI form, CLI or REST API); never scheduled.

The trigger form is generated from ScenarioParams (optimisation's, re-exported by co2plan), so the form, the CLI and
the optimiser share one typed, validated definition; Airflow refuses a value that breaks its schema
and names the field. The first task, ``validate``, refuses in seconds what one field's schema cannot say
(unknown keys, both budgets, ids of the base run); the run's note names the field and the reason.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from co2plan import fail_fast_on_bad_input, lake_asset, scenario_form

# sections, number widgets, allowed ids of the latest published weekly run (read from latest.json only)
PARAMS = scenario_form.scenario_dag_params()


@dag(
    dag_id="scenario_plan",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 5, tz="UTC"),
    catchup=False,
    tags=["co2plan", "scenario"],
    params=PARAMS,
    doc_md=__doc__,
)
def scenario_plan():
    @task(retries=0, execution_timeout=timedelta(seconds=120))
    def validate(params=None, **context) -> dict:
        """Refuse a bad conf in seconds, naming the field (the run's note says it too)."""
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.validate_scenario_stage(dict(params), context)

    @task(outlets=[lake_asset("plan")])
    def plan(conf: dict, **context) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.scenario_stage(conf, context)

    @task(outlets=[lake_asset("report")])
    def report(planned: dict) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.report_stage(planned["run_id"], scenario_id=planned["scenario_id"])

    report(plan(validate()))


scenario_plan()
