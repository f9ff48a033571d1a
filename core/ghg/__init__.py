"""The one GHG reference layer: GWP sets, the unit registry and alias table, the carriers table, factor
preparation and resolution, the reference factor library, and the Scope 3 category vocabulary.

Pure (no lake I/O; pint and pandas only), so accounting (features), the forecasters (models) and the
optimiser (optimisation) share one set of numbers.
"""

from core.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "GHGError": "core.ghg.errors:GHGError",
    "MissingFactorError": "core.ghg.errors:MissingFactorError",
    "UnitConversionError": "core.ghg.errors:UnitConversionError",
    "FactorConflictError": "core.ghg.errors:FactorConflictError",
    "UREG": "core.ghg.units:UREG",
    "UNIT_ALIASES": "core.ghg.units:UNIT_ALIASES",
    "canonical_unit": "core.ghg.units:canonical_unit",
    "canonical_units": "core.ghg.units:canonical_units",
    "unit_multiplier": "core.ghg.units:unit_multiplier",
    "split_unit": "core.ghg.units:split_unit",
    "to_kwh": "core.ghg.units:to_kwh",
    "GWP_SETS": "core.ghg.gwp:GWP_SETS",
    "BLENDS": "core.ghg.gwp:BLENDS",
    "REFRIGERANTS": "core.ghg.gwp:REFRIGERANTS",
    "gwp": "core.ghg.gwp:gwp",
    "gwp_table": "core.ghg.gwp:gwp_table",
    "CO2E_PUBLISHER_GWP": "core.ghg.gwp:CO2E_PUBLISHER_GWP",
    "publisher_gwp_set": "core.ghg.gwp:publisher_gwp_set",
    "CARRIERS": "core.ghg.carriers:CARRIERS",
    "CARRIER_IDS": "core.ghg.carriers:CARRIER_IDS",
    "carrier": "core.ghg.carriers:carrier",
    "carriers_for": "core.ghg.carriers:carriers_for",
    "prepare_factors": "core.ghg.factors:prepare_factors",
    "FactorIndex": "core.ghg.factors:FactorIndex",
    "resolve_factor_set": "core.ghg.factors:resolve_factor_set",
    "co2e_of_rows": "core.ghg.factors:co2e_of_rows",
    "latest_energy_factor": "core.ghg.factors:latest_energy_factor",
    "freight_factors": "core.ghg.factors:freight_factors",
    "carrier_unit_multiplier": "core.ghg.convert:carrier_unit_multiplier",
    "to_default_units": "core.ghg.convert:to_default_units",
    "reference_factors": "core.ghg.library:reference_factors",
    "fuel_properties": "core.ghg.library:fuel_properties",
    "FACTOR_VERSION": "core.ghg.library:FACTOR_VERSION",
    "REFRIGERANT_SCREENING": "core.ghg.library:REFRIGERANT_SCREENING",
    "SCOPE3_CATEGORIES": "core.ghg.scope3:SCOPE3_CATEGORIES",
})
