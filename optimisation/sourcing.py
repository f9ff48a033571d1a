"""Risk- and CO2-aware sourcing of key components (issue 16, item 5): the allocation of each plant's
component need (battery packs in kWh, ...) across its qualified tier-1 suppliers, with capacity limits,
supplier outages, the suppliers' Scope 3 category 1 emissions in the CO2 budget and a risk cost.

Inputs (optional tables on ``PlanInputs``; both absent -> the model is unchanged):

- ``sourcing_options``: plant_id, supplier_id, commodity, capacity_per_week (in the commodity's unit, NaN
  = no limit), tco2e_per_unit (cradle-to-gate t CO2e per commodity unit: the supplier's accepted
  submission, else the average-data / spend-based fallback of Scope 3 category 1), optional country,
  price_eur_per_unit, risk (0..1, the supplier's propagated risk score), dq_tier, link_id.
  Written by ``suppliers.stage.supply_sourcing`` (catalog ``SOURCING_OPTIONS``).
- ``component_needs``: product_id, commodity, qty_per_unit (commodity units per vehicle built).

Columns ``y[p, s, c, t] >= 0`` (commodity units bought by plant p from supplier s in week t). Families:

- ``sourcing_need`` (p, c, t): sum_s y + short - sum_k need[k, c] x[p, k, t] = 0 (y is bought for use), for
  every (p, c) with at least one option (pairs without options are not modelled: their supply is no limit);
  ``short`` (column ``s_source``) is supply no qualified supplier delivers (spot, expedited), priced at
  ``sourcing_shortfall_penalty_eur_per_unit``: a last resort that keeps the plan feasible when operating
  rules (ramp-down, minimum output) cannot follow a sudden supply cut;
- ``sourcing_share_max`` (p, s, c, t), when the options have a ``max_share`` column: y <= max_share x the
  plant's need (a dual-sourcing policy);
- ``supplier_capacity`` (p, s, c, t): y <= capacity_per_week x capacity_pct(outages) / 100 (links with a
  capacity); its dual is the value of one more unit of that supplier's capacity (EUR per unit, <= 0);
- the CO2 budget rows gain b_p x tco2e_per_unit x y when ``scope3_cat1`` is in the budget scopes
  (declared in optimisation.emissions, like every scope);
- objective: price premium over the plant's cheapest qualified option of the commodity (the production
  cost already holds the standard component cost), + ``sourcing_risk_eur_per_unit`` x risk, + the carbon
  price x tco2e_per_unit when cat 1 is counted.

Outages (``ScenarioParams.supplier_outage``): each item names a supplier_id or a country (validated against
the options), a week range and capacity_pct; overlapping items take the lowest percentage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimisation.emissions import counts_cat1
from optimisation.inputs import InputError, _require_columns
from optimisation.model import Build, PlanModel, _week_mask

OPTION_COLUMNS = ("plant_id", "supplier_id", "commodity", "capacity_per_week", "tco2e_per_unit")
NEED_COLUMNS = ("product_id", "commodity", "qty_per_unit")
TABLE_COLUMNS = ["plant_id", "supplier_id", "commodity", "week", "units", "capacity_units", "tco2e",
                 "risk", "dq_tier", "cost_eur"]


def _options(b: Build) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    opt, need = b.inputs.sourcing_options, b.inputs.component_needs
    p = b.params
    if not p.use_sourcing or opt is None or need is None or opt.empty or need.empty:
        if p.supplier_outage:
            raise InputError("supplier_outage: the plan has no sourcing_options (run the supply stage, or give "
                             "the sourcing_options and component_needs tables)")
        return None
    _require_columns(opt, "sourcing_options", OPTION_COLUMNS)
    _require_columns(need, "component_needs", NEED_COLUMNS)
    opt = opt.copy()
    for c, d in (("country", ""), ("price_eur_per_unit", np.nan), ("risk", 0.0), ("dq_tier", 0), ("link_id", "")):
        if c not in opt:
            opt[c] = d
    if opt["tco2e_per_unit"].isna().any():
        bad = opt.loc[opt["tco2e_per_unit"].isna(), "supplier_id"].head(3).tolist()
        raise InputError(f"sourcing_options: tco2e_per_unit missing for supplier(s) {bad}")
    need = need[need["qty_per_unit"].astype(float) > 0]
    opt = opt[opt["plant_id"].isin(set(b.x["plant_id"])) & opt["commodity"].isin(set(need["commodity"]))]
    return opt.reset_index(drop=True), need.reset_index(drop=True)


def _outage_pct(opt: pd.DataFrame, params, n_t: int, upstream: pd.DataFrame | None = None) -> np.ndarray:
    """capacity fraction per option x week (n_opt, n_t) from ``params.supplier_outage``. An outage of the
    option's supplier (or its country) scales it by capacity_pct; an outage upstream (a tier 2+ supplier, or a
    country the option's inputs pass) by 1 - exposure x (1 - capacity_pct) (``sourcing_upstream``).
    Overlapping items take the lowest fraction."""
    pct = np.ones((len(opt), n_t))
    up = upstream if upstream is not None else pd.DataFrame(columns=["supplier_id", "node_id", "country",
                                                                     "exposure"])
    sids = set(opt["supplier_id"]) | set(up["node_id"].astype(str))
    countries = set(opt["country"].astype(str)) | set(up["country"].dropna().astype(str))
    for o in params.supplier_outage:
        if o.supplier_id is not None and o.supplier_id not in sids:
            raise InputError(f"supplier_outage: supplier_id {o.supplier_id!r} is not a supplier of any plant's "
                             f"key components at any tier (known tier-1: {sorted(set(opt['supplier_id']))[:5]}...)")
        if o.country is not None and o.country not in countries:
            raise InputError(f"supplier_outage: no supplier in country {o.country!r} supplies a plant's key "
                             f"components (countries: {sorted(countries)})")
        if o.supplier_id is not None:
            direct = (opt["supplier_id"] == o.supplier_id).to_numpy()
            hit = up[up["node_id"].astype(str) == o.supplier_id]
        else:
            direct = (opt["country"].astype(str) == o.country).to_numpy()
            hit = up[up["node_id"].astype(str) == f"country:{o.country}"]
        frac = np.where(direct, o.capacity_pct / 100.0, 1.0)
        if len(hit):
            e = hit.groupby("supplier_id")["exposure"].max().clip(0.0, 1.0)
            e_opt = e.reindex(opt["supplier_id"]).fillna(0.0).to_numpy()
            frac = np.minimum(frac, 1.0 - e_opt * (1.0 - o.capacity_pct / 100.0))
        weeks = _week_mask(n_t, o.from_week, o.to_week)
        pct[:, weeks] = np.minimum(pct[:, weeks], frac[:, None])
    return pct


def define_sourcing(b: Build) -> None:
    """Columns ``source`` and families ``sourcing_need`` / ``supplier_capacity``, plus the cat 1 terms of
    ``co2_budget``; the column frame is kept as ``b.cols.sourcing`` (None without options)."""
    b.cols.sourcing = None
    got = _options(b)
    if got is None:
        return
    opt, need = got
    n_t, p = b.n_t, b.params
    pct = _outage_pct(opt, p, n_t, b.inputs.sourcing_upstream)
    if opt.empty:
        return
    # columns y: one per option x week (option-major, then t)
    y = opt.loc[np.repeat(opt.index.to_numpy(), n_t)].reset_index(drop=True)
    y["t"] = np.tile(np.arange(n_t), len(opt))
    y["pct"] = pct.reshape(-1)
    y["cap"] = y["capacity_per_week"].astype(float) * y["pct"]
    price = y["price_eur_per_unit"].astype(float)
    cheapest = price.groupby([y["plant_id"], y["commodity"]]).transform("min")
    premium = (price - cheapest).fillna(0.0).to_numpy()
    y["b"] = b.x.drop_duplicates("plant_id").set_index("plant_id")["b"].reindex(y["plant_id"]).fillna(0.0).to_numpy()
    counted = counts_cat1(p)
    e = y["tco2e_per_unit"].to_numpy(float)
    y["e_budget"] = e if counted else 0.0
    cost = premium + p.sourcing_risk_eur_per_unit * y["risk"].fillna(0.0).to_numpy(float) \
        + p.carbon_price_eur_per_t * y["e_budget"].to_numpy(float)
    y["unit_cost_eur"] = cost
    y["unit_cost_excl_carbon_eur"] = cost - p.carbon_price_eur_per_t * y["e_budget"].to_numpy(float)
    y["col"] = b.cols.add("source", len(y), cost)
    # sourcing_need (p, c, t)
    keys = y[["plant_id", "commodity", "t"]].drop_duplicates().reset_index(drop=True)
    kpos = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys))
    ry = kpos.reindex(pd.MultiIndex.from_frame(y[["plant_id", "commodity", "t"]])).to_numpy(np.int64)
    xn = b.x[["plant_id", "product_id", "t", "col"]].merge(need, on="product_id")
    rx = kpos.reindex(pd.MultiIndex.from_frame(xn[["plant_id", "commodity", "t"]])).to_numpy(float)
    has = ~np.isnan(rx)
    # shortfall: units no qualified supplier delivers (spot / expedited buys), priced far above any vehicle's
    # value so that it is a last resort; it keeps the plan feasible when operating rules (ramp-down,
    # minimum output) cannot follow a sudden supply cut
    keys["short_col"] = b.cols.add("s_source", len(keys), p.sourcing_shortfall_penalty_eur_per_unit)
    b.rows.family("sourcing_need", len(keys), "==", 0.0,
                  np.concatenate([ry, rx[has].astype(np.int64), np.arange(len(keys))]),
                  np.concatenate([y["col"].to_numpy(), xn["col"].to_numpy()[has], keys["short_col"].to_numpy()]),
                  np.concatenate([np.ones(len(y)), -xn["qty_per_unit"].to_numpy(float)[has], np.ones(len(keys))]),
                  index=keys[["plant_id", "commodity", "t"]])
    # sourcing_share_max (p, s, c, t): y <= max_share x sum_k need_k x[p,k,t] (optional column max_share: a
    # dual-sourcing policy, e.g. no supplier above 70 % of a plant's packs)
    if "max_share" in y and y["max_share"].notna().any():
        ms = y["max_share"].astype(float).to_numpy()
        rows_s = np.flatnonzero(np.isfinite(ms) & (ms < 1.0))
        if len(rows_s):
            sel = y.iloc[rows_s][["plant_id", "commodity", "t"]].reset_index(drop=True)
            sel["_r"] = np.arange(len(rows_s))
            sel["_ms"] = ms[rows_s]
            xs = sel.merge(xn[["plant_id", "commodity", "t", "col", "qty_per_unit"]], on=["plant_id", "commodity", "t"])
            b.rows.family("sourcing_share_max", len(rows_s), "<=", 0.0,
                          np.concatenate([np.arange(len(rows_s)), xs["_r"].to_numpy()]),
                          np.concatenate([y["col"].to_numpy()[rows_s], xs["col"].to_numpy()]),
                          np.concatenate([np.ones(len(rows_s)), -(xs["_ms"] * xs["qty_per_unit"]).to_numpy(float)]),
                          index=y.iloc[rows_s][["plant_id", "supplier_id", "commodity", "t"]])
    # supplier_capacity (p, s, c, t)
    capped = np.flatnonzero(np.isfinite(y["cap"].to_numpy(float)))
    b.rows.family("supplier_capacity", len(capped), "<=", y["cap"].to_numpy(float)[capped], np.arange(len(capped)),
                  y["col"].to_numpy()[capped], np.ones(len(capped)),
                  index=y.iloc[capped][["plant_id", "supplier_id", "commodity", "t"]])
    # scope 3 cat 1 in the CO2 budget rows (one per period)
    if counted:
        fam = b.rows.families["co2_budget"]
        qpos = pd.Series(np.arange(len(b.periods)), index=b.periods["period"])
        per_t = b.x.drop_duplicates("t").set_index("t")["q"]
        row = qpos.reindex(per_t.reindex(y["t"]).to_numpy()).to_numpy(np.int64) + fam.first
        val = (y["b"] * y["e_budget"]).to_numpy(float)
        nz = np.abs(val) > 0
        b.rows.rows.append(row[nz])
        b.rows.cols.append(y["col"].to_numpy(np.int64)[nz])
        b.rows.vals.append(val[nz])
    b.cols.sourcing = y
    b.cols.sourcing_keys = keys


def sourcing_frame(model: PlanModel) -> pd.DataFrame | None:
    cols = getattr(model, "cols", None)
    return getattr(cols, "sourcing", None) if cols is not None else None


def sourcing_table(model: PlanModel, v: np.ndarray) -> pd.DataFrame:
    """Sourcing per plant x supplier x commodity x week: units bought, capacity after outages, t CO2e
    (cat 1, gross), risk, data-quality tier, objective cost (premium + risk + carbon)."""
    y = sourcing_frame(model)
    if y is None or y.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    yv = np.maximum(v[y["col"].to_numpy()], 0.0)
    return pd.DataFrame({
        "plant_id": y["plant_id"].to_numpy(), "supplier_id": y["supplier_id"].to_numpy(),
        "commodity": y["commodity"].to_numpy(), "week": model.weeks[y["t"].to_numpy()], "units": yv,
        "capacity_units": y["cap"].to_numpy(float), "tco2e": yv * y["tco2e_per_unit"].to_numpy(float),
        "risk": y["risk"].to_numpy(float), "dq_tier": y["dq_tier"].astype(int).to_numpy(),
        "cost_eur": yv * y["unit_cost_eur"].to_numpy(float)})


def sourcing_kpis(model: PlanModel, v: np.ndarray, k: dict, total: float) -> float:
    """Add the sourcing KPIs to ``k``; when cat 1 is a budget scope, add its t CO2e to the plan's totals
    (co2e_total_t, co2e_gross_t, co2_plan_t_by_period, co2e_t_by_plant). Returns the updated total."""
    y = sourcing_frame(model)
    if y is None or y.empty:
        return total
    yv = np.maximum(v[y["col"].to_numpy()], 0.0)
    e = yv * y["tco2e_per_unit"].to_numpy(float)
    eb = e * y["b"].to_numpy(float)
    k["co2e_scope3_cat1_t"] = float(eb.sum())
    k["co2e_scope3_cat1_gross_t"] = float(e.sum())
    k["sourcing_units_by_supplier"] = {str(a): float(c) for a, c in
                                       pd.Series(yv).groupby(y["supplier_id"].to_numpy()).sum().items()}
    risk = y["risk"].fillna(0.0).to_numpy(float)
    k["sourcing_risk_weighted"] = float(yv @ risk / yv.sum()) if yv.sum() > 0 else 0.0
    keys = getattr(model.cols, "sourcing_keys", None)
    if keys is not None and len(keys):
        short = np.maximum(v[keys["short_col"].to_numpy()], 0.0)
        k["sourcing_shortfall_units"] = float(short.sum())
        k["cost_sourcing_shortfall_eur"] = float(short.sum() * model.params.sourcing_shortfall_penalty_eur_per_unit)
        if "cost_total_eur" in k:
            k["cost_total_eur"] += k["cost_sourcing_shortfall_eur"]
    cap = y["cap"].to_numpy(float)
    k["supplier_capacity_binding"] = int(np.sum(np.isfinite(cap) & (yv >= cap - 1e-6 * np.maximum(1.0, cap))
                                                & (cap > 0)))
    if counts_cat1(model.params):
        total += float(eb.sum())
        k["co2e_total_t"] = total
        k["co2e_gross_t"] = k.get("co2e_gross_t", 0.0) + float(e.sum())
        k["co2e_outside_boundary_t"] = k["co2e_gross_t"] - total
        q = model.periods["period"].to_numpy()[0] if len(model.periods) == 1 else None
        per_t = model.x.drop_duplicates("t").set_index("t")["q"]
        by_q = pd.Series(eb).groupby(per_t.reindex(y["t"]).to_numpy() if q is None else np.full(len(y), q)).sum()
        k["co2_plan_t_by_period"] = {key: val + float(by_q.get(key, 0.0))
                                     for key, val in k.get("co2_plan_t_by_period", {}).items()}
        by_p = pd.Series(eb).groupby(y["plant_id"].to_numpy()).sum()
        k["co2e_t_by_plant"] = {key: val + float(by_p.get(key, 0.0))
                                for key, val in k.get("co2e_t_by_plant", {}).items()}
        if "cost_carbon_eur" in k:
            k["cost_carbon_eur"] += model.params.carbon_price_eur_per_t * float(e.sum())
            k["cost_total_eur"] = k.get("cost_total_eur", 0.0) + model.params.carbon_price_eur_per_t * float(e.sum())
    k["cost_sourcing_eur"] = float(yv @ y["unit_cost_excl_carbon_eur"].to_numpy(float))
    if "cost_total_eur" in k:
        k["cost_total_eur"] += k["cost_sourcing_eur"]
    return total


OUTAGE_COLUMNS = ["kind", "id", "hit", "units_without_outage", "units_with_outage", "delta_units"]


def _affected(opt: pd.DataFrame, params, upstream: pd.DataFrame | None = None) -> pd.DataFrame:
    """The options whose supplier, or whose supplier's inputs (upstream exposure), an outage touches."""
    pct = _outage_pct(opt, params, 1 + max(o.to_week or o.from_week for o in params.supplier_outage), upstream)
    return opt[(pct < 1.0 - 1e-12).any(axis=1)]


