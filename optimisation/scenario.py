"""Scenario parameters of one planning solve: one typed, validated model used by the command line
and the scenario DAG alike (the DAG builds Airflow Params from ``ScenarioParams.model_json_schema()``,
which is returned self-contained: nested models are inlined, no ``$ref``).

Units are in the field names and descriptions. Week numbers are 1-based positions in the horizon
(week 1 is the first planned week).
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["road", "rail", "sea", "air"]
Scope = Literal["scope1", "scope2_market", "scope2_location", "scope3_cat4", "scope3_cat1"]
Lever = Literal["eac", "ppa", "electric_boiler", "heat_pump", "biomethane", "removal"]
DemandQuantile = Literal["p50", "p90", "p97.5", "p10"]

#: demand_forecast column used for each demand quantile (see docs/OPTIMISATION.md)
QUANTILE_COLUMN: dict[str, str] = {"p50": "yhat", "p90": "yhat_hi_80", "p97.5": "yhat_hi_95", "p10": "yhat_lo_80"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DemandShock(_Strict):
    """Scale demand of one market, one product, or one product in one market."""

    market_id: str | None = Field(None, title="Market", description="market id; empty = every market")
    product_id: str | None = Field(None, title="Product", description="product id; empty = every product")
    pct: float = Field(..., ge=-100, le=1000, title="Demand change (%)",
                       description="percent change of demand, e.g. 10 = +10 %, -100 = no demand")
    from_week: int = Field(1, ge=1, title="From week", description="first horizon week (1-based)")
    to_week: int | None = Field(None, ge=1, title="To week", description="last horizon week; empty = end")

    @model_validator(mode="after")
    def _target(self) -> DemandShock:
        if self.market_id is None and self.product_id is None:
            raise ValueError("demand_shocks: give market_id, product_id or both")
        if self.to_week is not None and self.to_week < self.from_week:
            raise ValueError("demand_shocks: to_week must be >= from_week")
        return self


class PlantCapacityChange(_Strict):
    """Plant outage (capacity_pct 0) or capacity change over a range of horizon weeks."""

    plant_id: str = Field(..., title="Plant")
    capacity_pct: float = Field(..., ge=0, le=500, title="Capacity (% of nominal)",
                                description="0 = outage, 50 = half capacity, 120 = overtime")
    from_week: int = Field(1, ge=1, title="From week", description="first horizon week (1-based)")
    to_week: int | None = Field(None, ge=1, title="To week", description="last horizon week; empty = end")

    @model_validator(mode="after")
    def _weeks(self) -> PlantCapacityChange:
        if self.to_week is not None and self.to_week < self.from_week:
            raise ValueError("plant_capacity: to_week must be >= from_week")
        return self


class ModeLimit(_Strict):
    """Limit every lane of one transport mode to a share of its capacity (0 = ban)."""

    mode: Mode = Field(..., title="Mode")
    capacity_pct: float = Field(..., ge=0, le=500, title="Lane capacity (% of nominal)",
                                description="0 bans the mode")


class RenewableShare(_Strict):
    """Renewable electricity share at a plant: scales its market-based scope-2 coefficients by (1 - share)."""

    plant_id: str = Field(..., title="Plant")
    share_pct: float = Field(..., ge=0, le=100, title="Renewable share (%)",
                             description="share of the plant's electricity covered by renewable instruments")


class PlantRule(_Strict):
    """Operating rules of one plant; each field overrides the plant_operations table and the global default."""

    plant_id: str = Field(..., title="Plant")
    min_utilisation_pct: float | None = Field(None, ge=0, le=100, title="Minimum utilisation (% of capacity)")
    max_change_pct_per_week: float | None = Field(None, ge=0, le=100,
                                                  title="Maximum week-to-week change (% of capacity)")
    max_stock_units: float | None = Field(None, ge=0, title="Maximum finished-goods stock (units)")


class SupplierOutage(_Strict):
    """A supplier, or every qualified supplier in a country, limited to capacity_pct over a week range
    (optimisation.sourcing; ids are checked against the plan's sourcing options)."""

    supplier_id: str | None = Field(None, title="Supplier", description="supplier id; or give country")
    country: str | None = Field(None, title="Country", description="ISO 3166-1 alpha-2: every supplier there")
    capacity_pct: float = Field(0.0, ge=0, le=100, title="Capacity (% of the link capacity)",
                                description="0 = unavailable")
    from_week: int = Field(1, ge=1, title="From week", description="first horizon week (1-based)")
    to_week: int | None = Field(None, ge=1, title="To week", description="last horizon week; empty = end")

    @model_validator(mode="after")
    def _target(self) -> SupplierOutage:
        if (self.supplier_id is None) == (self.country is None):
            raise ValueError("supplier_outage: give supplier_id or country (one of them)")
        if self.to_week is not None and self.to_week < self.from_week:
            raise ValueError("supplier_outage: to_week must be >= from_week")
        return self


DriverName = Literal["incentive_eur", "promo_discount_pct", "list_price_pct", "working_days", "end_of_sale"]


class DriverChange(_Strict):
    """Change a known-in-advance demand driver from a horizon week on (issue 14); the demand is re-forecast
    with the champion model on the changed driver rows. E.g. the BEV subsidy in a market ends in week 10:
    ``{"market_id": "M_DE_FRA", "driver": "incentive_eur", "from_week": 10, "value": 0}``."""

    market_id: str | None = Field(None, title="Market", description="market id; empty = every market")
    driver: DriverName = Field(..., title="Driver",
                               description="incentive_eur (EUR per vehicle of `powertrain`), promo_discount_pct, "
                                           "list_price_pct (% change), working_days (per week), end_of_sale "
                                           "(product_id required)")
    value: float = Field(0.0, ge=-100, le=50_000, title="New value",
                         description="EUR, %, or days per week, by driver; ignored for end_of_sale")
    from_week: int = Field(1, ge=1, title="From week", description="first horizon week (1-based)")
    to_week: int | None = Field(None, ge=1, title="To week", description="last horizon week; empty = end")
    powertrain: Literal["BEV", "PHEV", "ICE"] = Field("BEV", title="Powertrain (incentive)")
    product_id: str | None = Field(None, title="Product", description="product id (prices, promotions, end of "
                                                                       "sale); empty = every product")

    @model_validator(mode="after")
    def _check(self) -> DriverChange:
        if self.to_week is not None and self.to_week < self.from_week:
            raise ValueError("driver_changes: to_week must be >= from_week")
        if self.driver == "end_of_sale" and not self.product_id:
            raise ValueError("driver_changes: end_of_sale needs product_id")
        if self.driver == "working_days" and not 0 <= self.value <= 7:
            raise ValueError("driver_changes: working_days must be within 0..7")
        if self.driver in ("incentive_eur", "promo_discount_pct") and self.value < 0:
            raise ValueError(f"driver_changes: {self.driver} must be >= 0")
        if self.driver == "promo_discount_pct" and self.value > 100:
            raise ValueError("driver_changes: promo_discount_pct must be <= 100")
        return self


class ScenarioParams(_Strict):
    """Typed scenario of one planning solve (see docs/OPTIMISATION.md for the formulation)."""

    scenario_id: str = Field("baseline", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$",
                             title="Scenario id", description="name of the scenario, used in lake paths")
    horizon_weeks: int = Field(13, ge=1, le=104, title="Horizon (weeks)")
    start_week: str | None = Field(None, title="First planned week (ISO date)",
                                   description="Monday of the first week; empty = first forecast week")
    demand_quantile: DemandQuantile = Field("p50", title="Demand quantile",
                                            description="p50 = point forecast, p90/p97.5 upper, p10 lower")
    demand_shocks: list[DemandShock] = Field(default_factory=list, title="Demand shocks (%)")
    # CO2 budget: absolute, or % below the unconstrained plan of the same scenario
    co2_budget_t: float | None = Field(None, ge=0, title="CO2 budget (t CO2e over the horizon)",
                                       description="scope 1 + scope 2 market-based + transport scope 3")
    co2_reduction_pct: float | None = Field(None, gt=0, lt=100, title="CO2 reduction (% below baseline plan)",
                                            description="budget = (1 - pct/100) x CO2e of the cost-optimal "
                                                        "plan without budget")
    carbon_price_eur_per_t: float = Field(0.0, ge=0, le=10_000, title="Carbon price (EUR / t CO2e)")
    # output target
    output_target_units: float | None = Field(None, ge=0, title="Output target (units over the horizon)")
    output_target_pct: float | None = Field(None, ge=0, le=200, title="Output target (% of demand)",
                                            description="percent of total demand over the horizon")
    plant_capacity: list[PlantCapacityChange] = Field(default_factory=list,
                                                      title="Plant outages and capacity changes")
    banned_modes: list[Mode] = Field(default_factory=list, title="Banned transport modes")
    mode_limits: list[ModeLimit] = Field(default_factory=list, title="Transport mode capacity limits")
    renewable_share: list[RenewableShare] = Field(default_factory=list, title="Renewable share by plant")
    max_move_pct: float | None = Field(None, ge=0, le=1000, title="Max move from current plan (%)",
                                       description="bound on each plant-product weekly volume: current "
                                                   "plan x (1 +/- pct/100); capacity changes override")
    current_plan_weeks: int = Field(4, ge=1, le=52, title="Current plan window (weeks)",
                                    description="the current plan = mean weekly production of the last "
                                                "N weeks of production_history")
    transport_basis: Literal["TTW", "WTW"] = Field("TTW", title="Freight factor basis",
                                                   description="tank-to-wheel or well-to-wheel")
    # budget semantics (optimisation/emissions.py)
    budget_scopes: list[Scope] = Field(["scope1", "scope2_market", "scope3_cat4"], min_length=1,
                                       title="Scopes the CO2 budget counts")
    boundary: Literal["ledger", "operational_control", "equity_share", "full"] = Field(
        "ledger", title="Organisational boundary of the budget",
        description="ledger = the boundary the emissions ledger reports; full = every plant at 100 %")
    budget_period: Literal["horizon", "quarter", "year"] = Field(
        "horizon", title="Budget period", description="one CO2 budget (and shadow price) per period")
    trajectory_rate_pct: float | None = Field(
        None, gt=0, lt=100, title="Target trajectory (% of base year per year)",
        description="linear absolute cut from the base year, e.g. 4.2 (1.5 degC-aligned, SBTi) or 2.5 (well "
                    "below 2 degC); the budget of each period follows it")
    base_year: int | None = Field(None, ge=1990, le=2100, title="Base year",
                                  description="empty = the ledger's first complete calendar year")
    base_year_co2e_t: float | None = Field(None, ge=0, title="Base-year emissions (t CO2e)",
                                           description="empty = from the ledger, same boundary and scopes")
    # abatement levers (optional tables renewable_supply, heat_options, removal_offers)
    levers_enabled: list[Lever] = Field(["eac", "ppa", "electric_boiler", "heat_pump", "biomethane"],
                                        title="Abatement levers the plan may buy")
    lever_price_pct: float = Field(100.0, ge=0, le=1000, title="Lever prices (% of the table's)")
    lever_availability_pct: float = Field(100.0, ge=0, le=1000, title="Lever availability (% of the table's)")
    net_target_t: float | None = Field(None, ge=0, title="Net target incl. removals (t CO2e over the horizon)",
                                       description="removals/offsets count only here, never in scope 1-3")
    # stock and time (docs/OPTIMISATION.md, families plant_balance .. terminal_stock)
    max_stock_weeks: float = Field(2.0, ge=0, le=52, title="Plant stock limit (weeks of capacity)",
                                   description="finished-goods stock a plant may hold; 0 = no stock "
                                               "(plant_operations.max_stock_units overrides)")
    holding_rate_pct_per_year: float = Field(20.0, ge=0, le=200, title="Holding cost (% of unit cost per year)",
                                             description="plant stock; stock at a market costs 1.5 x")
    backorder_max_weeks: int = Field(4, ge=0, le=26, title="Backorder patience (weeks)",
                                     description="demand may be served up to this many weeks late; 0 = "
                                                 "unmet demand is lost at once")
    lateness_pct_of_price_per_week: float = Field(1.0, ge=0, le=100, title="Lateness cost (% of price per week)")
    terminal_stock_pct: float = Field(100.0, ge=0, le=100, title="Terminal stock (% of opening stock)",
                                      description="stock each plant keeps at the end of the horizon")
    tail_demand: bool = Field(True, title="Serve demand just after the horizon",
                              description="the first weeks after the horizon (transit weeks of each "
                                          "market's cheapest route) are served from the horizon's "
                                          "production at the mean demand of its last 4 weeks; stops the "
                                          "end collapse")
    # plant operating rules
    min_utilisation_pct: float | None = Field(None, ge=0, le=100, title="Minimum utilisation (% of capacity)",
                                              description="every plant; empty = plant_operations table, else 0")
    max_change_pct_per_week: float | None = Field(None, ge=0, le=100,
                                                  title="Maximum week-to-week change (% of capacity)",
                                                  description="every plant; empty = plant_operations table, "
                                                              "else no limit")
    plant_rules: list[PlantRule] = Field(default_factory=list, title="Operating rules by plant")
    operating_mode: Literal["lp", "milp"] = Field(
        "lp", title="Shift decisions", description="lp: shifts as a continuous relaxation (cost and capacity scale "
                                                   "linearly); milp: whole shifts, HiGHS branch and bound")
    mip_gap_pct: float = Field(0.5, gt=0, le=50, title="MILP relative gap (%)")
    min_util_slack_penalty_eur_per_unit: float = Field(100_000.0, ge=0,
                                                       title="Minimum-utilisation shortfall penalty (EUR / unit)")
    # penalties (objective weights of soft constraints)
    unmet_penalty_eur_per_unit: float | None = Field(None, ge=0, title="Unmet demand penalty (EUR / unit)",
                                                     description="empty = the product's price_eur")
    co2_slack_penalty_eur_per_t: float | None = Field(
        None, ge=0, title="CO2 budget excess penalty (EUR / t)",
        description="empty = per period, 90 % of the cheapest lost-sale abatement cost (a target out of reach of "
                    "the levers shows as excess tonnes, not as unsold cars); set a value above that (e.g. 10000) to "
                    "meet the budget by selling less")
    output_slack_penalty_eur_per_unit: float = Field(50_000.0, ge=0,
                                                     title="Output target shortfall penalty (EUR / unit)")
    # solver
    solver: Literal["highs", "cbc"] = Field("highs", title="Solver")
    highs_method: Literal["ipm", "simplex", "choose"] = Field("ipm", title="HiGHS LP method",
                                                              description="interior point for large LPs")
    time_limit_s: float | None = Field(None, gt=0, le=86_400, title="Solver time limit (s)")
    threads: int | None = Field(None, ge=1, le=64, title="Solver threads")
    # issue 14: what-ifs on known-in-advance demand drivers, through a re-forecast with the champion model
    driver_changes: list[DriverChange] = Field(default_factory=list, title="Demand driver changes (re-forecast)")

    @model_validator(mode="after")
    def _driver_weeks(self) -> ScenarioParams:
        for item in self.driver_changes:
            if item.from_week > self.horizon_weeks:
                raise ValueError(f"driver_changes: from_week {item.from_week} is beyond horizon_weeks "
                                 f"{self.horizon_weeks}")
        return self

    @model_validator(mode="after")
    def _exclusive(self) -> ScenarioParams:
        if self.co2_budget_t is not None and self.co2_reduction_pct is not None:
            raise ValueError("co2_budget_t and co2_reduction_pct: give one, not both")
        if self.trajectory_rate_pct is not None and (self.co2_budget_t is not None
                                                     or self.co2_reduction_pct is not None):
            raise ValueError("trajectory_rate_pct: give a trajectory or co2_budget_t/co2_reduction_pct, not both")
        if self.output_target_units is not None and self.output_target_pct is not None:
            raise ValueError("output_target_units and output_target_pct: give one, not both")
        for name, items in (("plant_capacity", self.plant_capacity), ("demand_shocks", self.demand_shocks)):
            for item in items:
                if item.from_week > self.horizon_weeks:
                    raise ValueError(f"{name}: from_week {item.from_week} is beyond horizon_weeks "
                                     f"{self.horizon_weeks}")
        if self.start_week is not None:
            import pandas as pd

            try:
                ts = pd.Timestamp(self.start_week)
            except ValueError as err:
                raise ValueError(f"start_week: not a date: {self.start_week!r}") from err
            if ts.dayofweek != 0:
                raise ValueError(f"start_week: {self.start_week} is not a Monday")
        return self

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """The JSON schema with nested models inlined (no ``$defs``/``$ref``), for Airflow Params."""
        schema = super().model_json_schema(*args, **kwargs)
        defs = schema.pop("$defs", {})

        def inline(node: Any) -> Any:
            if isinstance(node, dict):
                if "$ref" in node:
                    target = copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]])
                    rest = {k: v for k, v in node.items() if k != "$ref"}
                    return inline({**target, **rest})
                return {k: inline(v) for k, v in node.items()}
            if isinstance(node, list):
                return [inline(v) for v in node]
            return node

        return inline(schema)

    def flat_params(self) -> dict[str, str | float | int]:
        """Flat key -> scalar view for MLflow params (lists as compact JSON)."""
        import json

        out: dict[str, str | float | int] = {}
        for key, value in self.model_dump(mode="json").items():
            if isinstance(value, (list, dict)):
                out[key] = json.dumps(value, separators=(",", ":"))[:500]
            elif value is None:
                out[key] = "none"
            else:
                out[key] = value
        return out

    # --- issue 16: sourcing of key components (optimisation.sourcing)
    supplier_outage: list[SupplierOutage] = Field(default_factory=list, title="Supplier outages",
                                                  description="supplier or country unavailable (or limited) "
                                                              "over a week range; the plan re-sources or "
                                                              "moves production")
    sourcing_risk_eur_per_unit: float = Field(0.0, ge=0, le=1e6, title="Supplier risk cost (EUR / unit at risk 1)",
                                              description="objective cost per component unit x the supplier's "
                                                          "risk score (0..1); 0 = risk not priced")
    sourcing_shortfall_penalty_eur_per_unit: float = Field(
        10_000.0, ge=0, title="Unsourced component penalty (EUR / unit)",
        description="component units no qualified supplier delivers (spot / expedited buys): a last resort "
                    "priced above any vehicle's value per kWh of pack")
    use_sourcing: bool = Field(True, title="Plan component sourcing",
                               description="use the supply stage's sourcing options when the run has them")

    @model_validator(mode="after")
    def _outage_weeks(self) -> ScenarioParams:
        for item in self.supplier_outage:
            if item.from_week > self.horizon_weeks:
                raise ValueError(f"supplier_outage: from_week {item.from_week} is beyond horizon_weeks "
                                 f"{self.horizon_weeks}")
        return self


def as_params(params: ScenarioParams | dict | None) -> ScenarioParams:
    """Accept a ScenarioParams, a plain dict (validated here) or None (defaults)."""
    if params is None:
        return ScenarioParams()
    if isinstance(params, ScenarioParams):
        return params
    return ScenarioParams.model_validate(params)
