"""Lake stages of the forecasters: (run_id, root) in, small JSON-able dict out (for XCom and the manifest).

- ``train_demand``     validated/<run_id>/{demand_history, products, markets} -> MLflow run + registered
                       version of "co2plan-demand" (champion moved iff backtest WAPE beats it);
                       writes forecast/<run_id>/{demand_backtest, demand_input_report}
- ``forecast_demand``  validated/<run_id>/... + models:/co2plan-demand@champion
                       -> forecast/<run_id>/{demand_forecast, demand_forecast_report}
- ``forecast_emissions`` (models.emissions) -> forecast/<run_id>/plant_emission_coefficients

Each records its result in its own manifest section: ``forecast/demand_training``,
``forecast/demand_forecast``, ``forecast/emissions``.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from core import catalog, lake
from features.demand_features import prepare_demand_panel
from features.drivers import (
    DRIVER_FEATURES,
    DRIVER_MONOTONE,
    apply_driver_changes,
    driver_features,
    future_drivers,
    with_drivers,
)
from models import registry
from models.backtest import backtest_demand
from models.demand import FORECAST_COLUMNS, DemandConfig, DemandForecaster, forecast_table
from models.gates import champion_gate
from models.hierarchy import demand_attrs, hierarchy_forecast
from models.pyfunc import DEMAND_INPUT_COLUMNS, DemandPyfunc, unwrap, zero_not_on_sale

SAMPLE_IDS = 20  # ids listed per issue in the returned dict; the full list is in the lake table


def report_frame(report: dict[str, list]) -> pd.DataFrame:
    """Flatten a forecaster report into rows (issue, unique_id, detail)."""
    rows = [{"issue": issue, "unique_id": r.get("unique_id", ""), "detail": r.get("detail", "")}
            for issue, items in report.items() for r in items]
    return pd.DataFrame(rows, columns=["issue", "unique_id", "detail"])


def report_summary(report: dict[str, list]) -> dict[str, Any]:
    return {issue: {"count": len(items), "ids": [r.get("unique_id", "") for r in items[:SAMPLE_IDS]]}
            for issue, items in report.items() if items}


def merge_manifest(run_id: str, key: str, content: dict[str, Any], root: str | None) -> None:
    """Record ``content`` as manifest section ``forecast/<key>`` (one section per stage, so that the
    demand and emissions stages running in parallel never overwrite each other)."""
    lake.update_manifest(run_id, f"forecast/{key}", content, root)


def _read_demand_inputs(run_id: str, root: str | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    dh = catalog.VALIDATED.demand_history.read(run_id, root=root)
    products = catalog.VALIDATED.products.read(run_id, root=root)
    markets = catalog.VALIDATED.markets.read(run_id, root=root)
    return dh, products, markets


def demand_input_example(panel: pd.DataFrame, n_series: int = 2, weeks: int = 80) -> pd.DataFrame:
    """A small slice of history in the pyfunc input schema."""
    ids = sorted(panel["unique_id"].unique())[:n_series]
    sub = panel[panel["unique_id"].isin(ids)].sort_values(["unique_id", "ds"]).groupby("unique_id").tail(weeks)
    out = sub.rename(columns={"ds": "week", "y": "units"})[DEMAND_INPUT_COLUMNS].reset_index(drop=True)
    out["week"] = out["week"].astype("datetime64[ns]")
    return out


def train_demand_tables(demand_history: pd.DataFrame, products: pd.DataFrame, markets: pd.DataFrame,
                        config: DemandConfig, n_folds: int = 3, step: int = 13,
                        tags: dict[str, str] | None = None, drivers: pd.DataFrame | None = None) -> dict[str, Any]:
    """Backtest, fit, log and register the demand model (pure tables in, MLflow out). With declared drivers
    (``config.future_exog``) ``demand_history`` carries their columns; ``drivers`` (``features.drivers.
    driver_features``) gives their future rows for the logged example."""
    t0 = time.perf_counter()
    panel, report = prepare_demand_panel(demand_history, products, markets, min_history=config.min_history,
                                         freq=config.freq, exog=config.future_exog)
    bt = backtest_demand(panel, report, config, n_folds=n_folds, step=step)
    t_bt = time.perf_counter() - t0
    model = DemandForecaster(config).fit(panel, report)
    report = {**report, **model.fit_report}
    s = bt["summary"]
    metrics = {
        registry.SELECTION_METRIC: s["model"]["wape"],
        "backtest_mase": s["model"]["mase"], "backtest_bias": s["model"]["bias"],
        "backtest_coverage_80": s["model"]["coverage_80"], "backtest_coverage_95": s["model"]["coverage_95"],
        "lgbm_only_wape": s["lgbm_only"]["wape"], "snaive_wape": s["snaive"]["wape"],
        "stat_wape": s["stat"]["wape"], "snaive_mase": s["snaive"]["mase"], "stat_mase": s["stat"]["mase"],
        "skill_wape_vs_snaive": s["skill"]["wape_vs_snaive"], "skill_wape_vs_stat": s["skill"]["wape_vs_stat"],
        "calibration_points": model.calibration_points, "n_series": panel["unique_id"].nunique(),
        "backtest_seconds": t_bt, "n_fallback_series": len(report.get("fallback", [])),
        "skill_mase_vs_snaive": s["skill"]["mase_vs_snaive"],
    }
    example = demand_input_example(panel)
    ex_hist, ex_future = _example_drivers(panel, example, config, drivers)
    ex_fc, _ = forecast_table(model, ex_hist, example[["product_id", "powertrain", "segment"]].drop_duplicates(),
                              None, config.horizon, future=ex_future)
    if ex_future is not None:  # the pyfunc's input with drivers: history rows + future rows with units empty
        example = pyfunc_driver_input(example, ex_hist, ex_future, config.future_exog)
    params = {**model.params(), "n_folds": n_folds, "fold_step": step, "n_calibration_windows":
              getattr(model, "calibration_windows", None)}
    fallbacks = report_frame({"fallback": report.get("fallback", [])})
    gate, gate_table = None, pd.DataFrame([{"gate": "no_champion"}])
    current = registry.champion_version(registry.DEMAND_MODEL)
    if current is not None:
        champion = unwrap(registry.load_model(f"models:/{registry.DEMAND_MODEL}/{current.version}"))
        gate, gate_table = champion_gate(panel, report, bt["folds"], champion, config.horizon, n_folds, step,
                                         challenger_config=config)
    metrics["gate_same_folds"] = float(gate is not None)
    all_tags = {"dataset_hash": lake.frame_hash(demand_history), **(tags or {})}
    logged = registry.log_and_register(
        experiment=registry.DEMAND_EXPERIMENT, model_name=registry.DEMAND_MODEL, python_model=DemandPyfunc(),
        payload=model, params=params, metrics=metrics, fold_metrics=bt["folds"].drop(columns="selected"),
        tags=all_tags, input_example=example, output_example=ex_fc[FORECAST_COLUMNS],
        importance=model.feature_importance, predict_params={"horizon": int(config.horizon)},
        extra_artifacts={"fallbacks": fallbacks, "selection": model.selection, "gate": gate_table}, gate=gate)
    return {**logged, "metrics": metrics, "folds": bt["folds"], "report": report, "model": model, "gate": gate}


def train_demand(run_id: str, root: str | None = None, horizon: int = 26, config: dict[str, Any] | None = None,
                 n_folds: int = 3, step: int = 13, tracking_uri: str | None = None) -> dict[str, Any]:
    """Train, backtest, log and register the demand model on validated/<run_id>; returns metrics, the
    model version and whether the champion alias moved."""
    registry.configure(tracking_uri)
    dh, products, markets = _read_demand_inputs(run_id, root)
    cfg_d, feats = driver_config(config, read_driver_tables(run_id, root), products, dh)  # issue 14
    if feats is not None:
        dh = with_drivers(dh, feats)
    cfg = DemandConfig.from_dict({**cfg_d, "horizon": horizon})
    out = train_demand_tables(dh, products, markets, cfg, n_folds, step,
                              tags={"lake_run_id": run_id, "stage": "train_demand",
                                    "drivers": ",".join(cfg.future_exog) or "none"}, drivers=feats)
    # wall-clock seconds stay in MLflow; the lake table is deterministic so re-runs rewrite identical files
    folds = out["folds"].drop(columns=["fit_seconds"], errors="ignore")
    uris = {d.table: d.write(df, run_id, root=root)
            for d, df in ((catalog.DEMAND_BACKTEST, folds), (catalog.DEMAND_INPUT_REPORT, report_frame(out["report"])),
                          (catalog.DEMAND_SELECTION, out["model"].selection))}
    result = {k: out[k] for k in ("mlflow_run_id", "model_name", "model_version", "model_uri", "champion_moved",
                                  "champion_version", "previous_champion_version", "previous_champion_wape")}
    result.update(gate=out["gate"], selected=out["model"].winner, selected_members=out["model"].members,
                  metrics={k: float(v) for k, v in out["metrics"].items()}, uris=uris,
                  input_report=report_summary(out["report"]), dataset_hash=lake.frame_hash(dh))
    merge_manifest(run_id, "demand_training", result, root)
    return result


def demand_hierarchy(model: DemandForecaster, dh: pd.DataFrame, products: pd.DataFrame | None,
                     markets: pd.DataFrame | None, horizon: int, future: pd.DataFrame | None = None,
                     forecast: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Coherent product -> powertrain -> total and market -> region -> total levels with each level's own band
    (None for a model pickled before issue 14, which kept no backtest predictions).

    ``forecast``: the run's demand_forecast (``week, product_id, market_id, yhat``...) — its bottom level is
    reused as it is, so the model forecasts once per run and the hierarchy's bottom equals demand_forecast;
    without it the model forecasts here (``future``: the driver rows)."""
    if getattr(model, "cv", None) is None or getattr(model, "spec", None) is None:
        return None
    c = model.config
    panel, report = prepare_demand_panel(dh, products, markets, min_history=c.min_history, freq=model.spec.freq,
                                         exog=c.future_exog)
    if forecast is not None:
        fc = forecast.assign(unique_id=forecast["product_id"].astype(str) + "|" + forecast["market_id"].astype(str),
                             ds=pd.to_datetime(forecast["week"]))
    else:
        X_df = None
        if c.future_exog and future is not None:
            X_df = future.assign(unique_id=future["product_id"].astype(str) + "|" + future["market_id"].astype(str))
            X_df = X_df.rename(columns={"week": "ds"})
        fc, _ = model.predict(panel, report, horizon, X_df=X_df)
    return hierarchy_forecast(model, fc, panel, demand_attrs(panel, markets))


