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
CARRIERS = ("electricity", "natural_gas", "diesel")
# units accepted at the door for energy quantities; conversion happens in accounting (pint)
ENERGY_UNITS = ("kWh", "MWh", "GJ", "mmBtu", "therm", "m3", "scf", "litre", "US_gallon")
INSTRUMENTS = ("EAC", "PPA", "green_tariff", "supplier_rate")
GASES = ("CO2", "CH4", "CH4_fossil", "CH4_biogenic", "N2O", "CO2e")

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
    ]
}

# the order in which tables must be validated so that references resolve
TABLE_ORDER: tuple[str, ...] = (
    "plants", "products", "markets", "plant_products", "lanes", "demand_history",
    "production_history", "energy_use", "shipments", "emission_factors", "energy_contracts",
    "supplier_emissions",
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
assert set(TABLE_ORDER) == set(TABLES)
