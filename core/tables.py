"""The canonical table contract: one spec per table, the single source of truth for the sample
generator, extraction, validation and every stage that reads the lake.

Conventions: snake_case; units in the column name (``_t``, ``_km``, ``_eur``, ``_kg_per_kwh``) or in
a ``unit`` column; ``week`` is the Monday that starts the ISO week (datetime64, no time zone).
dtypes: ``str``, ``float``, ``int``, ``date`` (Monday of the ISO week or a calendar day), ``bool``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # str | float | int | date | bool
    nullable: bool = False
    ge: float | None = None  # inclusive lower bound
    le: float | None = None  # inclusive upper bound
    isin: tuple[str, ...] | None = None  # allowed values
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # unique key
    references: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (table, column)
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if not c.nullable]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


POWERTRAINS = ("BEV", "PHEV", "ICE")
MODES = ("road", "rail", "sea", "air")
# issue 15: carriers, units and gases come from the GHG reference layer (core.ghg), one vocabulary
from core.ghg.carriers import CARRIER_IDS as CARRIERS  # noqa: E402
from core.ghg.gwp import REFRIGERANTS, SPECIES  # noqa: E402

# units accepted at the door for energy quantities (canonical spellings; core.ghg.units.UNIT_ALIASES maps
# the others); conversion happens in accounting (pint)
ENERGY_UNITS = ("kWh", "MWh", "GJ", "mmBtu", "therm", "m3", "scf", "litre", "US_gallon",
                "GWh", "imp_gallon", "tonne", "short_ton", "kg")
INSTRUMENTS = ("EAC", "PPA", "green_tariff", "supplier_rate")
GASES = tuple(SPECIES)
REFRIGERANT_EQUIPMENT = ("vehicle_ac_fill", "chiller", "other_rac")
REFRIGERANT_METHODS = ("mass_balance", "screening")
PROCESSES = ("rto_solvent_oxidation",)

C = Column
TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        TableSpec(
            "plants",
            (
                C("plant_id", "str"),
                C("name", "str"),
                C("country", "str", description="ISO 3166-1 alpha-2"),
                C("grid_region", "str", nullable=True, description="sub-national grid region, e.g. eGRID subregion"),
                C("lat", "float", ge=-90, le=90),
                C("lon", "float", ge=-180, le=180),
                C("capacity_units_per_week", "float", ge=0),
                C("equity_share", "float", ge=0, le=1),
                C("operational_control", "bool"),
            ),
            key=("plant_id",),
        ),
        TableSpec(
            "products",
            (
                C("product_id", "str"),
                C("name", "str"),
                C("powertrain", "str", isin=POWERTRAINS),
                C("segment", "str"),
                C("weight_t", "float", ge=0.3, le=10),
                C("price_eur", "float", ge=0),
            ),
            key=("product_id",),
        ),
        TableSpec(
            "plant_products",
            (
                C("plant_id", "str"),
                C("product_id", "str"),
                C("production_cost_eur_per_unit", "float", ge=0),
                C("electricity_kwh_per_unit", "float", ge=0),
                C("natural_gas_kwh_per_unit", "float", ge=0),
            ),
            key=("plant_id", "product_id"),
            references={"plant_id": ("plants", "plant_id"), "product_id": ("products", "product_id")},
            description="eligibility: a plant can build a product iff the pair is here",
        ),
        TableSpec(
            "markets",
            (
                C("market_id", "str"),
                C("name", "str"),
                C("country", "str"),
                C("lat", "float", ge=-90, le=90),
                C("lon", "float", ge=-180, le=180),
            ),
            key=("market_id",),
        ),
        TableSpec(
            "lanes",
            (
                C("lane_id", "str"),
                C("plant_id", "str"),
                C("market_id", "str"),
                C("mode", "str", isin=MODES),
                C("distance_km", "float", ge=0),
                C("cost_eur_per_t", "float", ge=0),
                C("transit_days", "float", ge=0),
                C("capacity_t_per_week", "float", ge=0),
            ),
            key=("lane_id",),
            references={"plant_id": ("plants", "plant_id"), "market_id": ("markets", "market_id")},
        ),
        TableSpec(
            "demand_history",
            (
                C("week", "date"),
                C("product_id", "str"),
                C("market_id", "str"),
                C("units", "float", ge=0),
            ),
            key=("week", "product_id", "market_id"),
            references={"product_id": ("products", "product_id"), "market_id": ("markets", "market_id")},
        ),
        TableSpec(
            "production_history",
            (
                C("week", "date"),
                C("plant_id", "str"),
                C("product_id", "str"),
                C("units", "float", ge=0),
            ),
            key=("week", "plant_id", "product_id"),
            references={"plant_id": ("plants", "plant_id"), "product_id": ("products", "product_id")},
        ),
        TableSpec(
            "energy_use",
            (
                C("week", "date"),
                C("plant_id", "str"),
                C("carrier", "str", isin=CARRIERS),
                C("quantity", "float", ge=0),
                C("unit", "str", isin=ENERGY_UNITS),
            ),
            key=("week", "plant_id", "carrier"),
            references={"plant_id": ("plants", "plant_id")},
        ),
        TableSpec(
            "shipments",
            (
                C("week", "date"),
                C("lane_id", "str"),
                C("product_id", "str"),
                C("units", "float", ge=0),
                C("tonnes", "float", ge=0),
            ),
            key=("week", "lane_id", "product_id"),
            references={"lane_id": ("lanes", "lane_id"), "product_id": ("products", "product_id")},
        ),
        TableSpec(
            "emission_factors",
            (
                C("factor_id", "str"),
                C("activity", "str", description="e.g. electricity_grid, natural_gas, diesel, freight_road"),
                C("gas", "str", isin=GASES),
                C("value", "float", ge=0),
                C("unit", "str", description="numerator/denominator, e.g. kg/kWh, kg/mmBtu, kg/tonne_km"),
                C("source", "str"),
                C("year", "int", ge=1990, le=2100),
                C("region", "str", description="ISO country, grid region, or GLOBAL"),
                C("version", "str"),
                C("basis", "str", nullable=True, description="TTW / WTW for transport, else null"),
                C("status", "str", nullable=True, isin=("checked", "approximation"),
                  description="checked against the publication, or approximation (shown in the factor appendix)"),
            ),
            key=("factor_id",),
        ),
        TableSpec(
            "energy_contracts",
            (
                C("contract_id", "str"),
                C("plant_id", "str"),
                C("instrument", "str", isin=INSTRUMENTS),
                C("market", "str", description="country whose grid the instrument belongs to"),
                C("start", "date"),
                C("end", "date"),
                C("mwh", "float", ge=0),
                C("factor_kg_per_kwh", "float", ge=0),
                C("carrier", "str", nullable=True, isin=("electricity", "district_heat", "steam", "district_cooling"),
                  description="the Scope 2 carrier the instrument covers; null = electricity"),
            ),
            key=("contract_id",),
            references={"plant_id": ("plants", "plant_id")},
        ),
        TableSpec(
            "supplier_emissions",
            (
                C("supplier_id", "str"),
                C("plant_id", "str"),
                C("year", "int", ge=1990, le=2100),
                C("category", "str"),
                C("tco2e", "float", ge=0),
                C("method", "str"),
            ),
            key=("supplier_id", "plant_id", "year", "category"),
            references={"plant_id": ("plants", "plant_id")},
        ),
        # issue 15: fugitive refrigerant and process emissions (Scope 1)
        TableSpec(
            "refrigerant_use",
            (
                C("plant_id", "str"),
                C("period_start", "date"),
                C("period_end", "date"),
                C("equipment", "str", isin=REFRIGERANT_EQUIPMENT),
                C("refrigerant", "str", isin=REFRIGERANTS),
                C("method", "str", isin=REFRIGERANT_METHODS),
                C("inventory_start_kg", "float", nullable=True, ge=0),
                C("inventory_end_kg", "float", nullable=True, ge=0),
                C("purchased_kg", "float", nullable=True, ge=0),
                C("returned_kg", "float", nullable=True, ge=0, description="returned to supplier / recovered"),
                C("charged_into_products_kg", "float", nullable=True, ge=0,
                  description="filled into shipped vehicles (leaves the plant; in-use leakage is Scope 3 cat. 11)"),
                C("capacity_added_kg", "float", nullable=True, ge=0),
                C("capacity_retired_kg", "float", nullable=True, ge=0),
                C("units", "float", nullable=True, ge=0, description="screening: vehicles filled / pieces of equipment"),
                C("charge_kg_per_unit", "float", nullable=True, ge=0),
            ),
            key=("plant_id", "period_start", "equipment", "refrigerant"),
            references={"plant_id": ("plants", "plant_id")},
        ),
        TableSpec(
            "process_activity",
            (
                C("plant_id", "str"),
                C("period_start", "date"),
                C("period_end", "date"),
                C("process", "str", isin=PROCESSES),
                C("quantity", "float", ge=0, description="mass of carbon-bearing input oxidised"),
                C("unit", "str", isin=("kg", "tonne")),
                C("carbon_fraction", "float", nullable=True, ge=0, le=1,
                  description="null: the library's carbon_fraction property for the process"),
            ),
            key=("plant_id", "period_start", "process"),
            references={"plant_id": ("plants", "plant_id")},
        ),
    ]
}

# the order in which tables must be validated so that references resolve
TABLE_ORDER: tuple[str, ...] = (
    "plants", "products", "markets", "plant_products", "lanes", "demand_history",
    "production_history", "energy_use", "shipments", "emission_factors", "energy_contracts",
    "supplier_emissions",
    "refrigerant_use", "process_activity",
)
assert set(TABLE_ORDER) == set(TABLES)

# --- issue 13: optional planning inputs (plant operating rules, opening stock, abatement levers). Sources of
# the sample rows' price ranges are in features/sample_levers.py and docs/OPTIMISATION.md.
HEAT_OPTIONS = ("electric_boiler", "heat_pump", "biomethane")
LEVER_INSTRUMENTS = ("EAC", "PPA")
REMOVAL_KINDS = ("removal", "avoidance_offset")
PLAN_INPUT_TABLES: tuple[str, ...] = ("plant_operations", "inventory", "renewable_supply", "heat_options",
                                      "removal_offers")
TABLES.update({t.name: t for t in [
    TableSpec(
        "plant_operations",
        (
            C("plant_id", "str"),
            C("min_utilisation_pct", "float", ge=0, le=100, description="labour-agreement floor, % of capacity"),
            C("max_change_pct_per_week", "float", nullable=True, ge=0, le=100,
              description="largest week-to-week change of output, % of nominal capacity"),
            C("max_stock_units", "float", nullable=True, ge=0, description="finished-goods stock limit"),
            C("shifts_max", "float", nullable=True, ge=0, le=5,
              description="shift pattern: capacity comes in this many equal shift-weeks (empty = no shifts)"),
            C("shift_cost_eur_per_week", "float", nullable=True, ge=0, description="fixed cost of one shift-week"),
            C("shift_fixed_share_pct", "float", nullable=True, ge=0, le=100,
              description="share of the plant's weekly fixed emissions that follows the shifts run (lighting, "
                          "HVAC, compressed air of a shift); the rest stays when shifts stop (empty = 0)"),
            C("source", "str", nullable=True),
        ),
        key=("plant_id",),
        references={"plant_id": ("plants", "plant_id")},
        description="plant operating rules for the plan (optional)",
    ),
    TableSpec(
        "inventory",
        (
            C("week", "date"),
            C("plant_id", "str"),
            C("product_id", "str"),
            C("units", "float", ge=0),
        ),
        key=("week", "plant_id", "product_id"),
        references={"plant_id": ("plants", "plant_id"), "product_id": ("products", "product_id")},
        description="finished-goods stock at plants (optional; else derived from history)",
    ),
    TableSpec(
        "renewable_supply",
        (
            C("market", "str", description="country whose grid the instrument belongs to"),
            C("instrument", "str", isin=LEVER_INSTRUMENTS),
            C("year", "int", ge=1990, le=2100),
            C("price_eur_per_mwh", "float", ge=0, description="EAC price, or a PPA's premium over grid power"),
            C("available_mwh", "float", ge=0, description="volume the company can buy in that market and year"),
            C("factor_kg_per_kwh", "float", ge=0, description="0 for wind and solar"),
            C("source", "str", nullable=True),
        ),
        key=("market", "instrument", "year"),
        description="renewable electricity a plan may buy (abatement lever, optional)",
    ),
    TableSpec(
        "heat_options",
        (
            C("option", "str", isin=HEAT_OPTIONS),
            C("market", "str"),
            C("year", "int", ge=1990, le=2100),
            C("cost_eur_per_mwh_gas_replaced", "float", ge=0, description="net premium over natural gas"),
            C("efficiency_ratio", "float", ge=0, description="MWh electricity per MWh gas replaced (0: biomethane)"),
            C("residual_tco2e_per_mwh", "float", ge=0, description="fossil t CO2e left per MWh replaced"),
            C("available_mwh", "float", ge=0),
            C("max_share_of_gas", "float", ge=0, le=1, description="share of a plant's gas it can replace"),
            C("source", "str", nullable=True),
        ),
        key=("option", "market", "year"),
        description="fuel switching of process heat (abatement lever, optional)",
    ),
    TableSpec(
        "removal_offers",
        (
            C("offer_id", "str"),
            C("kind", "str", isin=REMOVAL_KINDS),
            C("year", "int", ge=1990, le=2100),
            C("price_eur_per_t", "float", ge=0),
            C("available_t", "float", ge=0),
            C("source", "str", nullable=True),
        ),
        key=("offer_id",),
        description="carbon removals and offsets: a separate, labelled quantity, never in scope 1-3 (optional)",
    ),
]})
TABLE_ORDER = (*TABLE_ORDER, *PLAN_INPUT_TABLES)
# ---------------------------------------------------------------------------------------------
# Supply chain (issue 16): the multi-tier supplier network, ESG ratings, news events and supplier
# emission submissions. All optional at the door; the cross-row link rules (cycles, dangling ends,
# shares that do not sum) are in features.supply_checks. Contract and meaning: docs/SUPPLIERS.md.
SUPPLY_COMMODITIES = ("battery_pack", "cell", "cathode", "lithium", "nickel", "cobalt", "steel", "aluminium",
                      "casting", "electronics", "parts")
SUPPLIER_KINDS = ("supplier", "refiner", "smelter", "mine")
VOLUME_UNITS = ("t", "kg", "kWh", "MWh", "units")
ESG_GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")  # best first
EVENT_CATEGORIES = ("labour_human_rights", "environment", "sanctions", "accident", "insolvency", "none")
SUBMISSION_METHODS = ("supplier_specific", "hybrid", "average_data", "spend_based")
SUPPLY_TABLES: tuple[str, ...] = ("suppliers", "supply_links", "esg_scores", "supplier_events",
                                  "supplier_submissions")

for _t in [
    TableSpec(
        "suppliers",
        (
            C("supplier_id", "str"),
            C("name", "str"),
            C("country", "str", description="ISO 3166-1 alpha-2"),
            C("lat", "float", nullable=True, ge=-90, le=90),
            C("lon", "float", nullable=True, ge=-180, le=180),
            C("commodity", "str", isin=SUPPLY_COMMODITIES, description="main output"),
            C("tier", "int", ge=1, le=5, description="declared tier (1 = sells to a plant)"),
            C("kind", "str", isin=SUPPLIER_KINDS),
        ),
        key=("supplier_id",),
    ),
    TableSpec(
        "supply_links",
        (
            C("link_id", "str"),
            C("from_id", "str", description="seller (a supplier)"),
            C("to_id", "str", description="buyer: a supplier_id or a plant_id"),
            C("commodity", "str", isin=SUPPLY_COMMODITIES),
            C("annual_volume", "float", ge=0),
            C("volume_unit", "str", isin=VOLUME_UNITS),
            C("annual_spend_eur", "float", ge=0),
            C("spend_year", "int", ge=1990, le=2100),
            C("share", "float", ge=0, le=1, description="share of the buyer's need of this commodity"),
            C("capacity_per_week", "float", nullable=True, ge=0, description="in volume_unit"),
        ),
        key=("link_id",),
        references={"from_id": ("suppliers", "supplier_id")},
        description="edges seller -> buyer; to_id, cycles and share sums are checked by features.supply_checks",
    ),
    TableSpec(
        "esg_scores",
        (
            C("provider", "str"),
            C("supplier_id", "str"),
            C("date", "date"),
            C("score", "float", nullable=True, description="numeric score on [scale_min, scale_max]"),
            C("grade", "str", nullable=True, isin=ESG_GRADES, description="letter grade instead of a score"),
            C("scale_min", "float", nullable=True),
            C("scale_max", "float", nullable=True),
            C("higher_is_better", "bool"),
        ),
        key=("provider", "supplier_id", "date"),
        references={"supplier_id": ("suppliers", "supplier_id")},
        description="one rating per provider, supplier and date; exactly one of score and grade",
    ),
    TableSpec(
        "supplier_events",
        (
            C("event_id", "str"),
            C("supplier_id", "str", nullable=True),
            C("country", "str", nullable=True, description="a country-wide event (e.g. sanctions)"),
            C("date", "date"),
            C("source", "str"),
            C("text", "str"),
            C("label_category", "str", nullable=True, isin=EVENT_CATEGORIES, description="human label, if any"),
            C("label_severity", "int", nullable=True, ge=1, le=3),
        ),
        key=("event_id",),
        references={"supplier_id": ("suppliers", "supplier_id")},
    ),
    TableSpec(
        "supplier_submissions",
        (
            C("submission_id", "str"),
            C("version", "int", ge=1, description="corrections add a version; the highest counts"),
            C("supplier_id", "str"),
            C("year", "int", ge=1990, le=2100),
            C("commodity", "str", isin=SUPPLY_COMMODITIES),
            C("plant_id", "str", nullable=True),
            C("product_id", "str", nullable=True),
            C("activity_qty", "float", nullable=True, ge=0, description="output delivered, in activity_unit"),
            C("activity_unit", "str", nullable=True, isin=VOLUME_UNITS),
            C("tco2e", "float", ge=0, description="cradle-to-gate emissions of that output"),
            C("method", "str", isin=SUBMISSION_METHODS),
            C("dq_tier", "int", ge=1, le=4, description="GHG Protocol data-quality tier, 1 = supplier-specific"),
            C("submitted_on", "date"),
        ),
        key=("submission_id", "version"),
        references={"supplier_id": ("suppliers", "supplier_id")},
    ),
]:
    TABLES[_t.name] = _t
TABLE_ORDER = TABLE_ORDER + SUPPLY_TABLES
assert set(TABLE_ORDER) == set(TABLES)
# ---------------------------------------------------------------------------------------------
# Known-in-advance demand drivers (issue 14): EV purchase incentives per market, list prices, promotions and
# the product life cycle per product x market, working days per market. All optional at the door; they run
# past the history (schedules and campaigns are known ahead), so the forecaster takes its future rows from
# them. Meaning and sources of the sample's schedules: features/sample_drivers.py, docs/FORECASTING.md.
LIFECYCLE_PHASES = ("pre_launch", "launch", "active", "run_out", "ended")
DRIVER_TABLES: tuple[str, ...] = ("ev_incentives", "product_drivers", "working_days")
for _t in [
    TableSpec(
        "ev_incentives",
        (
            C("week", "date"),
            C("market_id", "str"),
            C("powertrain", "str", isin=POWERTRAINS),
            C("incentive_eur", "float", ge=0, le=50_000,
              description="purchase subsidy, bonus or tax credit per new vehicle in effect that week (EUR)"),
            C("scheme", "str", nullable=True, description="name of the public scheme, e.g. Umweltbonus"),
            C("source", "str", nullable=True),
        ),
        key=("week", "market_id", "powertrain"),
        references={"market_id": ("markets", "market_id")},
        description="EV purchase incentive schedule per market, powertrain and week (known in advance)",
    ),
    TableSpec(
        "product_drivers",
        (
            C("week", "date"),
            C("product_id", "str"),
            C("market_id", "str"),
            C("list_price_eur", "float", ge=0, description="list price in effect that week"),
            C("promo_discount_pct", "float", ge=0, le=100, description="promotion off the list price, %"),
            C("lifecycle", "str", isin=LIFECYCLE_PHASES,
              description="pre_launch / launch (ramp-up) / active / run_out (phase-out) / ended"),
        ),
        key=("week", "product_id", "market_id"),
        references={"product_id": ("products", "product_id"), "market_id": ("markets", "market_id")},
        description="list price, promotion calendar and life-cycle phase per product x market x week",
    ),
    TableSpec(
        "working_days",
        (
            C("week", "date"),
            C("market_id", "str"),
            C("working_days", "float", ge=0, le=7, description="selling days that week (weekdays minus holidays)"),
        ),
        key=("week", "market_id"),
        references={"market_id": ("markets", "market_id")},
        description="working (selling) days per market and week",
    ),
]:
    TABLES[_t.name] = _t
TABLE_ORDER = TABLE_ORDER + DRIVER_TABLES
assert set(TABLE_ORDER) == set(TABLES)
