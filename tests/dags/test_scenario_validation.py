"""Bad scenario confs are refused at trigger time (one Param's schema) or by the fast ``validate`` task,
naming the field (issue 11, item 2); the form's shapes (item 1, 3)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from co2plan.scenario_form import (
    check_conf,
    scenario_dag_params,
    scenario_note,
    scenario_param_specs,
    trigger_body,
    with_run_scenario_id,
)
from core import catalog, lake

RUN = "weekly-2026-11-23"
IDS = {"plant_id": ["P_DE_WOB", "P_CN_JV"], "market_id": ["M_DE", "M_US"], "product_id": ["PR_A", "PR_B"]}


@pytest.fixture()
def tiny_lake(tmp_path):
    root = str(tmp_path / "lake")
    catalog.VALIDATED["plants"].write(pd.DataFrame({"plant_id": IDS["plant_id"]}), RUN, root=root)
    catalog.VALIDATED["markets"].write(pd.DataFrame({"market_id": IDS["market_id"]}), RUN, root=root)
    catalog.VALIDATED["products"].write(pd.DataFrame({"product_id": IDS["product_id"]}), RUN, root=root)
    lake.update_manifest(RUN, "plan/baseline", {"status": "optimal"}, root)
    lake.atomic_write_bytes(catalog.latest_pointer_uri(root), json.dumps({"run_id": RUN, "ids": IDS}).encode())
    return root


@pytest.mark.parametrize(("conf", "field", "words"), [
    ({"scenario_id": "x", "bogus": 1}, "bogus", "unknown parameter"),
    ({"scenario_id": "baseline"}, "scenario_id", "weekly plan"),
    ({"scenario_id": "x", "co2_budget_t": 100, "co2_reduction_pct": 10}, "co2_budget_t", "not both"),
    ({"scenario_id": "x", "plant_capacity": [{"plant_id": "P_XX", "capacity_pct": 0}]},
     "plant_capacity[0].plant_id", "unknown plant 'P_XX'"),
    ({"scenario_id": "x", "demand_shocks": [{"pct": 10}]}, "demand_shocks[0]", "market_id, product_id"),
    ({"scenario_id": "x", "banned_modes": ["plane"]}, "banned_modes[0]", "plane"),
    ({"scenario_id": "x", "demand_shocks": [{"market_id": "M_XX", "pct": 5}]}, "demand_shocks[0].market_id",
     "unknown market"),
])
def test_check_conf_names_field(tiny_lake, conf, field, words):
    refusals = check_conf(conf, tiny_lake)
    assert refusals, conf
    assert refusals[0].field == field
    assert words in refusals[0].reason


def test_check_conf_accepts_a_good_conf_and_cleared_lists(tiny_lake):
    conf = {"scenario_id": "cut10", "co2_reduction_pct": 10, "banned_modes": None, "plant_capacity": None,
            "demand_shocks": [{"market_id": "M_DE", "pct": 10}], "threads": 2, "time_limit_s": 30}
    assert check_conf(conf, tiny_lake) == []


def test_no_anyof_of_a_type_and_null_anywhere():
    text = json.dumps(scenario_param_specs(IDS))
    assert '{"type": "null"}' not in text
    specs = scenario_param_specs(IDS)
    assert specs["co2_reduction_pct"][1]["type"] == ["null", "number"]
    assert specs["threads"][1]["type"] == ["null", "integer"]
    assert specs["demand_shocks"][1]["items"]["properties"]["to_week"]["type"] == ["null", "integer"]


@pytest.mark.parametrize(("conf", "field"), [
    ({"plant_capacity": [{"plant_id": "P_XX", "capacity_pct": 0}]}, "plant_capacity"),
    ({"demand_shocks": [{"pct": 10}]}, "demand_shocks"),
    ({"scenario_id": "baseline"}, "scenario_id"),
    ({"banned_modes": ["plane"]}, "banned_modes"),
    ({"demand_shocks": [{"market_id": "M_DE", "pct": 1, "extra": 1}]}, "demand_shocks"),
])
def test_schema_refuses_at_trigger(tiny_lake, conf, field):
    """What Airflow checks before a run exists (the REST API answers 400, the form shows the error)."""
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    params = ParamsDict(scenario_dag_params(tiny_lake))
    params.validate()  # the defaults are valid
    with pytest.raises(ParamValidationError) as err:  # what dag.params.deep_merge(conf) raises on trigger
        for k, v in conf.items():
            params[k] = v
    assert field in str(err.value)


def test_form_sections_and_wording():
    specs = scenario_param_specs(IDS)
    assert specs["threads"][1]["section"] == "Solver (advanced)"
    assert specs["co2_budget_t"][1]["section"] == "CO2"
    assert "own plan without a budget" in specs["co2_reduction_pct"][1]["title"]
    assert specs["banned_modes"][1]["values_display"]["air"] == "Air freight"
    assert '"plant_id": "P_DE_WOB"' in specs["plant_capacity"][1]["description_md"]
    assert specs["plant_capacity"][1]["items"]["properties"]["plant_id"]["enum"] == IDS["plant_id"]


def test_runs_are_named_by_scenario():
    conf = {"scenario_id": "cut10", "co2_reduction_pct": 10.0}
    assert scenario_note(conf) == "cut10 · base latest weekly run · co2_reduction_pct=10"
    body = trigger_body(conf)
    assert body["dag_run_id"].startswith("cut10__") and body["logical_date"] is None


@pytest.mark.parametrize(("conf", "run_id", "sid"), [
    ({"scenario_id": "scenario"}, "cut15", "cut15"),  # Run ID typed in the UI form, scenario id left default
    ({}, "cut15__20261202T101500", "cut15"),  # what trigger_body sends
    ({"scenario_id": "scenario"}, "manual__2026-12-02T10:15:00+00:00", "scenario"),  # Airflow's own id
    ({"scenario_id": "mine"}, "cut15", "mine"),  # a scenario id typed in the form wins
    ({"scenario_id": "scenario"}, "baseline", "scenario"),  # never the weekly plan's id
    ({"scenario_id": "scenario"}, "has space", "scenario"),  # not a valid scenario id
])
def test_run_id_typed_in_the_form_names_the_scenario(conf, run_id, sid):
    assert with_run_scenario_id(conf, run_id).get("scenario_id", "scenario") == sid


def test_validate_stage_takes_the_scenario_id_from_a_typed_run_id(tiny_lake):
    from co2plan.pipeline import validate_scenario_stage

    out = validate_scenario_stage({"scenario_id": "scenario", "co2_reduction_pct": 10}, {"run_id": "cut10"},
                                  root=tiny_lake)
    assert out["scenario_id"] == "cut10" and out["base_run_id"].startswith(RUN)
    out = validate_scenario_stage({"scenario_id": "scenario"}, {"run_id": "manual__2026-12-02T10:00:00"},
                                  root=tiny_lake)
    assert out["scenario_id"] == "scenario"


@pytest.mark.slow
def test_refused_run_fails_in_validate_with_note(airflow_db):
    """`airflow dags test` with a conf one Param cannot refuse: the first task fails at once (no retry, the
    solver never starts) and the co2plan listener writes the refusal as the run's note."""
    import sqlite3

    from dag_helpers import run_dag

    proc = run_dag(airflow_db, "scenario_plan", {"scenario_id": "refused", "bogus": 1})
    db = airflow_db["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as con:
        run_pk, run_id, state = con.execute("select id, run_id, state from dag_run where dag_id='scenario_plan' "
                                            "order by id desc limit 1").fetchone()
        tis = dict(con.execute("select task_id, state from task_instance where run_id=? and dag_id='scenario_plan'",
                               (run_id,)).fetchall())
        tries = con.execute("select try_number from task_instance where run_id=? and task_id='validate'",
                            (run_id,)).fetchone()[0]
        note = con.execute("select content from dag_run_note where dag_run_id=?", (run_pk,)).fetchone()
    assert state == "failed", proc.stdout[-3000:]
    assert tis["validate"] == "failed" and tries == 1
    assert tis["plan"] == "upstream_failed" and tis["report"] == "upstream_failed"
    assert note and note[0].startswith("REFUSED — bogus: unknown parameter"), (note, proc.stdout[-3000:])
