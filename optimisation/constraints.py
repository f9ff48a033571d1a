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


def define_plant_balance(b: Build) -> None:
    """plant_balance (p,k,t): x - sum_l f = 0 (production shipped in the week it is built)."""
    x, f = b.x, b.f
    nx = len(x)
    of_f = _pos(x[["plant_id", "product_id", "t"]], f[["plant_id", "product_id", "t"]]).astype(np.int64)
    b.rows.family("plant_balance", nx, "==", 0.0, np.concatenate([np.arange(nx), of_f]),
                  np.concatenate([x["col"], f["col"]]), np.concatenate([np.ones(nx), -np.ones(len(f))]),
                  index=x[["plant_id", "product_id", "t"]])


def define_market_balance(b: Build) -> None:
    """market_balance (k,m,t): sum_l f[l,k,t - tau_l] + u >= demand net of the pipeline."""
    u, f = b.u, b.f
    nu = len(u)
    of_f = _pos(u[["product_id", "market_id", "t"]], [f["product_id"], f["market_id"], f["t_arrive"]])
    has = ~np.isnan(of_f)
    b.rows.family("market_balance", nu, ">=", u["demand"].to_numpy(),
                  np.concatenate([np.arange(nu), of_f[has].astype(np.int64)]),
                  np.concatenate([u["col"], f["col"][has]]), np.ones(nu + int(has.sum())),
                  index=u[["product_id", "market_id", "t"]])


def define_plant_capacity(b: Build) -> None:
    """plant_capacity (p,t): sum_k x <= capacity after outages."""
    cap, x = b.cap, b.x
    row = _pos(cap[["plant_id", "t"]], x[["plant_id", "t"]]).astype(np.int64)
    b.rows.family("plant_capacity", len(cap), "<=", cap["capacity_units"].to_numpy(), row, x["col"],
                  np.ones(len(x)), index=cap[["plant_id", "t"]])


def define_lane_capacity(b: Build) -> None:
    """lane_capacity (l,t): sum_k weight_k f <= lane capacity in tonnes."""
    f = b.f
    keys = f[["lane_id", "t"]].drop_duplicates().reset_index(drop=True)
    cap_t = f.drop_duplicates(["lane_id", "t"])["cap_t"].to_numpy()
    b.rows.family("lane_capacity", len(keys), "<=", cap_t, _pos(keys, f[["lane_id", "t"]]).astype(np.int64),
                  f["col"], f["tonnes_per_unit"], index=keys)


def define_co2_budget(b: Build) -> None:
    """co2_budget: sum e x + sum e f - s_co2 <= budget - fixed emissions."""
    x, f, p = b.x, b.f, b.params
    budget = p.co2_budget_t
    n = len(x) + len(f) + 1
    b.rows.family("co2_budget", 1, "<=", NO_BUDGET if budget is None else budget - b.co2_fixed_t,
                  np.zeros(n, np.int64), np.concatenate([x["col"], f["col"], [b.s_co2_col]]),
                  np.concatenate([x["e_budget"], f["e_transport"], [-1.0]]))


def define_output_target(b: Build) -> None:
    """output_target: sum x + s_out >= target units."""
    if b.target is None:
        return
    x = b.x
    b.rows.family("output_target", 1, ">=", b.target, np.zeros(len(x) + 1, np.int64),
                  np.concatenate([x["col"], [b.s_out_col]]), np.ones(len(x) + 1))


#: the families in build order (row order of the model)
FAMILIES = (define_plant_balance, define_market_balance, define_plant_capacity, define_lane_capacity,
            define_co2_budget, define_output_target)
