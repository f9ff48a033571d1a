"""Plant energy forecaster and the optimiser's linear emission coefficients.

Energy per plant x week x carrier (each carrier in its ``default_unit`` of ``core.ghg.carriers.CARRIERS``:
electricity, natural gas, steam and district heat in kWh, diesel and LPG in litres, coal in tonnes,
biomethane in mmBtu; the units of ``features.accounting.carrier_intensities``) is modelled two ways:

- a linear model per (plant, carrier): ``energy = a + b * volume + c * sin(2 pi w / 52) + d * cos(...)``
  (least squares; ``b`` is the marginal energy per vehicle, ``a + season`` the fixed weekly load) — the
  optimiser needs exactly this linear form;
- one global LightGBM model over all plants and carriers on relative energy (energy / plant-carrier
  mean) from relative volume, plant, carrier, week of year and month — the non-linear reference.

``emission_coefficients`` multiplies the linear terms by the carrier intensities (t CO2e per unit) of the
accounting engine and sums per scope. ``linearisation_error`` compares the linear CO2e with the LightGBM
CO2e over a range of volumes (default 60%..130% of each plant's recent mean volume).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.ghg import CARRIERS, GHGError, to_default_units
from features.demand_features import month, week_of_year
from models.metrics import wape

# Units and carriers come from the one GHG reference layer (core.ghg): each carrier is modelled in its
# ``default_unit`` of core.ghg.carriers.CARRIERS (the unit carrier_intensities quotes), and quantities are
# converted by core.ghg.convert (pint registry; heating values of core.ghg.library for physical <-> energy,
# US EPA HHV first: pipeline gas 1,026 Btu/scf). Adding a fuel is a row in the carriers table + its factors.
CANONICAL_UNIT = {c.id: c.default_unit for c in CARRIERS.values()}
SCOPE_OF_CARRIER = {c.id: (("scope2_location", "scope2_market") if c.scope == "scope2" else (c.scope,))
                    for c in CARRIERS.values()}
# the carriers quoted for every plant (the optimiser's levers and stand-ins use them); any other carrier in
# energy_use is quoted for the plants that report it
PLANNING_CARRIERS = ("electricity", "natural_gas", "diesel")
COEFFICIENT_COLUMNS = ["plant_id", "week", "scope", "marginal_tco2e_per_unit", "fixed_tco2e"]


def canonical_energy(energy_use: pd.DataFrame) -> pd.DataFrame:
    """energy_use -> plant_id, week, carrier, energy (canonical unit). Unknown (carrier, unit) pairs raise."""
    eu = energy_use.copy()
    eu["week"] = pd.to_datetime(eu["week"])
    try:
        eu["energy"] = to_default_units(eu["carrier"], eu["unit"], eu["quantity"])
    except GHGError as exc:
        raise ValueError(f"energy_use: {exc}") from None
    return eu.groupby(["plant_id", "week", "carrier"], as_index=False)["energy"].sum()


def plant_volume(production_history: pd.DataFrame) -> pd.DataFrame:
    """Weekly units built per plant: plant_id, week, volume."""
    ph = production_history.copy()
    ph["week"] = pd.to_datetime(ph["week"])
    return ph.groupby(["plant_id", "week"], as_index=False)["units"].sum().rename(columns={"units": "volume"})


def energy_panel(energy_use: pd.DataFrame, production_history: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Join energy and volume per plant x week x carrier. Weeks with energy but no production count as
    volume 0; weeks with production but no energy reading are left out of fitting and reported."""
    e = canonical_energy(energy_use)
    v = plant_volume(production_history)
    panel = e.merge(v, on=["plant_id", "week"], how="left")
    report = {"no_production_rows": int(panel["volume"].isna().sum())}
    panel["volume"] = panel["volume"].fillna(0.0)
    carriers = e[["plant_id", "carrier"]].drop_duplicates()
    missing = v.merge(carriers, on="plant_id").merge(e, on=["plant_id", "week", "carrier"], how="left")
    report["missing_energy_rows"] = int(missing["energy"].isna().sum())
    return panel.sort_values(["plant_id", "carrier", "week"]).reset_index(drop=True), report


