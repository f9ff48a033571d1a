"""Per-key gas items expanded into ledger runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.ghg.units import split_unit, unit_multiplier
from features.accounting._columns import _K, _KC, _LedgerParts


@dataclass
class _GasItem:
    gas: str
    coef_t: float  # tonnes of gas per source quantity unit
    mult: float  # source unit -> factor denominator unit
    unit: str  # factor denominator unit (the ledger's quantity unit)
    factor_id: str
    factor_version: str
    factor_year: int
    formula: str
    property_id: str | None = None
    basis: str | None = None


def _factor_item(frow: dict, mult: float, formula: str, property_id: str | None = None) -> _GasItem:
    num, den = split_unit(frow["unit"])
    to_t = unit_multiplier(num, "tonne")
    return _GasItem(gas=str(frow["gas"]), coef_t=mult * float(frow["value"]) * to_t, mult=mult, unit=den,
                    factor_id=str(frow["factor_id"]), factor_version=str(frow["version"]),
                    factor_year=int(frow["year"]), formula=formula, property_id=property_id,
                    basis=frow["basis"] if isinstance(frow.get("basis"), str) else None)


def _emit(parts: _LedgerParts, *, scope: str, key_items: list[list[_GasItem]], bounds: np.ndarray,
          quantity: np.ndarray, gwp: dict[str, float], gwp_set: str, row_cols: dict[str, Any],
          key_cols: dict[str, Any], base: dict[str, Any]) -> None:
    """Expand key-sorted rows into one ledger row per gas of their key.

    Rows are grouped by key (``bounds[k]:bounds[k+1]``), so every per-key value is a fill over a run and
    every per-row value a slice copy or a streaming multiply: no gathers over millions of rows.
    """
    nkeys = len(key_items)
    ngas = [len(items) for items in key_items]
    for j in range(max(ngas, default=0)):
        runs = [(int(bounds[k]), int(bounds[k + 1]), k) for k in range(nkeys)
                if ngas[k] > j and bounds[k + 1] > bounds[k]]
        if not runs:
            continue
        items = [key_items[k][j] if ngas[k] > j else None for k in range(nkeys)]

        def per_key(attr, dtype=float, items=items):
            return np.array([getattr(it, attr) if it is not None else (np.nan if dtype is float else 0)
                             for it in items], dtype=dtype)

        def cat(attr, items=items):
            vals = [getattr(it, attr) if it is not None else None for it in items]
            cats = sorted({v for v in vals if v is not None})
            pos = {c: i for i, c in enumerate(cats)}
            return _KC(np.array([pos[v] if v is not None else -1 for v in vals], dtype=np.int32), cats)

        coef = per_key("coef_t")
        gwp_k = np.array([gwp[it.gas] if it is not None else np.nan for it in items])
        parts.add_runs(
            runs, scope=scope, gas=cat("gas"), quantity=_K(per_key("mult"), quantity), unit=cat("unit"),
            emissions_t=_K(coef, quantity), co2e_t=_K(coef * gwp_k, quantity), factor_id=cat("factor_id"),
            factor_version=cat("factor_version"), factor_year=_K(per_key("factor_year", np.int64)),
            property_id=cat("property_id"), gwp_set=gwp_set, formula=cat("formula"), basis=cat("basis"),
            **row_cols, **key_cols, **base)

