"""Web app fixtures: a real demo lake (sample -> extract -> validate -> supply -> account -> train -> forecast ->
optimise -> publish, built once per session in a temporary folder; CO2PLAN_WEB_TEST_LAKE reuses a lake
built by an earlier session), a fresh SQLite web database per test, and users of every role."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="co2plan-web-"))
os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{_TMP / 'mlflow.db'}")

RUN = "weekly-2026-11-30"
PASSWORD = "correct horse battery staple"
SUP_A, SUP_B = "S_ALU_000", "S_ALU_002"  # two aluminium smelters of the demo supplier master
USERS = {"supa": ("supplier", SUP_A), "supb": ("supplier", SUP_B), "viewer": ("viewer", None),
         "planner": ("planner", None), "admin": ("admin", None)}


def _build(root: str) -> None:
    from co2plan import pipeline as p

    p.extract_stage(RUN, "sample:demo", root=root)
    p.validate_stage(RUN, root=root)
    p.supply_stage(RUN, root=root, log_mlflow=False)
    p.account_stage(RUN, root=root)
    p.train_stage(RUN, root=root, horizon_weeks=8)
    p.forecast_stage(RUN, root=root, horizon_weeks=8)
    p.optimise_stage(RUN, root=root, horizon_weeks=8, pareto_points=0)
    p.publish_stage(RUN, root=root)


@pytest.fixture(scope="session")
def demo_lake() -> str:
    reuse = os.environ.get("CO2PLAN_WEB_TEST_LAKE")
    if reuse and Path(reuse, "published", f"{RUN}.json").exists():
        root = str(_TMP / "lake")
        shutil.copytree(reuse, root)
        return root
    root = str(_TMP / "lake")
    _build(root)
    return root


@pytest.fixture(scope="session")
def lake_2025(demo_lake) -> tuple[float, float]:
    """(t CO2e, activity) of supplier A's 2025 aluminium submission as the demo lake validated it (highest
    version, no plant): the figures the portal's history and totals start from, read, never hard-coded."""
    from core import catalog

    sub = catalog.VALIDATED["supplier_submissions"].read(RUN, root=demo_lake)
    a = sub[(sub["supplier_id"] == SUP_A) & (sub["year"] == 2025) & (sub["commodity"] == "aluminium")]
    a = a[a["version"] == a["version"].max()]
    assert len(a) == 1, a
    return float(a["tco2e"].iloc[0]), float(a["activity_qty"].iloc[0])


@pytest.fixture(scope="session")
def pw_hash() -> str:
    from co2plan.web.security import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
def store(tmp_path, pw_hash):
    from co2plan.web.store import Store

    s = Store(f"sqlite:///{tmp_path / 'web.db'}")
    s.init()
    for name, (role, sid) in USERS.items():
        s.add_user(name, pw_hash, role, sid)
    yield s
    s.dispose()


@pytest.fixture
def settings(tmp_path, demo_lake):
    from co2plan.web.settings import WebSettings

    return WebSettings(db_url=f"sqlite:///{tmp_path / 'web.db'}", lake_root=demo_lake, scenario_runner="local")


@pytest.fixture
def app(settings, store):
    from co2plan.web.app import create_app

    return create_app(settings, store)


def make_client(app):
    from fastapi.testclient import TestClient

    return TestClient(app, base_url="https://testserver")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username: str, password: str = PASSWORD, next_: str = ""):
    r = client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_of(r.text),
                                       "next": next_}, follow_redirects=False)


@pytest.fixture
def client(app):
    return make_client(app)


@pytest.fixture
def as_user(app):
    """as_user("supa") -> a logged-in TestClient."""

    def make(name: str):
        c = make_client(app)
        r = login(c, name)
        assert r.status_code == 303, r.text
        return c

    return make


@pytest.fixture
def token_for(store):
    from co2plan.web.security import new_secret

    def make(name: str) -> str:
        tok = new_secret()
        store.add_token(tok, store.user_by_name(name)["id"], "test")
        return tok

    return make


def page_csrf(client, path: str = "/supplier/submit") -> str:
    return csrf_of(client.get(path).text)
