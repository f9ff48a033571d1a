"""Quantities of a carrier in its default unit (``core.ghg.carriers.CARRIERS[...].default_unit``).

The forecaster (models/emissions.py) models energy per plant x week x carrier in each carrier's default unit,
the unit ``features.accounting.carrier_intensities`` quotes t CO2e per unit in, so energy x intensity needs
no further conversion. Same-dimension units convert through the pint registry (:mod:`core.ghg.units`);
a physical unit of a fuel whose default unit is energy (natural gas in scf or m3, biomethane in scf) or the
reverse converts through the fuel's heating value in :func:`core.ghg.library.fuel_properties`, looked up
in ``regions`` order (default US first: the US EPA HHV, 1,026 Btu/scf for pipeline gas, which is what the
forecaster has always used).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ghg.carriers import CARRIERS, carrier
from core.ghg.errors import UnitConversionError
from core.ghg.factors import _convert_with_heating_value, _prop_index, _resolve_property
from core.ghg.library import fuel_properties
from core.ghg.units import canonical_unit, dimensionality, unit_multiplier

DEFAULT_HV_REGIONS = ("US", "GLOBAL")


def carrier_unit_multiplier(carrier_id: str, unit: str, regions: tuple[str, ...] = DEFAULT_HV_REGIONS,
                            props: pd.DataFrame | None = None) -> float:
    """f such that ``x [unit] of carrier_id == x * f [default unit]``; raises UnitConversionError naming the
    pair when neither the registry nor a heating value converts it."""
    target = carrier(carrier_id).default_unit
    try:
        u = canonical_unit(str(unit))
        if dimensionality(u) == dimensionality(target):
            return unit_multiplier(u, target)
        hv = _resolve_property(_prop_index(fuel_properties() if props is None else props), carrier_id,
                               "heating_value", list(regions))
        if hv is None:
            raise UnitConversionError(f"no heating value for {carrier_id!r} in regions {list(regions)}")
        return _convert_with_heating_value(u, target, hv)
    except UnitConversionError as exc:
        raise UnitConversionError(f"cannot convert ({carrier_id!r}, {unit!r}) to the default unit {target!r} "
                                  f"of the carriers table: {exc}") from None


def to_default_units(carriers: pd.Series, units: pd.Series, quantities: pd.Series,
                     regions: tuple[str, ...] = DEFAULT_HV_REGIONS) -> np.ndarray:
    """Quantities in each carrier's default unit (one conversion per distinct (carrier, unit) pair).
    Raises UnitConversionError listing every pair that cannot be converted (unknown carrier or unit)."""
    key = pd.MultiIndex.from_arrays([carriers.astype(str).to_numpy(), units.astype(str).to_numpy()])
    codes, uniq = pd.factorize(key)
    mult, bad = np.empty(len(uniq)), []
    for i, (c, u) in enumerate(uniq):
        if c not in CARRIERS:
            bad.append((c, u))
            continue
        try:
            mult[i] = carrier_unit_multiplier(c, u, regions)
        except UnitConversionError:
            bad.append((c, u))
    if bad:
        units_of = {c: CARRIERS[c].default_unit for c, _ in bad if c in CARRIERS}
        raise UnitConversionError(f"cannot convert (carrier, unit) {sorted(bad)} to the carriers' default units "
                                  f"{units_of or {c: k.default_unit for c, k in CARRIERS.items()}}")
    return quantities.to_numpy(dtype=float) * mult[codes]