def outage_report(inputs, params, tables: dict, kpis: dict) -> None:
    """With ``supplier_outage``: re-solve the same scenario without the outages and add the table
    ``supplier_outage`` (per plant, product and market: units built / unmet with and without the outage,
    ``hit`` = the plant sources from an affected supplier, or the product / market depends on such a plant)
    and the KPIs ``supplier_outage_headline`` (what moved) and ``supplier_outage_cost_eur``."""
    from optimisation.kpis import compute_kpis
    from optimisation.model import build_model
    from optimisation.solve import solve

    if not params.supplier_outage or "production_plan" not in tables or tables["production_plan"].empty:
        return
    ref_params = params.model_copy(update={"supplier_outage": [], "scenario_id": f"{params.scenario_id}-ref"})
    ref = build_model(inputs, ref_params)
    res = solve(ref)
    if not res.has_solution:
        return
    from optimisation.kpis import plan_tables

    v = np.fromiter(((c.varValue or 0.0) for c in ref.variables), float, count=len(ref.variables))
    rt = plan_tables(ref, v)
    rk = compute_kpis(ref, res, v)
    opt = inputs.sourcing_options
    opt = opt if "country" in opt else opt.assign(country="")
    hit_plants = set(_affected(opt, params, inputs.sourcing_upstream)["plant_id"])
    pp = inputs.plant_products
    hit_products = set(pp.loc[pp["plant_id"].isin(hit_plants), "product_id"])
    hit_markets = set(inputs.lanes.loc[inputs.lanes["plant_id"].isin(hit_plants), "market_id"])
    frames = []
    for kind, table, key in (("plant", "production_plan", "plant_id"), ("product", "production_plan", "product_id"),
                             ("market_unmet", "unmet", "market_id")):
        a = rt[table].groupby(key)["units"].sum()
        b = tables[table].groupby(key)["units"].sum()
        idx = a.index.union(b.index)
        hit = {"plant": hit_plants, "product": hit_products, "market_unmet": hit_markets}[kind]
        frames.append(pd.DataFrame({"kind": kind, "id": idx.astype(str), "hit": idx.isin(list(hit)),
                                    "units_without_outage": a.reindex(idx, fill_value=0.0).to_numpy(),
                                    "units_with_outage": b.reindex(idx, fill_value=0.0).to_numpy()}))
    out = pd.concat(frames, ignore_index=True)
    out["delta_units"] = out["units_with_outage"] - out["units_without_outage"]
    tables["supplier_outage"] = out[OUTAGE_COLUMNS]
    what = ", ".join(o.supplier_id or f"country {o.country}" for o in params.supplier_outage)
    pl = out[(out["kind"] == "plant") & (out["delta_units"].abs() > 0.5)].sort_values("delta_units")
    moves = "; ".join(f"{r.id} {r.delta_units:+,.0f}" for r in pl.itertuples()) or "no production moved"
    d_unmet = float(kpis.get("unmet_units", 0.0) - rk.get("unmet_units", 0.0))
    kpis["supplier_outage_headline"] = (
        f"Supplier outage ({what}): plants hit {sorted(hit_plants)}; production moved: {moves} units; "
        f"unmet demand {d_unmet:+,.0f} units; cost {kpis.get('objective_eur', 0.0) - rk['objective_eur']:+,.0f} EUR"
        + (f"; {kpis['sourcing_shortfall_units']:,.0f} component units unsourced (spot, priced as a last resort)"
           if kpis.get("sourcing_shortfall_units", 0.0) > 0.5 else ""))
    kpis["supplier_outage_unmet_delta_units"] = d_unmet
    kpis["supplier_outage_cost_eur"] = float(kpis.get("objective_eur", 0.0) - rk["objective_eur"])
    kpis["supplier_outage_plants_hit"] = float(len(hit_plants))
