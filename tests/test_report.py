"""The report does not mislead (issue 11, items 6-9): the band of the total, one boundary for plan and
history, units on every figure and a diagnosis that agrees with the numbers, a scenario's own report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from co2plan.report import format_kpi, frontier_basis, render_report
from co2plan.report_data import report_data, total_band
from core import catalog, lake

RUN = "weekly-2026-11-23"
WEEKS = pd.date_range("2026-11-30", periods=4, freq="7D")


def _kpi_long(scalars: dict, breakdowns: dict) -> pd.DataFrame:
    rows = [(k, "", float(v), "") if isinstance(v, int | float) else (k, "", np.nan, str(v))
            for k, v in scalars.items()]
    rows += [(k, key, float(v), "") for k, d in breakdowns.items() for key, v in d.items()]
    return pd.DataFrame(rows, columns=["kpi", "key", "value", "text"])


def _plan(root: str, sid: str, co2_by_plant: dict, air: float, unmet: float, diagnosis: str) -> None:
    total = sum(co2_by_plant.values()) + 10.0 + air
    scalars = {"status": "optimal", "objective_eur": 1_000_000.0, "cost_production_eur": 900_000.0,
               "cost_freight_eur": 100_000.0, "cost_carbon_eur": 0.0, "co2e_total_t": total,
               "co2e_scope1_t": 100.0, "co2e_scope2_market_t": total - 110.0 - air,
               "co2e_scope2_location_t": 300.0, "co2e_scope3_transport_t": 10.0 + air, "output_units": 1000.0 - unmet,
               "demand_units": 1000.0, "pipeline_units": 0.0, "unmet_units": unmet,
               "service_level": 1.0 - unmet / 1000.0, "horizon_weeks": 4.0, "first_week": "2026-11-30",
               "diagnosis": diagnosis, "co2_mac_eur_per_t": 0.0}
    breakdowns = {"co2e_t_by_plant": co2_by_plant, "co2e_t_by_mode": {"road": 10.0, **({"air": air} if air else {})},
                  "capacity_units_by_plant": {p: 500.0 for p in co2_by_plant},
                  "output_units_by_plant": {p: 400.0 for p in co2_by_plant},
                  "service_level_by_market": {"M_DE": 1.0 - unmet / 1000.0}}
    catalog.KPIS.write(_kpi_long(scalars, breakdowns), RUN, sid, root)
    catalog.FLOWS.write(pd.DataFrame({"lane_id": ["L1", "L2"], "plant_id": ["P_DE", "P_JV"], "mode": ["road", "road"],
                                      "week": WEEKS[:2], "tco2e": [6.0, 4.0]}), RUN, sid, root)
    lake.update_manifest(RUN, f"optimise/{sid}", {"params": {"scenario_id": sid, "co2_reduction_pct": 10.0
                                                             if sid != "baseline" else None}}, root)


@pytest.fixture()
def tiny_lake(tmp_path):
    root = str(tmp_path / "lake")
    catalog.VALIDATED["plants"].write(pd.DataFrame({"plant_id": ["P_DE", "P_JV"], "operational_control": [True, False],
                                                    "equity_share": [1.0, 0.5]}), RUN, root=root)
    months = pd.date_range("2026-06-01", periods=6, freq="MS")
    rows = []
    for m in months:
        for plant, gross in (("P_DE", 100.0), ("P_JV", 80.0)):
            share = 1.0 if plant == "P_DE" else 0.0
            for scope, f in (("scope1", 1.0), ("scope2_market", 2.0), ("scope2_location", 3.0), ("scope3_cat4", 0.5)):
                rows.append((m, plant, scope, gross * f * share, gross * f, "operational_control"))
    catalog.EMISSIONS_SUMMARY.write(pd.DataFrame(rows, columns=["month", "plant_id", "scope", "co2e_t",
                                                                "co2e_t_gross", "boundary"]), RUN, root=root)
    hist_weeks = pd.date_range("2025-11-03", periods=56, freq="7D")
    catalog.VALIDATED.demand_history.write(pd.DataFrame({"week": np.repeat(hist_weeks, 2), "product_id": "PR",
                                                         "market_id": np.tile(["M_DE", "M_US"], 56), "units": 100.0}),
                                           RUN, root=root)
    n = 40  # 40 series x 4 weeks, each with a symmetric 80 % band of +-10 around 100
    fc = pd.DataFrame({"week": np.repeat(WEEKS, n), "product_id": np.tile([f"PR{i}" for i in range(n)], 4),
                       "market_id": "M_DE", "yhat": 100.0, "yhat_lo_80": 90.0, "yhat_hi_80": 110.0,
                       "yhat_lo_95": 100 - 10 * 1.96 / 1.2816, "yhat_hi_95": 100 + 10 * 1.96 / 1.2816})
    catalog.DEMAND_FORECAST.write(fc, RUN, root=root)
    _plan(root, "baseline", {"P_DE": 400.0, "P_JV": 200.0}, air=0.0, unmet=51.0,
          diagnosis="no CO2 budget; no output target; 51.0 units of demand unmet (service level 94.9%): lost "
                    "sales are priced in the objective (unmet-demand penalty), not a target")
    _plan(root, "cut10", {"P_DE": 300.0, "P_JV": 240.0}, air=5.0, unmet=80.0, diagnosis="CO2 budget met")
    return root


def test_total_band_is_not_sum_of_series_bounds(tiny_lake):
    fc = catalog.DEMAND_FORECAST.read(RUN, root=tiny_lake)
    band = total_band(fc)
    assert band["yhat"].tolist() == [4000.0] * 4
    # independent series: half-width sqrt(40) x 10, not 40 x 10
    assert band["yhat_hi_80"].iloc[0] - 4000 == pytest.approx(10 * np.sqrt(40), rel=1e-6)
    assert band["yhat_hi_95"].iloc[0] - 4000 == pytest.approx(10 * 1.96 / 1.2816 * np.sqrt(40), rel=1e-3)
    d = report_data(RUN, "baseline", tiny_lake)
    f = d.demand.dropna(subset=["yhat"])
    assert (f["yhat_hi_80"] - f["yhat_lo_80"]).max() < 0.2 * 40 * 20  # far narrower than the sum of bounds


def test_total_band_covers_independent_totals():
    """Simulated: 40 independent normal series; the 80 % band of the total covers ~80 % of totals."""
    rng = np.random.default_rng(1)
    n, sims, sd = 40, 2000, 10.0
    fc = pd.DataFrame({"week": pd.Timestamp("2026-11-30"), "yhat": 100.0, "yhat_lo_80": 100 - 1.2816 * sd,
                       "yhat_hi_80": 100 + 1.2816 * sd, "yhat_lo_95": 100 - 1.96 * sd, "yhat_hi_95": 100 + 1.96 * sd},
                      index=range(n))
    b = total_band(fc).iloc[0]
    totals = rng.normal(100, sd, size=(sims, n)).sum(axis=1)
    cover80 = ((totals >= b["yhat_lo_80"]) & (totals <= b["yhat_hi_80"])).mean()
    cover95 = ((totals >= b["yhat_lo_95"]) & (totals <= b["yhat_hi_95"])).mean()
    assert 0.76 <= cover80 <= 0.84 and 0.93 <= cover95 <= 0.97


def test_plan_and_history_on_same_boundary(tiny_lake):
    d = report_data(RUN, "baseline", tiny_lake)
    by_plant = d.emissions_by_plant.set_index("plant_id")
    # the joint venture is outside operational control: 0 in the history and 0 in the plan on that boundary
    assert by_plant.loc["P_JV", "history_t_per_week"] == 0.0
    assert by_plant.loc["P_JV", "plan_t_per_week"] == 0.0
    assert by_plant.loc["P_JV", "plan_gross_t_per_week"] == pytest.approx((200.0 + 4.0) / 4)
    assert by_plant.loc["P_DE", "plan_t_per_week"] == pytest.approx((400.0 + 6.0) / 4)
    assert d.kpis["co2e_total_boundary_t"] == pytest.approx(406.0)
    assert d.boundary == "operational control"
    assert d.history_period == "Jun 2026–Nov 2026"
    # history by scope: two alternative totals, not scope 2 location beside scope 2 market
    st = d.emissions_by_scope.set_index("basis")
    assert st.loc["market-based", "scope2"] == pytest.approx(6 * 200.0)
    assert st.loc["location-based", "scope2"] == pytest.approx(6 * 300.0)


def test_headline_has_units_and_no_contradiction(tiny_lake, tmp_path):
    d = report_data(RUN, "baseline", tiny_lake)
    html = open(render_report(d, tmp_path / "out")["html"], encoding="utf-8").read()
    assert "all targets met" not in html
    assert "94.9%" in html and "0.949" not in html
    assert "0.000" not in html
    assert "0 EUR" in html  # carbon cost with its unit
    assert "n/a (no CO2 budget)" in html
    assert "History Jun 2026–Nov 2026" in html or "Jun 2026–Nov 2026" in html
    assert format_kpi("co2e_total_t", 1234.5) == "1,234.5 t CO2e"
    with pytest.raises(KeyError):
        format_kpi("no_such_kpi", 1.0)


def test_scenario_report_has_params_own_emissions_and_deltas(tiny_lake, tmp_path):
    d = report_data(RUN, "cut10", tiny_lake)
    params = d.tables["Scenario parameters"].set_index("parameter")["value"]
    assert params["co2_reduction_pct"] == "10.0"
    # its own planned emissions (not the history, not the baseline's)
    by_plant = d.emissions_by_plant.set_index("plant_id")
    assert by_plant.loc["P_DE", "plan_t_per_week"] == pytest.approx((300.0 + 6.0) / 4)
    assert d.plan_emissions_by_mode.set_index("mode").loc["air", "co2e_t"] == 5.0
    assert d.plan_emissions_by_mode.set_index("mode").loc["sea", "co2e_t"] == 0.0
    deltas = d.tables["Against the weekly baseline plan"].set_index("figure")
    row = deltas.loc["unmet demand"]
    assert row["baseline plan"] == "51 units" and row["this scenario"] == "80 units" and row["change"] == "+29 units"
    assert deltas.loc["service level (demand met)", "change"] == "-2.9 points"
    assert d.kpis["first_week"] == "2026-11-30" and d.kpis["last_week"] == "2026-12-21"
    html = open(render_report(d, tmp_path / "out")["html"], encoding="utf-8").read()
    assert "Scenario parameters" in html and "Against the weekly baseline plan" in html


def test_frontier_and_chosen_plan_share_the_cost_basis(tiny_lake, tmp_path):
    """The chosen plan (budget missed by 22 t at 173.76 EUR/t) is plotted without its excess penalty, the basis of
    the frontier's points (hand values of the three-plant instance in tests/optimisation/test_opt_pareto.py)."""
    co2 = [52.0, 102.0, 152.0, 202.0]
    cost = [13000.0, 12000.0, 11500.0, 11000.0]
    catalog.PARETO_FRONTIER.write(pd.DataFrame({"point": range(4), "co2_budget_t": co2, "status": "optimal",
                                                "objective_eur": cost, "cost_ex_penalty_eur": cost, "co2e_t": co2,
                                                "co2_mac_eur_per_t": [20.0, 20.0, 10.0, 0.0]}), RUN, "cut10", tiny_lake)
    lake.update_manifest(RUN, "plan/cut10", {"pareto": {"uri": "x", "points": 4}}, tiny_lake)
    kpis = catalog.KPIS.read(RUN, "cut10", tiny_lake)
    extra = pd.DataFrame([("co2e_total_t", "", 52.0, ""), ("objective_eur", "", 13000.0 + 22 * 173.76, ""),
                          ("objective_ex_penalty_eur", "", 13000.0, "")], columns=kpis.columns)
    kpis = pd.concat([kpis[~kpis["kpi"].isin(extra["kpi"])], extra], ignore_index=True)
    catalog.KPIS.write(kpis, RUN, "cut10", tiny_lake)
    d = report_data(RUN, "cut10", tiny_lake)
    assert d.chosen["cost_ex_penalty_eur"] == pytest.approx(13000.0)
    env = np.interp(d.chosen["co2_t"], d.frontier["co2_t"], d.frontier["cost_ex_penalty_eur"])
    assert d.chosen["cost_ex_penalty_eur"] <= env + 1e-6
    assert d.chosen["objective_eur"] > env + 1000  # the old basis put the dot 3,823 EUR above the curve
    assert frontier_basis(d) == ("cost_ex_penalty_eur", pytest.approx(13000.0))  # what the figure plots
    assert render_report(d, tmp_path / "out")["html"]
