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


def test_report_takes_the_band_of_the_total_from_the_forecast_hierarchy(tiny_lake):
    """With the forecaster's hierarchy table present, the total's own backtest-calibrated band is used (not the
    independence combination of the series' bands), and the chart title says which method gave the band."""
    d0 = report_data(RUN, "baseline", tiny_lake)
    assert "independent" in d0.demand_band
    total = pd.DataFrame({"level": "total", "node": "total", "week": WEEKS, "yhat": 4000.0,
                          "yhat_lo_80": [3950.0, 3940, 3930, 3920], "yhat_hi_80": [4050.0, 4060, 4070, 4080],
                          "yhat_lo_95": 3900.0, "yhat_hi_95": 4100.0})
    other = total.assign(level="region", node="EU", yhat=10.0)  # other levels are not the band of the total
    catalog.DEMAND_FORECAST_HIERARCHY.write(pd.concat([other, total], ignore_index=True), RUN, root=tiny_lake)
    d = report_data(RUN, "baseline", tiny_lake)
    f = d.demand.dropna(subset=["yhat"]).sort_values("week")
    assert f["yhat"].tolist() == [4000.0] * 4
    assert f["yhat_hi_80"].tolist() == [4050.0, 4060.0, 4070.0, 4080.0]
    assert f["yhat_lo_95"].tolist() == [3900.0] * 4
    assert "conformal" in d.demand_band and "backtest" in d.demand_band
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from co2plan.report import _fig_demand

    fig, ax = plt.subplots()
    _fig_demand(ax, d)
    assert "conformal band of the total" in ax.get_title()
    plt.close(fig)


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


def test_suppliers_section_on_report_data(tiny_lake, tmp_path):
    """issue 16: alerts with paths, HHI per commodity, cat 1 by data-quality tier, cross-validation counts,
    the plan's sourcing and what an outage moved; hand-computed figures."""
    import json

    root = tiny_lake
    paths = [{"plant": "P_DE", "path": ["S_CEL", "S_BAT", "P_DE"], "weight": 0.25}]
    catalog.SUPPLY_ALERTS.write(pd.DataFrame({
        "node_id": ["S_LOW", "S_CEL"], "kind": "supplier", "risk": [0.61, 0.9], "previous_risk": np.nan,
        "threshold": 0.6, "drivers": "[]", "plants": '["P_DE"]', "products": "[]", "markets": "[]",
        "paths": ["[]", json.dumps(paths)]}), RUN, root=root)
    catalog.SUPPLY_CONCENTRATION.write(pd.DataFrame({
        "commodity": ["battery_pack", "battery_pack", "steel"], "by": ["supplier", "country", "supplier"],
        "hhi": [5000.0, 10000.0, 2500.0], "n": [2, 1, 4], "top": ["S_BAT", "PL", "S_ST1"],
        "top_share": [0.5, 1.0, 0.25]}), RUN, root=root)
    catalog.SCOPE3_CAT1.write(pd.DataFrame({
        "plant_id": "P_DE", "supplier_id": ["S1", "S2", "S3", "S4"], "commodity": "steel", "year": 2025,
        "link_id": ["L1", "L2", "L3", "L4"], "volume": 1.0, "volume_unit": "t", "tco2e": [100.0, 50.0, 30.0, 20.0],
        "dq_tier": [1, 3, 3, 4], "method": ["supplier_specific", "average_data", "average_data", "spend_based"],
        "basis": "", "note": "", "scope": "scope3_cat1"}), RUN, root=root)
    catalog.SUBMISSION_CHECKS.write(pd.DataFrame({
        "submission_id": [f"X{i}" for i in range(8)], "version": 1,
        "status": ["accepted"] * 5 + ["flagged", "flagged", "rejected"],
        "reasons": [""] * 5 + ["peer_z", "peer_z; history_jump", "unit_slip_x1000"]}), RUN, root=root)
    _plan(root, "outage", {"P_DE": 300.0, "P_JV": 240.0}, air=0.0, unmet=60.0, diagnosis="no CO2 budget")
    k = catalog.KPIS.read(RUN, "outage", root)
    head = "Supplier outage (S_BAT): plants hit ['P_DE']; production moved: P_DE -100; P_JV +40 units"
    catalog.KPIS.write(pd.concat([k, pd.DataFrame([("supplier_outage_headline", "", np.nan, head)],
                                                  columns=k.columns)]), RUN, "outage", root)
    catalog.PLAN_SOURCING.write(pd.DataFrame({
        "plant_id": ["P_DE", "P_DE", "P_JV"], "supplier_id": ["S_BAT", "S_BAT", "S_B2"], "commodity": "battery_pack",
        "week": [WEEKS[0], WEEKS[1], WEEKS[0]], "units": [0.0, 0.0, 3000.0], "capacity_units": [0.0, 0.0, 3000.0],
        "tco2e": [0.0, 0.0, 180.0], "risk": [0.9, 0.9, 0.2], "dq_tier": [1, 1, 3], "cost_eur": 0.0}), RUN, "outage", root)
    catalog.PLAN_SUPPLIER_OUTAGE.write(pd.DataFrame({
        "kind": ["plant", "plant", "product"], "id": ["P_DE", "P_JV", "PR"], "hit": [True, False, True],
        "units_without_outage": [100.0, 0.0, 100.0], "units_with_outage": [0.0, 40.0, 40.0],
        "delta_units": [-100.0, 40.0, -60.0]}), RUN, "outage", root)

    d = report_data(RUN, "outage", root)
    t = d.tables
    alerts = t["Suppliers — top risk alerts (2 in all)"]
    assert list(alerts["node"]) == ["S_CEL", "S_LOW"]  # highest risk first
    assert alerts["paths to plants (exposure)"].iloc[0] == "S_CEL → S_BAT → P_DE (25.0%)"
    hhi = t["Suppliers — concentration per commodity (HHI by supplier, 0-10,000)"]
    assert list(hhi["commodity"]) == ["battery_pack", "steel"] and list(hhi["hhi"]) == [5000.0, 2500.0]
    cat1 = t["Suppliers — Scope 3 category 1 by data-quality tier (t CO2e per year, tier-1 links)"].set_index("dq_tier")
    assert list(cat1["tco2e"]) == [100.0, 50.0 + 30.0, 20.0] and list(cat1["share"]) == ["50.0%", "40.0%", "10.0%"]
    assert list(cat1["links"]) == [1, 2, 1]
    xv = t["Suppliers — submission cross-validation"].set_index("status")
    assert xv.loc["accepted", "submissions"] == 5 and xv.loc["flagged", "submissions"] == 2
    assert xv.loc["flagged", "top reasons"].startswith("peer_z (2)")
    src = t["Suppliers — planned sourcing of key components (horizon)"]
    assert list(src["supplier_id"]) == ["S_B2"] and src["tco2e"].iloc[0] == 180.0  # S_BAT bought nothing
    moved = t["Suppliers — what the supplier outage moved (units over the horizon)"].set_index("id")
    assert moved.loc["P_JV", "delta_units"] == 40.0
    assert d.kpis["supplier_alerts"] == 2 and d.kpis["scope3_cat1_t_per_year"] == 200.0
    assert d.kpis["submissions_flagged"] == 2 and d.kpis["submissions_rejected"] == 1
    html = open(render_report(d, tmp_path / "out")["html"], encoding="utf-8").read()
    assert "Suppliers — top risk alerts" in html and "P_JV +40 units" in html
    assert "200.0 t CO2e" in html
    # the baseline of the same run: the run's supply tables, but no sourcing / outage of its own
    base = report_data(RUN, "baseline", tiny_lake)
    names = [n for n in base.tables if n.startswith("Suppliers")]
    assert len(names) == 4 and "supplier_outage" not in base.kpis
    # a run without supply outputs: no Suppliers section
    from co2plan.report_data import supplier_section

    assert supplier_section("weekly-2020-01-06", "baseline", tiny_lake, {}) == ({}, {})



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


