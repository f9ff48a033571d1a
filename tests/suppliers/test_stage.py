"""The supply lake stages on the demo sample: datasets written through the catalog, every submission kept."""

from __future__ import annotations

import pandas as pd
import pytest

from core import catalog, lake


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    from features.extract import extract
    from features.sample import write_sample
    from features.validate import validate

    root = str(tmp_path_factory.mktemp("lake"))
    src = write_sample(tmp_path_factory.mktemp("src"), size="demo")
    extract(str(src), "r1", root=root)
    validate("r1", root=root)
    return root


def test_graph_and_submission_stages_write_their_datasets(demo_run):
    from suppliers.stage import supply_graph, supply_submissions

    g = supply_graph("r1", root=demo_run)
    assert g["status"] == "ok" and g["links"] >= 1000
    s = supply_submissions("r1", root=demo_run)
    checked = catalog.SUBMISSION_CHECKS.read("r1", root=demo_run)
    subs = catalog.VALIDATED["supplier_submissions"].read("r1", root=demo_run)
    assert len(checked) == len(subs) == sum(s["submissions"].values())  # nothing dropped
    assert set(s["submissions"]) == {"accepted", "flagged", "rejected"}
    cat1 = catalog.SCOPE3_CAT1.read("r1", root=demo_run)
    assert set(cat1["dq_tier"]) <= {1, 2, 3, 4} and cat1["tco2e"].notna().all()
    assert s["scope3_cat1_tco2e"] == pytest.approx(cat1["tco2e"].sum(), rel=1e-6)
    exp = catalog.SUPPLY_EXPOSURE.read("r1", root=demo_run)
    assert (exp["exposure"] <= 1.0).all()
    m = lake.read_manifest("r1", demo_run)
    assert m["supply_graph"]["status"] == "ok" and m["supply_submissions"]["status"] == "ok"


def test_risk_stage_writes_scores_alerts_and_classified_events(demo_run):
    from suppliers.stage import supply_risk

    info = supply_risk("r1", root=demo_run)
    assert info["status"] == "ok" and info["nlp"]["macro_f1"] >= 0.7
    risk = catalog.SUPPLY_RISK.read("r1", root=demo_run)
    assert set(risk["kind"]) == {"supplier", "plant", "product"}
    assert risk["total"].between(0, 1).all()
    al = catalog.SUPPLY_ALERTS.read("r1", root=demo_run)
    assert len(al) == info["alerts"] and (al["risk"] >= al["threshold"]).all()
    ev = catalog.EVENTS_CLASSIFIED.read("r1", root=demo_run)
    assert len(ev) == len(catalog.VALIDATED["supplier_events"].read("r1", root=demo_run))
    # a second run against the first: nothing crossed the line again
    again = supply_risk("r1", root=demo_run, previous_run_id="r1")
    assert again["alerts"] == 0


def test_the_application_stage_runs_all_three_steps_and_keeps_xcom_small(demo_run):
    from co2plan import pipeline

    out = pipeline.supply_stage("r1", root=demo_run, log_mlflow=False)
    assert {out["graph"]["status"], out["submissions"]["status"], out["risk"]["status"]} == {"ok"}
    assert out["run_id"] == "r1" and out["seconds"] > 0


def test_dictionary_encoded_read_gives_identical_checks(demo_run):
    """The stage reads the submissions' key columns dictionary-encoded (speed); the checks are the same as
    on the default object-string read, value for value."""
    from suppliers.crossval import check_submissions
    from suppliers.stage import SUBMISSION_DICTIONARY, _plain_strings, read_submissions

    links = catalog.VALIDATED["supply_links"].read("r1", root=demo_run)
    plain = catalog.VALIDATED["supplier_submissions"].read("r1", root=demo_run)
    enc = read_submissions("r1", demo_run)
    assert all(isinstance(enc[c].dtype, pd.CategoricalDtype) for c in SUBMISSION_DICTIONARY)
    a = _plain_strings(check_submissions(plain, links=links))
    b = _plain_strings(check_submissions(enc, links=links))
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert (a["status"] == b["status"]).all() and (a["reasons"] == b["reasons"]).all()


def test_sourcing_stage_writes_options_and_needs(demo_run):
    from suppliers.stage import supply_sourcing, supply_submissions

    supply_submissions("r1", root=demo_run)
    info = supply_sourcing("r1", root=demo_run)
    assert info["status"] == "ok" and info["with_cat1"]
    opt = catalog.SOURCING_OPTIONS.read("r1", root=demo_run)
    links = catalog.VALIDATED["supply_links"].read("r1", root=demo_run)
    plants = set(catalog.VALIDATED["plants"].read("r1", root=demo_run)["plant_id"])
    key = links[links["to_id"].isin(plants) & links["capacity_per_week"].notna()]
    assert len(opt) == len(key.drop_duplicates(["to_id", "from_id", "commodity"]))
    assert opt["capacity_per_week"].sum() == pytest.approx(key["capacity_per_week"].sum())  # all kWh
    assert opt["tco2e_per_unit"].between(0.01, 1.0).all() and set(opt["dq_tier"]) <= {1, 2, 3, 4}
    need = catalog.COMPONENT_NEEDS.read("r1", root=demo_run)
    assert set(need["qty_per_unit"]) <= {0.0, 15.0, 75.0}


def test_plan_on_the_lake_sources_components_and_replans_around_an_outage(demo_run):
    """supply stage -> optimise: the plan reads the sourcing options, writes its sourcing table, and an outage
    of the largest pack supplier writes what moved (hit plants lose output or re-source)."""
    from optimisation.stage import optimise
    from suppliers.stage import supply_sourcing, supply_submissions

    if not catalog.SOURCING_OPTIONS.exists("r1", root=demo_run):
        supply_submissions("r1", root=demo_run)
        supply_sourcing("r1", root=demo_run)
    opt = catalog.SOURCING_OPTIONS.read("r1", root=demo_run)
    top = opt.groupby("supplier_id")["capacity_per_week"].sum().idxmax()
    params = {"horizon_weeks": 4, "supplier_outage": [{"supplier_id": top}]}
    r = optimise("r1", root=demo_run, params=params, scenario_id="outage", log_mlflow=False)
    assert r["has_solution"] and r["sources"]["sourcing_options"] == "supply/r1"
    src = catalog.PLAN_SOURCING.read("r1", "outage", demo_run)
    assert (src.loc[src["supplier_id"] == top, "units"] <= 1e-6).all()  # nothing bought from it
    assert (src["units"] <= src["capacity_units"] + 1e-6).all()
    moved = catalog.PLAN_SUPPLIER_OUTAGE.read("r1", "outage", demo_run)
    hit = set(opt.loc[opt["supplier_id"] == top, "plant_id"])
    assert set(moved.loc[(moved["kind"] == "plant") & moved["hit"], "id"]) >= hit
    assert r["kpis"]["supplier_outage_headline"].startswith(f"Supplier outage ({top})")
