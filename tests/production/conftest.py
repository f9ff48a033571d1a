"""The production path on this machine's real services: PostgreSQL (127.0.0.1:5432, trust auth, user
postgres), Redis and RabbitMQ on loopback. Tests get freshly created databases that are dropped at the
end of the session, and skip with the reason when a service is not reachable."""

from __future__ import annotations

import uuid

import pytest
from prod_helpers import PG_ADMIN_DB, PG_HOST, PG_PORT, pg_connect, pg_url


@pytest.fixture(scope="session")
def pg_database():
    """Factory: ``pg_database("airflow")`` creates an empty database ``co2plan_t_<session>_<n>_airflow`` and
    returns its SQLAlchemy URL. All of them are dropped WITH (FORCE) (PostgreSQL >= 13) after the session."""
    psycopg2 = pytest.importorskip("psycopg2", reason="psycopg2 is not installed")
    try:
        admin = pg_connect(PG_ADMIN_DB)
    except psycopg2.OperationalError as e:
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT} (database {PG_ADMIN_DB}): "
                    f"{str(e).strip().splitlines()[0]}")
    admin.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    session = uuid.uuid4().hex[:10]
    created: list[str] = []

    def make(purpose: str) -> str:
        name = f"co2plan_t_{session}_{len(created)}_{purpose}"
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return pg_url(name)

    yield make
    with admin.cursor() as cur:
        for name in created:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
