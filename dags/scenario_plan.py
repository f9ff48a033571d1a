"""Planner scenario: re-plan production and freight on the latest (or a chosen) forecast run with the
parameters of a scenario, optionally with a cost/CO2 Pareto sweep, and log it to MLflow beside the
baseline plan. Triggered by hand (UI form, CLI or REST API); never scheduled.

The trigger form is generated from ScenarioParams (optimisation's, re-exported by co2plan), so the form, the CLI and
the optimiser share one typed, validated definition; Airflow refuses a value that breaks its schema
and names the field.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from co2plan import ScenarioParams, dag_params, fail_fast_on_bad_input, lake_asset

# a scenario never writes over the weekly baseline, and plans the weekly horizon unless told otherwise
FORM_DEFAULTS = {"scenario_id": "scenario", "horizon_weeks": 26}

EXTRA_PARAMS = {
    "base_run_id": Param(None, type=["null", "string"], title="Base run",
                         description="Lake run id whose validated data and forecasts to plan on; "
                                     "empty = the latest weekly run."),
    "pareto_points": Param(0, type="integer", minimum=0, maximum=30, **{"not": {"const": 1}}, title="Pareto points",
                           description="Also sweep the CO2 budget over this many points (0 = no sweep, else >= 2)."),
}
PARAMS = dag_params(ScenarioParams, overrides=FORM_DEFAULTS, extra=EXTRA_PARAMS)


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
    @task(outlets=[lake_asset("plan")])
    def plan(params=None, **context) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.scenario_stage(dict(params), context)

    @task(outlets=[lake_asset("report")])
    def report(planned: dict) -> dict:
        from co2plan import pipeline

        with fail_fast_on_bad_input():
            return pipeline.report_stage(planned["run_id"], scenario_id=planned["scenario_id"])

    report(plan())


scenario_plan()
