"""Supplier submissions: door validation with quarantine, versions (a correction adds one, nothing is
overwritten), audit trail, append-only enforced by the database, idempotent retries, concurrent writers,
the weekly export, and submitted strings that try to become markup or script."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa
from conftest import SUP_A, page_csrf

HEADER = "year,commodity,plant_id,product_id,activity_qty,activity_unit,tco2e,method,dq_tier\n"
# S_ALU_000 is an aluminium smelter of the demo supplier master; its lake figures come from the lake_2025 fixture
GOOD = ["2024,aluminium,P_CN_ANT,,1000,t,11000,hybrid,2", "2025,aluminium,P_CN_ANT,,1000,t,11500,hybrid,2",
        "2025,aluminium,P_DE_ZWI,,500,t,5900.5,supplier_specific,1"]


def _upload(c, text: str, name: str = "a.csv"):
    return c.post("/supplier/upload", files={"file": (name, text.encode("utf-8"), "text/csv")},
                  data={"csrf_token": page_csrf(c)}, follow_redirects=False)


def test_csv_with_one_bad_row_quarantines_it_with_the_reason_and_stores_the_rest(as_user, store):
    a = as_user("supa")
    r = _upload(a, HEADER + "\n".join([GOOD[0], "2025,aluminium,P_CN_ANT,,1000,t,-5,hybrid,2", *GOOD[1:]]) + "\n")
    assert r.status_code == 303
    page = a.get(r.headers["location"]).text
    assert "4 rows received by csv" in page and "3 stored" in page and "1 quarantined" in page
    assert "tco2e: below 0" in page
    batch = store.batches_of(SUP_A)[0]
    detail = store.batch(SUP_A, batch["id"])
    assert [q["source_row"] for q in detail["quarantine"]] == [2]
    assert sorted(r["tco2e"] for r in detail["rows"]) == [5900.5, 11000.0, 11500.0]
    assert all(r["version"] == 1 for r in detail["rows"])


@pytest.mark.parametrize("line,reason", [
    ("2025,aluminium,P_NOPE,,1,t,12,hybrid,2", "plant_id: unknown plant"),
    ("1850,aluminium,P_CN_ANT,,1,t,12,hybrid,2", "year: below 1990"),
    ("2025.5,aluminium,P_CN_ANT,,1,t,12,hybrid,2", "year: not an integer"),
    ("2025,aluminium,P_CN_ANT,,1,t,abc,hybrid,2", "tco2e"),
    ("2025,aluminium,P_CN_ANT,,1,t,nan,hybrid,2", "tco2e: not a finite number"),
    ("2025,,P_CN_ANT,,1,t,12,hybrid,2", "commodity: missing"),
    ("2025,copper,P_CN_ANT,,1,t,12,hybrid,2", "commodity: not one of"),
    ("2025,aluminium,P_CN_ANT,,1,,12,hybrid,2", "activity_qty and activity_unit: give both or neither"),
    ("2025,aluminium,P_CN_ANT,,1,t,12,hybrid,5", "dq_tier: above 4"),
])
def test_door_rules_name_the_column(as_user, store, line, reason):
    a = as_user("supa")
    _upload(a, HEADER + line + "\n")
    q = store.batch(SUP_A, store.batches_of(SUP_A)[0]["id"])["quarantine"]
    assert len(q) == 1 and reason in q[0]["reason"]


def test_a_correction_is_a_new_version_and_the_old_one_is_kept(as_user, store):
    a = as_user("supa")
    _upload(a, HEADER + "\n".join(GOOD) + "\n2025,aluminium,,,17800,t,191000,hybrid,2\n")
    _upload(a, HEADER + "2025,aluminium,,,17800,t,192500,supplier_specific,1\n")
    key = "2025|aluminium|"  # the supplier's total (no plant), as the demo's submissions are
    versions = store.record_versions(SUP_A, key)
    assert [(v["version"], v["tco2e"], v["method"]) for v in versions] == [(1, 191000.0, "hybrid"),
                                                                          (2, 192500.0, "supplier_specific")]
    # within the material-factor band, the spend band and last year's history: both accepted
    assert [(v["status"], json.loads(v["reasons"])) for v in versions] == [("accepted", []), ("accepted", [])]
    html = a.get("/supplier/record", params={"key": key}).text
    assert "v2 (current)" in html and "v1" in html and "191,000.0" in html
    diff = [json.loads(e["diff"]) for e in store.audit_entries(SUP_A) if e["object"] == f"record:{key}:v2"]
    assert diff == [{"dq_tier": [2, 1], "method": ["hybrid", "supplier_specific"], "tco2e": [191000.0, 192500.0]}]
    assert {r["record_key"]: r["version"] for r in store.current_records(SUP_A)}[key] == 2


def test_a_row_for_one_plant_is_flagged_against_the_suppliers_whole_spend(as_user, store):
    """issue 16's spend check compares a row with the company's spend with that supplier over all its plants:
    1,000 t for one plant is far below it (flagged, still stored)."""
    _upload(as_user("supa"), HEADER + GOOD[1] + "\n")
    (r,) = store.current_records(SUP_A)
    assert r["status"] == "flagged" and json.loads(r["reasons"])[0].startswith("spend:ratio: ")


def test_append_only_tables_refuse_update_and_delete(as_user, store):
    _upload(as_user("supa"), HEADER + GOOD[0] + "\n2025,aluminium,P_CN_ANT,,1,t,-1,hybrid,2\n")
    for stmt in ("UPDATE submission_rows SET tco2e = 0", "DELETE FROM submission_rows",
                 "DELETE FROM audit_log", "UPDATE submission_quarantine SET reason = ''"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as con:
            con.exec_driver_sql(stmt)
    assert store.counts()["submission_rows"] == 1


def test_idempotent_retry_returns_the_first_batch(as_user, store):
    a = as_user("supa")
    h = {"content-type": "text/csv", "Idempotency-Key": "erp-2025-01", "X-CSRF-Token": page_csrf(a)}
    body = (HEADER + "\n".join(GOOD) + "\n").encode()
    r1 = a.post("/api/v1/supplier/submissions", content=body, headers=h)
    r2 = a.post("/api/v1/supplier/submissions", content=body, headers=h)
    assert (r1.status_code, r2.status_code) == (201, 200) and r1.json()["id"] == r2.json()["id"]
    assert store.counts()["submission_rows"] == 3


def test_concurrent_writers_lose_nothing_and_keep_versions_contiguous(store):
    from co2plan.web.store import record_key

    uid = store.user_by_name("supa")["id"]
    rows = [{"year": y, "commodity": "aluminium", "plant_id": "P_CN_ANT", "product_id": None, "activity_qty": 1.0,
             "activity_unit": "t", "tco2e": 1.0, "method": "hybrid", "dq_tier": 2, "status": "accepted",
             "reasons": []} for y in range(2000, 2010)]

    def worker(t: int) -> None:
        for b in range(5):
            good = [{**r, "source_row": i + 1, "tco2e": float(t * 100 + b)} for i, r in enumerate(rows)]
            store.store_batch(SUP_A, uid, "json", f"{t}-{b}".encode(), good, [], idempotency_key=f"k-{t}-{b}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.counts()["submission_batches"] == 30 and store.counts()["submission_rows"] == 300
    for r in rows:
        assert [v["version"] for v in store.record_versions(SUP_A, record_key(r))] == list(range(1, 31))


def test_weekly_export_is_the_current_version_as_of_a_time(as_user, store):
    import datetime as dt

    a = as_user("supa")
    _upload(a, HEADER + GOOD[1] + "\n")
    cut = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    _upload(a, HEADER + "2025,aluminium,P_CN_ANT,,1000,t,11505,hybrid,2\n")
    then = store.export_current(cut)
    assert [(r["supplier_id"], r["tco2e"], r["version"]) for r in then] == [(SUP_A, 11500.0, 1)]
    assert store.export_current(cut) == then  # deterministic
    assert [r["tco2e"] for r in store.export_current()] == [11505.0]


def test_csv_encodings_and_separators(as_user, store):
    a = as_user("supa")
    _upload(a, "\ufeff" + HEADER.replace(",", ";") + "2024;aluminium;P_CN_ANT;;1;t;12,5;hybrid;2\n")
    assert [r["tco2e"] for r in store.current_records(SUP_A)] == [12.5]
    r = a.post("/supplier/upload", files={"file": ("x.csv", b"\xff\xfe\x00\xd8garbage", "text/csv")},
               data={"csrf_token": page_csrf(a)})
    assert r.status_code == 422


def test_submitted_markup_is_inert_in_pages_and_chart_json(as_user, store):
    from co2plan.web.charts import safe_json

    a = as_user("supa")
    evil = "</script><script>alert(1)</script>"
    r = a.post("/api/v1/supplier/submissions", headers={"X-CSRF-Token": page_csrf(a)}, json={"rows": [
        {"plant_id": "P_CN_ANT", "year": 2025, "commodity": "aluminium", "tco2e": 1, "method": "<img src=x "
         "onerror=alert(1)>", "dq_tier": 2},
        {"plant_id": evil[:60], "year": 2025, "commodity": "aluminium", "tco2e": 1, "method": "hybrid", "dq_tier": 2}]})
    assert r.status_code == 201
    for path in ("/supplier/submissions", f"/supplier/submissions/{r.json()['id']}", "/supplier"):
        html = a.get(path).text
        assert "<img src=x" not in html and "<script>alert" not in html, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in a.get(f"/supplier/submissions/{r.json()['id']}").text
    assert "<" not in safe_json({"t": evil}) and json.loads(safe_json({"t": evil})) == {"t": evil}


def test_json_api_rejects_malformed_payloads(as_user):
    a = as_user("supa")
    h = {"X-CSRF-Token": page_csrf(a)}
    assert a.post("/api/v1/supplier/submissions", headers={**h, "content-type": "application/json"},
                  content=b"{not json").status_code == 422
    assert a.post("/api/v1/supplier/submissions", headers=h, json={"rows": "nope"}).status_code == 422
    assert a.post("/api/v1/supplier/submissions", headers={**h, "content-type": "text/plain"},
                  content=b"x").status_code == 415
    assert a.post("/api/v1/supplier/submissions", headers={**h, "content-type": "text/csv"},
                  content=b"a,b\n1,2\n").status_code == 422


def test_a_unit_slip_through_the_api_is_rejected_with_the_weekly_rule(as_user, store, lake_2025):
    """tco2e sent in kg instead of t: 1,000x the supplier's own figure for the same activity. The portal runs
    issue 16's check_submissions, so the supplier sees the rule key the weekly supply stage raises."""
    t, qty = lake_2025
    a = as_user("supa")
    r = a.post("/api/v1/supplier/submissions", headers={"X-CSRF-Token": page_csrf(a)}, json={"rows": [
        {"year": 2025, "commodity": "aluminium", "activity_qty": round(qty), "activity_unit": "t",
         "tco2e": round(t * 1000), "method": "supplier_specific", "dq_tier": 1},
        {"year": 2026, "commodity": "aluminium", "activity_qty": round(qty), "activity_unit": "t",
         "tco2e": round(t * 1.02), "method": "supplier_specific", "dq_tier": 1}]})
    assert r.status_code == 201
    rows = a.get(f"/api/v1/supplier/submissions/{r.json()['id']}").json()["rows"]
    by_year = {x["year"]: x for x in rows}
    assert by_year[2025]["status"] == "rejected"
    assert by_year[2025]["reasons"][0].startswith("unit_slip_x1000: ")
    assert by_year[2026]["status"] == "accepted" and by_year[2026]["reasons"] == []
    # the supplier's overview lists the flag; the rejected row is not counted in its totals
    ov = a.get("/api/v1/supplier/summary").json()
    assert [f["record"] for f in ov["flags"]] == ["2025|aluminium|"]
    assert ov["totals"][ov["years"].index(2025)] == pytest.approx(t)
    assert "unit_slip_x1000" in a.get("/supplier").text


