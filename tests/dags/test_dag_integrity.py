"""DAG files import without errors, have the expected tasks, schedule, params and assets."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    from core.settings import PROJECT_ROOT

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"weekly_plan_refresh", "scenario_plan"} <= set(dagbag.dag_ids)


def test_weekly_dag_shape(dagbag):
    dag = dagbag.dags["weekly_plan_refresh"]
    order = ["extract", "pickup", "validate", "account", "train_or_load", "forecast", "optimise", "report", "publish",
             "supply"]
    assert set(order) == set(dag.task_ids)
    for up, down in [("extract", "pickup"), ("pickup", "validate"), ("validate", "account"),
                     ("validate", "train_or_load"), ("validate", "supply"), ("supply", "optimise"),
                     ("supply", "account"),
                     ("account", "forecast"), ("train_or_load", "forecast"), ("forecast", "optimise"),
                     ("optimise", "report"), ("report", "publish")]:
        assert down in dag.get_task(up).downstream_task_ids, (up, down)
    assert "validate" not in dag.get_task("extract").downstream_task_ids  # portal rows are merged before validation
    assert dag.max_active_runs == 1
    assert all(dag.get_task(t).retries >= 1 for t in dag.task_ids)
    outlets = {a.name for t in dag.tasks for a in t.outlets}
    assert {"co2plan_raw", "co2plan_validated", "co2plan_ledger", "co2plan_forecast", "co2plan_plan"} <= outlets


def test_scenario_params_come_from_the_scenario_model(dagbag):
    from optimisation.scenario import ScenarioParams

    dag = dagbag.dags["scenario_plan"]
    assert type(dag.timetable).__name__ == "NullTimetable"  # manual trigger only
    params = dag.params
    for name in ScenarioParams.model_fields:
        assert name in params, name
        assert params.get_param(name).schema.get("title"), f"{name} has no title for the trigger form"
    # the form's defaults never write over the weekly baseline and plan the weekly horizon
    assert params["scenario_id"] != "baseline" and params["horizon_weeks"] == 26


def test_bad_scenario_param_is_refused_naming_the_field(dagbag):
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    dag = dagbag.dags["scenario_plan"]
    params = ParamsDict(dag.params)
    with pytest.raises(ParamValidationError, match="carbon_price_eur_per_t"):
        params["carbon_price_eur_per_t"] = -5
    with pytest.raises(ParamValidationError, match="pareto_points"):
        params["pareto_points"] = 1  # a frontier needs 0 (no sweep) or at least 2 points
    params["carbon_price_eur_per_t"] = 25.0  # a valid value is accepted
    assert params.validate()["carbon_price_eur_per_t"] == 25.0


def test_weekly_params_come_from_the_weekly_model(dagbag):
    from co2plan import WeeklyParams

    params = dagbag.dags["weekly_plan_refresh"].params.dump()
    assert params == WeeklyParams().model_dump(mode="json")


def test_scenario_run_emits_the_plan_and_report_assets(dagbag):
    dag = dagbag.dags["scenario_plan"]
    assert {a.name for a in dag.get_task("plan").outlets} == {"co2plan_plan"}
    assert {a.name for a in dag.get_task("report").outlets} == {"co2plan_report"}
