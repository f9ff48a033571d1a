"""The report's figures gathered from the lake: every figure says its boundary and period, the plan and
the history are compared on one boundary, the total demand band is a band of the total, and a scenario's
report shows its own parameters, its own emissions and the deltas against the weekly baseline plan.

Boundaries: the ledger (history) holds each plant's gross emissions and the share inside the organisational
boundary (``emissions_summary.co2e_t`` = share x ``co2e_t_gross``); the optimiser plans every plant at 100 %
(gross). The plan is put on the history's boundary with the same per-plant shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core import catalog, lake

__all__ = ["report_data", "total_band", "demand_total_band", "MODES", "HISTORY_WEEKS", "supplier_section"]

MODES = ("road", "rail", "sea", "air")
HISTORY_WEEKS = 13  # the history window compared with the plan
Z80, Z95 = 1.2815515655446004, 1.959963984540054


def _kpis(df: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in df[df["key"] == ""].itertuples(index=False):
        out[row.kpi] = row.text if row.text else row.value
    return out


def _breakdown(df: pd.DataFrame, kpi: str) -> pd.Series:
    rows = df[df["kpi"] == kpi]
    return pd.Series(rows["value"].to_numpy(dtype=float), index=rows["key"].astype(str).to_numpy(), dtype=float)


def total_band(fc: pd.DataFrame) -> pd.DataFrame:
    """80 % / 95 % band of the total over all series, per week, from the per-series bands.

    Each series' upper and lower half-widths are turned into standard deviations of its forecast error
    (normal quantiles), the variances are added (series errors taken as independent) and the band of the
    total is ``yhat_total -/+ z x sqrt(sum of variances)``, per side. Adding the series' bounds instead (the
    old chart) is the band only if every series misses in the same direction at once: for n similar series
    it is about sqrt(n) times too wide."""
    g = fc.assign(
        v_hi80=((fc["yhat_hi_80"] - fc["yhat"]).clip(lower=0) / Z80) ** 2,
        v_lo80=((fc["yhat"] - fc["yhat_lo_80"]).clip(lower=0) / Z80) ** 2,
        v_hi95=((fc["yhat_hi_95"] - fc["yhat"]).clip(lower=0) / Z95) ** 2,
        v_lo95=((fc["yhat"] - fc["yhat_lo_95"]).clip(lower=0) / Z95) ** 2,
    ).groupby("week", as_index=False)[["yhat", "v_hi80", "v_lo80", "v_hi95", "v_lo95"]].sum()
    out = pd.DataFrame({"week": g["week"], "yhat": g["yhat"]})
    out["yhat_lo_80"] = (g["yhat"] - Z80 * np.sqrt(g["v_lo80"])).clip(lower=0)
    out["yhat_hi_80"] = g["yhat"] + Z80 * np.sqrt(g["v_hi80"])
    out["yhat_lo_95"] = (g["yhat"] - Z95 * np.sqrt(g["v_lo95"])).clip(lower=0)
    out["yhat_hi_95"] = g["yhat"] + Z95 * np.sqrt(g["v_hi95"])
    return out


BAND_CONFORMAL = "conformal band of the total from the forecaster's rolling-origin backtest"
BAND_INDEPENDENT = "band of the total from the series' bands, errors taken as independent"


def demand_total_band(run_id: str, root: str | None = None) -> tuple[pd.DataFrame, str]:
    """The forecast of total demand with its 80 % / 95 % band, and the method that gave the band.

    The forecaster's hierarchy table (``catalog.DEMAND_FORECAST_HIERARCHY``, level ``total``) calibrates the
    total on its own backtest errors, so its band is the band of the total; a run without that table (an
    older champion, a stand-in forecast) falls back to ``total_band`` of the per-series bands."""
    cols = ["week", "yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"]
    if catalog.DEMAND_FORECAST_HIERARCHY.exists(run_id, root=root):
        hier = catalog.DEMAND_FORECAST_HIERARCHY.read(run_id, root=root)
        total = hier[hier["level"] == "total"]
        if len(total):
            return total[cols].sort_values("week").reset_index(drop=True), BAND_CONFORMAL
    return total_band(catalog.DEMAND_FORECAST.read(run_id, root=root)), BAND_INDEPENDENT


def _plant_shares(summary: pd.DataFrame, plants: pd.DataFrame | None) -> pd.Series:
    """Share of each plant inside the history's boundary, as the ledger applied it."""
    if "co2e_t_gross" in summary.columns and len(summary):
        s = summary.groupby("plant_id")[["co2e_t", "co2e_t_gross"]].sum()
        share = (s["co2e_t"] / s["co2e_t_gross"].where(s["co2e_t_gross"] > 0)).fillna(1.0)
    else:
        share = pd.Series(dtype=float)
    if plants is not None and "operational_control" in plants.columns:
        boundary = str(summary["boundary"].iloc[0]) if "boundary" in summary.columns and len(summary) else ""
        rule = plants.set_index("plant_id")["equity_share" if boundary == "equity_share" else "operational_control"]
        share = share.combine_first(rule.astype(float))
    return share


