"""The planning LP (docs/OPTIMISATION.md): production x[p,k,t], shipments f[l,k,t], unmet demand
u[k,m,t], a CO2 budget and an output target with priced slack, built in PuLP 4.

Build speed: every index set is a numpy/pandas frame; each constraint row is handed to PuLP's Rust
core as (variable-id array, coefficient array) in one call (the batch path behind
``pulp.lpSum_vars_coefs``), never term by term through ``lpSum``. Units: vehicles (units), tonnes,
EUR, t CO2e (kept in tonnes so that HiGHS sees a well-scaled matrix).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pulp
from pulp import _rustcore

from optimisation.emissions import boundary_shares, counts_transport, periods, plant_scopes, resolve_boundary
from optimisation.inputs import InputError, PlanInputs, lane_tco2e_per_t, monday, mondays, opening_stock
from optimisation.scenario import QUANTILE_COLUMN, ScenarioParams

log = logging.getLogger(__name__)

#: RHS used for "no CO2 budget": HiGHS treats |bounds| >= 1e20 as infinite
NO_BUDGET = 1e20

_SENSE = {"<=": _rustcore.Sense.LessEqual, ">=": _rustcore.Sense.GreaterEqual, "==": _rustcore.Sense.Equal}


@dataclass
class PlanModel:
    """The built LP plus the index frames that map its columns and rows back to the tables."""

    prob: pulp.LpProblem
    params: ScenarioParams
    weeks: pd.DatetimeIndex
    x: pd.DataFrame  # plant_id, product_id, t, col, cost_eur, e_scope1, e_scope2_market, e_scope2_location
    f: pd.DataFrame  # lane_id, plant_id, market_id, mode, product_id, t, t_arrive, col, tonnes_per_unit, ...
    u: pd.DataFrame  # product_id, market_id, t, col, demand, penalty_eur
    demand: pd.DataFrame  # product_id, market_id, t, week, demand (after shocks, before pipeline), pipeline
    capacity: pd.DataFrame  # plant_id, t, capacity_units
    fixed: pd.DataFrame  # plant_id, t, scope, fixed_tco2e
    variables: list  # LpVariable in column order (col = position)
    co2_fixed_t: float
    co2_budget_t: float | None
    output_row: pulp.LpConstraint | None
    output_target_units: float | None
    s_co2_col: int
    s_out_col: int | None
    capacity_rows: list = field(default_factory=list)  # LpConstraint per row of `capacity`
    market_rows: list = field(default_factory=list)  # LpConstraint per row of `u` (market balance)
    build_seconds: float = 0.0
    matrix: dict | None = None  # CSR rows + objective + column bounds, as handed to PuLP (fast HiGHS path)
    current_plan: pd.DataFrame | None = None  # plant_id, product_id, units_per_week
    families: dict = field(default_factory=dict)  # name -> RowFamily (optimisation.constraints)
    constraints: list = field(default_factory=list)  # LpConstraint in row order
    row_dual: np.ndarray | None = None  # duals / activities of the last in-process HiGHS solve, in row order
    row_activity: np.ndarray | None = None
    rules: pd.DataFrame | None = None  # operating rules per plant
    tail: pd.DataFrame | None = None  # tail demand rows
    i0: np.ndarray | None = None  # opening stock per x row
    cols: object | None = None  # the Columns registry (blocks -> column ranges)

    @property
    def co2_row(self) -> pulp.LpConstraint:
        """The budget row of the period with the largest target (of the longest period without one)."""
        per = self.periods
        key = per["budget_t"].fillna(per["weeks"].astype(float)) if "budget_t" in per else per["weeks"]
        return self.budget_rows[int(np.argmax(key.to_numpy()))]

    @property
    def num_variables(self) -> int:
        return len(self.variables)

    budget_rows: list = field(default_factory=list)  # one co2_budget row per period
    periods: pd.DataFrame | None = None  # period, weeks, fixed_tco2e (boundary), budget_t (None = no budget)
    levers: pd.DataFrame | None = None  # lever columns (optimisation.levers.lever_frame)
    lever_availability: pd.DataFrame | None = None
    non_abating: pd.DataFrame | None = None
    boundary: str = "full"
    shifts: pd.DataFrame | None = None  # shift columns (plant_id, t, shifts_max, col)
    mip: dict | None = None  # MILP run: gap, bound, LP duals conditional on the shift pattern
    removals: pd.DataFrame | None = None  # net target: removal offers bought (offer_id, kind, year, col, ...)
    s_net_col: int | None = None  # net target shortfall column

    def budget_by_period(self, budget) -> np.ndarray | None:
        """Per-period budgets: None, a total over the horizon (split by weeks) or a dict period -> t."""
        if budget is None:
            return None
        per = self.periods
        if isinstance(budget, dict):
            return np.array([float(budget[q]) for q in per["period"]])
        return float(budget) * per["weeks"].to_numpy(float) / per["weeks"].sum()

    def budget_rhs(self, budget) -> np.ndarray:
        b = self.budget_by_period(budget)
        return np.full(len(self.periods), NO_BUDGET) if b is None else b - self.periods["fixed_tco2e"].to_numpy()

    def set_co2_budget(self, budget) -> None:
        """Change the CO2 budget (t CO2e: over the horizon, split by weeks, or a dict by period) in the PuLP
        model (the rows' RHS)."""
        b = self.budget_by_period(budget)
        self.co2_budget_t = None if b is None else float(b.sum())
        self.periods["budget_t"] = np.nan if b is None else b
        for row, rhs in zip(self.budget_rows, self.budget_rhs(budget), strict=True):
            row.changeRHS(float(rhs))


# ----------------------------------------------------------------------------- helpers
def _weeks(inputs: PlanInputs, params: ScenarioParams) -> pd.DatetimeIndex:
    fc_weeks = pd.DatetimeIndex(sorted(mondays(inputs.demand_forecast["week"]).unique()))
    if len(fc_weeks) == 0:
        raise InputError("demand_forecast: empty")
    start = monday(params.start_week) if params.start_week else fc_weeks[0]
    weeks = pd.date_range(start, periods=params.horizon_weeks, freq="7D")
    missing = weeks.difference(fc_weeks)
    if len(missing):
        raise InputError(f"demand_forecast: covers {len(weeks) - len(missing)} of the {len(weeks)} horizon weeks "
                         f"from {start.date()} (first missing: {missing[0].date()}); shorten horizon_weeks or "
                         "set start_week")
    return weeks


def _week_mask(n_weeks: int, from_week: int, to_week: int | None) -> np.ndarray:
    t = np.arange(n_weeks)
    hi = n_weeks if to_week is None else to_week
    return (t >= from_week - 1) & (t <= hi - 1)


def transit_weeks(transit_days) -> np.ndarray:
    """Whole weeks between departure and arrival: transit_days / 7 rounded half up (0-3 days: same week)."""
    return np.floor(np.asarray(transit_days, float) / 7.0 + 0.5).astype(int)


def _demand(inputs: PlanInputs, params: ScenarioParams, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    col = QUANTILE_COLUMN[params.demand_quantile]
    fc = inputs.demand_forecast
    fc = fc[fc["week"].isin(weeks)]
    d = fc.groupby(["product_id", "market_id", "week"], as_index=False)[col].sum().rename(columns={col: "demand"})
    if (d["demand"] < 0).any() or d["demand"].isna().any():
        raise InputError(f"demand_forecast: column {col} has negative or missing values")
    d["t"] = ((d["week"] - weeks[0]).dt.days // 7).astype(int)
    n = len(weeks)
    for shock in params.demand_shocks:
        sel = _week_mask(n, shock.from_week, shock.to_week)[d["t"].to_numpy()]
        if shock.market_id is not None:
            sel &= (d["market_id"] == shock.market_id).to_numpy()
        if shock.product_id is not None:
            sel &= (d["product_id"] == shock.product_id).to_numpy()
        if not sel.any():
            raise InputError(f"demand_shocks: {shock.model_dump(exclude_none=True)} matches no demand row")
        d.loc[sel, "demand"] *= 1.0 + shock.pct / 100.0
    d["pipeline"] = 0.0
    if inputs.shipments is not None and not inputs.shipments.empty:
        # shipments that left before the horizon and arrive inside it (in transit at the start)
        max_tau = int(transit_weeks(inputs.lanes["transit_days"]).max()) if len(inputs.lanes) else 0
        sh = inputs.shipments
        sh_week = pd.to_datetime(sh["week"])
        sh = sh[(sh_week < weeks[0]) & (sh_week >= weeks[0] - pd.Timedelta(weeks=max_tau + 1))]
        sh = sh.merge(inputs.lanes[["lane_id", "market_id", "transit_days"]], on="lane_id")
        sh["arrive"] = mondays(sh["week"]).to_numpy() + pd.to_timedelta(
            7 * transit_weeks(sh["transit_days"]), unit="D")
        sh = sh[sh["arrive"].isin(weeks)]
        if len(sh):
            pipe = sh.groupby(["product_id", "market_id", "arrive"])["units"].sum().rename("p").reset_index()
            d = d.merge(pipe.rename(columns={"arrive": "week"}), on=["product_id", "market_id", "week"], how="left")
            d["pipeline"] = d.pop("p").fillna(0.0)
    return d.sort_values(["product_id", "market_id", "t"], ignore_index=True)


def _current_plan(inputs: PlanInputs, params: ScenarioParams) -> pd.DataFrame | None:
    ph = inputs.production_history
    if ph is None or ph.empty:
        return None
    ph = ph.assign(week=mondays(ph["week"]).to_numpy())
    last = ph["week"].max()
    window = ph[ph["week"] > last - pd.Timedelta(weeks=params.current_plan_weeks)]
    n_weeks = window["week"].nunique()  # weeks with history in the window (missing rows count as 0)
    plan = window.groupby(["plant_id", "product_id"])["units"].sum() / n_weeks
    return plan.rename("units_per_week").reset_index()


def _coefficients(inputs: PlanInputs, params: ScenarioParams, weeks: pd.DatetimeIndex,
                  plants: list[str]) -> pd.DataFrame:
    """Wide table plant_id, t -> marginal and fixed per scope (renewable share applied to scope2_market).
    Weeks the forecaster did not cover take the plant's nearest covered week (logged)."""
    c = inputs.coefficients
    c = c[c["plant_id"].isin(plants)]
    c = c.assign(week=mondays(c["week"]).to_numpy())
    missing = sorted(set(plants) - set(c["plant_id"]))
    if missing:
        raise InputError(f"plant_emission_coefficients: no rows for plant(s) {missing}")
    wide = c.pivot_table(index=["plant_id", "week"], columns="scope",
                         values=["marginal_tco2e_per_unit", "fixed_tco2e"], aggfunc="mean")
    wide.columns = [f"{'m' if a.startswith('marginal') else 'fx'}_{s}" for a, s in wide.columns]
    for scope in ("scope1", "scope2_location", "scope2_market"):
        for pre in ("m", "fx"):
            if f"{pre}_{scope}" not in wide.columns:
                if scope == "scope2_location":
                    wide[f"{pre}_{scope}"] = 0.0
                else:
                    raise InputError(f"plant_emission_coefficients: no rows with scope {scope}")
    grid = pd.MultiIndex.from_product([plants, weeks], names=["plant_id", "week"])
    covered = wide.index.intersection(grid)
    if len(covered) < len(grid):
        log.warning("plant_emission_coefficients cover %d of %d plant-weeks; the rest take the plant's "
                    "nearest covered week", len(covered), len(grid))
    full = wide.reindex(wide.index.union(grid)).sort_index()
    full = full.groupby(level="plant_id").transform(lambda s: s.ffill().bfill()).reindex(grid)
    full = full.reset_index()
    full["t"] = ((full["week"] - weeks[0]).dt.days // 7).astype(int)
    share = {r.plant_id: r.share_pct / 100.0 for r in params.renewable_share}
    unknown = sorted(set(share) - set(plants))
    if unknown:
        raise InputError(f"renewable_share: plant_id not in plants: {unknown}")
    scale = 1.0 - full["plant_id"].map(share).fillna(0.0)
    full["m_scope2_market"] *= scale
    full["fx_scope2_market"] *= scale
    return full


@dataclass
class RowFamily:
    """One named constraint family: rows first .. first + n - 1 of the model, one per row of ``index``."""

    name: str
    first: int
    n: int
    sense: str
    index: pd.DataFrame | None = None  # the keys of each row (plant_id, t, ...), in row order


class _Rows:
    """Collects constraint rows as COO triplets, by named family, then adds them to the problem row by
    row through the Rust batch path (one call per row)."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.senses: list[np.ndarray] = []
        self.rhs: list[np.ndarray] = []
        self.prefix: list[np.ndarray] = []
        self.families: dict[str, RowFamily] = {}
        self.n = 0

    def family(self, prefix: str, n_rows: int, sense: str, rhs, row, col, val,
               index: pd.DataFrame | None = None) -> int:
        """Add ``n_rows`` rows named ``<prefix>_<i>``; (row, col, val) are 0-based within the family.
        Returns the index of the family's first row."""
        first = self.n
        if n_rows == 0:
            return first
        if prefix in self.families:
            raise ValueError(f"constraint family {prefix!r} defined twice")
        self.rows.append(np.asarray(row, np.int64) + first)
        self.cols.append(np.asarray(col, np.int64))
        self.vals.append(np.asarray(val, float))
        self.senses.append(np.full(n_rows, sense, dtype=object))
        self.rhs.append(np.broadcast_to(np.asarray(rhs, float), (n_rows,)).copy())
        self.prefix.append(np.array([f"{prefix}_{i}" for i in range(n_rows)], dtype=object))
        self.families[prefix] = RowFamily(prefix, first, n_rows, sense,
                                          None if index is None else index.reset_index(drop=True))
        self.n += n_rows
        return first

    def add_to(self, prob: pulp.LpProblem, ids: np.ndarray) -> list[pulp.LpConstraint]:
        row = np.concatenate(self.rows)
        col = np.concatenate(self.cols)
        val = np.concatenate(self.vals)
        if not np.isfinite(val).all():
            raise InputError("model: non-finite coefficient (check the input tables for NaN/inf)")
        order = np.argsort(row, kind="stable")
        row, pos, val = row[order], col[order], val[order]
        col = ids[pos]
        starts = np.searchsorted(row, np.arange(self.n + 1))
        senses = np.concatenate(self.senses)
        rhs = np.concatenate(self.rhs)
        names = np.concatenate(self.prefix)
        # kept for the HiGHS fast path (optimisation.solve.PlanHiGHS): CSR rows in PuLP's row order
        self.csr = {"indptr": starts.astype(np.int32), "index": pos.astype(np.int32), "value": val,
                    "rhs": rhs, "sense": senses}
        model = prob.toRustModel()  # public accessor of the Rust model the rows are added to
        out = []
        add, Expr, Con = model.add_constraint, _rustcore.AffineExpr, pulp.LpConstraint
        for s, e, r, sense, name in zip(starts[:-1].tolist(), starts[1:].tolist(), (-rhs).tolist(),
                                        [_SENSE[x] for x in senses], names.tolist(), strict=True):
            expr = Expr()
            expr.add_term_ids_coeffs(model, col[s:e], val[s:e])
            expr.set_constant(r)
            expr.set_sense(sense)
            expr.set_name(name)
            out.append(Con(add(expr)))
        return out


class Columns:
    """The model's column blocks, in order: each block is a frame (one column per row) with its objective
    cost and bounds; ``add`` writes the global column number into ``frame["col"]``."""

    def __init__(self) -> None:
        self.blocks: dict[str, tuple[int, int]] = {}
        self.obj: list[np.ndarray] = []
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.names: list[str] = []
        self.n = 0

    def add(self, block: str, n: int, cost=0.0, lb=0.0, ub=np.inf, prefix: str | None = None) -> np.ndarray:
        first = self.n
        self.blocks[block] = (first, n)
        self.obj.append(np.broadcast_to(np.asarray(cost, float), (n,)).copy())
        self.lb.append(np.broadcast_to(np.asarray(lb, float), (n,)).copy())
        self.ub.append(np.broadcast_to(np.asarray(ub, float), (n,)).copy())
        pre = prefix or block
        self.names += [pre] if n == 1 and prefix is not None else [f"{pre}_{i}" for i in range(n)]
        self.n += n
        return first + np.arange(n)

    def block(self, name: str) -> np.ndarray:
        first, n = self.blocks.get(name, (0, 0))
        return first + np.arange(n)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.concatenate(self.obj), np.concatenate(self.lb), np.concatenate(self.ub)


@dataclass
class Build:
    """What the ``define_*`` functions of optimisation.constraints read: the index frames (each with its
    ``col``), the data frames, the parameters, and the row collector they add their family to."""

    inputs: PlanInputs
    params: ScenarioParams
    weeks: pd.DatetimeIndex
    cap: pd.DataFrame
    x: pd.DataFrame
    f: pd.DataFrame
    u: pd.DataFrame
    dem: pd.DataFrame
    coef: pd.DataFrame
    fixed: pd.DataFrame
    cols: Columns
    rows: _Rows
    co2_fixed_t: float = 0.0
    target: float | None = None
    s_co2_col: int = -1
    s_out_col: int | None = None
    rules: pd.DataFrame | None = None  # per plant: umin, delta, imax, x0 (see _plant_rules)
    tail: pd.DataFrame | None = None  # tail demand rows (k,m,s >= H) with col
    i0: np.ndarray | None = None  # opening stock per x row (non-zero only at t = 0)
    periods: pd.DataFrame | None = None  # budget periods: period, weeks, fixed_tco2e
    levers: pd.DataFrame | None = None
    lever_availability: pd.DataFrame | None = None
    shifts: pd.DataFrame | None = None  # plant_id, t, capacity_units, shifts_max, col
    extra: dict = field(default_factory=dict)

    @property
    def n_t(self) -> int:
        return len(self.weeks)


# ----------------------------------------------------------------------------- build
def _capacity(inputs: PlanInputs, params: ScenarioParams, plants: pd.DataFrame, n_t: int) -> pd.DataFrame:
    for item in params.plant_capacity:
        if item.plant_id not in plants.index:
            raise InputError(f"plant_capacity: plant_id {item.plant_id!r} not in plants")
    cap = pd.DataFrame({"plant_id": np.repeat(plants.index.to_numpy(), n_t),
                        "t": np.tile(np.arange(n_t), len(plants))})
    cap["capacity_units"] = plants.loc[cap["plant_id"], "capacity_units_per_week"].to_numpy(float)
    pct = np.ones(len(cap))
    for item in params.plant_capacity:
        sel = (cap["plant_id"] == item.plant_id).to_numpy() & _week_mask(n_t, item.from_week, item.to_week)[
            cap["t"].to_numpy()]
        pct[sel] = item.capacity_pct / 100.0
    cap["capacity_nominal"] = cap["capacity_units"]
    cap["capacity_units"] *= pct
    return cap


def _production(inputs: PlanInputs, params: ScenarioParams, weeks: pd.DatetimeIndex,
                products: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n_t = len(weeks)
    pp = inputs.plant_products[["plant_id", "product_id", "production_cost_eur_per_unit"]]
    pp = pp[pp["product_id"].isin(products.index)].reset_index(drop=True)
    x = pp.loc[np.repeat(pp.index.to_numpy(), n_t)].reset_index(drop=True)
    x["t"] = np.tile(np.arange(n_t), len(pp))
    coef = _coefficients(inputs, params, weeks, sorted(pp["plant_id"].unique()))
    x = x.merge(coef[["plant_id", "t", "m_scope1", "m_scope2_market", "m_scope2_location"]], on=["plant_id", "t"],
                how="left")
    x = x.rename(columns={"production_cost_eur_per_unit": "cost_eur", "m_scope1": "e_scope1",
                          "m_scope2_market": "e_scope2_market", "m_scope2_location": "e_scope2_location"})
    x["e_budget"] = x[[f"e_{sc}" for sc in plant_scopes(params)]].sum(axis=1)
    fixed = coef.melt(id_vars=["plant_id", "t"], value_vars=["fx_scope1", "fx_scope2_market", "fx_scope2_location"],
                      var_name="scope", value_name="fixed_tco2e")
    fixed["scope"] = fixed["scope"].str[3:]
    return pp, x, fixed, coef


def _unmet(inputs: PlanInputs, params: ScenarioParams, weeks: pd.DatetimeIndex,
           products: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(demand frame, market grid). The market grid has one row per product x market x week for every
    pair with demand or in-transit arrivals in the horizon: the rows of ``market_balance`` and the index
    of lost sales u, market stock and backlog. ``demand`` is gross; ``pipeline`` arrives on top."""
    dem = _demand(inputs, params, weeks)
    dem["net"] = np.maximum(dem["demand"] - dem["pipeline"], 0.0)
    tot = dem.groupby(["product_id", "market_id"])[["demand", "pipeline"]].sum()
    km = tot[(tot["demand"] + tot["pipeline"]) > 0].index
    grid = pd.MultiIndex.from_tuples([(k, m, t) for k, m in km for t in range(len(weeks))],
                                     names=["product_id", "market_id", "t"]) if len(km) else pd.MultiIndex.from_arrays(
        [[], [], []], names=["product_id", "market_id", "t"])
    u = (dem.set_index(["product_id", "market_id", "t"])[["demand", "pipeline"]].reindex(grid).fillna(0.0)
         .reset_index())
    if params.unmet_penalty_eur_per_unit is not None:
        u["penalty_eur"] = params.unmet_penalty_eur_per_unit
    else:
        u["penalty_eur"] = products.loc[u["product_id"], "price_eur"].to_numpy(float)
    return dem, u


def _tail(u: pd.DataFrame, tau_tail: pd.Series, n_t: int, params: ScenarioParams) -> pd.DataFrame:
    """Tail rows (k,m,s) for s in [H, H + tau(k,m)), tau = transit weeks of the pair's cheapest delivered
    route (the one a steady-state plan uses): those weeks are served by departures inside the horizon.
    Demand = mean of the last 4 weeks' demand."""
    cols = ["product_id", "market_id", "t", "demand", "penalty_eur"]
    if not params.tail_demand or tau_tail.empty:
        return pd.DataFrame(columns=cols)
    last = u[u["t"] >= n_t - 4].groupby(["product_id", "market_id"]).agg(demand=("demand", "mean"),
                                                                          penalty_eur=("penalty_eur", "first"))
    last = last.join(tau_tail.rename("tau"), how="inner")
    last = last[(last["tau"] > 0) & (last["demand"] > 0)].reset_index()
    rep = last.loc[np.repeat(last.index.to_numpy(), last["tau"].to_numpy().astype(int))].reset_index(drop=True)
    rep["t"] = n_t + rep.groupby(["product_id", "market_id"]).cumcount()
    return rep[cols]


def _shipments(inputs: PlanInputs, params: ScenarioParams, pp: pd.DataFrame, u: pd.DataFrame,
               products: pd.DataFrame, n_t: int) -> pd.DataFrame:
    lanes = inputs.lanes.copy()
    banned = set(params.banned_modes) | {m.mode for m in params.mode_limits if m.capacity_pct == 0}
    lanes = lanes[~lanes["mode"].isin(banned)]
    mode_pct = {m.mode: m.capacity_pct / 100.0 for m in params.mode_limits}
    lanes["cap_t"] = lanes["capacity_t_per_week"] * lanes["mode"].map(mode_pct).fillna(1.0)
    lanes["tau"] = transit_weeks(lanes["transit_days"])
    lanes["tco2e_per_t"] = lane_tco2e_per_t(lanes, inputs.emission_factors, params.transport_basis).to_numpy()
    served = u.loc[u["demand"] > 0, ["product_id", "market_id"]].drop_duplicates()
    lk = lanes.merge(pp[["plant_id", "product_id"]], on="plant_id").merge(served, on=["product_id", "market_id"])
    lk = lk.reset_index(drop=True)
    f = lk.loc[np.repeat(lk.index.to_numpy(), n_t)].reset_index(drop=True)
    f["t"] = np.tile(np.arange(n_t), len(lk))
    f["t_arrive"] = f["t"] + f["tau"]
    # arrivals after the horizon are kept up to the tail rows (see _tail)
    unit = pp.groupby(["plant_id", "product_id"])["production_cost_eur_per_unit"].mean()
    lk["delivered"] = (unit.reindex(pd.MultiIndex.from_frame(lk[["plant_id", "product_id"]])).to_numpy()
                       + products.loc[lk["product_id"], "weight_t"].to_numpy(float) * lk["cost_eur_per_t"])
    cheapest = lk.sort_values("delivered", kind="stable").drop_duplicates(["product_id", "market_id"])
    tau_tail = cheapest.set_index(["product_id", "market_id"])["tau"]
    f["tau_tail"] = tau_tail.reindex(pd.MultiIndex.from_frame(f[["product_id", "market_id"]])).to_numpy() \
        if params.tail_demand else 0
    f = f[f["t_arrive"] < n_t + f["tau_tail"]].reset_index(drop=True)
    w = products.loc[f["product_id"], "weight_t"].to_numpy(float)
    f["tonnes_per_unit"] = w
    f["cost_eur"] = w * f["cost_eur_per_t"].to_numpy(float)
    f["e_transport"] = w * f["tco2e_per_t"].to_numpy(float)
    f["e_budget"] = f["e_transport"] if counts_transport(params) else 0.0
    return f[["lane_id", "plant_id", "market_id", "mode", "product_id", "t", "t_arrive", "tau", "tau_tail", "tonnes_per_unit",
              "cost_eur", "e_transport", "e_budget", "cap_t"]]


def _max_move_bounds(x: pd.DataFrame, cap: pd.DataFrame, current: pd.DataFrame | None,
                     params: ScenarioParams) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on x from the max move around the current plan (capacity changes override)."""
    if params.max_move_pct is None:
        return np.zeros(len(x)), np.full(len(x), np.inf)
    if current is None:
        raise InputError("max_move_pct: needs production_history to know the current plan")
    x0 = x.merge(current, on=["plant_id", "product_id"], how="left")["units_per_week"].fillna(0.0).to_numpy()
    m = params.max_move_pct / 100.0
    cap_pt = cap.set_index(["plant_id", "t"])["capacity_units"]
    cap_x = cap_pt.reindex(pd.MultiIndex.from_frame(x[["plant_id", "t"]])).to_numpy()
    lb = np.maximum(x0 * (1.0 - m), 0.0)
    lb_sum = pd.Series(lb).groupby([x["plant_id"], x["t"]]).transform("sum").to_numpy()
    lb *= np.minimum(1.0, np.divide(cap_x, lb_sum, out=np.ones_like(lb), where=lb_sum > 0))
    ub = x0 * (1.0 + m)
    return lb, np.maximum(ub, lb)


def _plant_rules(inputs: PlanInputs, params: ScenarioParams, plants: pd.DataFrame,
                 current: pd.DataFrame | None) -> pd.DataFrame:
    """Operating rules per plant: umin (min utilisation, fraction), delta (max week-to-week change,
    fraction of nominal capacity, NaN = none), imax (max stock, units), x0 (current weekly output, NaN if
    unknown). Precedence: plant_rules > plant_operations table > global parameter."""
    r = pd.DataFrame(index=plants.index)
    cap = plants["capacity_units_per_week"].astype(float)
    r["umin"] = (params.min_utilisation_pct or 0.0) / 100.0
    r["delta"] = np.nan if params.max_change_pct_per_week is None else params.max_change_pct_per_week / 100.0
    r["imax"] = params.max_stock_weeks * cap
    ops = inputs.plant_operations
    if ops is not None and not ops.empty:
        o = ops.set_index("plant_id").reindex(r.index)
        if params.min_utilisation_pct is None and "min_utilisation_pct" in o:
            r["umin"] = (o["min_utilisation_pct"] / 100.0).fillna(r["umin"])
        if params.max_change_pct_per_week is None and "max_change_pct_per_week" in o:
            r["delta"] = (o["max_change_pct_per_week"].astype(float) / 100.0).fillna(r["delta"])
        if "max_stock_units" in o:
            r["imax"] = o["max_stock_units"].astype(float).fillna(r["imax"])
        if "shifts_max" in o:
            r["shifts"] = o["shifts_max"].astype(float)
            r["shift_cost"] = o.get("shift_cost_eur_per_week", pd.Series(0.0, index=o.index)).astype(float)
            r["shift_follow"] = o.get("shift_fixed_share_pct", pd.Series(0.0, index=o.index)).astype(float) / 100.0
    for rule in params.plant_rules:
        if rule.plant_id not in r.index:
            raise InputError(f"plant_rules: plant_id {rule.plant_id!r} not in plants")
        if rule.min_utilisation_pct is not None:
            r.loc[rule.plant_id, "umin"] = rule.min_utilisation_pct / 100.0
        if rule.max_change_pct_per_week is not None:
            r.loc[rule.plant_id, "delta"] = rule.max_change_pct_per_week / 100.0
        if rule.max_stock_units is not None:
            r.loc[rule.plant_id, "imax"] = rule.max_stock_units
    if "shifts" not in r:
        r["shifts"], r["shift_cost"], r["shift_follow"] = np.nan, 0.0, 0.0
    r["shift_cost"] = r["shift_cost"].fillna(0.0)
    # share of the weekly fixed emissions that follows the shifts run (0 for plants without a shift pattern)
    r["shift_follow"] = r["shift_follow"].fillna(0.0).where(np.isfinite(r["shifts"]) & (r["shifts"] >= 1), 0.0)
    r["x0"] = np.nan if current is None else current.groupby("plant_id")["units_per_week"].sum().reindex(r.index)
    r["capacity_nominal"] = cap
    return r


SCOPES_FIXED = ("scope1", "scope2_market", "scope2_location")


def _split_shift_fixed(fixed: pd.DataFrame, coef: pd.DataFrame,
                       follow: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split each plant-week's fixed emissions F into the part that stays whatever the shifts, (1 - sigma_p) F
    (``fixed`` and ``coef['fx_*']``, so the budget's constant and the lever cover rows use it), and the part
    that follows the shifts run, sigma_p F at all S_p shifts (``coef['sx_*']``, spread over the shift columns by
    ``_shift_emissions``). sigma_p = plant_operations.shift_fixed_share_pct / 100 (0 without a shift pattern)."""
    sig_c = follow.reindex(coef["plant_id"]).fillna(0.0).to_numpy(float)
    coef = coef.copy()
    for sc in SCOPES_FIXED:
        coef[f"sx_{sc}"] = coef[f"fx_{sc}"] * sig_c
        coef[f"fx_{sc}"] = coef[f"fx_{sc}"] * (1.0 - sig_c)
    fixed = fixed.copy()
    fixed["fixed_tco2e"] = fixed["fixed_tco2e"] * (1.0 - follow.reindex(fixed["plant_id"]).fillna(0.0).to_numpy())
    return fixed, coef


def _shift_emissions(sh: pd.DataFrame, coef: pd.DataFrame, params: ScenarioParams, share: pd.Series,
                     per_t: pd.DataFrame) -> pd.DataFrame:
    """Emissions of one shift-week per scope: e_sc = sigma_p F_sc / S_p (t CO2e), the budget's measure of it
    (``e_budget``, the counted plant scopes), boundary share ``b`` and budget period ``q``."""
    if sh.empty:
        return sh.assign(**{f"e_{sc}": 0.0 for sc in SCOPES_FIXED}, e_budget=0.0, b=0.0, q=0)
    sx = coef.set_index(["plant_id", "t"])[[f"sx_{sc}" for sc in SCOPES_FIXED]].reindex(
        pd.MultiIndex.from_frame(sh[["plant_id", "t"]])).fillna(0.0)
    n = sh["shifts_max"].to_numpy(float)
    for sc in SCOPES_FIXED:
        sh[f"e_{sc}"] = sx[f"sx_{sc}"].to_numpy(float) / np.maximum(n, 1.0)
    sh["e_budget"] = sh[[f"e_{sc}" for sc in plant_scopes(params)]].sum(axis=1).to_numpy(float)
    sh["b"] = share.reindex(sh["plant_id"]).fillna(0.0).to_numpy()
    sh["q"] = per_t["period"].to_numpy()[sh["t"].to_numpy(int)]
    return sh


#: removal kinds that count against the net target (avoidance offsets do not neutralise emissions)
NET_TARGET_KINDS = ("removal",)


def _removals(inputs: PlanInputs, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Removal offers usable against the net target: one column per offer, available t scaled by the offer
    year's weeks inside the horizon / 52."""
    cols = ["offer_id", "kind", "year", "price_eur_per_t", "avail_t"]
    r = inputs.removal_offers
    if r is None or r.empty:
        return pd.DataFrame(columns=cols)
    r = r[r["kind"].isin(NET_TARGET_KINDS)].copy()
    n_weeks = pd.Series(weeks.year).value_counts()
    r["avail_t"] = r["available_t"].astype(float) * r["year"].map(n_weeks).fillna(0).to_numpy(float) / 52.0
    return r[r["avail_t"] > 0].reset_index(drop=True)[cols]


#: the derived budget-excess price sits this far below the cheapest lost-sale abatement cost
EXCESS_PRICE_MARGIN = 0.9
#: excess price when no sale can be given up to abate (every profitable route is CO2-free on the boundary)
EXCESS_PRICE_FALLBACK = 10_000.0


def lost_sale_abatement(x: pd.DataFrame, f: pd.DataFrame, u: pd.DataFrame, cp: float) -> pd.DataFrame:
    """Per demand cell (product, market, period q): the CO2 price in EUR/t below which every plant that can
    serve the cell at a profit still prefers serving it to giving the sale up.

    A route r = (plant, lane) serves the cell at objective cost c_r = (production + carbon price x CO2e)
    + (freight + carbon price x CO2e) per unit and counts e_r = b_p (e_x + e_f) t CO2e per unit in the
    budget. Dropping the sale saves c_r, loses the unmet-demand penalty pi and abates e_r, so at a budget
    price P the route stays worth serving while pi - c_r >= P e_r. Per plant the best lane counts (a slow,
    dear lane next to a good one is no reason to drop a sale); over plants the smallest value counts,
    because the cleaner plants' capacity may be taken and the marginal unit of a cell then comes from its
    dirtiest profitable plant. +inf where that plant counts no CO2 in the budget; cells with no
    profitable route are left out (lost without a budget too). Means over the period's weeks."""
    cols = ["product_id", "market_id", "q", "threshold_eur_per_t", "plant_id"]
    if x.empty or f.empty or u.empty:
        return pd.DataFrame(columns=cols)
    xa = (x.assign(c=x["cost_eur"] + cp * x["e_budget"], e=x["b"] * x["e_budget"])
          .groupby(["plant_id", "product_id", "q"], sort=False)[["c", "e"]].mean().reset_index())
    fa = (f.assign(c=f["cost_eur"] + cp * f["e_budget"], e=f["b"] * f["e_budget"])
          .groupby(["lane_id", "plant_id", "market_id", "product_id", "q"], sort=False)[["c", "e"]].mean()
          .reset_index())
    ua = (u[u["demand"] > 0].groupby(["product_id", "market_id", "q"], sort=False)["penalty_eur"].mean()
          .reset_index())
    r = fa.merge(xa, on=["plant_id", "product_id", "q"], suffixes=("_f", "_x")).merge(
        ua, on=["product_id", "market_id", "q"])
    margin = r["penalty_eur"] - r["c_x"] - r["c_f"]
    e = r["e_x"] + r["e_f"]
    r = r.assign(threshold_eur_per_t=np.where(e > 1e-12, margin / np.maximum(e, 1e-12), np.inf))[margin > 0]
    best = r.groupby(["product_id", "market_id", "q", "plant_id"], sort=False)["threshold_eur_per_t"].max()
    best = best.reset_index().sort_values("threshold_eur_per_t", kind="stable")
    return best.drop_duplicates(["product_id", "market_id", "q"]).reset_index(drop=True)[cols]


def excess_prices(x: pd.DataFrame, f: pd.DataFrame, u: pd.DataFrame, per: pd.DataFrame,
                  cp: float) -> tuple[np.ndarray, list[str]]:
    """Default budget-excess price (docs/OPTIMISATION.md, "Budget-excess price"): EXCESS_PRICE_MARGIN x the
    cheapest lost-sale abatement cost over the horizon (``lost_sale_abatement``), so that a target out of
    reach of the levers and shifts is reported as excess tonnes, not met by selling fewer cars. One price for
    every period: different prices would pay the plan to move output (through stock) into the period whose
    excess is cheaper. Returns (price per period, basis text per period)."""
    th = lost_sale_abatement(x, f, u, cp)
    val = pd.to_numeric(th["threshold_eur_per_t"], errors="coerce").to_numpy(float)
    th = th[np.isfinite(val) & (val > 0)]
    if len(th):
        low = th.loc[th["threshold_eur_per_t"].idxmin()]
        price = EXCESS_PRICE_MARGIN * float(low["threshold_eur_per_t"])
        basis = (f"{EXCESS_PRICE_MARGIN:.0%} of the cheapest lost-sale abatement cost, "
                 f"{float(low['threshold_eur_per_t']):,.1f} EUR/t ({low['product_id']} from {low['plant_id']} to "
                 f"{low['market_id']})")
    else:
        price, basis = EXCESS_PRICE_FALLBACK, "fallback: no sale can be given up to abate"
    return np.full(len(per), price), [basis] * len(per)


def build_model(inputs: PlanInputs, params: ScenarioParams) -> PlanModel:
    """Build the LP for one scenario (see docs/OPTIMISATION.md for the formulation): the column blocks
    first, then one ``define_*`` per constraint family (optimisation.constraints.FAMILIES)."""
    from optimisation.constraints import FAMILIES
    from optimisation.sourcing import define_sourcing

    t0 = time.perf_counter()
    weeks = _weeks(inputs, params)
    n_t = len(weeks)
    plants = inputs.plants.set_index("plant_id")
    products = inputs.products.set_index("product_id")
    cap = _capacity(inputs, params, plants, n_t)
    pp, x, fixed, coef = _production(inputs, params, weeks, products)
    dem, u = _unmet(inputs, params, weeks, products)
    f = _shipments(inputs, params, pp, u, products, n_t)
    current = _current_plan(inputs, params)
    target = None
    if params.output_target_units is not None:
        target = float(params.output_target_units)
    elif params.output_target_pct is not None:
        target = float(dem["net"].sum()) * params.output_target_pct / 100.0  # demand net of the pipeline

    # --- columns: x | f | u | s_co2 | s_out  (objective: cost + carbon price x CO2e + penalties)
    cp = params.carbon_price_eur_per_t
    cols = Columns()
    lb, ub = _max_move_bounds(x, cap, current, params)
    if params.max_move_pct is not None:
        x["lb"], x["ub"] = lb, ub
    x["col"] = cols.add("x", len(x), x["cost_eur"] + cp * x["e_budget"], lb, ub)
    f["col"] = cols.add("f", len(f), f["cost_eur"] + cp * f["e_budget"])
    u["col"] = cols.add("u", len(u), u["penalty_eur"])
    # shift-following fixed emissions: share sigma_p of plant p's weekly fixed emissions goes with the shifts run
    rules = _plant_rules(inputs, params, plants, current)
    fixed, coef = _split_shift_fixed(fixed, coef, rules["shift_follow"])
    # budget semantics: boundary share per plant (rows of the plant and lanes leaving it), one row per period
    boundary = resolve_boundary(params)
    share = boundary_shares(inputs.plants, boundary)
    x["b"] = share.reindex(x["plant_id"]).fillna(0.0).to_numpy()
    f["b"] = share.reindex(f["plant_id"]).fillna(0.0).to_numpy()
    fixed["b"] = share.reindex(fixed["plant_id"]).fillna(0.0).to_numpy()
    per_t = periods(weeks, params.budget_period)
    x["q"] = per_t["period"].to_numpy()[x["t"].to_numpy()]
    f["q"] = per_t["period"].to_numpy()[f["t"].to_numpy()]
    fixed["q"] = per_t["period"].to_numpy()[fixed["t"].to_numpy()]
    counted = fixed[fixed["scope"].isin(plant_scopes(params))]
    per = per_t.groupby("period", sort=False).agg(weeks=("t", "count"), year=("year", "first")).reset_index()
    per["fixed_tco2e"] = (counted["fixed_tco2e"] * counted["b"]).groupby(counted["q"]).sum().reindex(
        per["period"]).fillna(0.0).to_numpy()
    u_q = per_t["period"].to_numpy()[u["t"].to_numpy(int)]
    if params.co2_slack_penalty_eur_per_t is not None:  # user-set: one price for every period
        per["excess_price_eur_per_t"] = float(params.co2_slack_penalty_eur_per_t)
        per["excess_price_basis"] = "set"
    else:
        per["excess_price_eur_per_t"], per["excess_price_basis"] = excess_prices(x, f, u.assign(q=u_q), per, cp)
    per["s_co2_col"] = cols.add("s_co2", len(per), per["excess_price_eur_per_t"].to_numpy(float),
                                prefix="s_co2" if len(per) == 1 else None)
    s_co2_col = int(per["s_co2_col"].iloc[0])
    s_out_col = None
    if target is not None:
        s_out_col = int(cols.add("s_out", 1, params.output_slack_penalty_eur_per_unit, prefix="s_out")[0])
    co2_fixed = float(per["fixed_tco2e"].sum())
    co2_fixed_gross = float(counted["fixed_tco2e"].sum())

    # --- stock and time: plant stock I (x index), market stock Im and backlog bo (u index), tail demand
    hold_w = params.holding_rate_pct_per_year / 100.0 / 52.0
    imax_x = rules["imax"].reindex(x["plant_id"]).to_numpy()
    x["stock_col"] = cols.add("stock", len(x), hold_w * x["cost_eur"].to_numpy(), 0.0,
                              np.where(imax_x > 0, np.inf, 0.0))
    unit_cost = x.groupby("product_id")["cost_eur"].mean()
    u_cost = unit_cost.reindex(u["product_id"]).fillna(0.0).to_numpy()
    u["mstock_col"] = cols.add("mstock", len(u), 1.5 * hold_w * u_cost)
    if params.backorder_max_weeks > 0:
        w = params.backorder_max_weeks
        bo_ub = (u.groupby(["product_id", "market_id"])["demand"]
                 .transform(lambda s: s.rolling(w, min_periods=1).sum()).to_numpy())
        bo_ub[u["t"].to_numpy() == n_t - 1] = 0.0  # backlog left at the end is lost
        late = params.lateness_pct_of_price_per_week / 100.0 * products.loc[u["product_id"], "price_eur"].to_numpy(
            float)
        u["backlog_col"] = cols.add("backlog", len(u), late, 0.0, bo_ub)
    tail = _tail(u, f.groupby(["product_id", "market_id"])["tau_tail"].first(), n_t, params)
    tail["col"] = cols.add("tail_lost", len(tail), tail["penalty_eur"].to_numpy(float))
    i0_frame, stock_method = opening_stock(inputs, weeks[0])
    i0 = np.zeros(len(x))
    first_t = (x["t"] == 0).to_numpy()
    if len(i0_frame):
        got = i0_frame.set_index(["plant_id", "product_id"])["units"].reindex(
            pd.MultiIndex.from_frame(x.loc[first_t, ["plant_id", "product_id"]])).fillna(0.0).to_numpy()
        total = pd.Series(got).groupby(x.loc[first_t, "plant_id"].to_numpy()).transform("sum").to_numpy()
        lim = rules["imax"].reindex(x.loc[first_t, "plant_id"]).to_numpy()
        i0[first_t] = got * np.minimum(1.0, np.divide(lim, total, out=np.ones_like(got), where=total > 0))
    log.info("opening stock: %.0f units (%s)", i0.sum(), stock_method)
    # --- shifts n[p,t] in [0, S_p] (integer in MILP mode): capacity and fixed cost come in shift-weeks
    s_p = rules["shifts"].reindex(cap["plant_id"]).to_numpy()
    has_shifts = np.isfinite(s_p) & (s_p >= 1)
    sh = cap.loc[has_shifts, ["plant_id", "t", "capacity_units"]].reset_index(drop=True)
    sh["shifts_max"] = np.floor(s_p[has_shifts])
    sh = _shift_emissions(sh, coef, params, share, per_t)
    # implied bound: the labour-agreement floor umin x cap needs ceil(S_p umin_p) whole shifts of cap/S_p (0 when
    # the plant is closed that week); without it branch and bound may buy the floor's slack within its gap
    umin_s = rules["umin"].reindex(sh["plant_id"]).fillna(0.0).to_numpy(float)
    sh["shifts_min"] = np.where(sh["capacity_units"].to_numpy(float) > 0,
                                np.minimum(np.ceil(sh["shifts_max"].to_numpy(float) * umin_s - 1e-9),
                                           sh["shifts_max"].to_numpy(float)), 0.0)
    sh["col"] = cols.add("shifts", len(sh), rules["shift_cost"].reindex(sh["plant_id"]).to_numpy(float)
                         + cp * sh["e_budget"].to_numpy(float), sh["shifts_min"].to_numpy(float),
                         sh["shifts_max"].to_numpy())

    # --- abatement levers (MWh per plant x lever x week)
    from optimisation.levers import lever_frame

    levers, lever_avail, non_abating = lever_frame(inputs, params, weeks, sorted(x["plant_id"].unique()))
    scopes = plant_scopes(params)
    levers["d_budget"] = (levers["d_scope1"] * ("scope1" in scopes)
                          + levers["d_scope2_market"] * ("scope2_market" in scopes)).astype(float)
    levers["b"] = share.reindex(levers["plant_id"]).fillna(0.0).to_numpy()
    levers["q"] = per_t["period"].to_numpy()[levers["t"].to_numpy(int)] if len(levers) else []
    levers["col"] = cols.add("lever", len(levers), (levers["price_eur_per_mwh"] + cp * levers["d_budget"]).to_numpy(
        float))

    # --- carbon removals: only in the net_target row, never in the scope 1-3 figures (docs: "Net target")
    removals, s_net_col = None, None
    if params.net_target_t is not None:
        removals = _removals(inputs, weeks)
        removals["col"] = cols.add("removal", len(removals), removals["price_eur_per_t"].to_numpy(float), 0.0,
                                   removals["avail_t"].to_numpy(float))
        s_net_col = int(cols.add("s_net", 1, float(per["excess_price_eur_per_t"].max()), prefix="s_net")[0])

    b = Build(inputs=inputs, params=params, weeks=weeks, cap=cap, x=x, f=f, u=u, dem=dem, coef=coef, fixed=fixed,
              cols=cols, rows=_Rows(), co2_fixed_t=co2_fixed, target=target, s_co2_col=s_co2_col,
              s_out_col=s_out_col, rules=rules, tail=tail, i0=i0, periods=per, levers=levers,
              lever_availability=lever_avail, shifts=sh)
    b.extra["removals"], b.extra["s_net_col"] = removals, s_net_col
    for define in FAMILIES:
        define(b)
    define_sourcing(b)  # issue 16: component sourcing (no-op without sourcing options)

    prob = pulp.LpProblem(f"co2plan_{params.scenario_id}", pulp.LpMinimize)
    n_cols = cols.n
    # one batch call into the Rust core (what add_variable_dicts does, without the per-name formatting)
    rust_vars = prob.toRustModel().add_variables_batch(cols.names, 0.0, float("inf"), _rustcore.Category.Continuous)
    variables = [pulp.LpVariable(v) for v in rust_vars]
    first, last = rust_vars[0].id(), rust_vars[-1].id()
    if last - first == n_cols - 1:  # batch ids are consecutive
        ids = np.arange(first, last + 1, dtype=np.uint64)
    else:  # pragma: no cover - defensive
        ids = np.fromiter((v.id() for v in rust_vars), dtype=np.uint64, count=n_cols)
    obj, col_lb, col_ub = cols.arrays()
    bounded = np.flatnonzero((col_lb != 0.0) | np.isfinite(col_ub))
    for i in bounded.tolist():
        rust_vars[i].set_lb(float(col_lb[i]))
        rust_vars[i].set_ub(float(col_ub[i]))
    constraints = b.rows.add_to(prob, ids)

    expr = _rustcore.AffineExpr()
    expr.add_term_ids_coeffs(prob.toRustModel(), ids, obj.astype(float))
    expr.set_constant(cp * co2_fixed_gross)
    prob.setObjective(pulp.LpAffineExpression(expr))
    matrix = {**b.rows.csr, "obj": obj.astype(float), "col_lb": col_lb, "col_ub": col_ub, "first_id": int(ids[0])}

    fam = b.rows.families
    co2_fam = fam["co2_budget"]
    out_first = fam["output_target"].first if "output_target" in fam else None
    cap_fam, mb_fam = fam["plant_capacity"], fam.get("market_balance")
    # bookkeeping for reporting
    dem["week"] = weeks[dem["t"].to_numpy()]
    pm = PlanModel(prob=prob, params=params, weeks=weeks, x=x, f=f, u=u, demand=dem, capacity=cap, fixed=fixed,
                   variables=variables, co2_fixed_t=co2_fixed, co2_budget_t=params.co2_budget_t,
                   output_row=None if out_first is None else constraints[out_first],
                   output_target_units=target, s_co2_col=s_co2_col, s_out_col=s_out_col,
                   capacity_rows=constraints[cap_fam.first:cap_fam.first + cap_fam.n],
                   market_rows=[] if mb_fam is None else constraints[mb_fam.first:mb_fam.first + mb_fam.n],
                   current_plan=current, matrix=matrix, families=fam, constraints=constraints, rules=rules,
                   tail=tail, i0=i0, cols=cols, periods=per,
                   budget_rows=constraints[co2_fam.first:co2_fam.first + co2_fam.n], levers=levers,
                   lever_availability=lever_avail, non_abating=non_abating, boundary=boundary, shifts=sh,
                   removals=removals, s_net_col=s_net_col)
    pm.periods["budget_t"] = np.nan
    if b.extra.get("budget") is not None:
        pm.periods["budget_t"] = b.extra["budget"]
    pm.build_seconds = time.perf_counter() - t0
    log.info("built %s: %d variables, %d constraints in %.2f s", prob.name, n_cols, len(constraints),
             pm.build_seconds)
    return pm
