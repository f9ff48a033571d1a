"""Scope 3 category 4: upstream transport, tonnes x lane distance x freight factor."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ghg.errors import GHGError as AccountingError
from core.ghg.factors import FactorIndex, prepare_factors
from core.ghg.units import split_unit, unit_multiplier
from features.accounting._columns import _KC, _RC, _key_sort, _LedgerParts
from features.accounting._common import (
    F_FREIGHT,
    _codes,
    _dates,
    _gwp,
    _plant_codes,
    _plant_table,
    _regions,
    _row_context,
    _source_rows,
    _unique_index,
    _years,
)
from features.accounting._emit import _emit, _factor_item
from features.accounting.invariants import check


def scope3_transport(shipments: pd.DataFrame, lanes: pd.DataFrame, plants: pd.DataFrame,
                     factors: pd.DataFrame | None = None, *, basis: str = "TTW", gwp_set: str = "AR5",
                     year_rule: str = "latest_le_else_earliest", factor_version: str | None = None) -> pd.DataFrame:
    """Scope 3 category 4 ledger rows: tonne-km = tonnes x lane distance, x freight_<mode> factor."""
    parts = _LedgerParts()
    _scope3_into(parts, shipments, lanes, _plant_table(plants), FactorIndex(prepare_factors(factors, factor_version)),
                 basis,
                 _gwp(gwp_set), gwp_set, year_rule)
    return parts.frame()


def _scope3_into(parts: _LedgerParts, shipments: pd.DataFrame, lanes: pd.DataFrame, plants: pd.DataFrame,
                 factors: FactorIndex, basis: str, gwp: dict[str, float], gwp_set: str, year_rule: str) -> None:
    if basis not in ("TTW", "WTW"):
        raise AccountingError(f"basis {basis!r} must be 'TTW' or 'WTW'")
    if shipments is None or shipments.empty:
        return
    need = {"week", "lane_id", "tonnes"}
    missing = need - set(shipments.columns)
    if missing:
        raise AccountingError(f"shipments: missing columns {sorted(missing)}")
    check("lanes", lanes.reset_index(drop=True), ("distance_km", "mode"))
    check("shipments", shipments.reset_index(drop=True), ("tonnes",))
    ln = _unique_index(lanes, "lane_id", "lanes")
    lcodes, lcats = _codes(shipments["lane_id"], "shipments")
    lpos = ln.index.get_indexer(pd.Index(lcats, dtype=object))
    if (lpos < 0).any():
        bad = np.flatnonzero(lpos < 0)
        row = int(np.flatnonzero(np.isin(lcodes, bad))[0])
        raise AccountingError(f"shipments row {row}: lane_id {lcats[bad[0]]!r} is not in lanes")
    lane_pcodes = _plant_codes("lanes", ln.reset_index(), plants)
    row_lane = lpos[lcodes]
    pcodes = lane_pcodes[row_lane]
    dist = ln["distance_km"].to_numpy(dtype=float)[row_lane]
    tonnes = shipments["tonnes"].to_numpy(dtype=float)
    if len(tonnes) and (np.isnan(tonnes).any() or (tonnes < 0).any()):
        row = int(np.flatnonzero(np.isnan(tonnes) | (tonnes < 0))[0])
        raise AccountingError(f"shipments row {row}: tonnes {tonnes[row]} must be a number >= 0")
    tkm = tonnes * dist
    weeks = _dates(shipments["week"])
    if np.isnat(weeks).any():
        raise AccountingError(f"shipments row {int(np.flatnonzero(np.isnat(weeks))[0])}: week is missing")
    years = _years(weeks)
    mcodes, mcats = _codes(ln["mode"], "lanes")
    row_mode = mcodes[row_lane]
    y0 = int(years.min())
    ny = int(years.max()) - y0 + 1
    key = (plants["_rep"].to_numpy()[pcodes] * len(mcats) + row_mode) * ny + (years - y0)
    kcodes, kuniq = pd.factorize(key, sort=False)
    kuniq = np.asarray(kuniq, dtype=np.int64)
    items = []
    for k, kv in enumerate(kuniq):
        year = int(kv % ny) + y0
        mode = mcats[int((kv // ny) % len(mcats))]
        p = int(kv // ny // len(mcats))
        try:
            fset = factors.resolve(f"freight_{mode}", _regions(plants, p, True, False), year, year_rule, basis)
            items.append([_factor_item(fr, unit_multiplier("tonne_km", split_unit(fr["unit"])[1]), F_FREIGHT)
                          for fr in fset])
        except AccountingError as exc:
            row = int(np.flatnonzero(kcodes == k)[0])
            raise type(exc)(f"{_row_context('shipments', shipments, row, ('lane_id', 'week'))}: {exc}") from None
    perm, bounds = _key_sort(kcodes, len(kuniq))

    def t(a):
        return np.take(a, perm, mode="clip")
    mode_k = np.array([int((kv // ny) % len(mcats)) for kv in kuniq], dtype=np.int32)
    _emit(parts, scope="scope3_cat4", key_items=items, bounds=bounds, quantity=t(tkm), gwp=gwp, gwp_set=gwp_set,
          row_cols={"plant_id": _RC(t(pcodes), list(plants.index)), "lane_id": _RC(t(lcodes), lcats),
                    "week": t(weeks), "source_row": t(_source_rows(shipments))},
          key_cols={"activity": _KC(mode_k, [f"freight_{m}" for m in mcats])}, base={"source_table": "shipments", "category": "upstream_transport"})

