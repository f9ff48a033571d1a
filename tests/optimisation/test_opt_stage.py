"""Lake wrappers end to end: validated tables in a temporary lake, a real MLflow SQLite store."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from core import lake
from optimisation.stage import optimise, pareto

RUN = "2026-01-05T0500"


def _write_validated(root: str, make) -> None:
    inputs = make()
    tables = {"plants": inputs.plants, "products": inputs.products, "plant_products": inputs.plant_products,
              "markets": inputs.markets, "lanes": inputs.lanes}
    ef = pd.concat([inputs.emission_factors, pd.DataFrame({
        "factor_id": ["gde", "gfr", "ng"], "activity": ["electricity_grid", "electricity_grid", "natural_gas"],
        "gas": ["CO2e", "CO2e", "CO2e"], "value": [0.4, 0.05, 0.2], "unit": "kg/kWh", "source": "test",
        "year": 2025, "region": ["DE", "FR", "GLOBAL"], "version": "t", "basis": None})], ignore_index=True)
    tables["emission_factors"] = ef
    # 8 weeks of flat demand (100/week) before the first planned week 2026-01-05
    weeks = pd.date_range("2025-11-10", periods=8, freq="7D")
    tables["demand_history"] = pd.DataFrame({"week": weeks, "product_id": "K", "market_id": "M", "units": 100.0})
    for name, df in tables.items():
        lake.write_table(df, "validated", RUN, name, root)


def test_optimise_with_stand_ins_writes_plan_and_logs_mlflow(tmp_path, make, mlflow_store):
    root = str(tmp_path / "lake")
    _write_validated(root, make)
    # stand-in coefficients: A (DE) 1000 kWh x 0.4 + 500 kWh x 0.2 -> 0.4 + 0.1 t/unit; B (FR) 0.05 + 0.1
    # transport 0.02 t/unit; all demand goes to A (cheaper): 100 units/week for 2 weeks
    out = optimise(RUN, root=root, params={"horizon_weeks": 2}, scenario_id="base")
    assert out["status"] == "optimal"
    assert out["sources"] == {"demand_forecast": "stand-in", "plant_emission_coefficients": "stand-in",
                              "co2e_gwp_set": "mixed: plants AR5, freight as published"}
    # issue 15: the stand-in combines gases with AR5; the fixture's freight rows name no publisher
    flows = lake.read_uri(out["uris"]["flows"])
    assert set(flows["co2e_gwp_set"]) == {"mixed: plants AR5, freight as published"}
    assert "co2e_gwp_set" not in lake.read_uri(out["uris"]["production_plan"]).columns  # no CO2e in it
    plan = lake.read_uri(out["uris"]["production_plan"])
    assert plan.groupby("plant_id")["units"].sum().to_dict() == pytest.approx({"A": 200.0, "B": 0.0})
    assert out["uris"]["flows"].endswith(f"plan/{RUN}/base/flows.parquet")
    kpis = lake.read_uri(out["uris"]["kpis"])
    assert kpis.loc[kpis["kpi"] == "status", "text"].item() == "optimal"
    # fixed = 20 % x marginal x 70 % of capacity (no production history), per plant-week
    fixed = 2 * 0.2 * 70 * ((0.4 + 0.1) + (0.05 + 0.1))
    assert out["kpis"]["co2e_total_t"] == pytest.approx(200 * (0.5 + 0.02) + fixed)
    assert lake.read_manifest(RUN, root)["optimise/base"]["status"] == "optimal"
    assert json.loads(json.dumps(out))["kpis"]["output_units"] == pytest.approx(200.0)  # XCom-safe
    # MLflow: one run with params, metrics, status tag and the plan as artifacts
    mlflow.set_tracking_uri(mlflow_store)
    client = MlflowClient()
    exp = client.get_experiment_by_name("co2plan-plan")
    run = client.get_run(out["mlflow_run_id"])
    assert run.info.experiment_id == exp.experiment_id
    assert run.data.params["horizon_weeks"] == "2" and run.data.tags["status"] == "optimal"
    assert run.data.metrics["co2e_total_t"] == pytest.approx(out["kpis"]["co2e_total_t"])
    assert run.data.metrics["output_units"] == pytest.approx(200.0)
    arts = {a.path for a in client.list_artifacts(run.info.run_id, "plan")}
    assert {"plan/production_plan.parquet", "plan/flows.parquet", "plan/kpis.json"} <= arts
    # run kinds: the plan is tagged kind=plan; every freight mode has a metric, 0 where the plan uses none
    assert run.data.tags["kind"] == "plan" and run.data.tags["scenario_id"] == "base"
    used = set(lake.read_uri(out["uris"]["flows"]).query("units > 0")["mode"])
    for mode in ("road", "rail", "sea", "air"):
        assert f"co2e_t_by_mode.{mode}" in run.data.metrics, mode
        if mode not in used:
            assert run.data.metrics[f"co2e_t_by_mode.{mode}"] == 0.0
    assert sum(run.data.metrics[f"co2e_t_by_mode.{m}"] for m in ("road", "rail", "sea", "air")) == pytest.approx(
        200 * 0.02)
    # the Pareto sweep of the same scenario is a child run of the plan, tagged kind=pareto
    res = pareto(RUN, root=root, params={"horizon_weeks": 2}, scenario_id="base", n_points=2)
    child = client.get_run(res["mlflow_run_id"])
    assert child.data.tags["kind"] == "pareto" and child.data.tags["mlflow.parentRunId"] == run.info.run_id
    top = client.search_runs([exp.experiment_id], filter_string="tags.kind = 'plan'")
    assert [r.info.run_id for r in top] == [run.info.run_id]


def test_optimise_reads_forecast_tables_and_pareto_writes_frontier(tmp_path, make, mlflow_store):
    root = str(tmp_path / "lake")
    _write_validated(root, make)
    inputs = make()
    lake.write_table(inputs.demand_forecast, "forecast", "fc1", "demand_forecast", root)
    lake.write_table(inputs.coefficients, "forecast", "fc1", "plant_emission_coefficients", root)
    out = optimise(RUN, root=root, params={"horizon_weeks": 1, "co2_budget_t": 150}, forecast_run_id="fc1",
                   log_mlflow=False)
    assert out["sources"]["demand_forecast"] == "forecast/fc1"
    assert out["kpis"]["co2_mac_eur_per_t"] == pytest.approx(20 / 1.5)
    res = pareto(RUN, root=root, params={"horizon_weeks": 1, "unmet_penalty_eur_per_unit": 100_000},
                 forecast_run_id="fc1", n_points=3)
    frontier = lake.read_uri(res["uri"])
    assert frontier["co2e_t"].tolist() == pytest.approx([52.0, 127.0, 202.0], abs=1e-4)
    assert frontier["objective_eur"].tolist() == pytest.approx([13000.0, 13000 - 75 * 20 / 1.5, 11000.0])
    assert res["uri"].endswith(f"plan/{RUN}/baseline/pareto_frontier.parquet")
    assert len(json.loads(json.dumps(res))["frontier"]) == 3


def test_trajectory_takes_the_ledgers_boundary_and_base_year(tmp_path, make):
    from core import catalog

    root = str(tmp_path / "lake")
    _write_validated(root, make)
    inputs = make()
    lake.write_table(inputs.demand_forecast, "forecast", "fc1", "demand_forecast", root)
    lake.write_table(inputs.coefficients, "forecast", "fc1", "plant_emission_coefficients", root)
    # ledger: 2024 is partial, 2025 complete (52 Mondays) at 20 t/week of scope 1 -> base 1040 t
    weeks = pd.date_range("2024-09-02", periods=70, freq="7D")
    catalog.EMISSIONS_LEDGER.write(pd.DataFrame({"week": weeks, "plant_id": "A", "scope": "scope1",
                                                 "co2e_t": 20.0}), RUN, root=root)
    lake.update_manifest(RUN, "accounting", {"boundary": "equity_share"}, root)
    out = optimise(RUN, root=root, params={"horizon_weeks": 1, "trajectory_rate_pct": 4.2},
                   forecast_run_id="fc1", log_mlflow=False)
    k = out["kpis"]
    assert k["boundary"] == "equity_share"
    target = 1040 * (1 - 0.042) * 7 / 365  # one week of 2026, 4.2 % below 2025
    assert k["co2_budget_t"] == pytest.approx(target)
    # 19.1 t is reachable only by selling less: with the default budget-excess price (below the lost sale per t)
    # the plan keeps all 100 units, all at B (0.52 t/unit), and reports the target missed by 52 - 19.1 t
    assert k["co2e_total_t"] == pytest.approx(52.0)
    assert k["unmet_units"] == pytest.approx(0.0, abs=1e-6)
    assert k["on_track"] is False and k["off_track_t"] == pytest.approx(52.0 - target)
    assert "budget-excess" in k["co2_price_setter"]
    params = lake.read_manifest(RUN, root)["optimise/baseline"]["params"]
    assert params["base_year"] == 2025 and params["base_year_co2e_t"] == pytest.approx(1040.0)


def test_plan_gwp_set_names_the_coefficients_and_freight_sets(tmp_path, make):
    """Issue 15: co2e_gwp_set = the emissions forecaster's gwp_set (forecast manifest) for the plant
    coefficients and the publisher's set for CO2e freight factors (UK DESNZ states CO2e on AR5)."""
    from types import SimpleNamespace

    from optimisation.stage import plan_gwp_set, with_gwp_column

    root = str(tmp_path / "lake")
    inputs = make()
    lake.write_table(inputs.coefficients, "forecast", "fc1", "plant_emission_coefficients", root)
    desnz = inputs.emission_factors.assign(source="UK DESNZ GHG Conversion Factors 2025, HGV")
    ns = SimpleNamespace(plant_products=inputs.plant_products, coefficients=inputs.coefficients,
                         emission_factors=desnz, lanes=inputs.lanes)
    src = {"plant_emission_coefficients": "forecast/fc1"}
    assert plan_gwp_set(ns, src, "fc1", root) == "AR5"  # no gwp_set recorded: the forecaster's default AR5
    lake.update_manifest("fc1", "forecast/emissions", {"gwp_set": "AR6"}, root)
    assert plan_gwp_set(ns, src, "fc1", root) == "mixed: plants AR6, freight AR5"
    ns.emission_factors = desnz.iloc[:0]  # no freight factor rows: the plants' set alone
    assert plan_gwp_set(ns, src, "fc1", root) == "AR6"
    tabs = with_gwp_column({"kpis": pd.DataFrame({"kpi": ["x"]}), "unmet": pd.DataFrame({"units": [1.0]}),
                            "flows": pd.DataFrame({"tco2e": [1.0]})}, "AR6")
    assert "co2e_gwp_set" in tabs["kpis"] and "co2e_gwp_set" in tabs["flows"] and "co2e_gwp_set" not in tabs["unmet"]