def test_report_shows_shifts_per_plant(tiny_lake, tmp_path):
    weeks = WEEKS[:2]
    catalog.PLAN_SHIFTS.write(pd.DataFrame({"plant_id": ["P_DE", "P_DE", "P_JV", "P_JV"], "week": list(weeks) * 2,
                                            "shifts_run": [2.0, 3.0, 1.0, 1.5], "shifts_max": 3.0,
                                            "output_units": [200.0, 300.0, 50.0, 75.0],
                                            "shift_following_tco2e": [4.0, 6.0, 1.0, 1.5]}), RUN, "baseline", tiny_lake)
    d = report_data(RUN, "baseline", tiny_lake)
    t = next(v for k, v in d.tables.items() if k.startswith("Shifts per plant")).set_index("plant_id")
    assert t.loc["P_DE", "shift_weeks_run"] == 5.0 and t.loc["P_DE", "shift_weeks_available"] == 6.0
    assert t.loc["P_JV", "mean_shifts_per_week"] == pytest.approx(1.25)
    assert t.loc["P_DE", "shift_following_tco2e"] == pytest.approx(10.0)
    assert "Shifts per plant" in open(render_report(d, tmp_path / "o")["html"], encoding="utf-8").read()


def test_report_names_what_sets_the_co2_price(tiny_lake, tmp_path):
    k = catalog.KPIS.read(RUN, "cut10", tiny_lake)
    extra = _kpi_long({"co2_budget_t": 700.0, "co2_mac_eur_per_t": 4.02, "on_track": "True",
                       "co2_price_setter": "EACs at P_DE (DE, 1.87 EUR/MWh -> 4.0 EUR/t) set the CO2 price of 4.0 "
                                           "EUR/t"}, {})
    catalog.KPIS.write(pd.concat([k[~k["kpi"].isin(extra["kpi"])], extra], ignore_index=True), RUN, "cut10",
                       tiny_lake)
    html = open(render_report(report_data(RUN, "cut10", tiny_lake), tmp_path / "o")["html"], encoding="utf-8").read()
    assert "what sets the CO2 price</th><td>EACs at P_DE (DE, 1.87 EUR/MWh -&gt; 4.0 EUR/t) set the CO2 price" in html
    base = open(render_report(report_data(RUN, "baseline", tiny_lake), tmp_path / "b")["html"], encoding="utf-8").read()
    assert "what sets the CO2 price" not in base  # no budget: no price to explain
