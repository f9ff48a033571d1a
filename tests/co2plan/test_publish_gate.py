"""The publish gate and attempt keys on a temporary lake with fabricated manifest sections (no solver)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from co2plan import pipeline
from co2plan.publish import PublishRefused
from core import lake

KPIS = {"status": "optimal", "service_level": 0.99, "demand_units": 80_000.0, "co2e_total_t": 5_000.0,
        "objective_eur": 1e8}


@pytest.fixture
def root(tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return str(tmp_path / "lake")


def _fake_run(root: str, run_id: str, attempt: str, horizon: int = 8, hold: bool = False, **kpis) -> str:
    key = pipeline.run_key(run_id, attempt)
    lake.update_manifest(key, "extract", {"source": "sample:demo", "status": "ok"}, root)
    lake.update_manifest(key, "validate", {"status": "ok", "plausibility": {
        "hold": hold, "findings": [{"rule": "demand_history.units:outlier", "policy": "hold", "rows": 1,
                                    "examples": ["units: 1e12"]}] if hold else []}}, root)
    lake.update_manifest(key, "plan/baseline", {"kpis": {**KPIS, **kpis}, "uris": {}, "horizon_weeks": horizon},
                         root)
    return key


def _latest(root: str) -> bytes:
    return (Path(root) / "published" / "latest.json").read_bytes()


def test_normal_run_publishes_with_its_key(root):
    key = _fake_run(root, "weekly-2026-11-23", "a1")
    out = pipeline.publish_stage(key, root=root)
    assert out["status"] == "published"
    latest = json.loads(_latest(root))
    assert (latest["run_id"], latest["run_key"]) == ("weekly-2026-11-23", key)
    assert pipeline.latest_weekly_run(root) == key
    assert pipeline.resolve_run("weekly-2026-11-23", root) == key


def test_service_below_floor_is_refused_and_latest_unchanged(root):
    pipeline.publish_stage(_fake_run(root, "weekly-2026-11-23", "a1"), root=root)
    before = _latest(root)
    bad = _fake_run(root, "weekly-2026-11-30", "a1", service_level=0.0)
    with pytest.raises(PublishRefused, match=r"service level 0.0% is below the publish floor 80%"):
        pipeline.publish_stage(bad, root=root)
    assert _latest(root) == before
    assert not (Path(root) / "published" / "weekly-2026-11-30.json").exists()
    assert lake.read_manifest(bad, root)["publish"]["status"] == "refused"


def test_demand_jump_is_refused_per_week_and_force_publishes(root):
    pipeline.publish_stage(_fake_run(root, "weekly-2026-11-23", "a1"), root=root)
    before = _latest(root)
    # the same demand over a 26-week horizon is no jump (compared per week)
    same = _fake_run(root, "weekly-2026-11-30", "a1", horizon=26, demand_units=80_000.0 * 26 / 8,
                     co2e_total_t=5_000.0 * 26 / 8)
    pipeline.publish_stage(same, root=root)
    before = _latest(root)
    jump = _fake_run(root, "weekly-2026-12-07", "a1", horizon=26, demand_units=80_000.0 * 26 / 8 * 10)
    with pytest.raises(PublishRefused, match=r"demand per week .* is 10 x the published"):
        pipeline.publish_stage(jump, root=root)
    assert _latest(root) == before
    out = pipeline.publish_stage(jump, root=root, force=True)
    assert out["status"] == "forced" and "demand" in out["overridden"][0]
    assert json.loads(_latest(root))["run_key"] == jump


def test_held_run_is_refused(root):
    key = _fake_run(root, "weekly-2026-11-23", "a1", hold=True)
    with pytest.raises(PublishRefused, match="held the run for review: demand_history.units:outlier"):
        pipeline.publish_stage(key, root=root)
    assert not (Path(root) / "published" / "latest.json").exists()


def test_a_later_attempt_of_the_same_week_wins_and_an_older_week_does_not_move_latest(root):
    first = _fake_run(root, "weekly-2026-11-30", "a1")
    pipeline.publish_stage(first, root=root)
    second = _fake_run(root, "weekly-2026-11-30", "a2")
    pipeline.publish_stage(second, root=root)
    assert pipeline.latest_weekly_run(root) == second
    older = _fake_run(root, "weekly-2026-11-23", "a9")
    pipeline.publish_stage(older, root=root)
    assert pipeline.latest_weekly_run(root) == second
    assert pipeline.resolve_run("weekly-2026-11-23", root) == older


def test_unpublished_run_id_does_not_resolve(root):
    _fake_run(root, "weekly-2026-11-23", "a1")
    with pytest.raises(LookupError, match="no published attempt.*weekly-2026-11-23--a1"):
        pipeline.resolve_run("weekly-2026-11-23", root)


def test_each_airflow_run_gets_its_own_attempt_key():
    class DagRun:  # two `airflow dags test` runs of one date share this run id
        run_id = "manual__2026-11-23T00:00:00+00:00"
        start_date = datetime(2026, 11, 23, tzinfo=UTC)
        logical_date = datetime(2026, 11, 23, tzinfo=UTC)

    ctx = {"params": {"run_id": "weekly-2026-11-23"}, "dag_run": DagRun()}
    k1, k2 = pipeline.lake_run_key("weekly", ctx), pipeline.lake_run_key("weekly", ctx)
    assert k1 != k2 and k1.startswith("weekly-2026-11-23--a") and k2.startswith("weekly-2026-11-23--a")
    assert pipeline.lake_run_key("weekly", {"params": {"run_id": "w", "attempt": "x"}}) == "w--x"
    assert pipeline.split_run_key("w--x") == ("w", "x")
