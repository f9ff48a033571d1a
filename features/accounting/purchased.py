"""Scope 2, location- and market-based, for purchased electricity, heat, steam and cooling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.ghg.carriers import CARRIERS
from core.ghg.errors import GHGError as AccountingError
from core.ghg.errors import MissingFactorError
from core.ghg.factors import FactorIndex, prepare_factors
from core.ghg.units import split_unit, unit_multiplier
from features.accounting._columns import _KC, _Cat, _LedgerParts, _Prod
from features.accounting._common import (
    F_GRID,
    F_GRID_FALLBACK,
    F_LOCATION_FALLBACK,
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
from features.accounting.invariants import check


def scope2(energy_use: pd.DataFrame, plants: pd.DataFrame, factors: pd.DataFrame | None = None,
           contracts: pd.DataFrame | None = None, *, gwp_set: str = "AR5",
           year_rule: str = "latest_le_else_earliest", factor_version: str | None = None) -> pd.DataFrame:
    """Scope 2 ledger rows, location-based and market-based, for the Scope 2 carriers of ``energy_use``."""
    parts = _LedgerParts()
    _scope2_into(parts, energy_use, _plant_table(plants), FactorIndex(prepare_factors(factors, factor_version)),
                 contracts, _gwp(gwp_set), gwp_set, year_rule)
    return parts.frame()


def _scope2_into(parts: _LedgerParts, energy_use: pd.DataFrame | _EnergyRows, plants: pd.DataFrame,
                 factors: FactorIndex, contracts: pd.DataFrame | None, gwp: dict[str, float], gwp_set: str,
                 year_rule: str) -> dict:
    """Location- and market-based rows for every Scope 2 carrier (electricity, district heat, steam, cooling).

    Location-based: the carrier's location factor (grid subregion, then country; no GLOBAL default).
    Market-based: the carrier's contracts (energy_contracts.carrier, null = electricity) in precedence
    order, then the residual factor; a carrier without a public residual factor (heat, steam, cooling) uses
    its location factor, and the report lists it (``market_location_fallback``).
    """
    er = _energy_rows(energy_use, plants)
    report: dict[str, Any] = {"instruments_applied_mwh": {}, "instruments_not_counted": {},
                              "instruments_surplus_mwh": {}, "market_location_fallback": {}}
    keys = er.keys
    nk = len(keys["year"])
    s2_key = np.array([c in SCOPE2_CARRIERS for c in keys["carrier"]], dtype=bool)
    present = {str(keys["carrier"][k]) for k in np.flatnonzero(s2_key)}
    if contracts is not None and len(contracts):  # contracts for a carrier the run does not consume at all
        check("energy_contracts", contracts.reset_index(drop=True),
              ("mwh", "factor_kg_per_kwh", "instrument", "carrier"))
        ccar = (contracts["carrier"].where(contracts["carrier"].notna(), "electricity").astype(str)
                if "carrier" in contracts.columns else pd.Series("electricity", index=contracts.index))
        for cid, car, mwh in zip(contracts["contract_id"].astype(str), ccar, contracts["mwh"], strict=True):
            if car not in present:
                report["instruments_not_counted"][cid] = f"no {car} consumption in the run"
                report["instruments_surplus_mwh"][cid] = round(float(mwh), 6)
    if not s2_key.any():
        return report

    def wrap(k, fn):
        try:
            return fn()
        except AccountingError as exc:
            raise er.key_error(k, exc) from None

    cats = sorted({str(keys["carrier"][k]) for k in np.flatnonzero(s2_key)})
    loc_acts = [CARRIERS[c].location_activity for c in cats]
    code_of = {c: i for i, c in enumerate(cats)}
    key_code = np.array([code_of.get(str(c), -1) for c in keys["carrier"]], dtype=np.int32)
    category = _KC(key_code, [_CATEGORY[c] for c in cats])

    # location-based: subregion -> country (no GLOBAL average)
    loc_items, kwh_mult = [], np.zeros(nk)
    for k in range(nk):
        if not s2_key[k]:
            loc_items.append([])
            continue
        car = CARRIERS[str(keys["carrier"][k])]
        p, unit, year = int(keys["plant"][k]), keys["unit"][k], int(keys["year"][k])
        fset = wrap(k, lambda p=p, year=year, car=car: factors.resolve(car.location_activity,
                                                                        _regions(plants, p, False), year, year_rule))
        formula = F_GRID if car.id == "electricity" else F_LOCATION
        loc_items.append([wrap(k, lambda fr=fr, unit=unit, formula=formula: _factor_item(
            fr, unit_multiplier(unit, split_unit(fr["unit"])[1]), formula)) for fr in fset])
        kwh_mult[k] = wrap(k, lambda unit=unit: unit_multiplier(unit, "kWh"))
    _emit(parts, scope="scope2_location", key_items=loc_items, bounds=er.bounds, quantity=er.qty, gwp=gwp,
          gwp_set=gwp_set, row_cols=er.row_cols(plants),
          key_cols={"activity": _KC(key_code, loc_acts), "category": category}, base={"source_table": "energy_use"})

    # market-based: each carrier's instruments first, in precedence order, then its residual factor
    kwh = np.empty(len(er.qty))
    spans: dict[str, list[tuple[int, int]]] = {c: [] for c in cats}
    for k in np.flatnonzero(s2_key):
        lo, hi = int(er.bounds[k]), int(er.bounds[k + 1])
        np.multiply(er.qty[lo:hi], kwh_mult[k], out=kwh[lo:hi])
        spans[str(keys["carrier"][k])].append((lo, hi))
    all_slices = []
    for c in cats:
        own = contracts
        if contracts is not None and len(contracts):
            ccar = (contracts["carrier"].where(contracts["carrier"].notna(), "electricity")
                    if "carrier" in contracts.columns else pd.Series("electricity", index=contracts.index))
            own = contracts[(ccar == c).to_numpy()]
        _, slices, rep = _allocate_instruments(er, plants, kwh, own, spans[c])
        for part in ("instruments_applied_mwh", "instruments_not_counted", "instruments_surplus_mwh"):
            report[part].update(rep.get(part, {}))
        if slices is not None and len(slices["row"]):
            all_slices.append((c, slices))
    mkt_items = []
    for k in range(nk):
        if not s2_key[k]:
            mkt_items.append([])
            continue
        car = CARRIERS[str(keys["carrier"][k])]
        p, year = int(keys["plant"][k]), int(keys["year"][k])
        try:
            if car.market_activity is None:
                raise MissingFactorError(f"{car.id} has no residual factor")
            fset = factors.resolve(car.market_activity, _regions(plants, p, False, False), year, year_rule)
            formula = F_RESIDUAL
        except MissingFactorError:
            fset = wrap(k, lambda p=p, year=year, car=car: factors.resolve(
                car.location_activity, _regions(plants, p, False), year, year_rule))
            formula = F_GRID_FALLBACK if car.id == "electricity" else F_LOCATION_FALLBACK
            if car.id != "electricity":
                report["market_location_fallback"][f"{car.id}|{fset[0]['region']}"] = (
                    f"no residual factor for {car.id}: location factor {fset[0]['factor_id']} used")
        mkt_items.append([wrap(k, lambda fr=fr, formula=formula: _factor_item(
            fr, unit_multiplier("kWh", split_unit(fr["unit"])[1]), formula)) for fr in fset])
    mkt_acts = [("electricity_residual" if c == "electricity" else f"{c}_residual") for c in cats]
    _emit(parts, scope="scope2_market", key_items=mkt_items, bounds=er.bounds, quantity=kwh, gwp=gwp,
          gwp_set=gwp_set, row_cols=er.row_cols(plants),
          key_cols={"activity": _KC(key_code, mkt_acts), "category": category}, base={"source_table": "energy_use"})
    for carrier, slices in all_slices:
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
            gwp_set=gwp_set, source_table="energy_use", category=_CATEGORY[carrier], **er.gather_cols(plants, idx))
    return report


_CATEGORY = {"electricity": "purchased_electricity", "district_heat": "purchased_heat",
             "steam": "purchased_steam", "district_cooling": "purchased_cooling"}
F_LOCATION = "qty_x_location_ef"
