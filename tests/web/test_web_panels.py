"""The planner's panels on outputs of the other stages, on the demo lake built by the real stages (conftest):
supplier risk and the supplier graph around a plant (supply stage), the reconciled forecast (forecast stage),
the CO2 shadow price and levers (optimise stage). Numbers are compared with the lake files, not typed in."""

from __future__ import annotations

import json

import pytest
from conftest import RUN


@pytest.fixture
def viewer(as_user):
    return as_user("viewer")


def test_supply_panel_shows_the_riskiest_suppliers_and_the_alerts_of_the_run(viewer, demo_lake):
    from core import catalog

    risk = catalog.SUPPLY_RISK.read(RUN, root=demo_lake)
    alerts = catalog.SUPPLY_ALERTS.read(RUN, root=demo_lake)
    s = viewer.get("/api/v1/enterprise/supply").json()
    sup = risk[risk["kind"] == "supplier"].sort_values("total", ascending=False)
    assert [x["node_id"] for x in s["suppliers"]] == sup["node_id"].head(15).tolist()
    assert [x["total"] for x in s["suppliers"]] == pytest.approx(sup["total"].head(15).tolist())
    assert s["n_suppliers"] == len(sup) and len(s["alerts"]) == len(alerts) > 0
    top_alert = alerts.sort_values("risk", ascending=False).iloc[0]
    assert s["alerts"][0]["drivers"] == json.loads(top_alert["drivers"])
    html = viewer.get("/enterprise/supply").text
    assert s["suppliers"][0]["node_id"] in html and "risk score (0 = none, 1 = max)" in html
    assert json.loads(top_alert["drivers"])[0].replace("'", "&#39;") in html


def test_supplier_graph_around_a_plant_is_its_most_exposed_suppliers_and_their_links(viewer, demo_lake):
    from core import catalog

    plant = "P_DE_ZWI"
    ex = catalog.SUPPLY_EXPOSURE.read(RUN, root=demo_lake)
    ex = ex[(ex["plant_id"] == plant) & (ex["commodity"] == "*")].sort_values(["exposure", "node_id"],
                                                                               ascending=[False, True])
    g = viewer.get("/api/v1/enterprise/supply", params={"plant_id": plant}).json()["graph"]
    assert g["nodes"][0]["node_id"] == plant
    assert [n["node_id"] for n in g["nodes"][1:]] == ex["node_id"].head(25).tolist()
    assert [n["exposure"] for n in g["nodes"][1:]] == pytest.approx(ex["exposure"].head(25).tolist())
    links = catalog.VALIDATED["supply_links"].read(RUN, root=demo_lake)
    ids = {n["node_id"] for n in g["nodes"]}
    inside = links[links["from_id"].isin(ids) & links["to_id"].isin(ids)]
    assert len(g["edges"]) == len(inside) > 0
    assert any(e["to"] == plant for e in g["edges"])
    html = viewer.get("/enterprise/supply", params={"plant_id": plant}).text
    assert f"Supplier graph around {plant}" in html and "tier (0 = the plant)" in html


