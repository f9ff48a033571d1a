"""Scope 1 combustion: fuel x EF, fuel x HHV x EF, fuel x CC x 44/12; biogenic CO2 outside the scopes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ghg.carriers import CARRIERS
from core.ghg.errors import GHGError as AccountingError
from core.ghg.errors import MissingFactorError, UnitConversionError
from core.ghg.factors import (
    FactorIndex,
    _convert_with_heating_value,
    _prop_index,
    _resolve_property,
    prepare_factors,
)
from core.ghg.library import FACTOR_VERSION, fuel_properties
from core.ghg.units import split_unit, unit_multiplier
from features.accounting._columns import _KC, _LedgerParts
from features.accounting._common import (
    CARBON_TO_CO2,
    F_CC,
    F_EF,
    F_HHV,
    FORMULAS,
    SCOPE1_CARRIERS,
    _gwp,
    _plant_table,
    _regions,
)
from features.accounting._emit import _emit, _factor_item, _GasItem
from features.accounting._inputs import _energy_rows, _EnergyRows


def _scope1_items(fuel: str, unit: str, regions: list[str], year: int, factors: FactorIndex,
                  props: dict, formula: str, year_rule: str) -> list[_GasItem]:
    """Gas items for one fuel, unit, region chain and year.

    Required gases: fuel x EF and fuel x HHV x EF need a CO2 or CO2e row (a set with only CH4/N2O would
    silently give no CO2: MissingFactorError). The carbon-content formula computes CO2 from the fuel's
    carbon content whether or not a CO2 row exists (a CO2 row is then not used), refuses a CO2e-only set and
    needs the carbon content (MissingFactorError).
    """
    fset = factors.resolve(fuel, regions, year, year_rule)
    region = str(fset[0]["region"])
    prop_regions = list(dict.fromkeys([region, *regions, "GLOBAL"]))
    gases = {str(fr["gas"]) for fr in fset}
    items: list[_GasItem] = []
    if formula == "carbon_content":
        if "CO2e" in gases:
            co2e_id = next(fr["factor_id"] for fr in fset if fr["gas"] == "CO2e")
            raise AccountingError(f"carbon-content formula needs per-gas factors; {fuel} in {region} has a CO2e "
                                  f"factor ({co2e_id}), which already contains the CO2")
        cc = _resolve_property(props, fuel, "carbon_content", prop_regions)
        if cc is None:
            raise MissingFactorError(f"carbon-content formula: no carbon_content for fuel {fuel!r} in regions "
                                     f"{prop_regions}")
        _, cc_den = split_unit(cc["unit"])
        mult, hv_id = _quantity_multiplier(unit, cc_den, fuel, prop_regions, props, allow_hv=True)
        num, _ = split_unit(cc["unit"])
        coef = mult * float(cc["value"]) * unit_multiplier(num, "tonne") * CARBON_TO_CO2
        items.append(_GasItem(gas="CO2", coef_t=coef, mult=mult, unit=cc_den, factor_id=str(cc["property_id"]),
                              factor_version=FACTOR_VERSION, factor_year=int(cc["year"]), formula=F_CC,
                              property_id=hv_id))
    elif not gases & {"CO2", "CO2e"}:
        raise MissingFactorError(f"formula fuel x EF needs a CO2 or CO2e factor; {fuel} in {region} has only "
                                 f"{sorted(gases)} ({', '.join(str(fr['factor_id']) for fr in fset)})")
    for frow in fset:
        if formula == "carbon_content" and frow["gas"] == "CO2":
            continue  # CO2 comes from the carbon content
        _, den = split_unit(frow["unit"])
        mult, hv_id = _quantity_multiplier(unit, den, fuel, prop_regions, props, allow_hv=formula != "ef")
        used = F_HHV if hv_id is not None else F_EF
        items.append(_factor_item(frow, mult, used, hv_id))
    return items


def _split_biogenic(fuel: str, items: list[_GasItem]) -> tuple[list[_GasItem], list[_GasItem]]:
    """(Scope 1 items, biogenic CO2 items): the CO2 of a biogenic fuel is reported outside the scopes."""
    car = CARRIERS.get(fuel)
    if car is None or not car.biogenic:
        return items, []
    return [it for it in items if it.gas != "CO2"], [it for it in items if it.gas == "CO2"]


def _quantity_multiplier(unit: str, den: str, fuel: str, regions: list[str], props: dict,
                         allow_hv: bool) -> tuple[float, str | None]:
    try:
        return unit_multiplier(unit, den), None
    except UnitConversionError as direct:
        if not allow_hv:
            raise
        hv = _resolve_property(props, fuel, "heating_value", regions)
        if hv is None:
            raise UnitConversionError(f"{direct}; no heating value for {fuel!r} in regions {regions} to bridge "
                                      "them (fuel x HHV x EF)") from None
        return _convert_with_heating_value(unit, den, hv), str(hv["property_id"])


def scope1(energy_use: pd.DataFrame, plants: pd.DataFrame, factors: pd.DataFrame | None = None, *,
           gwp_set: str = "AR5", fuel_props: pd.DataFrame | None = None, formula: str = "auto",
           year_rule: str = "latest_le_else_earliest", factor_version: str | None = None) -> pd.DataFrame:
    """Scope 1 ledger rows (one per source row and gas) for the fuel carriers of ``energy_use``.

    ``formula``: ``ef`` (fuel x EF, units must convert directly), ``hhv`` / ``auto`` (fuel x EF, or
    fuel x HHV x EF when the quantity is physical and the factor per energy or the reverse), ``carbon_content``
    (CO2 = fuel x CC x 44/12; CH4 and N2O still fuel x EF). ``fuel_props`` defaults to
    :func:`features.factors.fuel_properties`; pass an empty frame to forbid heating-value bridges.
    """
    parts = _LedgerParts()
    _scope1_into(parts, energy_use, _plant_table(plants), FactorIndex(prepare_factors(factors, factor_version)),
                 _gwp(gwp_set), gwp_set, fuel_props, formula, year_rule)
    return parts.frame()



_COMBUSTION_CATEGORIES = ("stationary_combustion", "mobile_combustion")
_CATEGORY_CODE = {c.id: int(c.category == "mobile") for c in CARRIERS.values()}


def _scope1_into(parts: _LedgerParts, energy_use: pd.DataFrame | _EnergyRows, plants: pd.DataFrame,
                 factors: FactorIndex, gwp: dict[str, float], gwp_set: str, fuel_props: pd.DataFrame | None,
                 formula: str, year_rule: str) -> None:
    if formula not in FORMULAS:
        raise AccountingError(f"formula {formula!r} not in {FORMULAS}")
    props = _prop_index(fuel_properties() if fuel_props is None else fuel_props)
    er = _energy_rows(energy_use, plants)
    keys = er.keys
    items: list[list[_GasItem]] = []
    bio: list[list[_GasItem]] = []
    for k in range(len(keys["year"])):
        fuel, unit, year = keys["carrier"][k], keys["unit"][k], int(keys["year"][k])
        if fuel not in SCOPE1_CARRIERS:
            items.append([])  # not a fuel: no Scope 1 row
            bio.append([])
            continue
        try:
            s1, b = _split_biogenic(fuel, _scope1_items(fuel, unit, _regions(plants, int(keys["plant"][k]), True),
                                                        year, factors, props, formula, year_rule))
        except AccountingError as exc:
            raise er.key_error(k, exc) from None
        items.append(s1)
        bio.append(b)
    if not any(items) and not any(bio):
        return
    cat_codes = np.array([_CATEGORY_CODE.get(str(c), 0) for c in er.ccats], dtype=np.int32)
    key_cats = _KC(cat_codes[np.asarray(keys["carrier_code"], dtype=np.int64)], list(_COMBUSTION_CATEGORIES))
    for scope, its in (("scope1", items), ("biogenic_co2", bio)):
        if any(its):
            _emit(parts, scope=scope, key_items=its, bounds=er.bounds, quantity=er.qty, gwp=gwp, gwp_set=gwp_set,
                  row_cols=er.row_cols(plants), key_cols={"activity": _KC(keys["carrier_code"], er.ccats),
                                                          "category": key_cats},
                  base={"source_table": "energy_use"})

