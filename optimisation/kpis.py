"""Plan tables and KPIs read back from a solved PlanModel, and the conflict diagnosis.

Tables (all weeks are Mondays):
- production_plan: plant_id, product_id, week, units (every eligible plant-product-week, zeros included),
  current_units (mean weekly production of the current plan, when production_history is given)
- flows: lane_id, plant_id, market_id, mode, product_id, week (departure), arrival_week, units, tonnes,
  tco2e, cost_eur (rows with units > 1e-9 only)
- unmet: product_id, market_id, week, demand_units (net of in-transit pipeline), units (unmet)
- kpis: kpi, key, value, text (long format: one row per scalar KPI or per key of a breakdown)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.tables import MODES
from optimisation.emissions import counts_transport, plant_scopes
from optimisation.model import PlanModel
from optimisation.solve import SolveResult
from optimisation.sourcing import sourcing_kpis, sourcing_table

TOL = 1e-6


def _values(model: PlanModel) -> np.ndarray:
    return np.fromiter(((v.varValue or 0.0) for v in model.variables), dtype=float, count=len(model.variables))


def plan_tables(model: PlanModel, values: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    v = _values(model) if values is None else values
    weeks = model.weeks
    x, f, u = model.x, model.f, model.u
    xv = np.maximum(v[x["col"].to_numpy()], 0.0)
    plan = pd.DataFrame({"plant_id": x["plant_id"].to_numpy(), "product_id": x["product_id"].to_numpy(),
                         "week": weeks[x["t"].to_numpy()], "units": xv})
    if model.current_plan is not None:  # the current weekly plan beside the new one, for comparison
        plan = plan.merge(model.current_plan.rename(columns={"units_per_week": "current_units"}),
                          on=["plant_id", "product_id"], how="left")
        plan["current_units"] = plan["current_units"].fillna(0.0)
    fv = np.maximum(v[f["col"].to_numpy()], 0.0)
    keep = fv > 1e-9
    fk = f[keep]
    flows = pd.DataFrame({"lane_id": fk["lane_id"].to_numpy(), "plant_id": fk["plant_id"].to_numpy(),
                          "market_id": fk["market_id"].to_numpy(), "mode": fk["mode"].to_numpy(),
                          "product_id": fk["product_id"].to_numpy(), "week": weeks[fk["t"].to_numpy()],
                          "arrival_week": weeks[0] + pd.to_timedelta(7 * fk["t_arrive"].to_numpy(), unit="D"),
                          "units": fv[keep]})
    flows["tonnes"] = flows["units"] * fk["tonnes_per_unit"].to_numpy()
    flows["tco2e"] = flows["units"] * fk["e_transport"].to_numpy()
    flows["cost_eur"] = flows["units"] * fk["cost_eur"].to_numpy()
    uv = np.maximum(v[u["col"].to_numpy()], 0.0)
    unmet = pd.DataFrame({"product_id": u["product_id"].to_numpy(), "market_id": u["market_id"].to_numpy(),
                          "week": weeks[u["t"].to_numpy()], "demand_units": u["demand"].to_numpy(),
                          "units": uv})
    return {"production_plan": plan, "flows": flows, "unmet": unmet, "stock": stock_table(model, v),
            "constraints": constraint_table(model), "sourcing": sourcing_table(model, v),
            "shifts": shift_table(model, v, xv)}


def shift_table(model: PlanModel, v: np.ndarray, xv: np.ndarray) -> pd.DataFrame:
    """Per plant x week with a shift pattern: shift-weeks run (fractional in LP mode), the most there are, the
    output, and the fixed emissions that follow the shifts (t CO2e at 100 %, budget scopes)."""
    S = _shift_frame(model)
    n = np.maximum(v[S["col"].to_numpy(int)], 0.0)
    out = pd.DataFrame({"plant_id": S["plant_id"].to_numpy(), "week": model.weeks[S["t"].to_numpy(int)]
                        if len(S) else pd.DatetimeIndex([]), "shifts_run": n,
                        "shifts_max": S["shifts_max"].to_numpy(float) if len(S) else np.zeros(0)})
    prod = pd.Series(xv).groupby([model.x["plant_id"].to_numpy(), model.x["t"].to_numpy()]).sum()
    out["output_units"] = prod.reindex(pd.MultiIndex.from_arrays([S["plant_id"].to_numpy(), S["t"].to_numpy(int)
                                                                  if len(S) else np.zeros(0, int)])
                                       ).fillna(0.0).to_numpy()
    out["shift_following_tco2e"] = n * S["e_budget"].to_numpy(float)
    return out


def _shift_frame(model: PlanModel) -> pd.DataFrame:
    """The model's shift columns with their per-shift-week emissions (an empty frame without shifts)."""
    sh = model.shifts
    if sh is None or sh.empty or "e_budget" not in sh:
        return pd.DataFrame({c: np.zeros(0, np.int64 if c in ("col", "t") else float) for c in
                             ("col", "t", "b", "e_budget", "e_scope1", "e_scope2_market", "e_scope2_location",
                              "shifts_max")}
                            ).assign(q=pd.Series([], dtype=object), plant_id=pd.Series([], dtype=object))
    return sh


