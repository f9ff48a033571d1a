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
