"""The three views in headless Chromium (Debian's /usr/bin/chromium driven by the Python Playwright
package) against a real ``co2plan web serve`` on 127.0.0.1: public figures, a supplier uploading a CSV with
one bad row and then a correction, the enterprise overview drilled down to a ledger row's lineage, and a
planner starting a scenario from the cockpit and seeing it beside the baseline. Screenshots go to
CO2PLAN_SHOTS (default artifacts/screenshots/)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import PASSWORD, RUN, USERS

from core.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("CO2PLAN_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("CO2PLAN_SHOTS", PROJECT_ROOT / "artifacts" / "screenshots"))
PORTS = range(int(os.environ.get("CO2PLAN_WEB_TEST_PORT", "28710")), 28800)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port in 28710-28799")


@pytest.fixture(scope="module")
def server(demo_lake, tmp_path_factory, pw_hash):
    from co2plan.web.store import Store

    d = tmp_path_factory.mktemp("web")
    db = f"sqlite:///{d / 'web.db'}"
    store = Store(db)
    store.init()
    for name, (role, sid) in USERS.items():
        store.add_user(name, pw_hash, role, sid)
    store.assure(RUN, "Limited assurance, ISAE 3410 (test)", 1)
    store.dispose()
    port = _free_port()
    env = {**os.environ, "LAKE": demo_lake, "CO2PLAN_WEB_DB": db}
    log = open(d / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "co2plan.cli", "web", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--runner", "local", "--log-level", "warning"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(900):  # imports + warm-up run before the server listens (slow on a loaded machine)
        try:
            if httpx.get(base + "/", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError((d / "server.log").read_text())
    yield base
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = ctx.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    yield pg
    ctx.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"i17-{name}.png"), full_page=True)


def _login(page, base: str, user: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _charts_drawn(page) -> int:
    page.wait_for_selector(".chart .main-svg", timeout=15000)
    return page.locator(".chart .main-svg").count()


def test_public_view_shows_the_assured_trajectory(server, page):
    page.goto(server + "/")
    assert _charts_drawn(page) >= 1
    assert "Progress against base year" in page.content()
    assert RUN in page.content()
    _shot(page, "public")
    assert not [e for e in page.console_errors if "Content Security Policy" in e or "Refused" in e]


def test_supplier_submits_a_csv_with_a_bad_row_then_a_correction(server, page, tmp_path):
    _login(page, server, "supa")
    assert page.url.endswith("/supplier")
    _charts_drawn(page)
    _shot(page, "supplier-overview")
    first = tmp_path / "emissions-2025.csv"
    first.write_text("year,commodity,plant_id,product_id,activity_qty,activity_unit,tco2e,method,dq_tier\n"
                     "2025,aluminium,P_CN_ANT,,1000,t,11500,hybrid,2\n"
                     "2026,aluminium,P_CN_ANT,,1000,t,-40,hybrid,2\n2025,aluminium,P_CN_CHC,,500,t,6000,hybrid,2\n")
    page.goto(server + "/supplier/submit")
    page.set_input_files("input[type=file]", str(first))
    page.click("form[action='/supplier/upload'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/supplier/submissions/" in page.url
    reason = page.locator("table.quarantine td.reason").all_inner_texts()
    assert reason == ["tco2e: below 0"]
    assert "2 stored" in page.content() and "1 quarantined" in page.content()
    _shot(page, "supplier-quarantine")
    fix = tmp_path / "correction.csv"
    fix.write_text("year,commodity,plant_id,product_id,activity_qty,activity_unit,tco2e,method,dq_tier\n" + "2025,aluminium,P_CN_ANT,,1000,t,11950,supplier_specific,1\n")
    page.goto(server + "/supplier/submit")
    page.set_input_files("input[type=file]", str(fix))
    page.click("form[action='/supplier/upload'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.click("text=v2")
    page.wait_for_load_state("networkidle")
    rows = page.locator("tr.version").all_inner_texts()
    assert len(rows) == 2 and rows[0].startswith("v2 (current)") and "11,950.0" in rows[0] and "11,500.0" in rows[1]
    _shot(page, "supplier-versions")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_enterprise_overview_drills_down_to_a_ledger_rows_lineage(server, page):
    _login(page, server, "viewer")
    assert page.url.endswith("/enterprise")
    assert _charts_drawn(page) >= 4
    assert "do not add" in page.content()
    _shot(page, "enterprise-overview")
    page.click("a:has-text(\"natural_gas (scope1)\")")
    page.wait_for_load_state("networkidle")
    assert "/enterprise/ledger" in page.url
    first = page.locator("table.ledger tbody tr").first.inner_text()
    assert "energy_use#" in first and "natural_gas" in first
    factor = page.locator("table.ledger tbody tr").first.locator("td").nth(8).inner_text()
    assert page.locator(f"table.factors tr[id='f-{factor}']").count() == 1
    _shot(page, "enterprise-ledger")
    assert not [e for e in page.console_errors if "Content Security Policy" in e or "Refused" in e]


def test_planner_starts_a_scenario_and_sees_it_beside_the_baseline(server, page):
    _login(page, server, "planner")
    page.goto(server + "/enterprise/scenarios/new")
    labels = page.locator(".scenario-form > .field").evaluate_all("els => els.map(e => e.dataset.field)")
    assert labels.index("co2_reduction_pct") < labels.index("scenario_id") + 20  # business fields first
    assert page.locator("input[name=horizon_weeks]").get_attribute("type") == "number"
    assert page.locator("select[name=demand_quantile]").count() == 1
    # a cross-field rule is checked before anything starts
    page.fill("input[name=scenario_id]", "web-cut10")
    page.fill("input[name=horizon_weeks]", "8")  # the baseline's horizon in this lake
    page.fill("input[name=co2_budget_t]", "1000")
    page.fill("input[name=co2_reduction_pct]", "10")
    page.click("form.scenario-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "give one, not both" in page.locator("#form-error").inner_text()
    _shot(page, "cockpit-error")
    page.fill("input[name=co2_budget_t]", "")
    page.check("input[name=banned_modes][value=air]")
    page.click("form.scenario-form button[type=submit]")
    page.wait_for_url("**/enterprise/scenarios/web-cut10", timeout=15000)
    page.wait_for_selector("table.compare", timeout=240000)  # poll.js reloads when the run has finished
    head = page.locator("table.compare thead").inner_text()
    assert "baseline" in head and "web-cut10" in head
    assert "success" in page.locator("#scenario-state").inner_text()
    _charts_drawn(page)
    _shot(page, "cockpit-result")


def test_planner_panels_levers_forecast_and_the_supplier_graph(server, page):
    """After the scenario above (a 10 % cut): its CO2 price and MAC curve, the reconciled forecast and the
    supplier graph around a plant, drawn by Plotly from the package's own JavaScript."""
    _login(page, server, "planner")
    page.goto(server + "/enterprise/levers?scenario=web-cut10")
    assert _charts_drawn(page) >= 1
    assert "Marginal abatement cost curve" in page.content() and "EUR/t CO2e" in page.content()
    _shot(page, "enterprise-levers")
    page.goto(server + "/enterprise/forecast")
    assert _charts_drawn(page) >= 1 and "reconciled intervals" in page.content()
    _shot(page, "enterprise-forecast")
    page.goto(server + "/enterprise/supply?plant_id=P_DE_ZWI")
    assert _charts_drawn(page) >= 2 and "Supplier graph around P_DE_ZWI" in page.content()
    assert page.locator("table.alerts tbody tr").count() >= 1
    _shot(page, "enterprise-supply")
    assert not [e for e in page.console_errors if "Content Security Policy" in e or "Refused" in e]
