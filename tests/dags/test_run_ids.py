"""One run-id rule for the schedule and ``co2plan weekly`` (issue 11, item 11)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from co2plan import cli
from co2plan.pipeline import lake_run_id
from co2plan.weekly import week_run_id


@pytest.mark.parametrize("offset", range(7))
def test_every_day_of_a_week_names_the_monday(offset):
    day = date(2026, 11, 23) + timedelta(days=offset)
    assert week_run_id(day) == "weekly-2026-11-23"
    assert week_run_id(day.isoformat()) == "weekly-2026-11-23"


def test_schedule_and_manual_runs_of_one_week_share_the_lake_run():
    scheduled = SimpleNamespace(logical_date=datetime(2026, 11, 23, 5, 0, tzinfo=UTC), run_after=None)
    manual = SimpleNamespace(logical_date=None, run_after=datetime(2026, 11, 25, 14, 3, tzinfo=UTC))
    assert lake_run_id("weekly", {"dag_run": scheduled}) == "weekly-2026-11-23"
    assert lake_run_id("weekly", {"dag_run": manual}) == "weekly-2026-11-23"
    assert lake_run_id("weekly", {"dag_run": manual, "params": {"run_id": "x"}}) == "x"


def test_cli_weekly_uses_the_week_rule_and_no_logical_date(monkeypatch):
    """The CLI names the lake run by the week rule; the Airflow run's logical date is chosen by _run_dag
    itself (now), so its duration in the UI is the real one (issue 12 attempt keys build on the run id)."""
    seen = {}

    def fake_run_dag(dag_id, conf, log_name):
        seen.update(dag_id=dag_id, conf=conf, log_name=log_name)
        return 1  # no headline

    monkeypatch.setattr(cli, "_run_dag", fake_run_dag)
    assert cli.main(["weekly", "--date", "2026-11-25"]) == 1
    assert seen["conf"]["run_id"] == "weekly-2026-11-23"
    assert seen["log_name"].startswith("weekly-2026-11-23--a")


def test_weekly_dag_honours_the_run_id_param():
    """`co2plan weekly` sends run_id in the conf; the extract task must name the lake run with it even though
    the task takes ``params`` as an argument (so it is not in ``**context``)."""
    from dags.weekly_plan_refresh import _run_id

    run = SimpleNamespace(logical_date=datetime(2026, 12, 2, 9, 41, tzinfo=UTC), run_after=None)
    assert _run_id({"dag_run": run}, {"run_id": "weekly-2026-11-23"}).startswith("weekly-2026-11-23--a")
    assert _run_id({"dag_run": run}, {"run_id": None}).startswith("weekly-2026-11-30--a")
    assert _run_id({"dag_run": run}, {"run_id": "weekly-2026-11-23", "attempt": "a1"}) == "weekly-2026-11-23--a1"