def _history_window(summary: pd.DataFrame) -> tuple[pd.DataFrame, float, str]:
    """The last months of history covering ~HISTORY_WEEKS weeks, their length in weeks, and a label."""
    months = sorted(pd.to_datetime(summary["month"]).unique())
    take = months[-3:] if len(months) >= 3 else months
    window = summary[pd.to_datetime(summary["month"]).isin(take)]
    first, last = pd.Timestamp(take[0]), pd.Timestamp(take[-1])
    weeks = ((last + pd.offsets.MonthEnd(0)) - first).days / 7.0 + 1 / 7.0
    return window, weeks, f"{first:%b %Y}–{last:%b %Y}"


def _plan_by_plant(kpi_long: pd.DataFrame, flows: pd.DataFrame) -> pd.Series:
    """Planned t CO2e by plant, gross (scope 1 + scope 2 market-based + the plant's outbound freight)."""
    prod = _breakdown(kpi_long, "co2e_t_by_plant")
    if len(flows) and {"plant_id", "tco2e"} <= set(flows.columns):
        prod = prod.add(flows.groupby("plant_id")["tco2e"].sum(), fill_value=0.0)
    return prod


def _params_table(run_id: str, scenario_id: str, root: str | None) -> pd.DataFrame:
    import json

    m = lake.read_manifest(run_id, root)
    params = (m.get(f"optimise/{scenario_id}") or {}).get("params") or {}
    rows = [(k, json.dumps(v) if isinstance(v, list | dict) else ("—" if v is None else str(v)))
            for k, v in params.items()]
    return pd.DataFrame(rows, columns=["parameter", "value"])