def _season(weeks: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    w = week_of_year(pd.DatetimeIndex(weeks)).astype(float)
    return np.sin(2 * np.pi * w / 52.0), np.cos(2 * np.pi * w / 52.0)


@dataclass
class EnergyConfig:
    n_estimators: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_child_samples: int = 10
    n_jobs: int = 1
    seed: int = 7
    # fit the linear model (the coefficients) on each plant-carrier's most recent N weeks only; None = all
    linear_weeks: int | None = None


class EnergyForecaster:
    """Linear per (plant, carrier) + global LightGBM energy model."""

    def __init__(self, config: EnergyConfig | None = None):
        self.config = config or EnergyConfig()
        self.linear: pd.DataFrame | None = None  # plant_id, carrier, a, b, c_sin, c_cos, n
        self.norm: pd.DataFrame | None = None  # plant_id, carrier, energy_mean, volume_mean
        self.lgbm = None
        self.categories: dict[str, list[str]] = {}
        self.report: dict[str, Any] = {}
        self.feature_importance: pd.Series | None = None

    def fit(self, panel: pd.DataFrame, lgbm: bool = True) -> EnergyForecaster:
        """Fit the linear models and (``lgbm``) the LightGBM reference."""
        from lightgbm import LGBMRegressor

        rows, neg = [], []
        recent = getattr(self.config, "linear_weeks", None)
        for (pid, car), g in panel.groupby(["plant_id", "carrier"], sort=True):
            if recent:
                g = g[g["week"] > g["week"].max() - pd.Timedelta(weeks=int(recent))]
            s, c = _season(g["week"])
            X = np.column_stack([np.ones(len(g)), g["volume"].to_numpy(float), s, c])
            coef, *_ = np.linalg.lstsq(X, g["energy"].to_numpy(float), rcond=None)
            if coef[1] < 0:
                neg.append(f"{pid}/{car}")
                X2 = X[:, [0, 2, 3]]
                c2, *_ = np.linalg.lstsq(X2, g["energy"].to_numpy(float), rcond=None)
                coef = np.array([c2[0], 0.0, c2[1], c2[2]])
            rows.append({"plant_id": pid, "carrier": car, "a": coef[0], "b": coef[1], "c_sin": coef[2],
                         "c_cos": coef[3], "n": len(g)})
        self.linear = pd.DataFrame(rows)
        self.report = {"negative_slope_set_to_zero": neg}
        self.norm = panel.groupby(["plant_id", "carrier"], as_index=False).agg(
            energy_mean=("energy", "mean"), volume_mean=("volume", "mean"))
        self.categories = {"plant_id": sorted(panel["plant_id"].unique()),
                           "carrier": sorted(panel["carrier"].unique())}
        if not lgbm:
            return self
        X, y = self._features(panel, with_target=True)
        c = self.config
        self.lgbm = LGBMRegressor(n_estimators=c.n_estimators, learning_rate=c.learning_rate,
                                  num_leaves=c.num_leaves, min_child_samples=c.min_child_samples, n_jobs=c.n_jobs,
                                  random_state=c.seed, verbosity=-1).fit(X, y)
        self.feature_importance = pd.Series(self.lgbm.booster_.feature_importance("gain"),
                                            index=self.lgbm.booster_.feature_name()).sort_values(ascending=False)
        return self

    def _features(self, frame: pd.DataFrame, with_target: bool = False):
        f = frame.merge(self.norm, on=["plant_id", "carrier"], how="left")
        vm = f["volume_mean"].where(f["volume_mean"] > 0, 1.0)
        X = pd.DataFrame({
            "plant": pd.Categorical(f["plant_id"], categories=self.categories["plant_id"]),
            "carrier": pd.Categorical(f["carrier"], categories=self.categories["carrier"]),
            "rel_volume": f["volume"].to_numpy(float) / vm.fillna(1.0).to_numpy(float),
            "week_of_year": week_of_year(pd.DatetimeIndex(f["week"])),
            "month": month(pd.DatetimeIndex(f["week"])),
        })
        if with_target:
            return X, f["energy"].to_numpy(float) / f["energy_mean"].where(f["energy_mean"] > 0, 1.0).to_numpy(float)
        return X, f["energy_mean"].to_numpy(float)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """LightGBM energy for rows (plant_id, week, carrier, volume); unknown plant/carrier -> linear or 0."""
        X, scale = self._features(frame)
        pred = np.maximum(self.lgbm.predict(X), 0.0) * scale
        lin = self.predict_linear(frame)
        return np.where(np.isnan(pred), lin, pred)

    def predict_linear(self, frame: pd.DataFrame) -> np.ndarray:
        f = frame.merge(self.linear, on=["plant_id", "carrier"], how="left")
        s, c = _season(f["week"])
        out = f["a"] + f["b"] * f["volume"] + f["c_sin"] * s + f["c_cos"] * c
        return np.maximum(out.fillna(0.0).to_numpy(float), 0.0)

    def fixed_and_marginal(self, plants: list[str], weeks: pd.DatetimeIndex) -> pd.DataFrame:
        """plant_id, week, carrier, fixed (energy/week at zero volume), marginal (energy per unit)."""
        grid = pd.MultiIndex.from_product([plants, weeks], names=["plant_id", "week"]).to_frame(index=False)
        f = grid.merge(self.linear, on="plant_id", how="inner")
        s, c = _season(f["week"])
        f["fixed"] = f["a"] + f["c_sin"] * s + f["c_cos"] * c
        f["marginal"] = f["b"]
        return f[["plant_id", "week", "carrier", "fixed", "marginal"]]

    def params(self) -> dict[str, Any]:
        return asdict(self.config)


def backtest_energy(panel: pd.DataFrame, config: EnergyConfig | None = None, n_folds: int = 3,
                    step: int = 13, linear_only: bool = False) -> dict[str, Any]:
    """Rolling origin on energy given the actual volume (the plan is known at planning time): WAPE of
    LightGBM, the linear model and seasonal naive (52) per fold (``linear_only``: the linear model alone,
    the one the coefficients come from; what the champion gate compares)."""
    last = panel["week"].max()
    rows = []
    for k in range(n_folds):
        origin = last - pd.Timedelta(weeks=step * (n_folds - k))
        train = panel[panel["week"] <= origin]
        test = panel[(panel["week"] > origin) & (panel["week"] <= origin + pd.Timedelta(weeks=step))].copy()
        m = EnergyForecaster(config).fit(train, lgbm=not linear_only)
        test["linear"] = m.predict_linear(test)
        names: tuple[str, ...] = ("linear",)
        if not linear_only:
            test["lgbm"] = m.predict(test)
            prev = panel[["plant_id", "carrier", "week", "energy"]].copy()
            prev["week"] = prev["week"] + pd.Timedelta(weeks=52)
            test = test.merge(prev.rename(columns={"energy": "snaive"}), on=["plant_id", "carrier", "week"],
                              how="left")
            test["snaive"] = test["snaive"].fillna(test["lgbm"])
            names = ("lgbm", "linear", "snaive")
        for name in names:
            rows.append({"fold": k, "origin": origin.date().isoformat(), "model": name,
                         "wape": wape(test["energy"], test[name])})
    folds = pd.DataFrame(rows)
    summary = folds.groupby("model")["wape"].mean().to_dict()
    return {"folds": folds, "summary": summary}


def carrier_intensity_table(plants: pd.DataFrame, weeks: pd.DatetimeIndex, factors: pd.DataFrame | None = None,
                            contracts: pd.DataFrame | None = None, gwp_set: str = "AR5",
                            plant_carriers: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str]:
    """(plant_id, week, carrier, scope, unit, tco2e_per_unit), source) from the accounting engine: the
    planning carriers for every plant, and each other carrier in ``plant_carriers`` (plant_id, carrier) for
    the plants that use it."""
    from features.accounting import carrier_intensities

    parts = [carrier_intensities(plants, factors, contracts, weeks, gwp_set, carriers=PLANNING_CARRIERS)]
    if plant_carriers is not None:
        other = plant_carriers[~plant_carriers["carrier"].isin(PLANNING_CARRIERS)].drop_duplicates()
        for car, g in other.groupby("carrier", sort=True):
            users = plants[plants["plant_id"].isin(g["plant_id"])]
            if len(users):
                parts.append(carrier_intensities(users, factors, contracts, weeks, gwp_set, carriers=(car,)))
    ci = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    ci["week"] = pd.to_datetime(ci["week"])
    bad = ci[ci["unit"] != ci["carrier"].map(CANONICAL_UNIT)]
    if len(bad):
        raise ValueError(f"carrier_intensities: unexpected units {sorted(set(zip(bad.carrier, bad.unit, strict=True)))}")
    return ci, "features.accounting.carrier_intensities"


def emission_coefficients(model: EnergyForecaster, intensities: pd.DataFrame, weeks: pd.DatetimeIndex,
                          plants: list[str] | None = None) -> pd.DataFrame:
    """plant_id, week, scope, marginal_tco2e_per_unit, fixed_tco2e over ``weeks``."""
    plants = plants or sorted(model.linear["plant_id"].unique())
    fm = model.fixed_and_marginal(plants, pd.DatetimeIndex(weeks))
    j = fm.merge(intensities[["plant_id", "week", "carrier", "scope", "tco2e_per_unit"]],
                 on=["plant_id", "week", "carrier"], how="left")
    missing = j["tco2e_per_unit"].isna()
    if missing.any():
        ex = j.loc[missing, ["plant_id", "carrier"]].drop_duplicates().head(5).to_dict("records")
        raise ValueError(f"carrier intensities missing for {int(missing.sum())} plant-week-carrier rows, e.g. {ex}")
    j["marginal_tco2e_per_unit"] = j["marginal"] * j["tco2e_per_unit"]
    j["fixed_tco2e"] = j["fixed"].clip(lower=0) * j["tco2e_per_unit"]
    out = j.groupby(["plant_id", "week", "scope"], as_index=False)[["marginal_tco2e_per_unit", "fixed_tco2e"]].sum()
    return out[COEFFICIENT_COLUMNS].sort_values(["plant_id", "week", "scope"]).reset_index(drop=True)


def linearisation_error(model: EnergyForecaster, intensities: pd.DataFrame, coefficients: pd.DataFrame,
                        recent_volume: pd.Series, fractions=(0.6, 0.8, 1.0, 1.15, 1.3),
                        scopes=("scope1", "scope2_market")) -> dict[str, Any]:
    """Relative error of the linear CO2e (fixed + marginal x volume) against the LightGBM energy model's
    CO2e, for each plant and planning week at volumes ``fraction x recent mean volume``."""
    coef = coefficients[coefficients["scope"].isin(scopes)].groupby(["plant_id", "week"], as_index=False)[
        ["marginal_tco2e_per_unit", "fixed_tco2e"]].sum()
    ci = intensities[intensities["scope"].isin(scopes)].groupby(["plant_id", "week", "carrier"], as_index=False)[
        "tco2e_per_unit"].sum()
    rows = []
    for frac in fractions:
        grid = coef[["plant_id", "week"]].copy()
        grid["volume"] = grid["plant_id"].map(recent_volume).fillna(0.0) * frac
        g = grid.merge(ci, on=["plant_id", "week"])
        g["energy"] = model.predict(g[["plant_id", "week", "carrier", "volume"]])
        g["t"] = g["energy"] * g["tco2e_per_unit"]
        nl = g.groupby(["plant_id", "week"], as_index=False)["t"].sum()
        m = coef.merge(grid, on=["plant_id", "week"]).merge(nl, on=["plant_id", "week"])
        m["lin"] = m["fixed_tco2e"] + m["marginal_tco2e_per_unit"] * m["volume"]
        m["rel"] = (m["lin"] - m["t"]) / m["t"].where(m["t"] > 0)
        m["fraction"] = frac
        rows.append(m[["plant_id", "week", "fraction", "volume", "lin", "t", "rel"]])
    detail = pd.concat(rows, ignore_index=True)
    by_frac = detail.groupby("fraction")["rel"].apply(lambda r: float(np.nanmean(np.abs(r)))).to_dict()
    return {"mean_abs_rel_error": float(np.nanmean(np.abs(detail["rel"]))),
            "p95_abs_rel_error": float(np.nanpercentile(np.abs(detail["rel"]), 95)),
            "max_abs_rel_error": float(np.nanmax(np.abs(detail["rel"]))),
            "by_volume_fraction": {str(k): v for k, v in by_frac.items()}, "detail": detail}


def planning_weeks(last_week: pd.Timestamp, horizon: int) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(last_week) + pd.Timedelta(weeks=1), periods=horizon, freq="W-MON")


