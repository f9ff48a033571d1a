"""Stage package ``models``: demand and plant-energy forecasters, backtests, MLflow logging and registry,
SageMaker entry point.

Entry points: ``train_demand`` / ``forecast_demand`` (validated/<run> -> forecast/<run>, MLflow
experiment co2plan-demand, champion alias moved only by a better backtest), ``forecast_emissions``
(plant energy -> plant_emission_coefficients, experiment co2plan-energy), ``registry`` (champion
look-ups). Imports ``features`` and ``core``; never ``optimisation``, the application layer or Airflow.
"""

from core.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "train_demand": "models.stages:train_demand",
    "forecast_demand": "models.stages:forecast_demand",
    "forecast_emissions": "models.emissions:forecast_emissions",
    "registry": "models.registry",
    "DemandConfig": "models.demand:DemandConfig",
    "DemandForecaster": "models.demand:DemandForecaster",
    "stat_forecast": "models.demand:stat_forecast",
    "wape": "models.metrics:wape",
    "demand_tables": "models.synthetic:demand_tables",
    "whatif_demand_forecast": "models.stages:whatif_demand_forecast",
    "forecast_with_drivers": "models.stages:forecast_with_drivers",
})
