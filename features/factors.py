"""Compatibility shim: the reference factor library now lives in :mod:`core.ghg.library` (the one GHG
reference layer shared by accounting, the forecasters and the optimiser)."""

from core.ghg.library import (  # noqa: F401
    EPA_DIESEL_HHV_MMBTU_PER_GAL,
    FACTOR_COLUMNS,
    FACTOR_VERSION,
    FUEL_PROPERTY_COLUMNS,
    LB_TO_KG,
    MMBTU_TO_GJ,
    REFRIGERANT_SCREENING,
    fuel_properties,
    reference_factors,
)
