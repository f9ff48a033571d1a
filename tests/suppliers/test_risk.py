"""Risk: ESG across provider scales, propagation by hand, alerts with paths, the NLP model held apart."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from supply_helpers import links_frame, plants_frame, suppliers_frame

from suppliers.esg import normalise_esg
from suppliers.graph import build_graph
from suppliers.risk import DELTA, alerts, event_weights, own_risk, propagate_risk


def _plan_example():
    # P <- A (0.6) + B (0.4); A <- M1 (0.5) + M2 (0.5); B <- M1 (1.0)
    sup = suppliers_frame({"A": ("battery_pack", "PL"), "B": ("battery_pack", "HU"), "M1": ("cell", "CN"),
                           "M2": ("cell", "KR")})
    links = links_frame([("A", "P", "battery_pack", 0.6, 600.0), ("B", "P", "battery_pack", 0.4, 400.0),
                         ("M1", "A", "cell", 0.5, 300.0), ("M2", "A", "cell", 0.5, 300.0),
                         ("M1", "B", "cell", 1.0, 400.0)])
    return build_graph(sup, links, plants_frame()), sup


def test_risk_propagates_through_the_tiers_by_hand():
    G, _ = _plan_example()
    r = propagate_risk(G, pd.Series({"M1": 0.5})).set_index("node_id")
    assert r.loc["M1", "total"] == pytest.approx(0.5)
    assert r.loc["A", "inherited"] == pytest.approx(0.25)  # 0.5 x 0.5 + 0.5 x 0
    assert r.loc["A", "total"] == pytest.approx(DELTA * 0.25)
    assert r.loc["B", "total"] == pytest.approx(DELTA * 0.5)
    assert r.loc["P", "total"] == pytest.approx(0.6 * DELTA * 0.25 + 0.4 * DELTA * 0.5)
    # own risk on a middle node combines with what it inherits
    r2 = propagate_risk(G, pd.Series({"M1": 0.5, "B": 0.2})).set_index("node_id")
    assert r2.loc["B", "total"] == pytest.approx(1 - 0.8 * (1 - DELTA * 0.5))


def test_esg_on_three_scales_keeps_the_spread_and_uses_the_median():
    d = pd.Timestamp("2026-06-30")
    rows = []
    # provider x: 0..100 higher better; y: 0..50 risk, lower better; z: letters. S1 is worst for x and y,
    # best for z (providers disagree); S2 and S3 in between.
    for sid, x, y, z in (("S1", 10.0, 45.0, "AAA"), ("S2", 50.0, 25.0, "BBB"), ("S3", 90.0, 5.0, "CCC")):
        rows += [{"provider": "x", "supplier_id": sid, "date": d, "score": x, "grade": None, "scale_min": 0.0,
                  "scale_max": 100.0, "higher_is_better": True},
                 {"provider": "y", "supplier_id": sid, "date": d, "score": y, "grade": None, "scale_min": 0.0,
                  "scale_max": 50.0, "higher_is_better": False},
                 {"provider": "z", "supplier_id": sid, "date": d, "score": np.nan, "grade": z, "scale_min": np.nan,
                  "scale_max": np.nan, "higher_is_better": True}]
    # an older rating of x for S1 is ignored (the latest counts)
    rows.append(dict(rows[0], date=pd.Timestamp("2025-06-30"), score=99.0))
    e = normalise_esg(pd.DataFrame(rows), run_date=pd.Timestamp("2026-11-23")).set_index("supplier_id")
    # ranks within each provider, (rank - 0.5) / 3: worst = 5/6, middle = 1/2, best = 1/6
    assert e.loc["S1", ["esg_x", "esg_y", "esg_z"]].tolist() == pytest.approx([5 / 6, 5 / 6, 1 / 6])
    assert e.loc["S1", "esg_median"] == pytest.approx(5 / 6)
    assert e.loc["S1", "esg_spread"] == pytest.approx(4 / 6) and bool(e.loc["S1", "disagree"])
    assert e.loc["S2", "esg_spread"] == pytest.approx(0.0) and not bool(e.loc["S2", "disagree"])
    assert e["n_providers"].tolist() == [3, 3, 3]


def test_a_country_sanction_raises_own_risk_and_alerts_name_the_path_to_the_plant():
    G, sup = _plan_example()
    run = pd.Timestamp("2026-11-23")
    events = pd.DataFrame({"event_id": ["E1"], "supplier_id": [None], "country": ["CN"], "date": [run],
                           "text": ["embargo"], "source": ["x"]})
    classified = pd.DataFrame({"event_id": ["E1"], "category": ["sanctions"], "severity": [3]})
    w = event_weights(classified, events, sup, run)
    assert w[["supplier_id", "weight"]].values.tolist() == [["M1", 1.0]]  # fresh, severe, sanctions
    own = own_risk(sup, None, w).set_index("supplier_id")
    assert own.loc["M1", "own"] == pytest.approx(1.0)
    assert own.loc["A", "own"] == pytest.approx(0.3 * 0.5)  # unrated: ESG risk at the middle
    risk = propagate_risk(G, own["own"])
    al = alerts(G, risk, drivers=w, plant_products=pd.DataFrame({"plant_id": ["P"], "product_id": ["K1"]}))
    m1 = al.set_index("node_id").loc["M1"]
    assert json.loads(m1["plants"]) == ["P"] and json.loads(m1["products"]) == ["K1"]
    assert json.loads(m1["paths"])[0]["path"] == ["M1", "B", "P"]
    assert json.loads(m1["drivers"]) == ["embargo"]
    # against a previous run already above the line, nothing new fires
    assert alerts(G, risk, previous=risk, drivers=w).empty


def test_the_event_classifier_generalises_to_held_apart_frames_and_phrases():
    from features.sample import generate
    from suppliers.events import evaluate_event_model, fit_event_model, held_apart_split

    ev = generate("demo")["supplier_events"]
    train, test = held_apart_split(ev)
    frames = lambda d: set(d["source"].str.split("#").str[1].str.split("/").str[0])  # noqa: E731
    phrases = lambda d: set(d["source"].str.split("/").str[1])  # noqa: E731
    assert frames(test) - frames(train) and phrases(test) - phrases(train)  # unseen frames and phrases
    assert len(frames(test) - frames(train)) == 2 and len(phrases(test) - phrases(train)) == 6
    m = evaluate_event_model(ev)
    assert m["macro_f1"] >= 0.7
    assert set(m["per_category"]) == {"accident", "environment", "insolvency", "labour_human_rights", "none",
                                      "sanctions"}
    pred = fit_event_model(ev).predict(ev.head(5))
    assert list(pred.columns) == ["event_id", "category", "category_proba", "severity"]


def test_the_event_model_and_its_metrics_are_logged_to_mlflow(tmp_path):
    import mlflow

    from features.sample import generate
    from suppliers.events import (
        EXPERIMENT,
        MODEL_NAME,
        evaluate_event_model,
        fit_event_model,
        log_event_model,
    )

    ev = generate("demo")["supplier_events"]
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    metrics = evaluate_event_model(ev)
    out = log_event_model(fit_event_model(ev), metrics, tracking_uri=uri)
    client = mlflow.MlflowClient(uri)
    run = client.get_run(out["mlflow_run_id"])
    assert run.data.metrics["macro_f1"] == pytest.approx(metrics["macro_f1"])
    assert run.data.metrics["recall_sanctions"] == pytest.approx(metrics["per_category"]["sanctions"]["recall"])
    assert client.get_experiment(run.info.experiment_id).name == EXPERIMENT
    assert client.get_registered_model(MODEL_NAME).name == MODEL_NAME
