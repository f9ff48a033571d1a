"""Budget semantics, declared once: which scopes count, on which organisational boundary, over which periods,
and the target trajectory from a base year.

- Scopes: ``ScenarioParams.budget_scopes`` (default scope1 + scope2_market + scope3_cat4, the transport of the
  plan's flows). model.py and kpis.py read them only through ``plant_scopes``/``counts_transport``;
  ``scope3_cat1`` (purchased components from the sourcing options) through ``counts_cat1``
  (optimisation.sourcing; it counts only when the plan has sourcing options).
- Boundary: ``operational_control`` (1 for controlled plants, else 0), ``equity_share`` (plants.equity_share)
  or ``full`` (1). It applies to a plant's rows and to the lanes leaving it, as the ledger does for
  scope3_cat4. ``ledger`` is resolved by optimisation.stage to the boundary the ledger reports.
- Periods: one budget row per calendar quarter or year the horizon touches (or one for the horizon).
- Trajectory: B_y = base x (1 - rate/100 x (y - base_year)); a period gets B_y x its days / days of y.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: scopes a budget may count; the default is the first, third and fourth
SCOPES = ("scope1", "scope2_market", "scope2_location", "scope3_cat4", "scope3_cat1")
BUDGET_SCOPES = ("scope1", "scope2_market", "scope3_cat4")
BOUNDARIES = ("operational_control", "equity_share", "full")


def plant_scopes(params) -> list[str]:
    """The plant scopes (production and fixed emissions) the budget counts."""
    return [s for s in params.budget_scopes if s not in ("scope3_cat4", "scope3_cat1")]


def counts_transport(params) -> bool:
    return "scope3_cat4" in params.budget_scopes


def counts_cat1(params) -> bool:
    """Scope 3 category 1 (purchased components, optimisation.sourcing) counts in the budget."""
    return "scope3_cat1" in params.budget_scopes


def resolve_boundary(params) -> str:
    """``ledger`` without a ledger to ask (run_plan on tables): operational control, the ledger's default."""
    return "operational_control" if params.boundary == "ledger" else params.boundary


def boundary_shares(plants: pd.DataFrame, boundary: str) -> pd.Series:
    """Share of each plant's emissions inside the boundary, by plant_id (same rule as
    features.accounting.boundary_shares, which the optimiser may not import; a test keeps them equal)."""
    p = plants.set_index("plant_id")
    if boundary == "operational_control":
        return p["operational_control"].astype(bool).astype(float)
    if boundary == "equity_share":
        return p["equity_share"].astype(float).clip(0.0, 1.0)
    if boundary == "full":
        return pd.Series(1.0, index=p.index)
    raise ValueError(f"boundary {boundary!r} not in {BOUNDARIES}")


def periods(weeks: pd.DatetimeIndex, kind: str) -> pd.DataFrame:
    """Budget periods of the horizon: one row per week with ``period`` (label), ``year`` and ``days`` (7)."""
    if kind == "horizon":
        label = np.full(len(weeks), "horizon", dtype=object)
    elif kind == "year":
        label = weeks.year.astype(str).to_numpy(dtype=object)
    elif kind == "quarter":
        label = (weeks.year.astype(str) + "Q" + weeks.quarter.astype(str)).to_numpy(dtype=object)
    else:
        raise ValueError(f"budget_period {kind!r} not in horizon, quarter, year")
    return pd.DataFrame({"t": np.arange(len(weeks)), "period": label, "year": weeks.year.to_numpy()})


def trajectory_budget(base_t: float, base_year: int, rate_pct: float, weeks: pd.DatetimeIndex,
                      kind: str) -> dict[str, float]:
    """t CO2e allowed per budget period: the yearly target of each week's year, x 7 / days of that year."""
    per = periods(weeks, kind)
    days = np.where(weeks.is_leap_year, 366.0, 365.0)
    yearly = base_t * (1.0 - rate_pct / 100.0 * (weeks.year.to_numpy() - base_year))
    per["budget"] = np.maximum(yearly, 0.0) * 7.0 / days
    return per.groupby("period", sort=False)["budget"].sum().to_dict()


def base_year_totals(ledger: pd.DataFrame, plants: pd.DataFrame, boundary: str, scopes, base_year: int | None
                     ) -> tuple[int, float]:
    """(year, t CO2e) of the ledger's base year under the boundary and scopes. Without ``base_year``: the first
    complete calendar year (52 weeks or more) of the ledger. A partial base year is refused."""
    wk = pd.to_datetime(ledger["week"])
    years = wk.dt.year
    n_weeks = wk.groupby(years).nunique()
    if base_year is None:
        full = n_weeks[n_weeks >= 52]
        if full.empty:
            raise ValueError("trajectory: the ledger has no complete calendar year to use as base year")
        base_year = int(full.index.min())
    if n_weeks.get(base_year, 0) < 52:
        raise ValueError(f"trajectory: base year {base_year} covers {int(n_weeks.get(base_year, 0))} weeks of the "
                         "ledger, not a full year; give a complete base_year")
    share = boundary_shares(plants, boundary)
    sel = (years == base_year).to_numpy() & ledger["scope"].astype(str).isin(list(scopes)).to_numpy()
    led = ledger[sel]
    w = share.reindex(led["plant_id"].astype(str)).fillna(0.0).to_numpy()
    return base_year, float((led["co2e_t"].to_numpy(float) * w).sum())