def report_data(run_id: str, scenario_id: str = "baseline", root: str | None = None):
    """Everything the report shows, from the lake (small tables only)."""
    from co2plan.report import ReportData

    kpi_long = catalog.KPIS.read(run_id, scenario_id, root)
    kpis = _kpis(kpi_long)
    summary = catalog.EMISSIONS_SUMMARY.read(run_id, root=root)
    plants = catalog.VALIDATED["plants"].read(run_id, root=root) if catalog.VALIDATED["plants"].exists(
        run_id, root=root) else None
    boundary = (str(summary["boundary"].iloc[0]) if "boundary" in summary.columns and len(summary)
                else "operational_control").replace("_", " ")
    hist_period = (f"{pd.Timestamp(summary['month'].min()):%b %Y}–{pd.Timestamp(summary['month'].max()):%b %Y}"
                   if len(summary) else "no history")

    # history by scope, on the boundary: market-based and location-based totals, never added together
    by_scope = summary.groupby("scope")["co2e_t"].sum()
    s1, s2m, s2l = (float(by_scope.get(k, 0.0)) for k in ("scope1", "scope2_market", "scope2_location"))
    s3 = float(sum(v for k, v in by_scope.items() if str(k).startswith("scope3")))
    scope_totals = pd.DataFrame({
        "basis": ["market-based", "location-based"], "scope1": [s1, s1], "scope2": [s2m, s2l],
        "scope3_transport": [s3, s3]})

    flows = catalog.FLOWS.read(run_id, scenario_id, root)
    shares = _plant_shares(summary, plants)
    plan_gross = _plan_by_plant(kpi_long, flows)
    horizon = float(kpis.get("horizon_weeks") or 0) or float(
        len(pd.to_datetime(flows["week"]).unique()) if len(flows) else 1)
    plan_boundary = plan_gross * shares.reindex(plan_gross.index).fillna(1.0)
    window, hist_weeks, window_label = _history_window(summary) if len(summary) else (summary, 1.0, "—")
    hist_plant = window.groupby("plant_id")["co2e_t"].sum() / hist_weeks
    hist_plant_gross = (window.groupby("plant_id")["co2e_t_gross"].sum() / hist_weeks
                        if "co2e_t_gross" in window.columns else hist_plant)
    plants_all = sorted(set(plan_gross.index) | set(hist_plant.index))
    by_plant = pd.DataFrame({
        "plant_id": plants_all,
        "history_t_per_week": [float(hist_plant.get(p, 0.0)) for p in plants_all],
        "plan_t_per_week": [float(plan_boundary.get(p, 0.0)) / horizon for p in plants_all],
        "history_gross_t_per_week": [float(hist_plant_gross.get(p, 0.0)) for p in plants_all],
        "plan_gross_t_per_week": [float(plan_gross.get(p, 0.0)) / horizon for p in plants_all],
        "share_in_boundary": [float(shares.get(p, 1.0)) for p in plants_all],
    })

    by_mode = _breakdown(kpi_long, "co2e_t_by_mode")
    if not len(by_mode) and len(flows):
        by_mode = flows.groupby("mode")["tco2e"].sum()
    by_mode = pd.DataFrame({"mode": list(MODES), "co2e_t": [float(by_mode.get(m, 0.0)) for m in MODES]})

    hist = catalog.VALIDATED.demand_history.read(run_id, root=root)
    actual = hist.groupby("week", as_index=False)["units"].sum().rename(columns={"units": "actual"})
    actual = actual[actual["week"] >= actual["week"].max() - pd.Timedelta(weeks=78)]
    band, band_method = demand_total_band(run_id, root)
    demand = pd.concat([actual, band], ignore_index=True)

    util = pd.DataFrame({"capacity_units": _breakdown(kpi_long, "capacity_units_by_plant")})
    util["planned_units"] = _breakdown(kpi_long, "output_units_by_plant").reindex(util.index).fillna(0.0)
    util = util.rename_axis("plant_id").reset_index()

    frontier = pd.DataFrame()
    swept = lake.read_manifest(run_id, root).get(f"plan/{scenario_id}", {}).get("pareto")
    if swept and catalog.PARETO_FRONTIER.exists(run_id, scenario_id, root):
        frontier = catalog.PARETO_FRONTIER.read(run_id, scenario_id, root).rename(columns={"co2e_t": "co2_t"})
        frontier = frontier[frontier["status"].isin(["optimal", "time_limit"])]
    ex_pen = kpis.get("objective_ex_penalty_eur")
    objective = float(kpis.get("objective_eur", 0.0))
    # the frontier's cost basis: the objective without the budget-excess / output-shortfall penalties
    chosen = {"co2_t": float(kpis.get("co2e_total_t", 0.0)), "objective_eur": objective,
              "cost_ex_penalty_eur": float(ex_pen) if isinstance(ex_pen, int | float) and ex_pen == ex_pen
              else objective}

    head = {k: kpis[k] for k in HEADLINE if k in kpis}
    head["first_week"] = kpis.get("first_week")
    if kpis.get("first_week") and horizon:
        head["last_week"] = str((pd.Timestamp(kpis["first_week"]) + pd.Timedelta(weeks=horizon - 1)).date())
    head["horizon_weeks"] = int(horizon)
    if "co2_baseline_t" in kpis:
        head["co2e_no_budget_t"] = kpis["co2_baseline_t"]
    budget = head.get("co2_budget_t")
    if not isinstance(budget, int | float) or budget != budget:  # no budget: no shadow price to speak of
        head.pop("co2_budget_t", None)
        head["co2_mac_eur_per_t"] = "n/a (no CO2 budget)"
        for k in ("co2_price_setter", "on_track", "off_track_t", "cost_to_stay_on_track_eur"):
            head.pop(k, None)
        head.pop("co2_excess_price_eur_per_t", None)
    off = head.get("off_track_t")
    if isinstance(off, int | float) and not off > 0.05:  # on track: "off track by 0 t" says nothing
        head.pop("off_track_t")
    if str(head.get("on_track")) in ("True", "False", "1.0", "0.0"):
        head["on_track"] = "yes" if str(head["on_track"]) in ("True", "1.0") else "no"
    excess = head.get("co2_budget_excess_t")
    if isinstance(excess, int | float) and not excess > 0.05:  # a budget met is said by the diagnosis
        head.pop("co2_budget_excess_t")
    head["co2e_total_boundary_t"] = float(plan_boundary.sum())
    head["diagnosis"] = kpis.get("diagnosis", "")
    head["boundary"] = boundary

    sl = _breakdown(kpi_long, "service_level_by_market")
    tables: dict[str, pd.DataFrame] = {}
    if scenario_id != "baseline":
        tables["Scenario parameters"] = _params_table(run_id, scenario_id, root)
        if catalog.KPIS.exists(run_id, "baseline", root):
            tables["Against the weekly baseline plan"] = _deltas(kpis, _kpis(catalog.KPIS.read(run_id, "baseline",
                                                                                              root)))
    tables[f"Emissions by plant, t CO2e per week: history {window_label} vs plan ({boundary}; gross = 100 %)"] = \
        by_plant
    tables["Service level by market"] = pd.DataFrame({"market_id": sl.index,
                                                      "service_level": [f"{v:.1%}" for v in sl.to_numpy()]})
    tables[f"Emissions by scope, history {hist_period} ({boundary}), t CO2e"] = scope_totals
    shifts = shift_summary(run_id, scenario_id, root)
    if shifts is not None:
        tables["Shifts per plant (horizon): shift-weeks run of those available, and the fixed emissions that "
               "follow them"] = shifts
    sup_tables, sup_head = supplier_section(run_id, scenario_id, root, kpis)  # issue 16: Suppliers section
    tables.update(sup_tables)
    head.update(sup_head)
    title = f"co2plan — {run_id} — scenario {scenario_id}"
    return ReportData(
        title=title, kpis=head, emissions_by_scope=scope_totals, emissions_by_plant=by_plant,
        plan_emissions_by_mode=by_mode, demand=demand, utilisation=util, frontier=frontier, chosen=chosen,
        tables=tables, boundary=boundary, history_period=hist_period, history_window=window_label,
        scenario_id=scenario_id, demand_band=band_method)


