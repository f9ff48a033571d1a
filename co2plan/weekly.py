"""The weekly plan refresh's parameters: one pydantic model that generates the weekly DAG's trigger-form
Params and the ``co2plan weekly`` options, so each default lives here and nowhere else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["WeeklyParams", "CLI_ALIASES", "week_run_id"]


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
        5.0, gt=0, lt=100, title="CO2 budget (% below the plan without a budget)",
        description="The weekly plan's CO2 budget, as a reduction below the cost-optimal plan of the same week "
                    "solved without a budget; empty plans without a budget.")
    gwp_set: Literal["AR4", "AR5", "AR6"] = Field("AR5", title="GWP set")
    run_id: str | None = Field(None, title="Lake run id",
                               description="Override the run id (default weekly-<Monday of the run's ISO week>).")
    pareto_points: int = Field(6, ge=0, le=30, json_schema_extra={"not": {"const": 1}}, title="Pareto points",
                               description="Points of the cost/CO2 frontier (0 skips the sweep, else >= 2).")

    @model_validator(mode="after")
    def _pareto_not_one(self) -> WeeklyParams:
        if self.pareto_points == 1:
            raise ValueError("pareto_points must be 0 (no sweep) or at least 2")
        return self


#: command-line spellings kept from before the options were generated
CLI_ALIASES = {"horizon_weeks": ["--horizon"]}


def week_run_id(when: date | datetime | str | None = None, prefix: str = "weekly") -> str:
    """The one run-id rule of the weekly refresh: ``<prefix>-<Monday of the ISO week of when>`` (UTC).
    The schedule (Monday 05:00) and ``co2plan weekly`` on any other day of that week name the same lake
    run, so a week has one run and one latest.json entry."""
    if when is None:
        when = datetime.now(UTC)
    if isinstance(when, str):
        when = date.fromisoformat(when[:10])
    if isinstance(when, datetime):
        if when.tzinfo is not None:
            when = when.astimezone(UTC)
        when = when.date()
    monday = when - timedelta(days=when.weekday())
    return f"{prefix}-{monday:%Y-%m-%d}"
