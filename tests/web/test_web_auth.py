"""Authentication and the attacks on it: password hashing, session cookies and fixation, logout, timeouts,
login throttling, user enumeration, CSRF, open redirects, security headers, host header, body size."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from conftest import PASSWORD, csrf_of, login, make_client, page_csrf


def test_passwords_are_argon2id_and_old_parameters_are_rehashed_on_login(app, store):
    from argon2 import PasswordHasher

    assert store.user_by_name("supa")["pw_hash"].startswith("$argon2id$")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    store.set_pw_hash(store.user_by_name("viewer")["id"], weak)
    c = make_client(app)
    assert login(c, "viewer").status_code == 303
    new = store.user_by_name("viewer")["pw_hash"]
    assert new != weak and "m=65536,t=3,p=4" in new


def test_session_cookie_flags_and_login_lands_on_the_role_home(client):
    r = login(client, "supa")
    assert r.status_code == 303 and r.headers["location"] == "/supplier"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-co2plan=")
    for flag in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
        assert flag.lower() in cookie.lower()
    assert login(make_client(client.app), "planner").headers["location"] == "/enterprise"


def test_session_fixation_a_planted_session_id_is_never_adopted(app):
    c = make_client(app)
    planted = "attacker-chosen-session-id-0123456789"
    c.cookies.set("__Host-co2plan", planted, domain="testserver")
    r = login(c, "supa")
    assert r.status_code == 303
    issued = r.cookies.get("__Host-co2plan")
    assert issued and issued != planted
    attacker = make_client(app)
    attacker.cookies.set("__Host-co2plan", planted, domain="testserver")
    assert attacker.get("/supplier", follow_redirects=False).status_code == 303  # to /login


def test_logout_revokes_the_session_server_side(app, as_user):
    c = as_user("supa")
    sid = c.cookies.get("__Host-co2plan")
    assert c.post("/logout", data={"csrf_token": page_csrf(c)}, follow_redirects=False).status_code == 303
    replay = make_client(app)
    replay.cookies.set("__Host-co2plan", sid, domain="testserver")
    r = replay.get("/supplier", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_idle_sessions_expire(app, store, as_user):
    c = as_user("supa")
    from co2plan.web.store import sessions

    with store.engine.begin() as con:
        con.execute(sessions.update().values(last_seen=dt.datetime(2000, 1, 1)))
    assert c.get("/supplier", follow_redirects=False).status_code == 303


def test_login_throttle_locks_the_account_even_for_the_right_password(client):
    for _ in range(5):
        assert login(client, "supa", "wrong password 123").status_code == 401
    r = login(client, "supa")
    assert r.status_code == 429
    assert 0 < int(r.headers["retry-after"]) <= 900


def test_no_user_enumeration(client):
    a = login(client, "supa", "wrong password 123")
    b = login(client, "nobody-here", "wrong password 123")
    assert a.status_code == b.status_code == 401
    assert "Wrong user name or password." in a.text and "Wrong user name or password." in b.text


def test_csrf_missing_foreign_or_cross_origin_tokens_are_refused(app, as_user):
    a, b = as_user("supa"), as_user("supb")
    row = {"plant_id": "P_CN_ANT", "year": "2025", "commodity": "aluminium", "tco2e": "10", "method": "hybrid",
           "dq_tier": "2"}
    assert a.post("/supplier/submit", data=row, follow_redirects=False).status_code == 403
    assert a.post("/supplier/submit", data={**row, "csrf_token": page_csrf(b)},
                  follow_redirects=False).status_code == 403
    tok = page_csrf(a)
    assert a.post("/supplier/submit", data={**row, "csrf_token": tok}, headers={"Origin": "https://evil.example"},
                  follow_redirects=False).status_code == 403
    assert a.post("/supplier/submit", data={**row, "csrf_token": tok}, headers={"Sec-Fetch-Site": "cross-site"},
                  follow_redirects=False).status_code == 403
    # a cookie-authenticated JSON call without the header is refused too
    assert a.post("/api/v1/supplier/submissions", json={"rows": [row]}).status_code == 403
    assert a.post("/api/v1/supplier/submissions", json={"rows": [row]},
                  headers={"X-CSRF-Token": tok}).status_code == 201
    assert a.post("/supplier/submit", data={**row, "csrf_token": tok}, follow_redirects=False).status_code == 303


def test_bearer_tokens_need_no_csrf_token_and_bad_tokens_get_401(client, token_for):
    tok = token_for("supa")
    rows = {"rows": [{"plant_id": "P_CN_ANT", "year": 2025, "commodity": "aluminium", "tco2e": 5,
                      "method": "hybrid", "dq_tier": 2}]}
    r = client.post("/api/v1/supplier/submissions", json=rows, headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 201
    r = client.post("/api/v1/supplier/submissions", json=rows, headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401


def test_login_form_needs_its_csrf_token(client):
    client.get("/login")
    r = client.post("/login", data={"username": "supa", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403


def test_open_redirects_are_refused(app):
    from urllib.parse import urlsplit

    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                 "http:/evil.example", " //evil.example", "/\t/evil.example"):
        loc = login(make_client(app), "supa", next_=evil).headers["location"]
        assert loc == "/supplier", (evil, loc)
    # a header-injection attempt stays a harmless path on this site
    loc = login(make_client(app), "supa", next_="/%0d%0aLocation: https://evil.example").headers["location"]
    assert "\r" not in loc and "\n" not in loc and not urlsplit(loc).netloc and not loc.startswith("//")
    assert login(make_client(app), "supa", next_="/supplier/submissions").headers["location"] == "/supplier/submissions"


def test_security_headers_and_no_store(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert "server" not in r.headers
    assert "app;dur=" in r.headers["server-timing"]


def test_unknown_host_header_is_refused(client):
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_oversized_bodies_get_413_before_parsing(app, as_user, settings):
    c = as_user("supa")
    big = b"year,commodity,tco2e,method,dq_tier\n" + b"x" * (settings.max_upload_bytes + 100 * 1024)
    r = c.post("/api/v1/supplier/submissions", content=big,
               headers={"content-type": "text/csv", "X-CSRF-Token": page_csrf(c)})
    assert r.status_code == 413


def test_login_page_sets_a_pre_session_token(client):
    r = client.get("/login")
    assert csrf_of(r.text) == r.cookies.get("__Host-co2plan_pre")


def test_user_binding_is_enforced_by_the_database(store, pw_hash):
    import pytest

    with pytest.raises(sa.exc.IntegrityError):
        store.add_user("unbound", pw_hash, "supplier", None)
    with pytest.raises(sa.exc.IntegrityError):
        store.add_user("bound-viewer", pw_hash, "viewer", "SUP_X")


def test_plotly_is_served_from_the_python_package_and_pages_reference_no_external_url(as_user):
    from co2plan.web.charts import plotly_js_path, plotly_version

    c = as_user("viewer")
    html = c.get("/enterprise").text
    src = f"/static/vendor/plotly-{plotly_version()}.min.js"
    assert f'<script src="{src}">' in html
    js = c.get(src)
    assert js.status_code == 200 and js.content == plotly_js_path().read_bytes()
    import re

    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)
