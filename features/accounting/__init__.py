"""GHG Protocol accounting engine (package; one module per section): validated activity tables in, an emissions ledger out.

Scopes (GHG Protocol Corporate Standard and Scope 2 Guidance):

- ``scope1``          fuels burnt on site (energy_use carriers natural_gas, diesel), per gas, by one of the
                      three formulas: fuel x EF; fuel x HHV x EF; fuel x CC x 44/12.
- ``scope2_location`` electricity x grid-average factor (grid subregion before country).
- ``scope2_market``   electricity covered by contractual instruments in the order EAC -> PPA / green tariff ->
                      supplier-specific rate; the rest x residual mix (or x grid average when the country has
                      no residual mix). An instrument counts only inside its own period and its own market.
- ``scope3_cat4``     upstream transport: tonnes x lane distance x freight_<mode> factor (TTW or WTW).

Every ledger row carries its lineage (source table and row, factor id, version and year, GWP set, formula)
and the facility's gross emissions; the organisational boundary (operational control or equity share) is
applied by :func:`totals_by_scope` / :func:`summarise`, so totals can be recomputed under the other
approach from the same ledger. See docs/ACCOUNTING.md for the choices made and why.

The engine is vectorised: factors are resolved once per distinct (plant region, carrier, unit, year) key —
a few hundred keys for millions of rows; the rows are grouped by key once (a radix sort), and every ledger
column is then written run by run (fills, slice copies and streaming multiplies), with no per-row Python.
"""

from core.ghg.factors import YEAR_RULES, FactorIndex, prepare_factors, resolve_factor_set
from core.ghg.gwp import GWP_SETS
from core.ghg.units import UREG, split_unit, unit_multiplier
from features.accounting._common import (
    BOUNDARIES,
    CORE_COLUMNS,
    DETAIL_COLUMNS,
    FORMULAS,
    INSTRUMENT_RANK,
    INTENSITY_UNITS,
    LEDGER_COLUMNS,
    OUTSIDE_SCOPES,
    SCOPE1_CARRIERS,
    SCOPE2_CARRIERS,
    SCOPES,
    AccountingError,
    FactorConflictError,
    MissingFactorError,
    UnitConversionError,
    _years,
)
from features.accounting.combustion import scope1
from features.accounting.coverage import COVERAGE_SOURCES, cat1_total, refresh_coverage, scope3_coverage
from features.accounting.fugitive import fugitive
from features.accounting.intensities import carrier_intensities
from features.accounting.ledger import build_ledger
from features.accounting.process import process
from features.accounting.purchased import scope2
from features.accounting.stage import _read_dictionary_encoded, account, factor_appendix
from features.accounting.totals import (
    base_year_totals,
    boundary_shares,
    recalculate_base_year,
    summarise,
    totals_by_scope,
)
from features.accounting.transport import scope3_transport

__all__ = [
    "BOUNDARIES", "CORE_COLUMNS", "DETAIL_COLUMNS", "FORMULAS", "GWP_SETS", "INSTRUMENT_RANK", "INTENSITY_UNITS",
    "LEDGER_COLUMNS", "SCOPE1_CARRIERS", "SCOPE2_CARRIERS", "SCOPES", "UREG", "YEAR_RULES", "AccountingError",
    "FactorConflictError", "FactorIndex", "MissingFactorError", "UnitConversionError", "account",
    "base_year_totals", "boundary_shares", "build_ledger", "carrier_intensities", "prepare_factors",
    "recalculate_base_year", "resolve_factor_set", "scope1", "scope2", "scope3_transport", "split_unit",
    "summarise", "totals_by_scope", "unit_multiplier", "_read_dictionary_encoded", "_years",
    "COVERAGE_SOURCES", "OUTSIDE_SCOPES", "factor_appendix", "fugitive", "process", "scope3_coverage",
    "cat1_total", "refresh_coverage",
]
