"""The web store on PostgreSQL (this machine's server, database co2plan_17): the same tables, the
append-only triggers, contiguous versions under concurrent writers, idempotent retries."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.postgres
ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/co2plan_17"


@pytest.fixture
def pg_store():
    try:
        eng = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with eng.connect() as con:
            con.exec_driver_sql("DROP DATABASE IF EXISTS co2plan_17")
            con.exec_driver_sql("CREATE DATABASE co2plan_17")
    except sa.exc.OperationalError as e:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {e.orig}")
    from co2plan.web.store import Store

    s = Store(URL)
    s.init()
    yield s
    s.dispose()
    with eng.connect() as con:
        con.exec_driver_sql("DROP DATABASE IF EXISTS co2plan_17")
    eng.dispose()


def test_postgres_store_versions_append_only_and_idempotency(pg_store):
    from co2plan.web.store import record_key

    s = pg_store
    uid = s.add_user("supa", "x", "supplier", "SUP_A")
    base = [{"year": y, "commodity": "steel", "plant_id": "P1", "product_id": None, "activity_qty": None,
             "activity_unit": None, "tco2e": 1.0, "method": "hybrid", "dq_tier": 2, "status": "accepted",
             "reasons": []} for y in range(2000, 2010)]

    def worker(t: int) -> None:
        for b in range(4):
            good = [{**r, "source_row": i + 1, "tco2e": float(t * 10 + b)} for i, r in enumerate(base)]
            s.store_batch("SUP_A", uid, "json", f"{t}-{b}".encode(), good, [(99, {"x": 1}, "bad")],
                          idempotency_key=f"k-{t}-{b}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.counts()["submission_batches"] == 20 and s.counts()["submission_rows"] == 200
    for r in base:
        assert [v["version"] for v in s.record_versions("SUP_A", record_key(r))] == list(range(1, 21))
    again, created = s.store_batch("SUP_A", uid, "json", b"0-0", [], [], idempotency_key="k-0-0")
    assert not created and s.counts()["submission_batches"] == 20
    for stmt in ("UPDATE submission_rows SET tco2e = 0", "DELETE FROM audit_log",
                 "DELETE FROM submission_quarantine"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), s.engine.begin() as con:
            con.exec_driver_sql(stmt)
    assert s.current_records("SUP_B") == []


def test_row_level_security_a_supplier_session_sees_only_its_own_rows_even_with_raw_sql(pg_store):
    """Supplier-bound reads run as the co2plan_supplier role with co2plan.supplier_id set: the row-level
    security policies filter every query, including raw SQL without a WHERE clause or naming the other
    supplier; the session can neither write nor read the users table."""
    s = pg_store
    ua, ub = s.add_user("supa", "x", "supplier", "SUP_A"), s.add_user("supb", "x", "supplier", "SUP_B")
    row = {"year": 2025, "commodity": "steel", "plant_id": "P1", "product_id": None, "activity_qty": 10.0,
           "activity_unit": "t", "tco2e": 20.0, "method": "hybrid", "dq_tier": 2, "status": "accepted", "reasons": []}
    s.store_batch("SUP_A", ua, "json", b"a", [{**row, "source_row": 1}], [(2, {"x": 1}, "bad")])
    bb, _ = s.store_batch("SUP_B", ub, "json", b"b", [{**row, "source_row": 1, "tco2e": 99.0},
                                                      {**row, "source_row": 2, "year": 2024}], [(3, {"y": 2}, "bad")])
    with s.supplier_session("SUP_A") as con:
        q = con.exec_driver_sql
        assert q("SELECT supplier_id, count(*) FROM submission_rows GROUP BY 1").all() == [("SUP_A", 1)]
        assert q("SELECT count(*) FROM submission_rows WHERE supplier_id = 'SUP_B'").scalar_one() == 0
        assert q("SELECT count(*) FROM submission_rows WHERE tco2e = 99").scalar_one() == 0
        assert q(f"SELECT count(*) FROM submission_batches WHERE id = '{bb['id']}'").scalar_one() == 0
        assert {r[0] for r in q("SELECT supplier_id FROM submission_quarantine")} == {"SUP_A"}
        assert {r[0] for r in q("SELECT supplier_id FROM audit_log")} == {"SUP_A"}
        assert q("SELECT current_user").scalar_one() == "co2plan_supplier"
    for stmt in ("SELECT * FROM users", "UPDATE submission_rows SET tco2e = 0", "INSERT INTO audit_log "
                 "(at, action, supplier_id, object, diff) VALUES (now(), 'x', 'SUP_B', 'x', '{}')"):
        with pytest.raises(sa.exc.DBAPIError), s.supplier_session("SUP_A") as con:
            con.exec_driver_sql(stmt)
    # without a supplier id in the session: nothing at all
    with s.engine.begin() as con:
        con.exec_driver_sql("SET LOCAL ROLE co2plan_supplier")
        assert con.exec_driver_sql("SELECT count(*) FROM submission_rows").scalar_one() == 0
    # the store's supplier readers run in such sessions and still return the caller's rows
    assert sorted(r["tco2e"] for r in s.current_records("SUP_B")) == [20.0, 99.0]
    assert s.batch("SUP_A", bb["id"]) is None and s.batch("SUP_B", bb["id"])["rows_stored"] == 2
    assert s.counts()["submission_rows"] == 3  # the application role (owner) is not filtered