def shift_summary(run_id: str, scenario_id: str, root: str | None) -> pd.DataFrame | None:
    """Per plant with a shift pattern: shift-weeks run and available over the horizon, mean shifts per week
    (whole numbers in MILP mode, fractions in the LP relaxation), units built and the shift-following t CO2e."""
    if not catalog.PLAN_SHIFTS.exists(run_id, scenario_id, root):
        return None
    sh = catalog.PLAN_SHIFTS.read(run_id, scenario_id, root)
    if sh.empty:
        return None
    g = sh.groupby("plant_id").agg(shift_weeks_run=("shifts_run", "sum"), shift_weeks_available=("shifts_max", "sum"),
                                   weeks=("week", "nunique"), units_built=("output_units", "sum"),
                                   shift_following_tco2e=("shift_following_tco2e", "sum"))
    g.insert(2, "mean_shifts_per_week", g["shift_weeks_run"] / g["weeks"])
    return g.drop(columns="weeks").reset_index()


HEADLINE = ("status", "objective_eur", "cost_production_eur", "cost_freight_eur", "cost_carbon_eur",
            "co2e_total_t", "co2e_scope1_t", "co2e_scope2_market_t", "co2e_scope2_location_t",
            "co2e_scope3_transport_t", "co2_budget_t", "co2_mac_eur_per_t", "co2_price_setter", "on_track",
            "off_track_t", "cost_to_stay_on_track_eur", "output_units", "demand_units",
            "pipeline_units", "unmet_units", "co2_budget_excess_t", "service_level", "solve_seconds",
            "n_variables", "co2_excess_price_eur_per_t", "abatement_cost_eur", "operating_mode", "shift_weeks",
            "co2e_shift_following_t", "mip_gap_pct", "mip_bound_eur", "mip_gap_note", "lp_relaxation_note")