def forecast_demand(run_id: str, root: str | None = None, horizon: int = 26, model_uri: str | None = None,
                    tracking_uri: str | None = None) -> dict[str, Any]:
    """Forecast validated/<run_id>/demand_history with ``model_uri`` (default the champion) and write
    forecast/<run_id>/demand_forecast (+ demand_forecast_report)."""
    registry.configure(tracking_uri)
    uri = model_uri or registry.champion_uri(registry.DEMAND_MODEL)
    version = None
    if uri.endswith(f"@{registry.CHAMPION}"):
        mv = registry.champion_version(registry.DEMAND_MODEL)
        if mv is None:
            raise RuntimeError(f"{uri}: no champion registered yet; run train_demand first")
        version = str(mv.version)
    model = unwrap(registry.load_model(uri))
    dh, products, markets = _read_demand_inputs(run_id, root)
    fc, report, dh, future = forecast_with_drivers(model, dh, products, markets, horizon,
                                                   read_driver_tables(run_id, root))
    tables = [(catalog.DEMAND_FORECAST, fc), (catalog.DEMAND_FORECAST_REPORT, report_frame(report))]
    hier = demand_hierarchy(model, dh, products, markets, horizon, future, forecast=fc)  # no second forecast
    if hier is not None:
        tables.append((catalog.DEMAND_FORECAST_HIERARCHY, hier))
    uris = {d.table: d.write(df, run_id, root=root) for d, df in tables}
    result = {"model_uri": uri, "model_version": version, "horizon": int(horizon), "rows": len(fc),
              "series": int(fc[["product_id", "market_id"]].drop_duplicates().shape[0]),
              "first_week": str(fc["week"].min().date()), "last_week": str(fc["week"].max().date()),
              "total_units": float(fc["yhat"].sum()), "uris": uris, "report": report_summary(report),
              "dataset_hash": lake.frame_hash(dh)}
    merge_manifest(run_id, "demand_forecast", result, root)
    return result


