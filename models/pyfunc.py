"""mlflow.pyfunc wrappers around the fitted forecasters (loaded from the model's ``model`` artifact)."""

from __future__ import annotations

import pickle

import mlflow
import pandas as pd

DEMAND_INPUT_COLUMNS = ["week", "product_id", "market_id", "units", "powertrain", "segment"]


class DemandPyfunc(mlflow.pyfunc.PythonModel):
    """Input: demand history rows (week, product_id, market_id, units, powertrain, segment).
    Output: the demand_forecast table for ``params["horizon"]`` weeks after the input's last week."""

    def load_context(self, context):
        with open(context.artifacts["model"], "rb") as fh:
            self.model = pickle.load(fh)

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        from models.demand import forecast_table

        horizon = int((params or {}).get("horizon") or self.model.config.horizon)
        products = None
        if {"powertrain", "segment"} <= set(model_input.columns):
            products = model_input[["product_id", "powertrain", "segment"]].drop_duplicates("product_id")
        history = model_input[["week", "product_id", "market_id", "units"]]
        fc, _ = forecast_table(self.model, history, products, None, horizon)
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
