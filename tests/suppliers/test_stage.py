"""The supply lake stages on the demo sample: datasets written through the catalog, every submission kept."""

from __future__ import annotations

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