def compute_kpis(model: PlanModel, result: SolveResult, values: np.ndarray | None = None) -> dict[str, Any]:
    """KPIs of a solved model (cost split, CO2e by scope/plant/mode, service, utilisation, CO2 dual,
    diagnosis). Without a solution only status and timings are filled in."""
    p = model.params
    k: dict[str, Any] = {
        "status": result.status, "solver": result.solver, "solve_seconds": result.solve_seconds,
        "build_seconds": model.build_seconds, "n_variables": model.num_variables,
        "n_constraints": model.prob.toRustModel().num_constraints, "horizon_weeks": len(model.weeks),
        "first_week": str(model.weeks[0].date()), "scenario_id": p.scenario_id,
        "co2_budget_t": model.co2_budget_t, "output_target_units": model.output_target_units,
        "carbon_price_eur_per_t": p.carbon_price_eur_per_t,
    }
    if not result.has_solution:
        k["diagnosis"] = {"missed": [], "message": f"no plan: solver status {result.status}"}
        return k
    v = _values(model) if values is None else values
    x, f, u = model.x, model.f, model.u
    xv, fv, uv = (np.maximum(v[d["col"].to_numpy()], 0.0) for d in (x, f, u))
    s_q = np.maximum(v[model.periods["s_co2_col"].to_numpy()], 0.0)
    s_co2 = float(s_q.sum())
    s_out = float(max(v[model.s_out_col], 0.0)) if model.s_out_col is not None else 0.0
    L = model.levers if model.levers is not None else pd.DataFrame(columns=["col", "b", "d_scope1",
                                                                            "d_scope2_market", "q"])
    lv = np.maximum(v[L["col"].to_numpy(int)], 0.0)
    S = _shift_frame(model)  # shift-weeks run carry the shift-following part of the fixed emissions
    nv = np.maximum(v[S["col"].to_numpy(int)], 0.0)

    scopes = plant_scopes(p)
    em, gross = {}, {}
    for w, out in ((None, gross), ("b", em)):  # 100 % and on the budget's boundary
        bx = x["b"].to_numpy() if w else 1.0
        fxd = model.fixed.assign(w=model.fixed["fixed_tco2e"] * (model.fixed["b"] if w else 1.0))
        fx = fxd.groupby("scope")["w"].sum()
        bl = L["b"].to_numpy(float) if w else 1.0
        for sc in ("scope1", "scope2_market", "scope2_location"):
            out[sc] = float((xv * bx) @ x[f"e_{sc}"].to_numpy() + fx.get(sc, 0.0))
        bs = S["b"].to_numpy(float) if w else 1.0
        for sc in ("scope1", "scope2_market", "scope2_location"):
            out[sc] += float((nv * bs) @ S[f"e_{sc}"].to_numpy(float))
        out["scope1"] += float((lv * bl) @ L["d_scope1"].to_numpy(float))
        out["scope2_market"] += float((lv * bl) @ L["d_scope2_market"].to_numpy(float))
        out["scope3"] = float((fv * (f["b"].to_numpy() if w else 1.0)) @ f["e_transport"].to_numpy())
        out["total"] = sum(out[sc] for sc in scopes) + (out["scope3"] if counts_transport(p) else 0.0)
    scope1, scope2m, scope2l, scope3, total = (em[c] for c in ("scope1", "scope2_market", "scope2_location",
                                                               "scope3", "total"))
    cp = p.carbon_price_eur_per_t
    k.update({
        "objective_eur": result.objective_eur,
        "cost_production_eur": float(xv @ x["cost_eur"].to_numpy()),
        "cost_freight_eur": float(fv @ f["cost_eur"].to_numpy()),
        "cost_levers_eur": float(lv @ L["price_eur_per_mwh"].to_numpy(float)) if len(L) else 0.0,
        "cost_carbon_eur": float(cp * gross["total"]),
        "cost_unmet_penalty_eur": float(uv @ u["penalty_eur"].to_numpy()),
        "cost_slack_penalty_eur": float(s_q @ model.periods["excess_price_eur_per_t"].to_numpy(float)
                                        + p.output_slack_penalty_eur_per_unit * s_out),
        "co2e_total_t": total, "co2e_scope1_t": scope1, "co2e_scope2_market_t": scope2m,
        "co2e_scope2_location_t": scope2l, "co2e_scope3_transport_t": scope3,
        "co2e_fixed_t": model.co2_fixed_t + float(nv @ (S["b"] * S["e_budget"]).to_numpy(float)),
        "co2e_shift_following_t": float(nv @ (S["b"] * S["e_budget"]).to_numpy(float)),
        "co2e_gross_t": gross["total"],
        "co2e_outside_boundary_t": gross["total"] - total, "boundary": model.boundary,
        "budget_scopes": ",".join(p.budget_scopes),
    })
    k["cost_total_eur"] = float(k["cost_production_eur"] + k["cost_freight_eur"] + k["cost_levers_eur"]
                                + k["cost_carbon_eur"] + k["cost_unmet_penalty_eur"] + k["cost_slack_penalty_eur"])
    if model.s_net_col is not None:  # net target: removals are a separate quantity, scope 1-3 stay as they are
        R = model.removals
        rv = np.maximum(v[R["col"].to_numpy(int)], 0.0) if len(R) else np.zeros(0)
        s_net = float(max(v[model.s_net_col], 0.0))
        k["removals_t"] = float(rv.sum())
        k["cost_removals_eur"] = float(rv @ R["price_eur_per_t"].to_numpy(float)) if len(R) else 0.0
        k["co2e_net_t"] = total - k["removals_t"]
        k["net_target_t"] = float(p.net_target_t)
        k["net_target_shortfall_t"] = s_net
        net_pen = s_net * float(model.periods["excess_price_eur_per_t"].max())
        k["cost_slack_penalty_eur"] += net_pen
        k["cost_total_eur"] += k["cost_removals_eur"] + net_pen
        fam = model.families.get("net_target")
        pi = model.constraints[fam.first].pi if fam is not None else None
        k["net_target_price_eur_per_t"] = float(-pi) if pi is not None else 0.0
    k["objective_ex_penalty_eur"] = float(k["objective_eur"] - k["cost_slack_penalty_eur"]) \
        if k["objective_eur"] is not None else None
    k["co2_excess_price_eur_per_t"] = float(model.periods["excess_price_eur_per_t"].max())
    k["co2_excess_price_basis"] = str(model.periods["excess_price_basis"].iloc[0])
    if len(L):
        k["lever_mwh_by_lever"] = {str(a): float(b) for a, b in pd.Series(lv).groupby(L["lever"].to_numpy()).sum(
            ).items()}
        k["lever_abated_t_by_lever"] = {str(a): float(-b) for a, b in pd.Series(
            lv * L["b"].to_numpy(float) * L["d_budget"].to_numpy(float)).groupby(L["lever"].to_numpy()).sum().items()}
    # per budget period: plan, target, price
    per = model.periods
    plan_q = (pd.Series(xv * x["b"].to_numpy() * x["e_budget"].to_numpy()).groupby(x["q"].to_numpy()).sum()
              .add(pd.Series(fv * f["b"].to_numpy() * f["e_budget"].to_numpy()).groupby(f["q"].to_numpy()).sum(),
                   fill_value=0.0))
    if len(L):
        plan_q = plan_q.add(pd.Series(lv * L["b"].to_numpy(float) * L["d_budget"].to_numpy(float)).groupby(
            L["q"].to_numpy()).sum(), fill_value=0.0)
    if len(S):
        plan_q = plan_q.add(pd.Series(nv * (S["b"] * S["e_budget"]).to_numpy(float)).groupby(S["q"].to_numpy()).sum(),
                            fill_value=0.0)
    plan_q = plan_q.reindex(per["period"]).fillna(0.0) + per["fixed_tco2e"].to_numpy()
    k["co2_plan_t_by_period"] = {str(q): float(val) for q, val in plan_q.items()}
    if model.co2_budget_t is not None:
        k["co2_target_t_by_period"] = {str(q): float(b) for q, b in zip(per["period"], per["budget_t"], strict=True)}
        pis = [r.pi for r in model.budget_rows]
        k["co2_price_eur_per_t_by_period"] = {str(q): float(-pi) if pi is not None else 0.0
                                              for q, pi in zip(per["period"], pis, strict=True)}
        k["co2_excess_t_by_period"] = {str(q): float(sv) for q, sv in zip(per["period"], s_q, strict=True)}
        k["on_track"] = bool(s_co2 <= TOL * max(1.0, total))
        k["off_track_t"] = s_co2
    # breakdowns
    prod_e = xv * x["b"].to_numpy() * x["e_budget"].to_numpy()
    by_plant = pd.Series(prod_e).groupby(x["plant_id"].to_numpy()).sum()
    fxd = model.fixed[model.fixed["scope"].isin(scopes)]
    fx = (fxd["fixed_tco2e"] * fxd["b"]).groupby(fxd["plant_id"]).sum()
    by_plant = by_plant.add(fx, fill_value=0.0)
    if len(L):
        by_plant = by_plant.add(pd.Series(lv * L["b"].to_numpy(float) * L["d_budget"].to_numpy(float)).groupby(
            L["plant_id"].to_numpy()).sum(), fill_value=0.0)
    if len(S):
        by_plant = by_plant.add(pd.Series(nv * (S["b"] * S["e_budget"]).to_numpy(float)).groupby(
            S["plant_id"].to_numpy()).sum(), fill_value=0.0)
    k["co2e_t_by_plant"] = {str(a): float(b) for a, b in by_plant.items()}
    by_mode = pd.Series(fv * f["e_transport"].to_numpy()).groupby(f["mode"].to_numpy()).sum()
    # every mode gets a figure, 0 when the plan uses none of it (a missing metric reads as blank in MLflow)
    tonnes = pd.Series(fv * f["tonnes_per_unit"].to_numpy()).groupby(f["mode"].to_numpy()).sum()
    k["co2e_t_by_mode"] = {m: float(by_mode.get(m, 0.0)) for m in _modes(by_mode.index)}
    k["tonnes_by_mode"] = {m: float(tonnes.get(m, 0.0)) for m in _modes(tonnes.index)}
    out = float(xv.sum())
    dem = model.demand
    demand_total = float(dem["demand"].sum())
    unmet_total = float(uv.sum())
    k.update({"output_units": out, "demand_units": demand_total, "pipeline_units": float(dem["pipeline"].sum()),
              "unmet_units": unmet_total,
              "service_level": 1.0 - unmet_total / demand_total if demand_total > 0 else 1.0})
    k.update(_stock_kpis(model, v, xv))
    dem_m = dem.groupby("market_id")["demand"].sum()
    unmet_m = pd.Series(uv).groupby(u["market_id"].to_numpy()).sum().reindex(dem_m.index, fill_value=0.0)
    k["service_level_by_market"] = {str(m): float(1.0 - unmet_m[m] / dem_m[m]) if dem_m[m] > 0 else 1.0
                                    for m in dem_m.index}
    prod_p = pd.Series(xv).groupby(x["plant_id"].to_numpy()).sum()
    cap_p = model.capacity.groupby("plant_id")["capacity_units"].sum()
    k["utilisation_by_plant"] = {str(pl): float(prod_p.get(pl, 0.0) / c) if c > 0 else 0.0
                                 for pl, c in cap_p.items()}
    k["output_units_by_plant"] = {str(a): float(b) for a, b in prod_p.items()}
    k["capacity_units_by_plant"] = {str(pl): float(c) for pl, c in cap_p.items()}
    # CO2 dual: on a minimisation the <= budget row's pi is <= 0; MAC = -pi (EUR per t CO2e)
    pi = model.co2_row.pi
    binding = model.co2_budget_t is not None and pi is not None
    k["co2_mac_eur_per_t"] = float(-pi) if binding else 0.0
    if model.shifts is not None and len(model.shifts):
        n = v[model.shifts["col"].to_numpy()]
        k["shift_weeks"] = float(n.sum())
        k["operating_mode"] = p.operating_mode
        if model.mip is not None:
            k.update({key: val for key, val in model.mip.items()})
            gap = model.mip["mip_gap"]
            # CBC through PuLP reports no dual bound: the gap is then only known to be within CBC's limit
            k["mip_gap_pct"] = 100.0 * gap if gap is not None else None
            if gap is None:
                k["mip_gap_note"] = (f"CBC: gap within its limit of {100.0 * model.mip['mip_gap_limit']:.2f} % "
                                     "(no dual bound reported)")
            k["duals_note"] = "duals conditional on the shift pattern (fixed-shift LP)"
        else:
            k["lp_relaxation_note"] = ("shifts relaxed to fractions: shift cost and capacity scale linearly; "
                                       "error below one shift-week per plant-week")
    total = sourcing_kpis(model, v, k, total)  # issue 16: component sourcing, cat 1 in the totals
    k["co2_budget_excess_t"] = s_co2
    k["output_shortfall_units"] = s_out
    k["diagnosis"] = diagnose(model, result, total, out, s_co2, s_out, unmet_total)
    return k