def test_forecast_panel_shows_a_reconciled_level_with_its_own_band(viewer, demo_lake):
    from core import catalog

    h = catalog.DEMAND_FORECAST_HIERARCHY.read(RUN, root=demo_lake)
    f = viewer.get("/api/v1/enterprise/forecast/hierarchy").json()
    assert f["available"] and f["level"] == "total"
    tot = h[h["level"] == "total"].sort_values("week")
    assert f["series"]["yhat"] == pytest.approx(tot["yhat"].tolist())
    # coherent: the product level adds up to the total, week by week
    lv = next(lv for lv in f["levels"] if lv not in ("total",) and len(f["levels"][lv]) > 1)
    parts = h[h["level"] == lv].groupby("week")["yhat"].sum().sort_index()
    assert parts.tolist() == pytest.approx(f["series"]["yhat"], rel=1e-6)
    s = f["series"]
    for i in range(len(f["weeks"])):
        assert s["yhat_lo_95"][i] <= s["yhat_lo_80"][i] <= s["yhat"][i] <= s["yhat_hi_80"][i] <= s["yhat_hi_95"][i]
    # the naive sum of bottom bounds is wider than the total's own band
    ns = f["naive_sum"]
    assert all(ns["yhat_hi_95"][i] - ns["yhat_lo_95"][i] >= s["yhat_hi_95"][i] - s["yhat_lo_95"][i]
               for i in range(len(f["weeks"])))
    node = f["levels"][lv][0]
    one = viewer.get("/api/v1/enterprise/forecast/hierarchy", params={"level": lv, "node": node}).json()
    part = h[(h["level"] == lv) & (h["node"] == node)].sort_values("week")
    assert one["node"] == node and one["series"]["yhat"] == pytest.approx(part["yhat"].tolist())
    html = viewer.get("/enterprise/forecast").text
    assert "with reconciled intervals" in html and "units per week" in html


def test_levers_panel_shows_the_plans_co2_shadow_price(viewer, demo_lake):
    from core import catalog

    k = catalog.KPIS.read(RUN, "baseline", root=demo_lake)
    mac = k.loc[(k["kpi"] == "co2_mac_eur_per_t") & (k["key"].fillna("") == ""), "value"].astype(float).tolist()
    lv = viewer.get("/api/v1/enterprise/levers").json()
    assert lv["available"] and [lv["shadow_price_eur_per_t"]] == pytest.approx(mac)
    total = k.loc[(k["kpi"] == "co2e_total_t") & (k["key"].fillna("") == ""), "value"].astype(float).iloc[0]
    assert lv["co2e_total_t"] == pytest.approx(total)
    html = viewer.get("/enterprise/levers").text
    assert f"{mac[0]:,.1f} EUR/t CO2e" in html


def test_mac_curve_lists_every_abatement_option_of_the_plan_cheapest_first(viewer, demo_lake):
    import numpy as np

    from core import catalog

    m = catalog.PLAN_MAC_CURVE.read(RUN, "baseline", root=demo_lake)
    m = m[(m["potential_t"] > 0) & m["cost_eur_per_t"].notna()]
    lv = viewer.get("/api/v1/enterprise/levers").json()
    got = lv["mac"]
    assert len(got) == len(m) > 0
    assert [x["cost_eur_per_t"] for x in got] == sorted(m["cost_eur_per_t"].tolist())
    assert sum(x["potential_t"] for x in got) == pytest.approx(m["potential_t"].sum())
    assert [x["start_t"] for x in got] == pytest.approx(np.cumsum([0] + [x["potential_t"] for x in got])[:-1])
    assert sum(x["sets_price"] for x in got) == int(m["sets_price"].sum())
    html = viewer.get("/enterprise/levers").text
    assert "Marginal abatement cost curve" in html and "EUR per t CO2e abated" in html
    cheapest = m.sort_values("cost_eur_per_t").iloc[0]
    assert f"{cheapest['cost_eur_per_t']:,.1f}" in html


def test_a_supplier_user_cannot_see_the_planner_panels(as_user, app, store):
    from co2plan.web import data
    from co2plan.web.security import Principal

    a = as_user("supa")
    for path in ("/enterprise/supply", "/enterprise/levers", "/enterprise/forecast", "/api/v1/enterprise/supply",
                 "/api/v1/enterprise/levers", "/api/v1/enterprise/forecast/hierarchy"):
        r = a.get(path, params={"plant_id": "P_DE_ZWI"} if "supply" in path else None, follow_redirects=False)
        assert r.status_code == 403, path
        assert "S_CEL" not in r.text and "yhat" not in r.text, path
    pa = Principal(store.user_by_name("supa")["id"], "supa", "supplier", "S_ALU_000")
    for fn in (data.supply_overview, data.levers_summary, data.forecast_hierarchy):
        with pytest.raises(data.Forbidden):
            fn(pa, app.state.lake)
