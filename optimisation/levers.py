"""Abatement levers as priced decisions, the marginal abatement cost (MAC) curve of a plan, and which lever
sets the CO2 shadow price.

Lever columns (one per plant x lever x week, activity in MWh):
- ``eac`` / ``ppa`` (table renewable_supply): MWh of renewable electricity; abates rho_p - f per MWh of
  market-based scope 2 (rho_p = the plant's residual-mix factor, else its grid factor; f = the instrument's).
- ``electric_boiler`` / ``heat_pump`` / ``biomethane`` (table heat_options): MWh of natural gas replaced;
  scope 1 falls by eps_gas - residual, market-based scope 2 rises by ratio x rho_p. Options with no net
  abatement on a plant's grid are left out (listed in the MAC curve as non-abating).
Removals/offsets (table removal_offers) are not scope 1-3 levers: they only enter a net target row.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from optimisation.inputs import PlanInputs, _pick_factor_kg_per_kwh

log = logging.getLogger(__name__)

LEVER_COLUMNS = ["lever", "plant_id", "market", "t", "year", "price_eur_per_mwh", "d_scope1", "d_scope2_market",
                 "elec_ratio", "kind"]
LABEL = {"eac": "EACs", "ppa": "PPA power", "electric_boiler": "electric boilers", "heat_pump": "heat pumps",
         "biomethane": "biomethane"}


def plant_factors(inputs: PlanInputs, plant_ids) -> pd.DataFrame:
    """rho (market-based t CO2e/MWh of uncovered electricity: residual mix, else grid) and eps_gas (t/MWh of
    natural gas) per plant, from the emission-factor library (kg/kWh = t/MWh)."""
    ef = inputs.emission_factors
    plants = inputs.plants.set_index("plant_id")
    rows = []
    for p in plant_ids:
        country = plants.loc[p, "country"]
        region = plants.loc[p, "grid_region"] if "grid_region" in plants else None
        rho = _pick_factor_kg_per_kwh(ef, "electricity_residual_mix", [country])
        if rho is None:
            rho = _pick_factor_kg_per_kwh(ef, "electricity_grid",
                                          [r for r in (region, country, "GLOBAL") if isinstance(r, str) and r])
        gas = _pick_factor_kg_per_kwh(ef, "natural_gas", [country, "GLOBAL"])
        rows.append((p, country, np.nan if rho is None else rho, np.nan if gas is None else gas))
    return pd.DataFrame(rows, columns=["plant_id", "market", "rho", "eps_gas"]).set_index("plant_id")


def lever_frame(inputs: PlanInputs, params, weeks: pd.DatetimeIndex, plant_ids) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                        pd.DataFrame]:
    """(levers: one row per plant x lever x week with its per-MWh scope changes, availability: one row per
    lever x market x year with the MWh the horizon may use, non_abating: options left out)."""
    enabled = set(params.levers_enabled)
    fac = plant_factors(inputs, plant_ids)
    wk = pd.DataFrame({"t": np.arange(len(weeks)), "year": weeks.year.to_numpy()})
    frames, avail, dropped = [], [], []
    price_k, avail_k = params.lever_price_pct / 100.0, params.lever_availability_pct / 100.0
    weeks_in_year = wk.groupby("year")["t"].count()
    rs = inputs.renewable_supply
    if rs is not None and len(rs) and enabled & {"eac", "ppa"}:
        rs = rs.assign(lever=rs["instrument"].str.lower())
        rs = rs[rs["lever"].isin(enabled) & rs["year"].isin(weeks_in_year.index)]
        pl = fac.reset_index().dropna(subset=["rho"])
        m = pl.merge(rs, on="market").merge(wk, on="year")
        m["d_scope2_market"] = -(m["rho"] - m["factor_kg_per_kwh"])
        m = m[m["d_scope2_market"] < 0]
        m = m.assign(d_scope1=0.0, elec_ratio=0.0, kind="renewable", price_eur_per_mwh=m["price_eur_per_mwh"] * price_k)
        frames.append(m[LEVER_COLUMNS])
        a = rs.assign(avail_mwh=rs["available_mwh"] * avail_k * rs["year"].map(weeks_in_year) / 52.0)
        avail.append(a[["lever", "market", "year", "avail_mwh"]])
    ho = inputs.heat_options
    if ho is not None and len(ho) and enabled & {"electric_boiler", "heat_pump", "biomethane"}:
        ho = ho.assign(lever=ho["option"])
        ho = ho[ho["lever"].isin(enabled) & ho["year"].isin(weeks_in_year.index)]
        pl = fac.reset_index().dropna(subset=["rho", "eps_gas"])
        m = pl.merge(ho, on="market").merge(wk, on="year")
        m["d_scope1"] = -(m["eps_gas"] - m["residual_tco2e_per_mwh"])
        m["d_scope2_market"] = m["efficiency_ratio"] * m["rho"]
        net = m["d_scope1"] + m["d_scope2_market"]
        bad = m[net >= 0].drop_duplicates(["lever", "plant_id"])
        dropped += [(r.lever, r.plant_id, r.market, float(-(r.d_scope1 + r.d_scope2_market))) for r in bad.itertuples()]
        m = m[net < 0]
        m = m.assign(kind="heat", elec_ratio=m["efficiency_ratio"],
                     price_eur_per_mwh=m["cost_eur_per_mwh_gas_replaced"] * price_k)
        frames.append(m[LEVER_COLUMNS + ["max_share_of_gas"]])
        a = ho.assign(avail_mwh=ho["available_mwh"] * avail_k * ho["year"].map(weeks_in_year) / 52.0)
        avail.append(a[["lever", "market", "year", "avail_mwh"]])
    levers = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LEVER_COLUMNS)
    if "max_share_of_gas" not in levers:
        levers["max_share_of_gas"] = np.nan
    levers = levers.sort_values(["kind", "plant_id", "lever", "t"], ignore_index=True)
    availability = pd.concat(avail, ignore_index=True) if avail else pd.DataFrame(
        columns=["lever", "market", "year", "avail_mwh"])
    non_abating = pd.DataFrame(dropped, columns=["lever", "plant_id", "market", "abatement_t_per_mwh"])
    return levers, availability, non_abating


MAC_COLUMNS = ["lever", "key", "period", "abated_t", "potential_t", "cost_eur_per_t", "used_share", "sets_price",
               "cumulative_t"]


def _values(model) -> np.ndarray:
    return np.fromiter(((v.varValue or 0.0) for v in model.variables), dtype=float, count=len(model.variables))


def _families(model, v: np.ndarray) -> dict[str, float]:
    """t CO2e counted in the budget by family of decisions (the budget row's terms)."""
    x, f, L = model.x, model.f, model.levers
    out = {"production": float(v[x["col"].to_numpy()] @ (x["b"] * x["e_budget"]).to_numpy(float)),
           "transport": float(v[f["col"].to_numpy()] @ (f["b"] * f["e_budget"]).to_numpy(float)),
           "slack": -float(v[model.periods["s_co2_col"].to_numpy()].sum())}
    sh = model.shifts
    if sh is not None and len(sh) and "e_budget" in sh and (sh["e_budget"].abs() > 0).any():
        out["shifts"] = float(v[sh["col"].to_numpy(int)] @ (sh["b"] * sh["e_budget"]).to_numpy(float))
    if L is not None and len(L):
        e = v[L["col"].to_numpy(int)] * (L["b"] * L["d_budget"]).to_numpy(float)
        for lever, val in pd.Series(e).groupby(L["lever"].to_numpy()).sum().items():
            out[f"lever:{lever}"] = float(val)
    return out


def price_setter(model) -> dict:
    """Which decisions set the CO2 shadow price of the budget row ``model.co2_row``: re-solve (warm, HiGHS)
    with that period's budget lower by delta = max(1 t, 1e-4 x budget), split the extra abatement by family
    (each lever, production shift, mode shift, budget slack) and name the family carrying most of it; then
    restore the budget and re-solve so that the tables stay those of the reported plan. In MILP mode this is
    done on the LP with the shifts fixed at the incumbent (the price the plan's duals report)."""
    import pulp

    h = getattr(model.prob, "solverModel", None)
    solver = getattr(model, "_solver", None)
    row = model.co2_row
    if h is None or not isinstance(solver, pulp.HiGHS) or model.co2_budget_t is None or row.pi is None:
        return {"setter": "", "text": ""}
    mu = -float(row.pi)
    if mu <= 1e-9:
        return {"setter": "", "share": 0.0, "price_eur_per_t": 0.0,
                "text": "the CO2 budget is not binding: the plan stays below it without abating at a cost"}
    if model.mip is not None:  # MILP mode: the price of the LP with the shifts fixed at the incumbent
        from optimisation.solve import fixed_shifts

        with fixed_shifts(model):
            return _price_setter(model, h, solver, row, mu)
    return _price_setter(model, h, solver, row, mu)


def _price_setter(model, h, solver, row, mu: float) -> dict:
    import highspy

    v0 = _values(model)
    u0 = float(v0[model.u["col"].to_numpy()].sum()) + (float(v0[model.tail["col"].to_numpy()].sum())
                                                       if model.tail is not None and len(model.tail) else 0.0)
    upper = -row.constant
    delta = max(1.0, 1e-4 * abs(upper + float(model.periods["fixed_tco2e"].max())))
    h.changeRowBounds(row.id, -highspy.kHighsInf, upper - delta)
    h.setOptionValue("solver", "simplex")
    h.run()
    v1 = np.asarray(h.getSolution().col_value, float)
    h.changeRowBounds(row.id, -highspy.kHighsInf, upper)
    h.run()
    solver.findSolutionValues(model.prob)
    e0, e1 = _families(model, v0), _families(model, v1)
    d = {k: e1.get(k, 0.0) - e0.get(k, 0.0) for k in set(e0) | set(e1)}
    total = sum(-val for val in d.values() if val < 0) or 1.0
    fam, val = min(d.items(), key=lambda kv: kv[1])
    share = -val / total
    u1 = float(v1[model.u["col"].to_numpy()].sum()) + (float(v1[model.tail["col"].to_numpy()].sum())
                                                       if model.tail is not None and len(model.tail) else 0.0)
    out = {"setter": fam, "share": share, "price_eur_per_t": mu}
    if fam.startswith("lever:"):
        lever = fam.split(":", 1)[1]
        L = model.levers
        dl = (v1 - v0)[L["col"].to_numpy(int)] * (L["lever"] == lever).to_numpy()
        unit = np.maximum(-(L["b"] * L["d_budget"]).to_numpy(float), 1e-12)
        cp = float(model.params.carbon_price_eur_per_t)
        # EUR/t of the instance net of the carbon price, which the objective already charges on every tonne
        cost_t = L["price_eur_per_mwh"].to_numpy(float) / unit - cp
        # instances that moved and abate on the budget's boundary (b = 0 plants abate nothing the budget sees)
        moved = np.flatnonzero((np.abs(dl) > 1e-9 * max(1.0, np.abs(dl).max())) & (unit > 1e-9))
        # the instance whose own EUR/t is closest to the price (the marginal one), among those that moved
        i = int(moved[np.argmin(np.abs(cost_t[moved] - mu))]) if len(moved) else int(np.argmax(dl))
        r = L.iloc[i]
        per_t = cost_t[i]
        net = f", {per_t:,.1f} net of the {cp:,.0f} EUR/t carbon price" if cp > 0 else ""
        out["text"] = (f"{LABEL.get(lever, lever)} at {r['plant_id']} ({r['market']}, {r['price_eur_per_mwh']:,.2f} "
                       f"EUR/MWh -> {per_t + cp:,.1f} EUR/t{net}) set the CO2 price of {mu:,.1f} EUR/t")
    elif fam == "slack":
        out["text"] = (f"beyond the levers: the target is missed, priced at {mu:,.0f} EUR/t (the budget-excess "
                       "penalty), not an abatement cost")
    elif fam == "shifts":
        out["text"] = (f"running fewer shifts (their share of the plants' fixed emissions) sets the CO2 price of "
                       f"{mu:,.1f} EUR/t")
    elif fam == "transport":
        out["text"] = f"shifting freight to lower-carbon modes sets the CO2 price of {mu:,.1f} EUR/t"
    elif u1 - u0 > 1e-6:
        out["text"] = (f"not selling cars: each further tonne costs lost sales ({u1 - u0:,.2f} more units unmet "
                       f"per {delta:,.0f} t), so the CO2 price of {mu:,.1f} EUR/t is a lost-margin trade-off")
    else:
        out["text"] = f"moving production to lower-carbon plants sets the CO2 price of {mu:,.1f} EUR/t"
    return out


def mac_curve(model, setter: str = "", baseline: dict | None = None) -> pd.DataFrame:
    """MAC curve of the plan: one row per priced lever x market x year (t abated, potential, EUR/t, share of
    the availability used), plus the plan's operational shifts against the no-target plan when ``baseline``
    ({"objective_eur", "co2e_t", "lever_cost_eur"}) is given; sorted by EUR/t, cumulative t as the x axis."""
    rows = []
    L, A = model.levers, model.lever_availability
    if L is not None and len(L):
        v = _values(model)
        act = v[L["col"].to_numpy(int)]
        g = L.assign(act=act, ab=-act * L["b"] * L["d_budget"], unit=-L["b"] * L["d_budget"])
        agg = g.groupby(["lever", "market", "year"]).agg(mwh=("act", "sum"), abated=("ab", "sum"),
                                                         unit=("unit", "max"), price=("price_eur_per_mwh", "mean"))
        agg = agg.join(A.set_index(["lever", "market", "year"])["avail_mwh"], how="left")
        for (lever, market, year), r in agg.iterrows():
            # t per MWh: as bought (plants' own factors) when used, else the best plant's; the potential is the
            # availability at the best plant, so abated <= potential always holds
            unit = r["abated"] / r["mwh"] if r["mwh"] > 1e-9 else r["unit"]
            cost = r["price"] / unit if unit > 0 else np.nan
            rows.append((lever, market, str(year), float(r["abated"]), float(r["avail_mwh"] * r["unit"]), cost,
                         float(min(r["mwh"] / r["avail_mwh"], 1.0)) if r["avail_mwh"] > 0 else 0.0, False))
        rows = _mark_setter(rows, setter)
    na = model.non_abating
    if na is not None and len(na):
        for r in na.itertuples():
            rows.append((r.lever, f"{r.market}/{r.plant_id} (non-abating)", "", 0.0, 0.0, np.nan, 0.0, False))
    if baseline is not None:
        lever_cost = float(sum(r[3] * r[5] for r in rows if np.isfinite(r[5]) and r[3] > 0))
        d_e = baseline["co2e_t"] - baseline["co2e_plan_t"] - sum(r[3] for r in rows if r[3] > 0)
        d_c = baseline["objective_plan_eur"] - baseline["objective_eur"] - lever_cost
        # a difference within the solver's tolerance (e.g. 19 t of 576 kt) is no operational abatement
        if d_e > max(1e-6, 1e-4 * abs(baseline["co2e_t"])):
            rows.append(("operational_shifts", "production, mode and sales", "horizon", float(d_e), float(d_e),
                         float(d_c / d_e), 1.0, setter in ("production", "transport")))
    out = pd.DataFrame(rows, columns=MAC_COLUMNS[:-1])
    out = out.sort_values("cost_eur_per_t", kind="stable", na_position="last").reset_index(drop=True)
    out["cumulative_t"] = out["abated_t"].cumsum()
    return out


def _mark_setter(rows: list[tuple], setter: str) -> list[tuple]:
    """``sets_price`` on the one lever row at the margin of the setter's family: the dearest partly used row
    (a partly bought availability is what the next tonne would buy more of), else the dearest fully used row."""
    fam = [i for i, r in enumerate(rows) if setter == f"lever:{r[0]}" and r[3] > 1e-9 and np.isfinite(r[5])]
    partly = [i for i in fam if rows[i][6] < 1 - 1e-6]
    pick = max(partly or fam, key=lambda i: rows[i][5], default=None)
    return [(*r[:7], i == pick) for i, r in enumerate(rows)]


def lever_table(model) -> pd.DataFrame:
    """Levers bought: lever, plant_id, market, week, mwh, cost_eur, abated_t (rows with MWh > 1e-9). Planned
    EACs/PPAs come out in the shape the accounting can read as energy contracts."""
    cols = ["lever", "plant_id", "market", "week", "mwh", "cost_eur", "abated_t"]
    L = model.levers
    if L is None or L.empty:
        return pd.DataFrame(columns=cols)
    act = _values(model)[L["col"].to_numpy(int)]
    keep = act > 1e-9
    g = L[keep]
    return pd.DataFrame({"lever": g["lever"].to_numpy(), "plant_id": g["plant_id"].to_numpy(),
                         "market": g["market"].to_numpy(), "week": model.weeks[g["t"].to_numpy(int)],
                         "mwh": act[keep], "cost_eur": act[keep] * g["price_eur_per_mwh"].to_numpy(float),
                         "abated_t": -act[keep] * (g["b"] * g["d_budget"]).to_numpy(float)})[cols]