def uncovered_pairs(model: EnergyForecaster, panel: pd.DataFrame) -> list[str]:
    """``plant/carrier`` pairs with energy data in ``panel`` that ``model`` has no linear model for (a
    champion trained before a plant or a carrier appeared cannot supply their coefficients)."""
    have = set(zip(model.linear["plant_id"], model.linear["carrier"], strict=True))
    want = panel[["plant_id", "carrier"]].drop_duplicates().itertuples(index=False)
    return sorted(f"{p}/{c}" for p, c in want if (p, c) not in have)


def coefficient_tables(model: EnergyForecaster, panel: pd.DataFrame, plants: pd.DataFrame,
                       production_history: pd.DataFrame, factors: pd.DataFrame | None = None,
                       contracts: pd.DataFrame | None = None, horizon: int = 26, gwp_set: str = "AR5"
                       ) -> dict[str, Any]:
    """A fitted model's coefficients over the ``horizon`` weeks after ``panel``'s last week (this run's
    planning weeks), the carrier intensities and the linearisation error; no fitting."""
    weeks = planning_weeks(panel["week"].max(), horizon)
    known = plants[plants["plant_id"].isin(model.linear["plant_id"])]
    ci, source = carrier_intensity_table(known, weeks, factors, contracts, gwp_set,
                                         model.linear[["plant_id", "carrier"]].drop_duplicates())
    coef = emission_coefficients(model, ci, weeks, sorted(known["plant_id"]))
    vol = plant_volume(production_history)
    recent = vol[vol["week"] > vol["week"].max() - pd.Timedelta(weeks=13)].groupby("plant_id")["volume"].mean()
    lin = linearisation_error(model, ci, coef, recent)
    no_energy = sorted(set(plants["plant_id"]) - set(model.linear["plant_id"]))
    return {"coefficients": coef, "linearisation": lin, "intensities": ci, "intensity_source": source,
            "report": {**model.report, "plants_without_energy_data": no_energy}}


