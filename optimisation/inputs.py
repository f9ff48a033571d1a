"""Inputs of the planning model: validated tables + demand forecast + plant emission coefficients.

The forecasters (models/) publish ``demand_forecast`` and ``plant_emission_coefficients`` (see
helpers/INTERFACES.md). Until a forecast run exists, ``stand_in_forecast`` and ``stand_in_coefficients``
produce the same two tables from history and the emission-factor library, so the optimiser never
depends on how the forecasts were made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.ghg import GHGError, latest_energy_factor
from core.ghg import freight_factors as _ghg_freight_factors

log = logging.getLogger(__name__)

REQUIRED_TABLES = ("plants", "products", "plant_products", "markets", "lanes", "emission_factors")
OPTIONAL_TABLES = ("demand_history", "production_history", "shipments", "plant_operations", "inventory",
                   "renewable_supply", "heat_options", "removal_offers")

FORECAST_COLUMNS = ("week", "product_id", "market_id", "yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95",
                    "yhat_hi_95")
COEFFICIENT_COLUMNS = ("plant_id", "week", "scope", "marginal_tco2e_per_unit", "fixed_tco2e")
SCOPES = ("scope1", "scope2_location", "scope2_market")

# units, GWP sets and factor look-ups come from the one GHG reference layer (core.ghg); the stand-in
# coefficients combine per-gas factor rows with this GWP set
STAND_IN_GWP_SET = "AR5"


class InputError(ValueError):
    """Bad or missing planning input; the message names the table, column and reason."""


def _require_columns(df: pd.DataFrame, table: str, columns: tuple[str, ...] | list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{table}: missing column(s) {missing}")


def monday(ts) -> pd.Timestamp:
    ts = pd.Timestamp(ts).normalize()
    return ts - pd.Timedelta(days=ts.dayofweek)


def mondays(values) -> pd.Series:
    """Vectorised ``monday`` for a column of dates."""
    s = pd.to_datetime(pd.Series(values)).dt.normalize()
    return s - pd.to_timedelta(s.dt.dayofweek, unit="D")


# ----------------------------------------------------------------------------- freight factors
def freight_factors(emission_factors: pd.DataFrame, modes, basis: str = "TTW") -> dict[str, float]:
    """kg CO2e per tonne-km for each mode (:func:`core.ghg.factors.freight_factors`: activity
    ``freight_<mode>``, gas CO2e, per tonne_km, the given basis; rows with an empty basis count as TTW; the
    latest year, then version, wins). Raises InputError naming a mode without a factor."""
    _require_columns(emission_factors, "emission_factors", ("activity", "gas", "value", "unit", "year"))
    try:
        return _ghg_freight_factors(emission_factors, modes, basis)
    except GHGError as exc:
        raise InputError(str(exc)) from None


def lane_tco2e_per_t(lanes: pd.DataFrame, emission_factors: pd.DataFrame, basis: str = "TTW") -> pd.Series:
    """t CO2e per tonne carried on each lane = distance_km x factor(mode) [kg/t-km] / 1000, by lane_id.
    Per unit of product k: multiply by weight_t[k]."""
    _require_columns(lanes, "lanes", ("lane_id", "mode", "distance_km"))
    factors = freight_factors(emission_factors, lanes["mode"].unique(), basis)
    values = lanes["distance_km"].to_numpy(float) * lanes["mode"].map(factors).to_numpy(float) / 1000.0
    return pd.Series(values, index=lanes["lane_id"].to_numpy(), name="tco2e_per_t")


# ----------------------------------------------------------------------------- stand-ins
def stand_in_forecast(demand_history: pd.DataFrame, horizon_weeks: int,
                      start_week=None) -> pd.DataFrame:
    """A simple demand_forecast in the models' table shape: the same week last year scaled by the
    recent trend (last 13 weeks over the same 13 weeks a year earlier, clipped to [0.5, 2]); series
    with less than a year of history use the mean of their last 4 weeks. Intervals: +/- z x the
    standard deviation of the last 13 weeks (clipped at 0)."""
    _require_columns(demand_history, "demand_history", ("week", "product_id", "market_id", "units"))
    if demand_history.empty:
        raise InputError("demand_history: empty, cannot build a stand-in forecast")
    dh = demand_history[["week", "product_id", "market_id", "units"]].copy()
    dh["week"] = mondays(dh["week"]).to_numpy()
    last = dh["week"].max()
    start = monday(start_week) if start_week is not None else last + pd.Timedelta(weeks=1)
    weeks = pd.date_range(start, periods=horizon_weeks, freq="7D")
    wide = dh.pivot_table(index="week", columns=["product_id", "market_id"], values="units", aggfunc="sum")
    wide = wide.reindex(pd.date_range(wide.index.min(), last, freq="7D")).fillna(0.0)
    n = len(wide)
    recent = wide.iloc[-13:]
    out = []
    if n >= 52 + 13:
        year_ago = wide.iloc[-13 - 52:-52].to_numpy()
        trend = np.clip(recent.sum().to_numpy() / np.maximum(year_ago.sum(axis=0), 1e-9), 0.5, 2.0)
        trend[year_ago.sum(axis=0) <= 0] = 1.0
    else:
        trend = np.ones(wide.shape[1])
    level = wide.iloc[-4:].mean().to_numpy()
    sigma = recent.std(ddof=0).to_numpy()
    for week in weeks:
        lag = week - pd.Timedelta(weeks=52)
        while lag > last:  # horizon longer than a year: step back another year
            lag -= pd.Timedelta(weeks=52)
        if n >= 52 and lag in wide.index:
            yhat = wide.loc[lag].to_numpy() * trend
        else:
            yhat = level
        frame = pd.DataFrame({"week": week, "product_id": wide.columns.get_level_values(0),
                              "market_id": wide.columns.get_level_values(1), "yhat": yhat})
        for z, lo, hi in ((1.2816, "yhat_lo_80", "yhat_hi_80"), (1.96, "yhat_lo_95", "yhat_hi_95")):
            frame[lo] = np.maximum(yhat - z * sigma, 0.0)
            frame[hi] = yhat + z * sigma
        out.append(frame)
    return pd.concat(out, ignore_index=True)


def _pick_factor_kg_per_kwh(ef: pd.DataFrame, activity: str, regions: list[str]) -> float | None:
    """kg CO2e per kWh for an energy activity, from the first region in ``regions`` that has one (latest
    year): :func:`core.ghg.factors.latest_energy_factor` with the stand-in GWP set (AR5). Conflicting rows
    (CO2e beside per-gas rows) raise InputError."""
    try:
        return latest_energy_factor(ef, activity, regions, "kWh", STAND_IN_GWP_SET)
    except GHGError as exc:
        raise InputError(f"emission_factors: {exc}") from None


def stand_in_coefficients(plants: pd.DataFrame, plant_products: pd.DataFrame, emission_factors: pd.DataFrame,
                          weeks, production_history: pd.DataFrame | None = None,
                          baseload_share: float = 0.2) -> pd.DataFrame:
    """plant_emission_coefficients from engineering data, in the emissions forecaster's table shape.

    Per plant: electricity and natural-gas kWh per vehicle = mean over the plant's products
    (plant_products); scope1 = gas kWh x natural-gas factor; scope2_location = electricity kWh x grid
    factor (grid_region, else country, else GLOBAL); scope2_market = electricity kWh x residual mix
    (country), else the grid factor. ``fixed_tco2e`` per week = baseload_share x marginal x the plant's
    mean weekly production (production_history, else 70 % of capacity)."""
    _require_columns(plants, "plants", ("plant_id", "country", "capacity_units_per_week"))
    _require_columns(plant_products, "plant_products",
                     ("plant_id", "product_id", "electricity_kwh_per_unit", "natural_gas_kwh_per_unit"))
    _require_columns(emission_factors, "emission_factors", ("activity", "gas", "value", "unit", "year", "region"))
    energy = plant_products.groupby("plant_id")[["electricity_kwh_per_unit", "natural_gas_kwh_per_unit"]].mean()
    volume = None
    if production_history is not None and not production_history.empty:
        volume = production_history.groupby(["plant_id", "week"])["units"].sum().groupby("plant_id").mean()
    weeks = [monday(w) for w in weeks]
    rows = []
    for plant in plants.itertuples(index=False):
        if plant.plant_id not in energy.index:
            continue  # builds nothing: no coefficient needed
        grid_regions = [r for r in (getattr(plant, "grid_region", None), plant.country, "GLOBAL")
                        if isinstance(r, str) and r]
        grid = _pick_factor_kg_per_kwh(emission_factors, "electricity_grid", grid_regions)
        if grid is None:
            raise InputError(f"emission_factors: no electricity_grid factor for plant {plant.plant_id} "
                             f"(regions tried: {grid_regions})")
        residual = _pick_factor_kg_per_kwh(emission_factors, "electricity_residual_mix", [plant.country])
        gas = _pick_factor_kg_per_kwh(emission_factors, "natural_gas", [plant.country, "GLOBAL"])
        e_kwh, g_kwh = energy.loc[plant.plant_id]
        if gas is None and g_kwh > 0:
            raise InputError(f"emission_factors: no natural_gas factor for plant {plant.plant_id} "
                             f"(country {plant.country} or GLOBAL)")
        marginal = {"scope1": g_kwh * (gas or 0.0) / 1000.0, "scope2_location": e_kwh * grid / 1000.0,
                    "scope2_market": e_kwh * (residual if residual is not None else grid) / 1000.0}
        vol = (float(volume.get(plant.plant_id, np.nan)) if volume is not None else np.nan)
        if not np.isfinite(vol):
            vol = 0.7 * float(plant.capacity_units_per_week)
        for week in weeks:
            for scope, m in marginal.items():
                rows.append((plant.plant_id, week, scope, m, baseload_share * m * vol))
    return pd.DataFrame(rows, columns=list(COEFFICIENT_COLUMNS))


# ----------------------------------------------------------------------------- the input bundle
@dataclass
class PlanInputs:
    """Everything the model needs, as tables in the co2plan contract (see core.tables)."""

    plants: pd.DataFrame
    products: pd.DataFrame
    plant_products: pd.DataFrame
    markets: pd.DataFrame
    lanes: pd.DataFrame
    emission_factors: pd.DataFrame
    demand_forecast: pd.DataFrame
    coefficients: pd.DataFrame  # plant_emission_coefficients
    production_history: pd.DataFrame | None = None
    shipments: pd.DataFrame | None = None
    plant_operations: pd.DataFrame | None = None  # optional operating rules per plant (core.tables)
    inventory: pd.DataFrame | None = None  # optional opening stock: week, plant_id, product_id, units
    renewable_supply: pd.DataFrame | None = None  # optional abatement levers (core.tables)
    heat_options: pd.DataFrame | None = None
    removal_offers: pd.DataFrame | None = None
    sourcing_options: pd.DataFrame | None = None  # optional component sourcing (optimisation.sourcing)
    component_needs: pd.DataFrame | None = None
    sourcing_upstream: pd.DataFrame | None = None  # option suppliers' exposure to tier 2+ nodes and countries

    def __post_init__(self) -> None:
        from core.tables import TABLES

        for name in ("plants", "products", "plant_products", "markets", "lanes"):
            _require_columns(getattr(self, name), name, TABLES[name].required)
        _require_columns(self.demand_forecast, "demand_forecast", FORECAST_COLUMNS)
        _require_columns(self.coefficients, "plant_emission_coefficients", COEFFICIENT_COLUMNS)
        self.demand_forecast = self.demand_forecast.assign(week=pd.to_datetime(self.demand_forecast["week"]))
        self.coefficients = self.coefficients.assign(week=pd.to_datetime(self.coefficients["week"]))
        bad = sorted(set(self.coefficients["scope"]) - set(SCOPES))
        if bad:
            raise InputError(f"plant_emission_coefficients: unknown scope(s) {bad}; expected {SCOPES}")
        for name, key in (("plant_products", "plant_id"), ("lanes", "plant_id")):
            unknown = sorted(set(getattr(self, name)[key]) - set(self.plants["plant_id"]))
            if unknown:
                raise InputError(f"{name}: {key} not in plants: {unknown[:5]}")
        unknown = sorted(set(self.lanes["market_id"]) - set(self.markets["market_id"]))
        if unknown:
            raise InputError(f"lanes: market_id not in markets: {unknown[:5]}")
        for col, table in (("product_id", "products"), ("market_id", "markets")):
            unknown = sorted(set(self.demand_forecast[col]) - set(getattr(self, table)[col]))
            if unknown:
                raise InputError(f"demand_forecast: {col} not in {table}: {unknown[:5]}")

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame], demand_forecast: pd.DataFrame | None = None,
                    coefficients: pd.DataFrame | None = None, horizon_weeks: int = 13,
                    start_week=None) -> PlanInputs:
        """Bundle validated tables; missing forecasts are replaced by the stand-ins (logged)."""
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise InputError(f"validated tables missing: {missing}")
        if demand_forecast is None:
            if "demand_history" not in tables:
                raise InputError("no demand_forecast and no demand_history to build a stand-in from")
            log.warning("demand_forecast not given: using the stand-in forecast (seasonal naive x trend)")
            demand_forecast = stand_in_forecast(tables["demand_history"], horizon_weeks, start_week)
        if coefficients is None:
            log.warning("plant_emission_coefficients not given: using the stand-in coefficients "
                        "(plant_products kWh x emission factors)")
            weeks = sorted(pd.to_datetime(demand_forecast["week"]).unique())
            coefficients = stand_in_coefficients(tables["plants"], tables["plant_products"],
                                                 tables["emission_factors"], weeks,
                                                 tables.get("production_history"))
        else:
            # a plant the emissions forecaster has no energy history for (new, or all rows quarantined)
            # gets the engineering stand-in rather than stopping the plan
            known = set(coefficients["plant_id"])
            lacking = sorted(set(tables["plant_products"]["plant_id"]) - known)
            if lacking:
                log.warning("no emission coefficients for plant(s) %s: using the stand-in for them", lacking)
                weeks = sorted(pd.to_datetime(coefficients["week"]).unique())
                pp = tables["plant_products"][tables["plant_products"]["plant_id"].isin(lacking)]
                extra = stand_in_coefficients(tables["plants"], pp, tables["emission_factors"], weeks,
                                              tables.get("production_history"))
                coefficients = pd.concat([coefficients, extra[coefficients.columns]], ignore_index=True)
        return cls(plants=tables["plants"], products=tables["products"],
                   plant_products=tables["plant_products"], markets=tables["markets"], lanes=tables["lanes"],
                   emission_factors=tables["emission_factors"], demand_forecast=demand_forecast,
                   coefficients=coefficients, production_history=tables.get("production_history"),
                   shipments=tables.get("shipments"),
                   **{t: tables.get(t) for t in ("plant_operations", "inventory", "renewable_supply", "heat_options",
                                                 "removal_offers")})


def opening_stock(inputs: PlanInputs, week0: pd.Timestamp) -> tuple[pd.DataFrame, str]:
    """Finished-goods stock per plant x product at the start of the horizon: the ``inventory`` table at its
    last week <= week0; without it, derived from history as c = cumsum(production - shipments leaving the
    plant) and stock = c_last - min(c, 0), i.e. stock assumed 0 at its lowest point. Returns (frame with
    plant_id, product_id, units; method)."""
    cols = ["plant_id", "product_id", "units"]
    inv = inputs.inventory
    if inv is not None and not inv.empty:
        inv = inv.assign(week=mondays(inv["week"]).to_numpy())
        inv = inv[inv["week"] <= week0]
        if len(inv):
            last = inv[inv["week"] == inv["week"].max()]
            return last.groupby(["plant_id", "product_id"], as_index=False)["units"].sum()[cols], "inventory"
    ph, sh = inputs.production_history, inputs.shipments
    if ph is None or ph.empty or sh is None or sh.empty:
        return pd.DataFrame(columns=cols), "none"
    prod = ph.assign(week=mondays(ph["week"]).to_numpy())
    prod = prod[prod["week"] < week0].groupby(["plant_id", "product_id", "week"])["units"].sum()
    ship = sh.merge(inputs.lanes[["lane_id", "plant_id"]], on="lane_id")
    ship = ship.assign(week=mondays(ship["week"]).to_numpy())
    ship = ship[ship["week"] < week0].groupby(["plant_id", "product_id", "week"])["units"].sum()
    net = prod.sub(ship, fill_value=0.0).sort_index()
    c = net.groupby(level=["plant_id", "product_id"]).cumsum()
    low = c.groupby(level=["plant_id", "product_id"]).min().clip(upper=0.0)
    stock = (c.groupby(level=["plant_id", "product_id"]).last() - low).clip(lower=0.0)
    return stock.rename("units").reset_index()[cols], "history"
