"""The weekly plan refresh's parameters: one pydantic model that generates the weekly DAG's trigger-form
Params and the ``co2plan weekly`` options, so each default lives here and nowhere else."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["WeeklyParams", "CLI_ALIASES"]


class WeeklyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field("sample:demo", title="Source",
                        description="Where to extract from: 'sample:demo' / 'sample:large' (the embedded sample), "
                                    "a folder or fsspec URL of CSV/Parquet, or a SQLAlchemy URL.")
    retrain: Literal["auto", "never"] = Field(
        "auto", title="Retrain forecasters",
        description="auto: train a challenger and promote it only if it beats the champion; "
                    "never: forecast with the current champion (train once if none).")
    horizon_weeks: int = Field(26, ge=4, le=52, title="Horizon (weeks)")
    co2_reduction_pct: float | None = Field(
        None, gt=0, lt=100, title="CO2 budget (% below the unconstrained plan)",
        description="A CO2 budget relative to the same week's plan without one; empty = the target trajectory.")
    trajectory_rate_pct: float | None = Field(
        4.2, gt=0, lt=100, title="Target trajectory (% of base year per year)",
        description="Linear cut from the ledger's base year (4.2 = 1.5 degC-aligned, SBTi; 2.5 = well below "
                    "2 degC); used when no CO2 reduction % is given; empty with no % = no budget.")
    gwp_set: Literal["AR4", "AR5", "AR6"] = Field("AR5", title="GWP set")
    run_id: str | None = Field(None, title="Lake run id",
                               description="Override the run id (default weekly-<logical date>).")
    pareto_points: int = Field(6, ge=0, le=30, json_schema_extra={"not": {"const": 1}}, title="Pareto points",
                               description="Points of the cost/CO2 frontier (0 skips the sweep, else >= 2).")

    @model_validator(mode="after")
    def _pareto_not_one(self) -> WeeklyParams:
        if self.pareto_points == 1:
            raise ValueError("pareto_points must be 0 (no sweep) or at least 2")
        return self


#: command-line spellings kept from before the options were generated
CLI_ALIASES = {"horizon_weeks": ["--horizon"]}