DELTA_KPIS = ("co2e_total_t", "co2e_scope1_t", "co2e_scope2_market_t", "co2e_scope3_transport_t",
              "objective_eur", "cost_production_eur", "cost_freight_eur", "output_units", "unmet_units",
              "service_level")


def _deltas(scen: dict[str, Any], base: dict[str, Any]) -> pd.DataFrame:
    from co2plan.report import format_kpi, kpi_label

    rows = []
    for k in DELTA_KPIS:
        a, b = scen.get(k), base.get(k)
        if not isinstance(a, int | float) or not isinstance(b, int | float):
            continue
        d = float(a) - float(b)
        rel = f"{d / float(b):+.1%}" if b else "—"
        delta = (f"{d * 100:+.1f} points" if k == "service_level" else format_kpi(k, d, signed=True))
        rows.append((kpi_label(k), format_kpi(k, b), format_kpi(k, a), delta, rel))
    return pd.DataFrame(rows, columns=["figure", "baseline plan", "this scenario", "change", "change %"])


# ---- issue 16: the "Suppliers" section (supply/<run_id> datasets and the plan's sourcing tables)
SUPPLIER_ALERTS_SHOWN = 10


def _first_paths(paths_json: str, n: int = 2) -> str:
    import json

    try:
        paths = json.loads(paths_json or "[]")
    except ValueError:
        return ""
    return "; ".join(" → ".join(p["path"]) + f" ({p['weight']:.1%})" for p in paths[:n])


