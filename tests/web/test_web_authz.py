"""Authorisation: the route x role matrix (generated from the app's routes, so a new route must be placed
in it), supplier A against supplier B by page, API, guessed ids and query parameters, and the public view
showing assured figures only."""

from __future__ import annotations

import json

import pytest
from conftest import RUN, SUP_A, SUP_B, make_client, page_csrf
from fastapi.routing import APIRoute

PUBLIC = ("/", "/login", "/api/v1/public/summary", "/api/v1/openapi.json", "/api/docs", "/api/docs/oauth2-redirect")
#: path prefix -> the roles that may GET it
AREAS = {"/supplier": {"supa", "supb"}, "/api/v1/supplier": {"supa", "supb"},
         "/enterprise/scenarios/new": {"planner", "admin"},
         "/enterprise": {"viewer", "planner", "admin"}, "/api/v1/enterprise": {"viewer", "planner", "admin"},
         "/api/v1/scenarios": {"viewer", "planner", "admin"}, "/admin": {"admin"}}
CSV_ROW = "2025,aluminium,P_CN_ANT,,,,{v},hybrid,2\n"
HEADER = "year,commodity,plant_id,product_id,activity_qty,activity_unit,tco2e,method,dq_tier\n"


def _area(path: str) -> set[str] | None:
    for prefix in sorted(AREAS, key=len, reverse=True):
        if path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "?"):
            return AREAS[prefix]
    return None


def _get_routes(app) -> list[str]:
    out = []
    for r in app.routes:
        if not isinstance(r, APIRoute) or "GET" not in r.methods or r.path.startswith("/static"):
            continue
        out.append(r.path.replace("{batch_id}", "00000000-0000-0000-0000-000000000000")
                   .replace("{scenario_id}", "nope"))
    return out


def test_every_get_route_is_in_the_matrix(app):
    for path in _get_routes(app):
        assert path in PUBLIC or _area(path) is not None, f"{path}: add it to the authorisation matrix"


@pytest.mark.parametrize("who", ["anonymous", "supa", "viewer", "planner", "admin"])
def test_route_role_matrix(app, as_user, who):
    c = make_client(app) if who == "anonymous" else as_user(who)
    for path in _get_routes(app):
        if path in PUBLIC:
            continue
        allowed = _area(path)
        r = c.get(path, follow_redirects=False)
        if who == "anonymous":
            expect = 401 if path.startswith("/api/") else 303
            assert r.status_code == expect, (who, path, r.status_code)
        elif who not in allowed:
            assert r.status_code == 403, (who, path, r.status_code)
        else:
            assert r.status_code in (200, 404, 422), (who, path, r.status_code, r.text[:200])


def _submit_csv(c, body: str, key: str | None = None):
    h = {"content-type": "text/csv", "X-CSRF-Token": page_csrf(c)}
    if key:
        h["Idempotency-Key"] = key
    return c.post("/api/v1/supplier/submissions", content=body.encode(), headers=h)


def test_supplier_a_cannot_read_or_write_supplier_b(app, as_user, store):
    a, b = as_user("supa"), as_user("supb")
    rb = _submit_csv(b, HEADER + "2025,aluminium,P_DE_WOB,,,,424242.25,hybrid,2\n")
    assert rb.status_code == 201, rb.text
    b_batch = rb.json()["id"]
    b_key = "2025|aluminium|P_DE_WOB"
    # by page and API: a foreign batch is "not found", never "forbidden" (ids cannot be probed)
    assert a.get(f"/supplier/submissions/{b_batch}").status_code == 404
    assert a.get(f"/api/v1/supplier/submissions/{b_batch}").status_code == 404
    assert a.get("/api/v1/supplier/record", params={"key": b_key}).status_code == 404
    assert a.get("/supplier/record", params={"key": b_key}).status_code == 404
    # query parameters naming B are ignored: A's own data only
    for path in ("/api/v1/supplier/summary", "/api/v1/supplier/records", "/api/v1/supplier/submissions"):
        body = a.get(path, params={"supplier_id": SUP_B, "supplier": SUP_B}).text
        assert "424242" not in body and b_batch not in body and SUP_B not in body, path
    assert a.get("/api/v1/supplier/summary", params={"supplier_id": SUP_B}).json()["supplier_id"] == SUP_A
    for path in ("/supplier", "/supplier/submissions"):
        html = a.get(path, params={"supplier_id": SUP_B}).text
        assert "424242" not in html and "424,242" not in html and b_batch not in html, path
    # writes naming B (JSON field, CSV column) are quarantined, nothing lands under B
    r = a.post("/api/v1/supplier/submissions", headers={"X-CSRF-Token": page_csrf(a)}, json={"rows": [
        {"supplier_id": SUP_B, "plant_id": "P_DE_WOB", "year": 2025, "commodity": "aluminium", "tco2e": 1,
         "method": "hybrid", "dq_tier": 2}]})
    assert r.status_code == 201 and r.json()["rows_quarantined"] == 1 and r.json()["rows_stored"] == 0
    r = _submit_csv(a, "supplier_id," + HEADER + f"{SUP_B}," + CSV_ROW.format(v=2))
    assert r.json()["rows_quarantined"] == 1
    detail = a.get(f"/api/v1/supplier/submissions/{r.json()['id']}").json()
    assert "not yours" in detail["quarantine"][0]["reason"]
    assert [x["tco2e"] for x in store.record_versions(SUP_B, b_key)] == [424242.25]
    assert store.current_records(SUP_A) == []


