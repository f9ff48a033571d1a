"""Helpers for the production-path tests: URLs of the loopback services, a clean environment for Airflow
subprocesses, and reading PostgreSQL back independently of Airflow and MLflow."""

from __future__ import annotations

import os
import socket

PG_HOST, PG_PORT, PG_USER, PG_ADMIN_DB = "127.0.0.1", 5432, "postgres", "test"
REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def pg_url(database: str) -> str:
    """SQLAlchemy URL of a database on the test server (SQLAlchemy 2.1 needs the driver spelled out)."""
    return f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def port_open(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without AIRFLOW*/MLFLOW*/LAKE/CO2PLAN* settings (other test folders set
    them at import time), plus ``extra``."""
    drop = ("AIRFLOW", "MLFLOW", "LAKE", "CO2PLAN")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


def pg_connect(dbname: str):
    import psycopg2

    return psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, connect_timeout=3)


def pg_query(url: str, sql: str, args: tuple = ()) -> list[tuple]:
    """Rows of one query on the database of ``url``."""
    con = pg_connect(url.rsplit("/", 1)[1].split("?")[0])
    try:
        with con.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        con.close()
