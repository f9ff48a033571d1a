"""Stage package ``features``: extraction, validation at the door, GHG accounting, feature tables.

Entry points (each a plain function on tables or on a lake run id, no Airflow):
``extract_to_lake`` (source -> raw/<run>), ``validate_run`` (raw -> validated + quarantine),
``account`` (validated -> ledger), ``write_sample``/``generate`` (the embedded demo network),
``prepare_demand_panel`` (demand history -> the forecaster's panel), ``carrier_intensities``.
Imports only ``core``.
"""

from core.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "extract_to_lake": "features.extract:extract",
    "validate_run": "features.validate:validate",
    "validate_tables": "features.validate:validate_tables",
    "TableUnusableError": "features.validate:TableUnusableError",
    "REQUIRED_TABLES": "features.validate:REQUIRED_TABLES",
    "SourceUnavailableError": "features.extract:SourceUnavailableError",
    "check_plausibility": "features.plausibility:check",
    "PLAUSIBILITY_RULES": "features.plausibility:RULES",
    "account": "features.accounting:account",
    "build_ledger": "features.accounting:build_ledger",
    "carrier_intensities": "features.accounting:carrier_intensities",
    "AccountingError": "features.accounting:AccountingError",
    "scope3_coverage": "features.accounting:scope3_coverage",
    "factor_appendix": "features.accounting:factor_appendix",
    "cat1_total": "features.accounting:cat1_total",
    "refresh_coverage": "features.accounting:refresh_coverage",
    "reference_factors": "features.factors:reference_factors",
    "FACTOR_VERSION": "features.factors:FACTOR_VERSION",
    "fuel_properties": "features.factors:fuel_properties",
    "prepare_demand_panel": "features.demand_features:prepare_demand_panel",
    "STATIC_FEATURES": "features.demand_features:STATIC_FEATURES",
    "write_sample": "features.sample:write_sample",
    "sample_is_current": "features.sample:sample_is_current",
    "generate": "features.sample:generate",
    "driver_features": "features.drivers:driver_features",
    "apply_driver_changes": "features.drivers:apply_driver_changes",
    "DRIVER_FEATURES": "features.drivers:DRIVER_FEATURES",
})