def test_every_supplier_data_function_returns_only_the_callers_rows(app, store, as_user, lake_2025):
    from co2plan.web import data
    from co2plan.web.security import Principal

    for who, v in (("supa", 11), ("supb", 22)):
        assert _submit_csv(as_user(who), HEADER + CSV_ROW.format(v=v)).status_code == 201
    lake, settings = app.state.lake, app.state.settings
    pa = Principal(store.user_by_name("supa")["id"], "supa", "supplier", SUP_A)
    recs = data.supplier_records(pa, store)
    assert {r["supplier_id"] for r in recs} == {SUP_A} and [r["tco2e"] for r in recs] == [11.0]
    assert {b["supplier_id"] for b in data.supplier_batches(pa, store)} == {SUP_A}
    assert all(e["supplier_id"] == SUP_A for e in data.supplier_audit(pa, store))
    versions = data.supplier_record_versions(pa, store, "2025|aluminium|P_CN_ANT")
    assert [v["supplier_id"] for v in versions] == [SUP_A]
    ov = data.supplier_overview(pa, lake, store, settings)
    # 2025: A's validated submission (in the lake, no plant) + its portal row (11 t); B's 22 t nowhere
    assert ov["supplier_id"] == SUP_A and ov["totals"][ov["years"].index(2025)] == pytest.approx(lake_2025[0] + 11)
    # the peer comparison leaves only anonymised shares
    assert set(ov["share"]) == {"available", "year", "industry", "own_pct", "peers_pct", "n"}
    assert SUP_B not in json.dumps(ov)
    viewer = Principal(store.user_by_name("viewer")["id"], "viewer", "viewer")
    for fn in (data.supplier_records, data.supplier_batches, data.supplier_audit):
        with pytest.raises(data.Forbidden):
            fn(viewer, store)
    with pytest.raises(data.Forbidden):
        data.enterprise_overview(pa, lake, settings)


def test_viewer_cannot_trigger_and_planner_cannot_administer(as_user):
    v = as_user("viewer")
    assert v.post("/enterprise/scenarios", data={"csrf_token": page_csrf(v, "/enterprise"), "scenario_id": "x"},
                  follow_redirects=False).status_code == 403
    assert v.post("/api/v1/scenarios", json={"scenario_id": "x"},
                  headers={"X-CSRF-Token": page_csrf(v, "/enterprise")}).status_code == 403
    pl = as_user("planner")
    assert pl.post("/admin/assurance", data={"csrf_token": page_csrf(pl, "/enterprise"), "run_id": RUN,
                                              "statement": "x"}, follow_redirects=False).status_code == 403
    assert pl.post("/admin/users", data={"csrf_token": page_csrf(pl, "/enterprise"), "username": "mallory",
                                          "password": "p" * 16, "role": "admin"},
                   follow_redirects=False).status_code == 403


def test_anonymous_sees_only_published_and_assured_figures(app, as_user, client):
    assert client.get("/api/v1/public/summary").json()["run_id"] is None
    assert "No assured figures" in client.get("/").text
    assert client.get("/api/v1/enterprise/overview", params={"run": RUN}).status_code == 401
    adm = as_user("admin")
    r = adm.post("/admin/assurance", data={"csrf_token": page_csrf(adm, "/admin"), "run_id": RUN,
                                           "statement": "Limited assurance, ISAE 3410"}, follow_redirects=False)
    assert r.status_code == 303
    s = client.get("/api/v1/public/summary").json()
    assert s["run_id"] == RUN and s["trajectory"]["base_year"] == 2024
    # the public number is the annual total of the assured run (scope 1 + 2 market + 3 cat 4)
    ov = adm.get("/api/v1/enterprise/overview", params={"run": RUN}).json()
    assert s["trajectory"]["actual"][0] == pytest.approx(s["annual"]["2024"]["total"])
    assert ov["trajectory"]["actual"] == pytest.approx(s["trajectory"]["actual"])
    # an unpublished run cannot be assured
    r = adm.post("/admin/assurance", data={"csrf_token": page_csrf(adm, "/admin"), "run_id": "weekly-1999-01-01",
                                           "statement": "x"}, follow_redirects=False)
    assert r.status_code == 404


def test_unknown_run_ids_and_path_tricks_are_404_or_422(as_user):
    v = as_user("viewer")
    assert v.get("/api/v1/enterprise/overview", params={"run": "weekly-1999-01-01"}).status_code == 404
    assert v.get("/api/v1/enterprise/overview", params={"run": "../../etc/passwd"}).status_code == 422
    assert v.get("/api/v1/enterprise/ledger", params={"plant_id": "x' OR 1=1 --"}).status_code == 422
