"""A web database written by an older co2plan is refused at start with the way out, not on a supplier's submit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from co2plan.web.store import Store


def test_store_refuses_a_database_from_an_older_schema_and_keeps_its_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    eng = sa.create_engine(url)
    with eng.begin() as con:  # the submission rows of an older app: no commodity / activity columns
        con.exec_driver_sql("CREATE TABLE submission_rows (id INTEGER PRIMARY KEY, supplier_id TEXT, year INTEGER, "
                            "tco2e REAL)")
        con.exec_driver_sql("INSERT INTO submission_rows (supplier_id, year, tco2e) VALUES ('S1', 2025, 12.5)")
    eng.dispose()
    with pytest.raises(RuntimeError, match=r"older co2plan .*submission_rows: .*commodity.*CO2PLAN_WEB_DB"):
        Store(url).init()
    eng = sa.create_engine(url)
    with eng.connect() as con:  # nothing lost
        assert con.exec_driver_sql("SELECT supplier_id, tco2e FROM submission_rows").all() == [("S1", 12.5)]
    eng.dispose()
    fresh = Store(f"sqlite:///{tmp_path / 'new.db'}")
    fresh.init()  # a current database starts
    fresh.init()  # and again (idempotent)
    fresh.dispose()
