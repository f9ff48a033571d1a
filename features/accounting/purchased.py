"""Scope 2, location- and market-based, for purchased electricity, heat, steam and cooling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.ghg.errors import GHGError as AccountingError
from core.ghg.errors import MissingFactorError
from core.ghg.factors import FactorIndex, prepare_factors
from core.ghg.units import split_unit, unit_multiplier
from features.accounting._columns import _Cat, _LedgerParts, _Prod
from features.accounting._common import (
    F_GRID,
    F_GRID_FALLBACK,
    F_RESIDUAL,
    SCOPE2_CARRIERS,
    _gwp,
    _plant_table,
    _regions,
    _years,
)
from features.accounting._emit import _emit, _factor_item
from features.accounting._inputs import _energy_rows, _EnergyRows
from features.accounting.instruments import _allocate_instruments


def scope2(energy_use: pd.DataFrame, plants: pd.DataFrame, factors: pd.DataFrame | None = None,
           contracts: pd.DataFrame | None = None, *, gwp_set: str = "AR5",
           year_rule: str = "latest_le_else_earliest", factor_version: str | None = None) -> pd.DataFrame:
    """Scope 2 ledger rows, location-based and market-based, for the electricity rows of ``energy_use``."""
    parts = _LedgerParts()
    _scope2_into(parts, energy_use, _plant_table(plants), FactorIndex(prepare_factors(factors, factor_version)),
                 contracts, _gwp(gwp_set), gwp_set, year_rule)
    return parts.frame()


def _scope2_into(parts: _LedgerParts, energy_use: pd.DataFrame | _EnergyRows, plants: pd.DataFrame,
                 factors: FactorIndex, contracts: pd.DataFrame | None, gwp: dict[str, float], gwp_set: str,
                 year_rule: str) -> dict:
    er = _energy_rows(energy_use, plants)
    report: dict[str, Any] = {"instruments_applied_mwh": {}, "instruments_not_counted": {}}
    keys = er.keys
    elec_key = np.array([c in SCOPE2_CARRIERS for c in keys["carrier"]], dtype=bool)
    if not elec_key.any():
        return report
    def wrap(k, fn):
        try:
            return fn()
        except AccountingError as exc:
            raise er.key_error(k, exc) from None

    # location-based: grid subregion -> country (no GLOBAL grid average)
    loc_items, kwh_mult = [], np.zeros(len(keys["year"]))
    for k in range(len(keys["year"])):
        if not elec_key[k]:
            loc_items.append([])
            continue
        p, unit, year = int(keys["plant"][k]), keys["unit"][k], int(keys["year"][k])
        fset = wrap(k, lambda p=p, year=year: factors.resolve("electricity_grid", _regions(plants, p, False), year,
                                                               year_rule))
        items = [wrap(k, lambda fr=fr, unit=unit: _factor_item(fr, unit_multiplier(unit, split_unit(fr["unit"])[1]),
                                                                F_GRID)) for fr in fset]
        loc_items.append(items)
        kwh_mult[k] = wrap(k, lambda unit=unit: unit_multiplier(unit, "kWh"))
    _emit(parts, scope="scope2_location", key_items=loc_items, bounds=er.bounds, quantity=er.qty, gwp=gwp,
          gwp_set=gwp_set, row_cols=er.row_cols(plants), key_cols={"activity": "electricity_grid"},
          base={"source_table": "energy_use"})

    # market-based: instruments first, in precedence order, then residual mix (or grid average)
    # kWh per row, written on the electricity runs only (rows of other carriers are never read)
    kwh = np.empty(len(er.qty))
    elec_spans = []
    for k in np.flatnonzero(elec_key):
        lo, hi = int(er.bounds[k]), int(er.bounds[k + 1])
        np.multiply(er.qty[lo:hi], kwh_mult[k], out=kwh[lo:hi])
        elec_spans.append((lo, hi))
    remainder, slices, report = _allocate_instruments(er, plants, kwh, contracts, elec_spans)
    mkt_items = []
    for k in range(len(keys["year"])):
        if not elec_key[k]:
            mkt_items.append([])
            continue
        p, year = int(keys["plant"][k]), int(keys["year"][k])
        try:
            fset = factors.resolve("electricity_residual_mix", _regions(plants, p, False, False), year, year_rule)
            formula = F_RESIDUAL
        except MissingFactorError:
            fset = wrap(k, lambda p=p, year=year: factors.resolve(
                "electricity_grid", _regions(plants, p, False), year, year_rule))
            formula = F_GRID_FALLBACK
        mkt_items.append([wrap(k, lambda fr=fr, formula=formula: _factor_item(
            fr, unit_multiplier("kWh", split_unit(fr["unit"])[1]), formula)) for fr in fset])
    _emit(parts, scope="scope2_market", key_items=mkt_items, bounds=er.bounds, quantity=remainder, gwp=gwp,
          gwp_set=gwp_set, row_cols=er.row_cols(plants), key_cols={"activity": "electricity_residual"},
          base={"source_table": "energy_use"})
    if slices is not None and len(slices["row"]):
        idx = slices["row"]
        ci = slices["contract"]
        c = slices["table"]
        q = slices["kwh"]
        ef_t = c["factor_kg_per_kwh"].to_numpy(dtype=float) / 1000.0
        inst = c["instrument"].astype(str).to_numpy()
        n_c = np.arange(len(c), dtype=np.int32)
        parts.add(
            len(idx), scope="scope2_market", activity=_Cat(n_c, list("instrument_" + inst), ci), gas="CO2e",
            quantity=q, unit="kWh", emissions_t=_Prod(ef_t, ci, q), co2e_t=_Prod(ef_t * gwp["CO2e"], ci, q),
            factor_id=_Cat(n_c, list(c["contract_id"].astype(str)), ci), factor_version="energy_contracts",
            factor_year=_Prod(_years(c["start"]), ci), formula=_Cat(n_c, list("kwh_x_" + inst), ci),
            gwp_set=gwp_set, source_table="energy_use", **er.gather_cols(plants, idx))
    return report