def supplier_section(run_id: str, scenario_id: str, root: str | None,
                     kpis: dict[str, Any]) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """(tables, headline entries) of the Suppliers section; empty when the run has no supply stage output.
    Tables: top risk alerts with their paths to the plants, HHI per commodity, Scope 3 category 1 by GHG
    Protocol data-quality tier, submission cross-validation status counts, the plan's sourcing by supplier and
    what a supplier outage moved."""
    tables: dict[str, pd.DataFrame] = {}
    head: dict[str, Any] = {}
    have = {d.table: d.exists(run_id, root=root) for d in (catalog.SUPPLY_ALERTS, catalog.SUPPLY_CONCENTRATION,
                                                           catalog.SCOPE3_CAT1, catalog.SUBMISSION_CHECKS)}
    if have["alerts"]:
        al = catalog.SUPPLY_ALERTS.read(run_id, root=root).sort_values("risk", ascending=False, kind="stable")
        top = al.head(SUPPLIER_ALERTS_SHOWN)
        tables[f"Suppliers — top risk alerts ({len(al)} in all)"] = pd.DataFrame({
            "node": top["node_id"].to_numpy(), "kind": top["kind"].to_numpy(),
            "risk": [f"{v:.2f}" for v in top["risk"]], "threshold": top["threshold"].to_numpy(),
            "paths to plants (exposure)": [_first_paths(p) for p in top["paths"]]})
        head["supplier_alerts"] = len(al)
    if have["concentration"]:
        hhi = catalog.SUPPLY_CONCENTRATION.read(run_id, root=root)
        hhi = hhi[hhi["by"] == "supplier"].sort_values("hhi", ascending=False, kind="stable")
        tables["Suppliers — concentration per commodity (HHI by supplier, 0-10,000)"] = pd.DataFrame({
            "commodity": hhi["commodity"].to_numpy(), "hhi": hhi["hhi"].to_numpy(float),
            "suppliers": hhi["n"].to_numpy(), "largest": hhi["top"].to_numpy(),
            "largest share": [f"{v:.1%}" for v in hhi["top_share"]]})
    if have["scope3_cat1"]:
        cat1 = catalog.SCOPE3_CAT1.read(run_id, root=root)
        by = cat1.groupby(["dq_tier", "method"], as_index=False).agg(links=("link_id", "count"),
                                                                       tco2e=("tco2e", "sum"))
        total = float(by["tco2e"].sum())
        by["share"] = [f"{v / total:.1%}" if total else "—" for v in by["tco2e"]]
        tables["Suppliers — Scope 3 category 1 by data-quality tier (t CO2e per year, tier-1 links)"] = by
        head["scope3_cat1_t_per_year"] = total
    if have["submission_checks"]:
        chk = catalog.SUBMISSION_CHECKS.read(run_id, root=root)
        counts = chk["status"].astype(str).value_counts()
        reasons = chk.loc[chk["status"].astype(str).isin(["flagged", "rejected"]), "reasons"].astype(str)
        top_r = reasons.str.split(";").explode().str.strip().loc[lambda s: s != ""].value_counts()
        tables["Suppliers — submission cross-validation"] = pd.DataFrame({
            "status": counts.index.to_numpy(), "submissions": counts.to_numpy(),
            "top reasons": [", ".join(f"{r} ({n})" for r, n in top_r.head(3).items()) if s in ("flagged", "rejected")
                            else "" for s in counts.index]})
        head["submissions_flagged"] = int(counts.get("flagged", 0))
        head["submissions_rejected"] = int(counts.get("rejected", 0))
    if catalog.PLAN_SOURCING.exists(run_id, scenario_id, root):
        src = catalog.PLAN_SOURCING.read(run_id, scenario_id, root)
        if len(src):
            g = src.groupby(["supplier_id", "commodity"], as_index=False).agg(
                plants=("plant_id", "nunique"), units=("units", "sum"), tco2e=("tco2e", "sum"),
                risk=("risk", "max"), dq_tier=("dq_tier", "max"))
            g = g[g["units"] > 1e-6].sort_values("units", ascending=False, kind="stable")
            g["share"] = [f"{v:.1%}" for v in g["units"] / g.groupby("commodity")["units"].transform("sum")]
            tables["Suppliers — planned sourcing of key components (horizon)"] = g
    if catalog.PLAN_SUPPLIER_OUTAGE.exists(run_id, scenario_id, root):
        out = catalog.PLAN_SUPPLIER_OUTAGE.read(run_id, scenario_id, root)
        moved = out[(out["delta_units"].abs() > 0.5) | out["hit"].astype(bool)]
        tables["Suppliers — what the supplier outage moved (units over the horizon)"] = moved
    if kpis.get("supplier_outage_headline"):
        head["supplier_outage"] = kpis["supplier_outage_headline"]
    if "co2e_scope3_cat1_t" in kpis:
        head["co2e_scope3_cat1_t"] = kpis["co2e_scope3_cat1_t"]
    return tables, head