# ---------------------------------------------------------------------------------------------
# issue 14: known-in-advance drivers (features.drivers) in training, forecasting and the planner's what-if
DRIVER_CONFIG: dict[str, Any] = {"future_exog": list(DRIVER_FEATURES), "exog_monotone": dict(DRIVER_MONOTONE)}


def read_driver_tables(run_id: str, root: str | None) -> dict[str, pd.DataFrame]:
    """The driver tables a validated run has (ev_incentives, product_drivers, working_days)."""
    from core.tables import DRIVER_TABLES

    present = set(catalog.VALIDATED.present(run_id, root))
    return {t: catalog.VALIDATED[t].read(run_id, root=root) for t in DRIVER_TABLES if t in present}


def driver_config(config: dict[str, Any] | None, tables: dict[str, pd.DataFrame], products: pd.DataFrame,
                  demand_history: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """The forecaster config with the driver settings, and the driver features (None without drivers).
    ``config["drivers"]``: ``"auto"`` (default: the run's driver tables become future exogenous drivers
    with the signs of ``DRIVER_MONOTONE``, unless ``future_exog`` is set) or ``"off"``."""
    cfg = dict(config or {})
    mode = cfg.pop("drivers", "auto")
    if mode not in ("auto", "off"):
        raise ValueError(f"demand config drivers: 'auto' or 'off', got {mode!r}")
    if mode == "off" or not tables or "future_exog" in cfg:
        return cfg, None
    feats, _ = driver_features(tables, products, grid=demand_history)
    return {**DRIVER_CONFIG, **cfg}, feats


def _example_drivers(panel: pd.DataFrame, example: pd.DataFrame, config: DemandConfig,
                     drivers: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """History and future driver rows for the logged input example (future from ``drivers``, else the last
    known value of each driver carried forward)."""
    hist = example[["week", "product_id", "market_id", "units"]]
    exog = list(config.future_exog)
    if not exog:
        return hist, None
    cols = ["unique_id", "ds", *exog]
    vals = panel[cols].rename(columns={"ds": "week"})
    vals[["product_id", "market_id"]] = vals["unique_id"].str.split("|", n=1, expand=True)
    hist = hist.merge(vals.drop(columns="unique_id"), on=["week", "product_id", "market_id"], how="left")
    if drivers is not None and set(exog) <= set(drivers.columns):
        future, _ = future_drivers(hist, drivers, config.horizon)
        return hist, future
    last = hist.sort_values("week").groupby(["product_id", "market_id"]).tail(1)
    weeks = pd.date_range(hist["week"].max(), periods=config.horizon + 1, freq="7D")[1:]
    future = last.drop(columns=["week", "units"]).merge(pd.DataFrame({"week": weeks}), how="cross")
    return hist, future


def pyfunc_driver_input(example: pd.DataFrame, hist: pd.DataFrame, future: pd.DataFrame,
                        exog: list[str]) -> pd.DataFrame:
    """The registered model's input for a model with drivers: ``example``'s history rows with the driver
    columns, then the future rows (``units`` empty) carrying the drivers' planned values."""
    key = ["week", "product_id", "market_id"]
    attrs = example[["product_id", "powertrain", "segment"]].drop_duplicates("product_id")
    past = example.merge(hist[[*key, *exog]], on=key, how="left")
    ahead = future[[*key, *exog]].merge(attrs, on="product_id", how="left").assign(units=float("nan"))
    out = pd.concat([past.assign(units=past["units"].astype(float)), ahead], ignore_index=True)
    out["week"] = pd.to_datetime(out["week"]).astype("datetime64[ns]")
    out[list(exog)] = out[list(exog)].astype(float)
    return out[[*DEMAND_INPUT_COLUMNS, *exog]]


def forecast_with_drivers(model: DemandForecaster, dh: pd.DataFrame, products: pd.DataFrame,
                          markets: pd.DataFrame | None, horizon: int, tables: dict[str, pd.DataFrame]
                          ) -> tuple[pd.DataFrame, dict, pd.DataFrame, pd.DataFrame | None]:
    """Forecast with the model's declared drivers taken from the driver ``tables`` (history columns and the
    future rows); a product that is not on sale in a future week (availability 0: before launch, after the
    end) gets 0 with a 0 band (report ``not_on_sale``). A model without drivers forecasts ``dh`` as it is.
    Returns (forecast, report, history with driver columns, future driver rows or None)."""
    exog = list(model.config.future_exog)
    if not exog:
        fc, report = forecast_table(model, dh, products, markets, horizon)
        return fc, report, dh, None
    unknown = sorted(set(exog) - set(DRIVER_FEATURES))
    if unknown:
        raise ValueError(f"the demand model uses drivers {unknown} that the driver tables do not provide")
    if not tables:
        raise ValueError("the demand model uses known-in-advance drivers but the run has no driver tables "
                         "(ev_incentives, product_drivers, working_days): retrain with drivers off or add them")
    feats, _ = driver_features(tables, products, grid=dh)
    hist = with_drivers(dh, feats)
    future, n_missing = future_drivers(dh, feats, horizon)
    fc, report = forecast_table(model, hist, products, markets, horizon, future=future)
    if n_missing:
        report["drivers_neutral"] = [{"unique_id": "", "detail": f"{n_missing} future series-weeks without "
                                      "driver rows: neutral values used"}]
    fc = zero_not_on_sale(fc, future, report)
    return fc, report, hist, future


def whatif_demand_forecast(run_id: str, changes: list[dict[str, Any]], out_run_id: str,
                           root: str | None = None, horizon: int = 26, model_uri: str | None = None,
                           tracking_uri: str | None = None) -> dict[str, Any]:
    """Re-forecast a weekly run's demand with the champion (or ``model_uri``) after changing the future
    driver rows (``features.drivers.apply_driver_changes``; week 1 = the first forecast week), and write
    forecast/<out_run_id>/demand_forecast plus a copy of the run's plant_emission_coefficients, so that a
    plan can read both (``forecast_run_id``). Returns the changes applied and units before/after."""
    registry.configure(tracking_uri)
    model = unwrap(registry.load_model(model_uri or registry.champion_uri(registry.DEMAND_MODEL)))
    if not model.config.future_exog:
        raise ValueError("driver_changes need a demand champion trained with known-in-advance drivers "
                         "(this champion has none): retrain with the driver tables present")
    dh, products, markets = _read_demand_inputs(run_id, root)
    tables = read_driver_tables(run_id, root)
    first = pd.to_datetime(dh["week"]).max() + pd.Timedelta(weeks=1)
    changed, applied = apply_driver_changes(tables, changes, first)
    base, _, _, _ = forecast_with_drivers(model, dh, products, markets, horizon, tables)
    fc, report, _, _ = forecast_with_drivers(model, dh, products, markets, horizon, changed)
    uris = {catalog.DEMAND_FORECAST.table: catalog.DEMAND_FORECAST.write(fc, out_run_id, root=root)}
    coef = catalog.PLANT_EMISSION_COEFFICIENTS
    if coef.exists(run_id, root=root):
        uris[coef.table] = coef.write(coef.read(run_id, root=root), out_run_id, root=root)
    return {"changes": applied, "forecast_run_id": out_run_id, "uris": uris,
            "units_before": float(base["yhat"].sum()), "units_after": float(fc["yhat"].sum()),
            "report": report_summary(report)}
