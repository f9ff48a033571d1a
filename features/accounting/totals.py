"""Organisational boundary, totals by scope, base year, monthly summary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.ghg.errors import GHGError as AccountingError
from features.accounting._common import BOUNDARIES, SCOPES, _unique_index, _years


def boundary_shares(plants: pd.DataFrame, boundary: str) -> pd.Series:
    """Share of each plant's emissions inside the organisational boundary, indexed by plant_id.

    ``operational_control``: 1 for plants under operational control, else 0 (GHG Protocol ch. 3).
    ``equity_share``: plants.equity_share (0..1), whatever the control.
    """
    p = _unique_index(plants, "plant_id", "plants")
    if boundary == "operational_control":
        return p["operational_control"].astype(bool).astype(float)
    if boundary == "equity_share":
        share = p["equity_share"].astype(float)
        if ((share < 0) | (share > 1) | share.isna()).any():
            bad = share[(share < 0) | (share > 1) | share.isna()].index[0]
            raise AccountingError(f"plants: equity_share of {bad!r} must be within 0..1")
        return share
    raise AccountingError(f"boundary {boundary!r} not in {BOUNDARIES}")


def _share(ledger: pd.DataFrame, plants: pd.DataFrame, boundary: str) -> np.ndarray:
    shares = boundary_shares(plants, boundary)
    pid = ledger["plant_id"]
    if not isinstance(pid.dtype, pd.CategoricalDtype):
        pid = pid.astype("category")
    per_cat = shares.reindex(pid.cat.categories)
    if per_cat.isna().any():
        raise AccountingError(f"ledger plant_id {per_cat[per_cat.isna()].index[0]!r} is not in plants")
    codes = pid.cat.codes.to_numpy()
    return per_cat.to_numpy(dtype=float)[codes]


def totals_by_scope(ledger: pd.DataFrame, plants: pd.DataFrame, boundary: str = "operational_control",
                    year: int | None = None) -> dict[str, float]:
    """t CO2e per scope under an organisational boundary (optionally one calendar year).

    The ledger holds each facility's gross emissions; the boundary is applied here, so the same ledger gives
    totals under operational control and under equity share.
    """
    w = ledger["co2e_t"].to_numpy(dtype=float) * _share(ledger, plants, boundary)
    scope = ledger["scope"]
    scope = scope if isinstance(scope.dtype, pd.CategoricalDtype) else scope.astype("category")
    if year is not None:
        keep = _years(ledger["week"]) == year
        w, scope = w[keep], scope[keep]
    sums = np.bincount(scope.cat.codes.to_numpy(), weights=w, minlength=len(scope.cat.categories))
    out = {s: 0.0 for s in SCOPES}
    for i, s in enumerate(scope.cat.categories):
        out[str(s)] = float(sums[i])
    return out


def base_year_totals(ledger: pd.DataFrame, plants: pd.DataFrame, base_year: int | None = None) -> dict[str, Any]:
    """Base-year totals under both boundaries (base year = earliest year in the ledger unless given)."""
    if base_year is None:
        base_year = int(_years(ledger["week"]).min()) if len(ledger) else None
    if base_year is None:
        return {"year": None}
    return {"year": int(base_year), **{b: totals_by_scope(ledger, plants, b, base_year) for b in BOUNDARIES}}


def recalculate_base_year(base: dict[str, Any], ledger: pd.DataFrame, plants: pd.DataFrame,
                          boundary: str) -> dict[str, float]:
    """Base-year totals under ``boundary``: taken from the stored base-year record when it holds that
    approach, else recomputed from the ledger (e.g. after the boundary policy or the plants changed)."""
    stored = base.get(boundary)
    if stored is not None:
        return dict(stored)
    return totals_by_scope(ledger, plants, boundary, base.get("year"))


def summarise(ledger: pd.DataFrame, plants: pd.DataFrame, boundary: str = "operational_control") -> pd.DataFrame:
    """t CO2e by month x plant x scope (a week counts in the month of its Monday)."""
    share = _share(ledger, plants, boundary)
    gross = ledger["co2e_t"].to_numpy(dtype=float)
    df = pd.DataFrame({
        "month": ledger["week"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype("datetime64[ns]"),
        "plant_id": ledger["plant_id"], "scope": ledger["scope"], "co2e_t": gross * share, "co2e_t_gross": gross,
    })
    out = df.groupby(["month", "plant_id", "scope"], observed=True, sort=True).sum().reset_index()
    out["plant_id"] = out["plant_id"].astype(str)
    out["scope"] = out["scope"].astype(str)
    out["boundary"] = boundary
    out["gwp_set"] = str(ledger["gwp_set"].iloc[0]) if len(ledger) else None
    return out

