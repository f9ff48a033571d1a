"""The weekly plan refresh's parameters: one pydantic model that generates the weekly DAG's trigger-form
Params and the ``co2plan weekly`` options, so each default lives here and nowhere else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.secrets import INLINE_PASSWORD_PATTERN, check_reference

__all__ = ["WeeklyParams", "CLI_ALIASES", "week_run_id", "dag_default_args"]


class WeeklyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field("sample:demo", title="Source",
                        description="Where to extract from: 'sample:demo' / 'sample:large' (the embedded sample), "
                                    "a folder or fsspec URL of CSV/Parquet, or a SQLAlchemy URL. Credentials by "
                                    "reference only: env:VAR, ${VAR} in the URL, conn:ID, or PGPASSWORD.",
                        json_schema_extra={"not": {"pattern": INLINE_PASSWORD_PATTERN}})
    retrain: Literal["auto", "never"] = Field(
        "auto", title="Retrain forecasters",
        description="auto: train a challenger and promote it only if it beats the champion; "
                    "never: forecast with the current champion (train once if none).")
    horizon_weeks: int = Field(26, ge=4, le=52, title="Horizon (weeks)")
    co2_reduction_pct: float | None = Field(
        None, gt=0, lt=100, title="CO2 budget (% below the plan without a budget)",
        description="A CO2 budget as a reduction below the cost-optimal plan of the same week solved without a "
                    "budget; empty = the target trajectory.")
    trajectory_rate_pct: float | None = Field(
        4.2, gt=0, lt=100, title="Target trajectory (% of base year per year)",
        description="Linear cut from the ledger's base year (4.2 = 1.5 degC-aligned, SBTi; 2.5 = well below "
                    "2 degC); used when no CO2 reduction % is given; empty with no % = no budget.")
    gwp_set: Literal["AR4", "AR5", "AR6"] = Field("AR5", title="GWP set")
    run_id: str | None = Field(None, title="Lake run id",
                               description="Override the run id (default weekly-<Monday of the run's ISO week>).")
    pareto_points: int = Field(6, ge=0, le=30, json_schema_extra={"not": {"const": 1}}, title="Pareto points",
                               description="Points of the cost/CO2 frontier (0 skips the sweep, else >= 2).")

    max_bad_share: float = Field(0.05, ge=0, le=1, title="Max bad-row share",
                                 description="A table whose share of quarantined rows exceeds this stops the run.")
    publish_min_service_level: float = Field(0.8, ge=0, le=1, title="Publish floor: service level",
                                             description="The publish step refuses a plan serving less demand.")
    publish_max_jump: float = Field(3.0, ge=1, title="Publish limit: demand/CO2e jump",
                                    description="The publish step refuses a plan whose demand or CO2e per week "
                                                "moves more than this factor against the published plan.")
    force_publish: bool = Field(False, title="Force publish",
                                description="Publish even if the publish checks refuse (after review).")
    attempt: str | None = Field(None, title="Attempt id",
                                description="Lake attempt id (default: derived from the Airflow run); each "
                                            "attempt writes under <run id>--<attempt>.")

    @field_validator("source")
    @classmethod
    def _no_inline_password(cls, v: str) -> str:
        return check_reference(v)

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
def dag_default_args() -> dict:
    """Task defaults of the DAGs: transient errors (a source database or tracking server briefly away) are
    retried twice with exponential back-off from ``CO2PLAN_RETRY_DELAY_S`` seconds (default 30); bad data
    and bad parameters fail at once (``fail_fast_on_bad_input``)."""
    import os
    from datetime import timedelta

    return {"retries": 2, "retry_delay": timedelta(seconds=float(os.environ.get("CO2PLAN_RETRY_DELAY_S", "30"))),
            "retry_exponential_backoff": True}