def _block(model: PlanModel, v: np.ndarray, name: str) -> np.ndarray:
    cols = model.cols.block(name) if model.cols is not None else np.zeros(0, int)
    return np.maximum(v[cols], 0.0)


def _stock_kpis(model: PlanModel, v: np.ndarray, xv: np.ndarray) -> dict[str, Any]:
    """Stock, backlog, tail and operating-rule figures (docs/OPTIMISATION.md)."""
    x, u = model.x, model.u
    n_t = len(model.weeks)
    out: dict[str, Any] = {}
    if "stock_col" not in x:
        return out
    stock = np.maximum(v[x["stock_col"].to_numpy()], 0.0)
    last = (x["t"] == n_t - 1).to_numpy()
    mstock = np.maximum(v[u["mstock_col"].to_numpy()], 0.0)
    out["opening_stock_units"] = float(model.i0.sum())
    out["stock_end_units"] = float(stock[last].sum())
    out["market_stock_end_units"] = float(mstock[(u["t"] == n_t - 1).to_numpy()].sum())
    out["pipeline_discarded_units"] = 0.0  # market_balance is an equality: arrivals go to market stock
    out["backlog_unit_weeks"] = float(np.maximum(v[u["backlog_col"].to_numpy()], 0.0).sum()) if "backlog_col" in u \
        else 0.0
    tail = model.tail
    out["tail_demand_units"] = float(tail["demand"].sum()) if tail is not None and len(tail) else 0.0
    out["tail_unmet_units"] = float(np.maximum(v[tail["col"].to_numpy()], 0.0).sum()) if out["tail_demand_units"] \
        else 0.0
    out["min_util_shortfall_units"] = float(_block(model, v, "s_min").sum())
    out["terminal_stock_shortfall_units"] = float(_block(model, v, "s_term").sum())
    if model.rules is not None:
        out["min_utilisation_by_plant"] = {str(p): float(r) for p, r in model.rules["umin"].items() if r > 0}
    by_week = pd.Series(xv).groupby(x["t"].to_numpy()).sum()
    mean = float(by_week.mean()) if len(by_week) else 0.0
    out["output_last4_max_dev_pct"] = float(100 * np.abs(by_week.iloc[-4:] / mean - 1).max()) if mean > 0 else 0.0
    return out