def test_copy_paste_from_last_year_is_flagged_against_the_lake_history(as_user, lake_2025):
    """The same tco2e as the lake's 2025 figure for 20 % more activity in 2026 is last year's figure copied
    (history:copy_paste), as the weekly stage would flag it."""
    t, qty = lake_2025
    a = as_user("supa")
    r = a.post("/api/v1/supplier/submissions", headers={"X-CSRF-Token": page_csrf(a)}, json={"rows": [
        {"year": 2026, "commodity": "aluminium", "activity_qty": round(qty * 1.2), "activity_unit": "t",
         "tco2e": t, "method": "supplier_specific", "dq_tier": 1}]})
    row = a.get(f"/api/v1/supplier/submissions/{r.json()['id']}").json()["rows"][0]
    assert row["status"] == "flagged" and row["reasons"][0].startswith("history:copy_paste: ")


def test_weekly_pickup_feeds_the_supply_stage(as_user, store, demo_lake, tmp_path):
    """Portal rows reach raw supplier_submissions (replacing the extracted rows of the same supplier, year,
    commodity and plant), pass validation and are checked by the weekly supply stage."""
    import datetime as dt
    import shutil

    from co2plan.portal import pickup_stage
    from co2plan.web.pickup import portal_submission_id
    from core import catalog

    root = str(tmp_path / "lake")
    run = "weekly-2026-11-30"
    shutil.copytree(f"{demo_lake}/raw/{run}", f"{root}/raw/{run}")
    before = catalog.RAW["supplier_submissions"].read(run, root=root)
    a = as_user("supa")
    _upload(a, HEADER + "2025,aluminium,,,17800,t,190000,supplier_specific,1\n"
            "2026,aluminium,,,17800,t,-1,hybrid,2\n")  # replaces SUB_S_ALU_000_2025; the bad row stays out
    cut = dt.datetime.now(dt.UTC)
    _upload(a, HEADER + "2025,aluminium,,,17800,t,1.0,hybrid,2\n")  # after the cut-off: not picked up
    out = pickup_stage(run, as_of=cut, db_url=store.url, root=root)
    after = catalog.RAW["supplier_submissions"].read(run, root=root)
    assert {k: out[k] for k in ("status", "portal_rows", "replaced", "rows")} == {
        "status": "ok", "portal_rows": 1, "replaced": 1, "rows": len(before)}
    sid = portal_submission_id(SUP_A, 2025, "aluminium", None)
    assert "SUB_S_ALU_000_2025" not in set(after["submission_id"])
    row = after[after.submission_id == sid]
    assert row[["version", "tco2e", "method", "plant_id"]].values.tolist() == [["1", "190000", "supplier_specific",
                                                                               None]]
    pickup_stage(run, as_of=cut, db_url=store.url, root=root)
    assert catalog.RAW["supplier_submissions"].read(run, root=root).equals(after)  # deterministic re-run
    from co2plan.pipeline import supply_stage, validate_stage

    validate_stage(run, root=root)
    v = catalog.VALIDATED["supplier_submissions"].read(run, root=root)
    assert v.loc[v.submission_id == sid, "tco2e"].tolist() == [190000.0]
    supply_stage(run, root=root, log_mlflow=False)
    checks = catalog.SUBMISSION_CHECKS.read(run, root=root)
    assert checks.loc[checks.submission_id == sid, "status"].astype(str).tolist() == ["accepted"]


def test_pickup_without_a_portal_database_is_a_logged_no_op(tmp_path, caplog):
    import logging

    from co2plan.portal import pickup_stage

    with caplog.at_level(logging.INFO, logger="co2plan.portal"):
        out = pickup_stage("weekly-2026-11-30", db_url=f"sqlite:///{tmp_path / 'none.db'}", root=str(tmp_path))
    assert out["status"] == "skipped" and out["portal_rows"] == 0
    assert "no portal database at" in caplog.text
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "raw").exists()
