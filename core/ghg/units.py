"""The unit registry (pint) and the unit alias table shared by validation and accounting.

``UNIT_ALIASES`` maps the spellings met in plant data to one canonical unit name, so the door
(features.validate) and the engine (features.accounting) accept exactly the same units. Aliases are
exact strings: there is no case folding (``mWh`` is a milliwatt-hour, not a megawatt-hour, and stays
unknown). ``gal`` is refused as ambiguous (US or imperial gallon).
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import pint

from core.ghg.errors import GHGError, UnitConversionError

# canonical unit -> accepted spellings (the canonical spelling itself is always accepted)
_ALIASES: dict[str, tuple[str, ...]] = {
    "litre": ("L", "l", "liter", "litres", "liters", "ltr"),
    "kWh": ("kwh", "KWH", "KWh"),
    "MWh": ("mwh", "MWH"),
    "GWh": ("gwh", "GWH"),
    "GJ": ("gj",),
    "mmBtu": ("MMBtu", "MMBTU", "mmbtu", "MMbtu"),
    "therm": ("therms",),
    "m3": ("m³", "m^3", "cubic_meter", "cubic_metre"),
    "scf": ("SCF", "ft3", "cf"),
    "US_gallon": ("US_gal", "usgal", "gal_us"),
    "imp_gallon": ("imperial_gallon", "UK_gallon"),
    "tonne": ("t", "metric_ton", "tonnes", "mt"),
    "short_ton": ("short ton", "st", "US_ton"),
    "kg": ("kgs", "kilogram"),
}
UNIT_ALIASES: dict[str, str] = {a: canon for canon, al in _ALIASES.items() for a in (canon, *al)}
AMBIGUOUS_UNITS: dict[str, str] = {"gal": "US_gallon or imp_gallon", "gallon": "US_gallon or imp_gallon",
                                   "ton": "tonne or short_ton"}


def canonical_unit(unit: str) -> str:
    """The canonical spelling of ``unit`` (itself when not an alias); an ambiguous unit raises."""
    if unit in AMBIGUOUS_UNITS:
        raise UnitConversionError(f"unit {unit!r} is ambiguous ({AMBIGUOUS_UNITS[unit]}): write it out")
    return UNIT_ALIASES.get(unit, unit)


def canonical_units(values: pd.Series) -> pd.Series:
    """A unit column with aliases mapped (distinct values only: categoricals are renamed, not rewritten)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = list(values.cat.categories)
        new = [canonical_unit(str(c)) for c in cats]
        if new == [str(c) for c in cats]:
            return values
        return pd.Series(pd.Categorical(pd.Index(new)[values.cat.codes.to_numpy()].where(
            values.cat.codes.to_numpy() >= 0)), index=values.index, name=values.name)
    uniq = pd.unique(values.dropna())
    mapping = {u: canonical_unit(str(u)) for u in uniq}
    if all(k == v for k, v in mapping.items()):
        return values
    return values.map(mapping)


def _make_registry() -> pint.UnitRegistry:
    ureg = pint.UnitRegistry()
    # pint's Btu is the International Table Btu (1055.056 J); US EPA's mmBtu is 10^6 of those
    ureg.define("mmBtu = 1e6 * Btu = MMBtu")
    ureg.define("US_gallon = gallon")  # pint's gallon is the US liquid gallon (3.785411784 l)
    ureg.define("scf = foot ** 3")  # standard cubic foot (volume; reference conditions are the data's)
    ureg.define("m3 = meter ** 3")
    ureg.define("tonne_km = tonne * kilometer")
    ureg.define("imp_gallon = imperial_gallon")
    return ureg


UREG = _make_registry()


@lru_cache(maxsize=4096)
def _unit_multiplier_or_error(from_unit: str, to_unit: str) -> float | str:
    try:
        return float(UREG.Quantity(1.0, canonical_unit(from_unit)).to(canonical_unit(to_unit)).magnitude)
    except pint.errors.DimensionalityError as exc:
        return f"cannot convert {from_unit!r} to {to_unit!r}: different dimensions ({exc.dim1} vs {exc.dim2})"
    except UnitConversionError as exc:
        return str(exc)
    except (pint.errors.UndefinedUnitError, AttributeError, TypeError, ValueError, AssertionError) as exc:
        return f"unknown unit in {from_unit!r} -> {to_unit!r}: {exc}"


def unit_multiplier(from_unit: str, to_unit: str) -> float:
    """Factor f such that ``x [from_unit] == x * f [to_unit]``; raises UnitConversionError across dimensions."""
    out = _unit_multiplier_or_error(str(from_unit), str(to_unit))
    if isinstance(out, str):
        raise UnitConversionError(out)
    return out


@lru_cache(maxsize=1024)
def dimensionality(unit: str) -> str:
    try:
        return str(UREG.parse_units(canonical_unit(unit)).dimensionality)
    except (pint.errors.UndefinedUnitError, AttributeError, TypeError, ValueError) as exc:
        raise UnitConversionError(f"unknown unit {unit!r}: {exc}") from None


def split_unit(unit: str) -> tuple[str, str]:
    """``"kg/kWh"`` -> ``("kg", "kWh")``; the factor unit is numerator/denominator."""
    if not isinstance(unit, str) or unit.count("/") != 1:
        raise GHGError(f"emission_factors.unit {unit!r} must be 'numerator/denominator', e.g. kg/kWh")
    num, den = (p.strip() for p in unit.split("/"))
    return num, den


def to_kwh(quantity: float, unit: str) -> float:
    """An energy quantity in kWh (energy units only)."""
    return quantity * unit_multiplier(unit, "kWh")