def diagnose(model: PlanModel, result: SolveResult, co2: float, output: float, s_co2: float, s_out: float,
             unmet: float) -> dict[str, Any]:
    """Which soft target is missed, and by how much (the slacks are priced, so the plan always returns)."""
    missed: list[dict[str, Any]] = []
    msgs: list[str] = []
    if s_co2 > TOL and model.co2_budget_t is not None:
        missed.append({"target": "co2_budget", "missed_by": s_co2, "unit": "t CO2e", "target_value":
                       model.co2_budget_t, "achieved": co2})
        msgs.append(f"CO2 budget of {model.co2_budget_t:,.1f} t missed by {s_co2:,.1f} t CO2e "
                    f"(plan emits {co2:,.1f} t)")
    if s_out > TOL and model.output_target_units is not None:
        missed.append({"target": "output_target", "missed_by": s_out, "unit": "units",
                       "target_value": model.output_target_units, "achieved": output})
        msgs.append(f"output target of {model.output_target_units:,.0f} units missed by {s_out:,.1f} units "
                    f"(plan builds {output:,.1f})")
    conflict = bool(missed) and model.co2_budget_t is not None and model.output_target_units is not None
    if conflict:
        msgs.insert(0, "CO2 budget and output target conflict")
    # every target is stated, met or not, so the message never contradicts the figures beside it
    if model.co2_budget_t is None:
        msgs.append("no CO2 budget")
    elif not (s_co2 > TOL):
        msgs.append(f"CO2 budget met: plan emits {co2:,.1f} of {model.co2_budget_t:,.1f} t CO2e")
    if model.output_target_units is None:
        msgs.append("no output target")
    elif not (s_out > TOL):
        msgs.append(f"output target met: {output:,.0f} of {model.output_target_units:,.0f} units built")
    demand = float(model.demand["demand"].sum())
    if unmet > TOL:
        level = f" (service level {1.0 - unmet / demand:.1%})" if demand > 0 else ""
        msgs.append(f"{unmet:,.1f} units of demand unmet{level}: lost sales are priced in the objective "
                    "(unmet-demand penalty), not a target")
    else:
        msgs.append("all demand met")
    if result.status != "optimal":
        msgs.append(f"solver status {result.status}: the plan is not proven optimal")
    return {"conflict": conflict, "missed": missed, "message": "; ".join(msgs)}