def emissions_tables(plants: pd.DataFrame, production_history: pd.DataFrame, energy_use: pd.DataFrame,
                     factors: pd.DataFrame | None = None, contracts: pd.DataFrame | None = None,
                     horizon: int = 26, gwp_set: str = "AR5", config: EnergyConfig | None = None,
                     n_folds: int = 3) -> dict[str, Any]:
    """Pure-table core: fit, backtest, coefficients and linearisation error."""
    t0 = time.perf_counter()
    panel, input_report = energy_panel(energy_use, production_history)
    bt = backtest_energy(panel, config, n_folds=n_folds)
    model = EnergyForecaster(config).fit(panel)
    out = coefficient_tables(model, panel, plants, production_history, factors, contracts, horizon, gwp_set)
    return {**out, "model": model, "backtest": bt, "report": {**input_report, **out["report"]},
            "seconds": time.perf_counter() - t0, "panel": panel}


RETRAIN_MODES = ("auto", "never")


def _linearisation_summary(lin: dict[str, Any]) -> dict[str, float]:
    return {k: lin[k] for k in ("mean_abs_rel_error", "p95_abs_rel_error", "max_abs_rel_error")}


def forecast_emissions(run_id: str, root: str | None = None, horizon: int = 26, gwp_set: str = "AR5",
                       config: dict[str, Any] | None = None, tracking_uri: str | None = None,
                       log_mlflow: bool = True, retrain: str = "auto", n_folds: int = 3,
                       step: int = 13) -> dict[str, Any]:
    """Plant emission coefficients of validated/<run_id> from the "co2plan-energy" champion, written to
    forecast/<run_id>/plant_emission_coefficients (+ energy_linearisation).

    ``retrain="auto"``: a challenger (``config``) is backtested, fitted, logged and registered; the champion
    (loaded from MLflow) is re-run on the same folds of this run's data (``models.gates.energy_gate``) and
    the alias moves only if the challenger's linear model wins there; the coefficients come from whichever
    model is champion after the gate. ``retrain="never"``: the champion supplies them and nothing is trained
    (training once when there is no champion, or when the champion lacks a plant/carrier of this run).
    ``log_mlflow=False``: no registry; the model fitted here supplies them. The manifest section
    ``forecast/emissions`` and the MLflow records name the model version that supplied the coefficients."""
    from core import catalog, lake
    from models import registry
    from models.gates import energy_gate
    from models.pyfunc import EnergyPyfunc, unwrap
    from models.stages import merge_manifest

    if retrain not in RETRAIN_MODES:
        raise ValueError(f"retrain: one of {RETRAIN_MODES}, got {retrain!r}")

    def read(table: str, required: bool = True) -> pd.DataFrame | None:
        if not required and not catalog.VALIDATED[table].exists(run_id, root=root):
            return None
        return catalog.VALIDATED[table].read(run_id, root=root)

    t0 = time.perf_counter()
    plants, ph, eu = read("plants"), read("production_history"), read("energy_use")
    factors, contracts = read("emission_factors", False), read("energy_contracts", False)
    cfg = EnergyConfig(**(config or {}))
    panel, input_report = energy_panel(eu, ph)
    tables = (panel, plants, ph, factors, contracts, horizon, gwp_set)

    champion, champ_mv, lacking = None, None, []
    if log_mlflow:
        registry.configure(tracking_uri)
        champ_mv = registry.champion_version(registry.ENERGY_MODEL)
        if champ_mv is not None:
            champion = unwrap(registry.load_model(f"models:/{registry.ENERGY_MODEL}/{champ_mv.version}"))
            lacking = uncovered_pairs(champion, panel)

    result: dict[str, Any] = {"retrain": retrain, "gwp_set": gwp_set}
    if retrain == "never" and champion is not None and not lacking:
        model, source_version = champion, str(champ_mv.version)
        out = coefficient_tables(model, *tables)
        result.update(trained=False, model_version=None, champion_moved=False, champion_version=source_version,
                      metrics={}, gate={"gate": "retrain_never"})
    else:
        bt = backtest_energy(panel, cfg, n_folds=n_folds, step=step)
        challenger = EnergyForecaster(cfg).fit(panel)
        out = coefficient_tables(challenger, *tables)
        lin = out["linearisation"]
        metrics = {registry.SELECTION_METRIC: bt["summary"]["linear"], "lgbm_wape": bt["summary"]["lgbm"],
                   "linear_wape": bt["summary"]["linear"], "snaive_wape": bt["summary"]["snaive"],
                   **{f"linearisation_{k}": v for k, v in _linearisation_summary(lin).items()}}
        model, source_version = challenger, None
        result.update(trained=True, metrics=metrics, model_version=None, champion_moved=None,
                      champion_version=None, gate=None)
        if log_mlflow:
            if champion is None:
                gate, gate_table = None, pd.DataFrame([{"gate": "no_champion"}])
            elif lacking:
                reason = f"the champion has no linear model for {lacking[:10]}: replaced"
                gate = {"passed": True, "gate": "champion_incomplete", "reason": reason, "folds": 0}
                gate_table = pd.DataFrame([{"gate": "champion_incomplete", "reason": reason}])
            else:
                gate, gate_table = energy_gate(panel, bt["folds"], champion, n_folds, step, challenger_config=cfg)
            example = panel.tail(5)[["plant_id", "week", "carrier", "volume"]].reset_index(drop=True)
            example["week"] = example["week"].astype("datetime64[ns]")
            ex_out = example.copy()
            ex_out["energy"] = challenger.predict(example)
            logged = registry.log_and_register(
                experiment=registry.ENERGY_EXPERIMENT, model_name=registry.ENERGY_MODEL,
                python_model=EnergyPyfunc(), payload=challenger,
                params={**cfg.__dict__, "horizon": horizon, "gwp_set": gwp_set, "retrain": retrain},
                metrics=metrics, fold_metrics=bt["folds"],
                tags={"lake_run_id": run_id, "dataset_hash": lake.frame_hash(eu), "stage": "forecast_emissions",
                      "intensity_source": out["intensity_source"]},
                input_example=example, output_example=ex_out, importance=challenger.feature_importance,
                extra_artifacts={"linear_coefficients": challenger.linear, "gate": gate_table}, gate=gate)
            result.update({k: logged[k] for k in ("mlflow_run_id", "model_version", "champion_moved",
                                                  "champion_version")})
            result["gate"] = gate if gate is not None else gate_table.iloc[0].to_dict()
            if logged["champion_moved"]:
                source_version = str(logged["model_version"])
            else:  # the challenger lost on the same folds: the champion supplies the coefficients
                model, source_version = champion, str(champ_mv.version)
                out = coefficient_tables(model, *tables)
    coef, lin = out["coefficients"], out["linearisation"]
    uris = {d.table: d.write(df, run_id, root=root)
            for d, df in ((catalog.PLANT_EMISSION_COEFFICIENTS, coef), (catalog.ENERGY_LINEARISATION, lin["detail"]))}
    result.update({
        "rows": len(coef), "plants": int(coef["plant_id"].nunique()),
        "first_week": str(coef["week"].min().date()), "last_week": str(coef["week"].max().date()),
        "intensity_source": out["intensity_source"], "report": {**input_report, **out["report"]}, "uris": uris,
        "coefficients_model_version": source_version,
        "coefficients_model_uri": None if source_version is None else f"models:/{registry.ENERGY_MODEL}/{source_version}",
        "coefficients_from": ("challenger (unregistered)" if source_version is None else
                              "challenger" if model is not champion else "champion"),
        "linearisation": _linearisation_summary(lin),
        "linearisation_by_volume_fraction": lin["by_volume_fraction"], "seconds": time.perf_counter() - t0})
    if source_version is not None:
        _record_supplier(registry, source_version, run_id, result.get("mlflow_run_id"))
    merge_manifest(run_id, "emissions", result, root)
    return result


def _record_supplier(registry, version: str, run_id: str, mlflow_run_id: str | None) -> None:
    """MLflow side of "which model supplied the coefficients": a tag on this run's challenger run (when one
    was trained) and, on the supplying model version, the last lake run it supplied."""
    from mlflow import MlflowClient

    client = MlflowClient()
    if mlflow_run_id is not None:
        client.set_tag(mlflow_run_id, "coefficients_model_version", version)
    client.set_model_version_tag(registry.ENERGY_MODEL, version, "last_coefficients_lake_run", run_id)
