"""The weekly stages as plain functions (no Airflow) on a lake that is not a local folder
(fsspec memory://, standing in for s3://): every stage reads and writes through the lake URIs."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("CO2PLAN_SAMPLE_DIR", str(tmp_path / "sample"))
    return "memory://co2plan-remote-lake-test"


def test_weekly_stages_on_a_remote_lake(env):
    import fsspec

    from co2plan import pipeline
    from core import lake

    root, run = env, "weekly-2026-11-23"
    assert pipeline.extract_stage(run, source="sample:demo", root=root)["status"] == "ok"
    assert pipeline.validate_stage(run, root=root)["totals"]["quarantined"] == 0
    pipeline.account_stage(run, root=root)
    pipeline.train_stage(run, root=root, horizon_weeks=6)
    pipeline.forecast_stage(run, root=root, horizon_weeks=6)
    planned = pipeline.optimise_stage(run, root=root, horizon_weeks=6, pareto_points=3,
                                      params={"co2_reduction_pct": 5})
    assert planned["status"] == "optimal" and planned["pareto"]["points"] == 3
    k = planned["kpis"]
    assert k["co2e_total_t"] <= k["co2_budget_t"] * (1 + 1e-6) and k["co2_mac_eur_per_t"] > 0
    rep = pipeline.report_stage(run, root=root)
    assert rep["html"].startswith("memory://") and lake.read_bytes(rep["png"])[:4] == b"\x89PNG"
    assert b"shadow price" in lake.read_bytes(rep["html"])
    pipeline.publish_stage(run, root=root)
    latest = json.loads(lake.read_bytes(f"{root}/published/latest.json"))
    assert latest["run_id"] == run and latest["kpis"]["co2e_total_t"] == pytest.approx(k["co2e_total_t"])
    # an older week published afterwards does not move "latest" backwards
    fs = fsspec.filesystem("memory")
    fs.pipe(f"{root.removeprefix('memory://')}/published/latest.json",
            json.dumps({"run_id": "weekly-2026-12-07"}).encode())
    pipeline.publish_stage(run, root=root)
    assert json.loads(lake.read_bytes(f"{root}/published/latest.json"))["run_id"] == "weekly-2026-12-07"
    assert json.loads(lake.read_bytes(f"{root}/published/{run}.json"))["run_id"] == run
    manifest = lake.read_manifest(run, root)
    assert {"extract", "validate", "accounting", "plan/baseline", "report", "publish"} <= set(manifest)
