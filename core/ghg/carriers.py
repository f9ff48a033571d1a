"""The carriers table: one row per energy carrier. Adding a fuel = one row here + its factor rows (and, when
its unit is physical and its factors per energy, a heating value) in :mod:`core.ghg.library`.

Fields: ``scope`` (scope1 | scope2), ``category`` (stationary | mobile | purchased), ``default_unit`` (the
unit carrier_intensities() quotes), ``location_activity`` (the factor activity; for Scope 2 the
location-based one), ``market_activity`` (Scope 2 market-based residual factor; None = no public residual
mix: the location factor is used and a finding says so), ``biogenic`` (CO2 reported as ``biogenic_co2``
outside the scopes, as the GHG Protocol requires).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.ghg.errors import GHGError


@dataclass(frozen=True)
class Carrier:
    id: str
    scope: str
    category: str
    default_unit: str
    location_activity: str
    market_activity: str | None = None
    biogenic: bool = False
    description: str = ""


CARRIERS: dict[str, Carrier] = {c.id: c for c in [
    Carrier("natural_gas", "scope1", "stationary", "kWh", "natural_gas"),
    Carrier("diesel", "scope1", "mobile", "litre", "diesel"),
    Carrier("fuel_oil_residual", "scope1", "stationary", "litre", "fuel_oil_residual", description="No. 6"),
    Carrier("lpg", "scope1", "mobile", "litre", "lpg", description="forklifts, heaters"),
    Carrier("propane", "scope1", "mobile", "litre", "propane"),
    Carrier("petrol", "scope1", "mobile", "litre", "petrol", description="motor gasoline"),
    Carrier("coal_anthracite", "scope1", "stationary", "tonne", "coal_anthracite"),
    Carrier("coal_bituminous", "scope1", "stationary", "tonne", "coal_bituminous"),
    Carrier("coal_sub_bituminous", "scope1", "stationary", "tonne", "coal_sub_bituminous"),
    Carrier("coal_lignite", "scope1", "stationary", "tonne", "coal_lignite"),
    Carrier("biomethane", "scope1", "stationary", "mmBtu", "biomethane", biogenic=True),
    Carrier("wood", "scope1", "stationary", "tonne", "wood", biogenic=True, description="dry basis"),
    Carrier("electricity", "scope2", "purchased", "kWh", "electricity_grid", "electricity_residual_mix"),
    Carrier("district_heat", "scope2", "purchased", "kWh", "district_heat"),
    Carrier("steam", "scope2", "purchased", "kWh", "steam"),
    Carrier("district_cooling", "scope2", "purchased", "kWh", "district_cooling",
            description="no public default factor: supply one (emission_factors or a supplier contract)"),
]}
CARRIER_IDS: tuple[str, ...] = tuple(CARRIERS)


def carrier(cid: str) -> Carrier:
    try:
        return CARRIERS[cid]
    except KeyError:
        raise GHGError(f"carrier {cid!r} is not one of {sorted(CARRIERS)}") from None


def carriers_for(scope: str) -> tuple[str, ...]:
    return tuple(c.id for c in CARRIERS.values() if c.scope == scope)
