"""mlflow.pyfunc wrappers around the fitted forecasters (loaded from the model's ``model`` artifact)."""

from __future__ import annotations

import pickle

import mlflow
import pandas as pd

DEMAND_INPUT_COLUMNS = ["week", "product_id", "market_id", "units", "powertrain", "segment"]


class DemandPyfunc(mlflow.pyfunc.PythonModel):
    """Input: demand history rows (week, product_id, market_id, units, powertrain, segment).
    Output: the demand_forecast table for ``params["horizon"]`` weeks after the input's last week.

    A model trained with known-in-advance drivers (``config.future_exog``, issue 14) takes their columns
    too: on the history rows (their past values) and on future rows, one per series and forecast week,
    with ``units`` empty (NaN) — the drivers' planned values. A product not on sale in a future week
    (driver ``availability`` <= 0) is forecast 0, as in the weekly run."""

    def load_context(self, context):
        with open(context.artifacts["model"], "rb") as fh:
            self.model = pickle.load(fh)

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        from models.demand import forecast_table

        horizon = int((params or {}).get("horizon") or self.model.config.horizon)
        exog = list(getattr(self.model.config, "future_exog", None) or [])
        products = None
        if {"powertrain", "segment"} <= set(model_input.columns):
            products = (model_input[["product_id", "powertrain", "segment"]].dropna()
                        .drop_duplicates("product_id"))
        if not exog:
            history = model_input[["week", "product_id", "market_id", "units"]]
            fc, _ = forecast_table(self.model, history, products, None, horizon)
            return fc
        missing = [c for c in exog if c not in model_input.columns]
        if missing:
            raise ValueError(f"the model was trained with drivers {exog}: the input lacks {missing}")
        known = model_input["units"].notna()
        history = model_input.loc[known, ["week", "product_id", "market_id", "units", *exog]]
        future = model_input.loc[~known, ["week", "product_id", "market_id", *exog]].copy()
        if future.empty:
            raise ValueError(f"the model was trained with drivers {exog}: add future rows (units empty) with "
                             f"their values for the {horizon} forecast weeks")
        future["week"] = pd.to_datetime(future["week"])
        fc, report = forecast_table(self.model, history, products, None, horizon, future=future)
        return zero_not_on_sale(fc, future, report)


def zero_not_on_sale(fc: pd.DataFrame, future: pd.DataFrame, report: dict) -> pd.DataFrame:
    """Forecast (and band) 0 where the future driver ``availability`` is <= 0 (before a launch, after the end
    of sale); adds ``report["not_on_sale"]``. Without an availability column ``fc`` is returned as it is."""
    if "availability" not in future:
        return fc
    off = future.loc[future["availability"] <= 0, ["week", "product_id", "market_id"]]
    if len(off):
        key = ["week", "product_id", "market_id"]
        off = off.assign(week=pd.to_datetime(off["week"]))
        hit = fc[key].merge(off.assign(_off=1.0), on=key, how="left")["_off"].eq(1.0).to_numpy()
        num = [c for c in fc.columns if c.startswith("yhat")]
        fc.loc[hit, num] = 0.0
        report["not_on_sale"] = [{"unique_id": f"{p}|{m}", "detail": f"{n} weeks not on sale: forecast 0"}
                                 for (p, m), n in off.groupby(["product_id", "market_id"]).size().items()]
    return fc


class EnergyPyfunc(mlflow.pyfunc.PythonModel):
    """Input: plant_id, week, carrier, volume (units built). Output: the input plus ``energy_kwh_eq``
    (predicted weekly energy in the carrier's canonical unit: kWh, or litre for diesel)."""

    def load_context(self, context):
        with open(context.artifacts["model"], "rb") as fh:
            self.model = pickle.load(fh)

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        out = model_input[["plant_id", "week", "carrier", "volume"]].copy()
        out["energy"] = self.model.predict(out)
        return out


def unwrap(pyfunc_model):
    """The fitted forecaster inside a loaded pyfunc model."""
    return pyfunc_model.unwrap_python_model().model