#: above this many rows the constraints table holds one aggregate row per family
CONSTRAINT_ROWS_MAX = 200_000
CONSTRAINT_COLUMNS = ["family", "row", "key", "sense", "rhs", "activity", "dual", "slack", "n_rows", "n_binding",
                      "dual_min", "dual_max"]


def _row_keys(model: PlanModel, index: pd.DataFrame | None, n: int) -> np.ndarray:
    if index is None or index.empty:
        return np.full(n, "", dtype=object)
    parts = []
    for c in index.columns:
        col = index[c]
        if c == "t":  # week of the row (weeks after the horizon continue the calendar)
            col = pd.Series(model.weeks[0] + pd.to_timedelta(7 * col.to_numpy(int), unit="D")).dt.strftime("%Y-%m-%d")
        parts.append(col.astype(str).to_numpy(dtype=object))
    out = parts[0]
    for p in parts[1:]:
        out = out + "|" + p
    return out


def constraint_table(model: PlanModel) -> pd.DataFrame:
    """One row per constraint (family, row number in the family, key, sense, rhs, activity, dual, slack),
    or one aggregate row per family when the model has more than CONSTRAINT_ROWS_MAX rows. The dual is the
    change of the objective (EUR) per unit of RHS: for a <= row of a minimisation it is <= 0."""
    mx = model.matrix
    n = len(mx["rhs"])
    if model.row_dual is not None and len(model.row_dual) == n:
        dual, act = model.row_dual, model.row_activity
    else:  # CBC: read back from PuLP
        dual = np.array([c.pi if c.pi is not None else np.nan for c in model.constraints], float)
        slack = np.array([c.slack if c.slack is not None else np.nan for c in model.constraints], float)
        act = np.where(mx["sense"] == "<=", mx["rhs"] - slack, mx["rhs"] + slack)
    rhs = mx["rhs"].copy()
    for row in (*model.budget_rows, model.output_row):  # the rows the API edits
        if row is not None:
            rhs[row.id] = -row.constant
    slack = np.where(mx["sense"] == "<=", rhs - act, act - rhs)
    binding = np.abs(slack) <= 1e-6 * np.maximum(1.0, np.abs(rhs))
    frames = []
    for fam in model.families.values():
        sl = slice(fam.first, fam.first + fam.n)
        d = dual[sl]
        if n <= CONSTRAINT_ROWS_MAX:
            frames.append(pd.DataFrame({
                "family": fam.name, "row": np.arange(fam.n), "key": _row_keys(model, fam.index, fam.n),
                "sense": fam.sense, "rhs": rhs[sl], "activity": act[sl], "dual": d, "slack": slack[sl],
                "n_rows": 1, "n_binding": binding[sl].astype(int), "dual_min": d, "dual_max": d}))
        else:
            frames.append(pd.DataFrame({
                "family": [fam.name], "row": [-1], "key": [f"{fam.n} rows"], "sense": [fam.sense],
                "rhs": [float(rhs[sl].sum())], "activity": [float(act[sl].sum())],
                "dual": [float(d[np.argmax(np.abs(d))]) if fam.n else 0.0], "slack": [float(slack[sl].sum())],
                "n_rows": [fam.n], "n_binding": [int(binding[sl].sum())], "dual_min": [float(d.min())],
                "dual_max": [float(d.max())]}))
    if not frames:
        return pd.DataFrame(columns=CONSTRAINT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[CONSTRAINT_COLUMNS]


def stock_table(model: PlanModel, values: np.ndarray | None = None) -> pd.DataFrame:
    """Stock and backlog per week: kind (plant_stock, market_stock, backlog), location (plant or market),
    product_id, week, units (rows with units > 1e-9 only)."""
    v = _values(model) if values is None else values
    x, u, weeks = model.x, model.u, model.weeks
    frames = []
    for kind, frame, loc, col in (("plant_stock", x, "plant_id", "stock_col"),
                                  ("market_stock", u, "market_id", "mstock_col"),
                                  ("backlog", u, "market_id", "backlog_col")):
        if col not in frame:
            continue
        val = v[frame[col].to_numpy()]
        keep = val > 1e-9
        frames.append(pd.DataFrame({"kind": kind, "location": frame.loc[keep, loc].to_numpy(),
                                    "product_id": frame.loc[keep, "product_id"].to_numpy(),
                                    "week": weeks[frame.loc[keep, "t"].to_numpy()], "units": val[keep]}))
    cols = ["kind", "location", "product_id", "week", "units"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def kpi_table(kpis: dict[str, Any]) -> pd.DataFrame:
    """Long KPI table: kpi, key, value (float), text (str)."""
    rows: list[tuple[str, str, float, str]] = []
    for name, val in kpis.items():
        if name == "diagnosis":
            rows.append(("diagnosis", "", np.nan, val["message"]))
            for m in val["missed"]:
                rows.append(("missed_by", m["target"], float(m["missed_by"]), m["unit"]))
        elif isinstance(val, dict):
            rows += [(name, str(a), float(b), "") for a, b in val.items()]
        elif isinstance(val, (int, float, np.floating)) and not isinstance(val, bool):
            rows.append((name, "", float(val), ""))
        else:
            rows.append((name, "", np.nan, "" if val is None else str(val)))
    return pd.DataFrame(rows, columns=["kpi", "key", "value", "text"])


def scalar_metrics(kpis: dict[str, Any]) -> dict[str, float]:
    """Numeric scalar KPIs (for MLflow metrics), plus breakdowns as ``name.key``."""
    out: dict[str, float] = {}
    for name, val in kpis.items():
        if isinstance(val, bool) or val is None:
            continue
        if isinstance(val, (int, float, np.floating)):
            out[name] = float(val)
        elif isinstance(val, dict) and name != "diagnosis":
            for a, b in val.items():
                key = "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in f"{name}.{a}")
                out[key] = float(b)
    return out


def _modes(used) -> list[str]:
    """The canonical freight modes, then any other mode the lanes use."""
    return list(MODES) + sorted(str(m) for m in used if str(m) not in MODES)
