"""Carrier intensities (t CO2e per unit) for the forecaster and the optimiser."""

from __future__ import annotations

import pandas as pd

from core.ghg.carriers import CARRIERS
from core.ghg.errors import GHGError as AccountingError
from core.ghg.errors import MissingFactorError
from core.ghg.factors import FactorIndex, _prop_index, prepare_factors
from core.ghg.library import fuel_properties
from core.ghg.units import split_unit, unit_multiplier
from features.accounting._common import (
    F_GRID,
    F_RESIDUAL,
    INTENSITY_UNITS,
    SCOPE1_CARRIERS,
    SCOPE2_CARRIERS,
    _gwp,
    _plant_table,
    _regions,
)
from features.accounting._emit import _factor_item
from features.accounting.combustion import _scope1_items, _split_biogenic

# the carriers quoted by default (every plant); the forecaster (models/emissions.py) asks for any other carrier
# of core.ghg.carriers with carriers=... for the plants that report it
PLANNING_CARRIERS = ("electricity", "natural_gas", "diesel")


def carrier_intensities(plants: pd.DataFrame, factors: pd.DataFrame | None, contracts: pd.DataFrame | None,
                        weeks, gwp_set: str = "AR5", *, fuel_props: pd.DataFrame | None = None,
                        year_rule: str = "latest_le_else_earliest",
                        factor_version: str | None = None,
                        carriers: tuple[str, ...] = PLANNING_CARRIERS) -> pd.DataFrame:
    """t CO2e per unit of each carrier, per plant and week, for the forecaster and the optimiser.

    ``carriers``: which carriers to quote (default the three the planning stages model), each in its
    ``default_unit`` from :data:`core.ghg.carriers.CARRIERS`; biogenic CO2 is not in a scope, so not in the
    intensity. Scope 2 carriers without a residual factor are quoted market = location.

    Rows: (electricity, scope2_location, kWh), (electricity, scope2_market, kWh), (natural_gas, scope1, kWh),
    (diesel, scope1, litre). Market-based is quoted at the margin: contractual instruments have fixed
    volumes, so one more kWh is covered by the residual mix (the grid average where the country has none).
    ``contracts`` is accepted for that reason but does not change a marginal intensity.
    """
    del contracts  # marginal intensity: instruments are fixed volumes (see docstring)
    gwp = _gwp(gwp_set)
    p = _plant_table(plants)
    f = FactorIndex(prepare_factors(factors, factor_version))
    props = _prop_index(fuel_properties() if fuel_props is None else fuel_props)
    wk = pd.DatetimeIndex(pd.to_datetime(pd.Series(list(weeks)))).unique().sort_values()
    years = sorted(set(int(y) for y in wk.year))
    def co2e(items):
        return sum(it.coef_t * gwp[it.gas] for it in items)

    rows = []
    for pi in sorted(set(p["_rep"])):  # one representative per (grid_region, country)
        for year in years:
            try:
                vals = _intensities(p, pi, year, f, props, year_rule, co2e, carriers)
            except AccountingError as exc:
                raise type(exc)(f"plants {p.index[pi]!r} (and plants in the same region), year {year}: {exc}") \
                    from None
            for (carrier, scope), v in vals.items():
                rows.append((pi, year, carrier, scope, INTENSITY_UNITS[carrier], v))
    per_rep = pd.DataFrame(rows, columns=["_rep", "year", "carrier", "scope", "unit", "tco2e_per_unit"])
    per_year = pd.DataFrame({"plant_id": p.index, "_rep": p["_rep"].to_numpy()}).merge(per_rep, on="_rep")
    grid = pd.DataFrame({"week": wk, "year": wk.year.astype(int)})
    out = grid.merge(per_year.drop(columns="_rep"), on="year").drop(columns="year")
    return out[["plant_id", "week", "carrier", "scope", "unit", "tco2e_per_unit"]].sort_values(
        ["plant_id", "week", "carrier", "scope"]).reset_index(drop=True)


def _intensities(p: pd.DataFrame, pi: int, year: int, f: FactorIndex, props: dict, year_rule: str,
                 co2e, carriers: tuple[str, ...] = PLANNING_CARRIERS) -> dict[tuple[str, str], float]:
    """t CO2e per unit of each (carrier, scope) for one plant region and year."""
    def per_kwh(fset, formula):
        return co2e([_factor_item(fr, unit_multiplier("kWh", split_unit(fr["unit"])[1]), formula) for fr in fset])

    vals = {}
    for c in carriers:
        if c in SCOPE2_CARRIERS:
            car = CARRIERS[c]
            loc = f.resolve(car.location_activity, _regions(p, pi, False), year, year_rule)
            try:
                if car.market_activity is None:
                    raise MissingFactorError(c)
                mkt = f.resolve(car.market_activity, _regions(p, pi, False, False), year, year_rule)
            except MissingFactorError:
                mkt = loc  # no residual mix for the country: the grid average (as in the ledger)
            vals[(c, "scope2_location")] = per_kwh(loc, F_GRID)
            vals[(c, "scope2_market")] = per_kwh(mkt, F_RESIDUAL)
        elif c in SCOPE1_CARRIERS:
            items = _scope1_items(c, INTENSITY_UNITS[c], _regions(p, pi, True), year, f, props, "auto", year_rule)
            vals[(c, "scope1")] = co2e(_split_biogenic(c, items)[0])
        else:
            raise AccountingError(f"carrier {c!r} is not one of {sorted(CARRIERS)}")
    return vals

