"""The constraint families of the planning model, one ``define_*`` function per family, in the order of
docs/OPTIMISATION.md. Each reads the index frames of a ``Build`` (optimisation.model) and adds one named
family of rows with ``b.rows.family(name, n_rows, sense, rhs, row, col, val, index)``; row, col and val are
the COO triplets of the family's coefficients (row numbers 0-based within the family). Vectorised: no
Python loop over rows. The family name is what the ``constraints`` output table reports, with the dual.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimisation.model import NO_BUDGET, Build


def _pos(index: pd.DataFrame, keys: pd.DataFrame | list) -> np.ndarray:
    """Row position in ``index`` of each key row (NaN where absent)."""
    s = pd.Series(np.arange(len(index)), index=pd.MultiIndex.from_frame(index))
    keys = keys if isinstance(keys, pd.MultiIndex) else (
        pd.MultiIndex.from_arrays(keys) if isinstance(keys, list) else pd.MultiIndex.from_frame(keys))
    return s.reindex(keys).to_numpy(float)


def _shift_terms(b: Build, scope: str | None = None) -> pd.DataFrame:
    """Shift columns that carry shift-following fixed emissions (``e_<scope>`` or the budget's ``e_budget``)."""
    sh = b.shifts
    col = "e_budget" if scope is None else f"e_{scope}"
    if sh is None or sh.empty or col not in sh:
        return pd.DataFrame({"plant_id": pd.Series([], dtype=object), "t": np.zeros(0, np.int64),
                             "q": pd.Series([], dtype=object), "col": np.zeros(0, np.int64), "b": np.zeros(0),
                             "e": np.zeros(0)})
    sh = sh[np.abs(sh[col].to_numpy(float)) > 0]
    return pd.DataFrame({"plant_id": sh["plant_id"], "t": sh["t"], "q": sh["q"], "col": sh["col"], "b": sh["b"],
                         "e": sh[col].to_numpy(float)})


def define_plant_balance(b: Build) -> None:
    """plant_balance (p,k,t): I[t-1] + x - sum_l f - I[t] = 0, with I[-1] = opening stock (on the RHS)."""
    x, f = b.x, b.f
    nx = len(x)
    of_f = _pos(x[["plant_id", "product_id", "t"]], f[["plant_id", "product_id", "t"]]).astype(np.int64)
    prev = np.flatnonzero(x["t"].to_numpy() > 0)  # x is sorted by pair, then t: t-1 is the row before
    b.rows.family("plant_balance", nx, "==", -b.i0,
                  np.concatenate([np.arange(nx), of_f, np.arange(nx), prev]),
                  np.concatenate([x["col"], f["col"], x["stock_col"], x["stock_col"].to_numpy()[prev - 1]]),
                  np.concatenate([np.ones(nx), -np.ones(len(f)), -np.ones(nx), np.ones(len(prev))]),
                  index=x[["plant_id", "product_id", "t"]])


def define_market_balance(b: Build) -> None:
    """market_balance (k,m,t): Im[t-1] + sum_l f[l,k,t-tau_l] + bo[t] + u[t] - bo[t-1] - Im[t] = D - A0.
    An equality: in-transit units (A0) beyond a week's demand go into market stock, none is discarded."""
    u, f = b.u, b.f
    nu = len(u)
    of_f = _pos(u[["product_id", "market_id", "t"]], [f["product_id"], f["market_id"], f["t_arrive"]])
    has = ~np.isnan(of_f)
    prev = np.flatnonzero(u["t"].to_numpy() > 0)  # u is sorted by pair, then t
    rows = [np.arange(nu), of_f[has].astype(np.int64), np.arange(nu), prev]
    cols = [u["col"].to_numpy(), f["col"].to_numpy()[has], u["mstock_col"].to_numpy(),
            u["mstock_col"].to_numpy()[prev - 1]]
    vals = [np.ones(nu), np.ones(int(has.sum())), -np.ones(nu), np.ones(len(prev))]
    if "backlog_col" in u:
        rows += [np.arange(nu), prev]
        cols += [u["backlog_col"].to_numpy(), u["backlog_col"].to_numpy()[prev - 1]]
        vals += [np.ones(nu), -np.ones(len(prev))]
    b.rows.family("market_balance", nu, "==", (u["demand"] - u["pipeline"]).to_numpy(), np.concatenate(rows),
                  np.concatenate(cols), np.concatenate(vals), index=u[["product_id", "market_id", "t"]])


def define_tail_demand(b: Build) -> None:
    """tail_demand (k,m,s), s in [H, H + tau_min): sum_l f[l,k,s-tau_l] + u_tail >= mean demand of the last
    4 weeks. Weeks no departure after the horizon can reach are served by the horizon's production."""
    tail, f = b.tail, b.f
    if tail is None or tail.empty:
        return
    of_f = _pos(tail[["product_id", "market_id", "t"]], [f["product_id"], f["market_id"], f["t_arrive"]])
    has = ~np.isnan(of_f)
    n = len(tail)
    b.rows.family("tail_demand", n, ">=", tail["demand"].to_numpy(),
                  np.concatenate([np.arange(n), of_f[has].astype(np.int64)]),
                  np.concatenate([tail["col"], f["col"].to_numpy()[has]]), np.ones(n + int(has.sum())),
                  index=tail[["product_id", "market_id", "t"]])


def _plant_week_rows(b: Build) -> tuple[pd.DataFrame, np.ndarray]:
    """(cap frame, row of each x in cap)."""
    return b.cap, _pos(b.cap[["plant_id", "t"]], b.x[["plant_id", "t"]]).astype(np.int64)


def define_plant_capacity(b: Build) -> None:
    """plant_capacity (p,t): sum_k x <= capacity after outages; for plants with a shift pattern
    sum_k x - (capacity / S_p) n[p,t] <= 0, n = shift-weeks run (integer in MILP mode)."""
    cap, x, sh = b.cap, b.x, b.shifts
    row = _pos(cap[["plant_id", "t"]], x[["plant_id", "t"]]).astype(np.int64)
    rhs = cap["capacity_units"].to_numpy().copy()
    rows, cols, vals = [row], [x["col"].to_numpy()], [np.ones(len(x))]
    if sh is not None and len(sh):
        r = _pos(cap[["plant_id", "t"]], sh[["plant_id", "t"]]).astype(np.int64)
        rhs[r] = 0.0
        rows.append(r)
        cols.append(sh["col"].to_numpy())
        vals.append(-(sh["capacity_units"] / sh["shifts_max"]).to_numpy(float))
    b.rows.family("plant_capacity", len(cap), "<=", rhs, np.concatenate(rows), np.concatenate(cols),
                  np.concatenate(vals), index=cap[["plant_id", "t"]])


def define_lane_capacity(b: Build) -> None:
    """lane_capacity (l,t): sum_k weight_k f <= lane capacity in tonnes."""
    f = b.f
    keys = f[["lane_id", "t"]].drop_duplicates().reset_index(drop=True)
    cap_t = f.drop_duplicates(["lane_id", "t"])["cap_t"].to_numpy()
    b.rows.family("lane_capacity", len(keys), "<=", cap_t, _pos(keys, f[["lane_id", "t"]]).astype(np.int64),
                  f["col"], f["tonnes_per_unit"], index=keys)


def define_min_utilisation(b: Build) -> None:
    """min_utilisation (p,t): sum_k x + s_min >= umin_p x capacity (after outages); s_min is priced."""
    cap, of_x = _plant_week_rows(b)
    umin = b.rules["umin"].reindex(cap["plant_id"]).fillna(0.0).to_numpy() * cap["capacity_units"].to_numpy()
    keep = np.flatnonzero(umin > 1e-9)
    if not len(keep):
        return
    pos = np.full(len(cap), -1)
    pos[keep] = np.arange(len(keep))
    s = b.cols.add("s_min", len(keep), b.params.min_util_slack_penalty_eur_per_unit)
    xr = pos[of_x]
    sel = xr >= 0
    b.rows.family("min_utilisation", len(keep), ">=", umin[keep], np.concatenate([xr[sel], np.arange(len(keep))]),
                  np.concatenate([b.x["col"].to_numpy()[sel], s]), np.ones(int(sel.sum()) + len(keep)),
                  index=cap.iloc[keep][["plant_id", "t"]])


def define_smoothing(b: Build) -> None:
    """ramp_up / ramp_down (p,t): +-(sum_k x[t] - sum_k x[t-1]) <= delta_p x nominal capacity (+ any capacity
    change between the weeks). Week 1 moves from the current plan's weekly output when it is known."""
    cap, of_x = _plant_week_rows(b)
    delta = b.rules["delta"].reindex(cap["plant_id"]).to_numpy()
    ok = np.isfinite(delta)
    if not ok.any():
        return
    c = cap["capacity_units"].to_numpy()
    t = cap["t"].to_numpy()
    x0 = b.rules["x0"].reindex(cap["plant_id"]).to_numpy()
    umin = b.rules["umin"].reindex(cap["plant_id"]).fillna(0.0).to_numpy()
    base = delta * cap["capacity_nominal"].to_numpy()
    # rows: t > 0 always; t = 0 when x0 is known (cap is sorted by plant, then t)
    rows_k = np.flatnonzero(ok & ((t > 0) | np.isfinite(x0)))
    pos = np.full(len(cap), -1)
    pos[rows_k] = np.arange(len(rows_k))
    c_prev = np.where(t > 0, np.roll(c, 1), c)
    xcol = b.x["col"].to_numpy()
    for name, sign in (("ramp_up", 1.0), ("ramp_down", -1.0)):
        r_cur = pos[of_x]
        nxt = np.where((t < len(b.weeks) - 1), np.arange(len(cap)) + 1, -1)  # the row of week t+1 of a plant
        r_next = np.where(nxt[of_x] >= 0, pos[np.clip(nxt[of_x], 0, len(cap) - 1)], -1)
        sel_c, sel_n = r_cur >= 0, r_next >= 0
        grow = np.maximum(0.0, sign * (c - c_prev))
        first = t == 0
        rhs0 = np.where(first, sign * np.nan_to_num(x0) + np.where(sign > 0, np.maximum(0.0, umin * c - np.nan_to_num(
            x0)), np.maximum(0.0, np.nan_to_num(x0) - c)), 0.0)
        rhs = (base + grow + rhs0)[rows_k]
        b.rows.family(name, len(rows_k), "<=", rhs, np.concatenate([r_cur[sel_c], r_next[sel_n]]),
                      np.concatenate([xcol[sel_c], xcol[sel_n]]),
                      np.concatenate([np.full(int(sel_c.sum()), sign), np.full(int(sel_n.sum()), -sign)]),
                      index=cap.iloc[rows_k][["plant_id", "t"]])


def define_stock_limit(b: Build) -> None:
    """stock_limit (p,t): sum_k I <= Imax_p (plants with a positive limit; 0 = no stock, as column bounds)."""
    cap, of_x = _plant_week_rows(b)
    imax = b.rules["imax"].reindex(cap["plant_id"]).to_numpy()
    keep = np.flatnonzero(np.isfinite(imax) & (imax > 0))
    if not len(keep):
        return
    pos = np.full(len(cap), -1)
    pos[keep] = np.arange(len(keep))
    xr = pos[of_x]
    sel = xr >= 0
    b.rows.family("stock_limit", len(keep), "<=", imax[keep], xr[sel], b.x["stock_col"].to_numpy()[sel],
                  np.ones(int(sel.sum())), index=cap.iloc[keep][["plant_id", "t"]])


def define_terminal_stock(b: Build) -> None:
    """terminal_stock (p): sum_k I[H-1] + s_term >= min(opening stock, Imax) x terminal_stock_pct / 100;
    s_term costs twice the plant's mean unit cost + 1 EUR per unit (above building and holding the unit)."""
    x = b.x
    pct = b.params.terminal_stock_pct / 100.0
    i0 = pd.Series(b.i0).groupby(x["plant_id"].to_numpy()).sum()
    need = (np.minimum(i0, b.rules["imax"].reindex(i0.index)) * pct).loc[lambda s: s > 1e-9]
    if need.empty:
        return
    last = np.flatnonzero((x["t"] == len(b.weeks) - 1).to_numpy() & x["plant_id"].isin(need.index).to_numpy())
    row = pd.Series(np.arange(len(need)), index=need.index).reindex(x["plant_id"].to_numpy()[last]).to_numpy()
    pen = 2.0 * x.groupby("plant_id")["cost_eur"].mean().reindex(need.index).to_numpy() + 1.0
    s = b.cols.add("s_term", len(need), pen)
    b.rows.family("terminal_stock", len(need), ">=", need.to_numpy(), np.concatenate([row, np.arange(len(need))]),
                  np.concatenate([x["stock_col"].to_numpy()[last], s]), np.ones(len(last) + len(need)),
                  index=pd.DataFrame({"plant_id": need.index}))


def define_renewable_cover(b: Build) -> None:
    """renewable_cover (p,t): sum_l (-d_scope2_market_l) x L - e2m x sum_k x - e2m_s n <= (1 - sigma_p) F2m.
    Renewable MWh cannot buy down more market-based scope 2 than the plant has, including the electricity heat
    switches add and the shift-following part of its fixed electricity (n = shift-weeks run)."""
    L, x = b.levers, b.x
    if L is None or L.empty:
        return
    keys = L[["plant_id", "t"]].drop_duplicates().reset_index(drop=True)
    of_l = _pos(keys, L[["plant_id", "t"]]).astype(np.int64)
    of_x = _pos(keys, x[["plant_id", "t"]])
    has = ~np.isnan(of_x)
    fx = b.coef.set_index(["plant_id", "t"])["fx_scope2_market"].reindex(pd.MultiIndex.from_frame(keys))
    S = _shift_terms(b, "scope2_market")
    of_s = _pos(keys, S[["plant_id", "t"]])
    hs = ~np.isnan(of_s)
    b.rows.family("renewable_cover", len(keys), "<=", fx.fillna(0.0).to_numpy(),
                  np.concatenate([of_l, of_x[has].astype(np.int64), of_s[hs].astype(np.int64)]),
                  np.concatenate([L["col"].to_numpy(), x["col"].to_numpy()[has], S["col"].to_numpy()[hs]]),
                  np.concatenate([-L["d_scope2_market"].to_numpy(float), -x["e_scope2_market"].to_numpy()[has],
                                  -S["e"].to_numpy(float)[hs]]),
                  index=keys)


def define_heat_cover(b: Build) -> None:
    """heat_cover (p,t): sum_j eps_gas x h_j / max_share_j - e1 x sum_k x <= F1: heat switches replace at most
    their share of the plant's gas (scope 1 is treated as gas; diesel is small)."""
    L, x = b.levers, b.x
    if L is None or L.empty or not (L["kind"] == "heat").any():
        return
    H = L[L["kind"] == "heat"]
    keys = H[["plant_id", "t"]].drop_duplicates().reset_index(drop=True)
    of_h = _pos(keys, H[["plant_id", "t"]]).astype(np.int64)
    of_x = _pos(keys, x[["plant_id", "t"]])
    has = ~np.isnan(of_x)
    gas = (-H["d_scope1"] + 0.0).to_numpy(float)  # eps_gas - residual: the fossil gas t per MWh replaced
    share = H["max_share_of_gas"].fillna(1.0).clip(lower=1e-6).to_numpy(float)
    fx = b.coef.set_index(["plant_id", "t"])["fx_scope1"].reindex(pd.MultiIndex.from_frame(keys))
    S = _shift_terms(b, "scope1")
    of_s = _pos(keys, S[["plant_id", "t"]])
    hs = ~np.isnan(of_s)
    b.rows.family("heat_cover", len(keys), "<=", fx.fillna(0.0).to_numpy(),
                  np.concatenate([of_h, of_x[has].astype(np.int64), of_s[hs].astype(np.int64)]),
                  np.concatenate([H["col"].to_numpy(), x["col"].to_numpy()[has], S["col"].to_numpy()[hs]]),
                  np.concatenate([gas / share, -x["e_scope1"].to_numpy()[has], -S["e"].to_numpy(float)[hs]]),
                  index=keys)


def define_lever_availability(b: Build) -> None:
    """lever_availability (lever, market, year): sum over the market's plants and the year's weeks of the
    lever's MWh <= available MWh x weeks of the year in the horizon / 52."""
    L, A = b.levers, b.lever_availability
    if L is None or L.empty or A is None or A.empty:
        return
    A = A.reset_index(drop=True)
    row = _pos(A[["lever", "market", "year"]], L[["lever", "market", "year"]])
    has = ~np.isnan(row)
    b.rows.family("lever_availability", len(A), "<=", A["avail_mwh"].to_numpy(float), row[has].astype(np.int64),
                  L["col"].to_numpy()[has], np.ones(int(has.sum())), index=A[["lever", "market", "year"]])


def define_co2_budget(b: Build) -> None:
    """co2_budget (q): sum over the period's weeks of b_p x (e x + e_f f + d_lever L + e_s n) - s_co2[q]
    <= B_q - b_p x fixed emissions; e_s n = the shift-following part of the fixed emissions (sigma_p F / S_p per
    shift-week run); scopes and boundary from optimisation.emissions."""
    x, f, p, per = b.x, b.f, b.params, b.periods
    L = b.levers if b.levers is not None else pd.DataFrame(columns=["q", "col", "d_budget", "b"])
    qpos = pd.Series(np.arange(len(per)), index=per["period"])
    budget = None
    if p.co2_budget_t is not None:
        budget = float(p.co2_budget_t) * per["weeks"].to_numpy(float) / per["weeks"].sum()
    elif b.extra.get("budget") is not None:
        budget = np.asarray(b.extra["budget"], float)
    rhs = np.full(len(per), NO_BUDGET) if budget is None else budget - per["fixed_tco2e"].to_numpy()
    b.extra["budget"] = budget
    S = _shift_terms(b)
    rows = [qpos.reindex(x["q"]).to_numpy(), qpos.reindex(f["q"]).to_numpy(), qpos.reindex(L["q"]).to_numpy(),
            qpos.reindex(S["q"]).to_numpy(), np.arange(len(per))]
    cols = [x["col"].to_numpy(), f["col"].to_numpy(), L["col"].to_numpy(), S["col"].to_numpy(),
            per["s_co2_col"].to_numpy()]
    vals = [(x["b"] * x["e_budget"]).to_numpy(float), (f["b"] * f["e_budget"]).to_numpy(float),
            (L["b"] * L["d_budget"]).to_numpy(float), (S["b"] * S["e"]).to_numpy(float), -np.ones(len(per))]
    keep = [np.abs(v) > 0 for v in vals[:4]] + [np.ones(len(per), bool)]
    b.rows.family("co2_budget", len(per), "<=", rhs, np.concatenate([r[k] for r, k in zip(rows, keep, strict=True)]),
                  np.concatenate([c[k] for c, k in zip(cols, keep, strict=True)]),
                  np.concatenate([v[k] for v, k in zip(vals, keep, strict=True)]),
                  index=per[["period"]])


def define_output_target(b: Build) -> None:
    """output_target: sum x + s_out >= target units."""
    if b.target is None:
        return
    x = b.x
    b.rows.family("output_target", 1, ">=", b.target, np.zeros(len(x) + 1, np.int64),
                  np.concatenate([x["col"], [b.s_out_col]]), np.ones(len(x) + 1))


def define_net_target(b: Build) -> None:
    """net_target: the budget's measure over the horizon (boundary-weighted scopes after levers, as the
    co2_budget rows) - removals bought - s_net <= net_target_t - fixed emissions. Removals enter no other row:
    scope 1-3 are never lowered by them."""
    R, s_net = b.extra.get("removals"), b.extra.get("s_net_col")
    if s_net is None or b.params.net_target_t is None:
        return
    x, f = b.x, b.f
    L = b.levers if b.levers is not None else pd.DataFrame(columns=["col", "d_budget", "b"])
    R = R if R is not None else pd.DataFrame(columns=["col"])
    S = _shift_terms(b)
    cols = [x["col"].to_numpy(), f["col"].to_numpy(), L["col"].to_numpy(), S["col"].to_numpy(), R["col"].to_numpy(),
            np.array([s_net])]
    vals = [(x["b"] * x["e_budget"]).to_numpy(float), (f["b"] * f["e_budget"]).to_numpy(float),
            (L["b"] * L["d_budget"]).to_numpy(float), (S["b"] * S["e"]).to_numpy(float), -np.ones(len(R)),
            -np.ones(1)]
    col = np.concatenate([c.astype(np.int64) for c in cols])
    val = np.concatenate(vals)
    keep = np.abs(val) > 0
    rhs = float(b.params.net_target_t) - float(b.periods["fixed_tco2e"].sum())
    b.rows.family("net_target", 1, "<=", rhs, np.zeros(int(keep.sum()), np.int64), col[keep], val[keep])


#: the families in build order (row order of the model)
FAMILIES = (define_plant_balance, define_market_balance, define_plant_capacity, define_lane_capacity,
            define_co2_budget, define_output_target, define_tail_demand, define_renewable_cover, define_heat_cover,
            define_lever_availability, define_min_utilisation, define_smoothing,
            define_stock_limit, define_terminal_stock, define_net_target)
