"""The scenario trigger form in a real browser (issue 11, items 1-3): numbers typed into optional fields
reach the run's conf as numbers, the form has sections and help, bad confs are refused at trigger by field,
and a run refused by the ``validate`` task says why in its note."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _wait_dag(af) -> None:
    for _ in range(60):
        if af.api("GET", "/api/v2/dags/scenario_plan")[0] == 200:
            return
        time.sleep(2)
    raise AssertionError("scenario_plan never appeared in the API server")


def _open_form(page, af):
    page.set_default_timeout(120_000)  # a shared 2-core machine: slow, not stuck
    page.goto(af.base + "/dags/scenario_plan", wait_until="domcontentloaded")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Scenario", exact=True).wait_for()
    return dialog


def _open_section(dialog, title: str) -> None:
    dialog.get_by_role("button", name=title, exact=True).click()


def _fill_number(dialog, field: str, text: str) -> None:
    box = dialog.locator(f'input[name="element_{field}"]')  # Airflow's number input (Ark NumberInput)
    assert box.get_attribute("role") == "spinbutton", f"{field} is not rendered as a number input"
    box.fill(text)
    box.press("Tab")


def test_optional_numbers_typed_in_form_reach_conf_as_numbers(airflow_server, browser, screenshots):
    af = airflow_server
    _wait_dag(af)
    page = browser.new_page(viewport={"width": 1300, "height": 1600})
    dialog = _open_form(page, af)
    _open_section(dialog, "Scenario")
    dialog.locator("#element_scenario_id").fill("cut10")
    _open_section(dialog, "CO2")
    _fill_number(dialog, "co2_reduction_pct", "10")
    # the wording the planner sees: which plan the reduction is measured against
    assert "own plan without a budget" in " ".join(dialog.inner_text().split())
    page.screenshot(path=str(screenshots / "i11-form-co2.png"), full_page=True)
    _open_section(dialog, "Plants")
    _fill_number(dialog, "max_move_pct", "20")
    # list fields show their shape, an example and the allowed ids
    text = dialog.inner_text()
    assert 'Example: [{"plant_id": "P_' in text and "Plant ids: P_CN_JV, P_DE_WOB" in text, text
    page.screenshot(path=str(screenshots / "i11-form-plants.png"), full_page=True)
    _open_section(dialog, "Solver (advanced)")
    _fill_number(dialog, "threads", "2")
    _fill_number(dialog, "time_limit_s", "30")
    before = {r["dag_run_id"] for r in af.runs()}
    dialog.get_by_role("button", name="Trigger").last.click()
    for _ in range(30):
        new = [r for r in af.runs() if r["dag_run_id"] not in before]
        if new:
            break
        time.sleep(1)
    assert new, "the form did not trigger a run: " + page.content()[-2000:]
    conf = new[0]["conf"]
    assert conf["co2_reduction_pct"] == 10 and isinstance(conf["co2_reduction_pct"], int | float)
    assert conf["max_move_pct"] == 20 and isinstance(conf["max_move_pct"], int | float)
    assert conf["threads"] == 2 and isinstance(conf["threads"], int)
    assert conf["time_limit_s"] == 30 and isinstance(conf["time_limit_s"], int | float)
    assert conf["scenario_id"] == "cut10"
    # the run is named by its scenario (the note, written by the co2plan listener in the scheduler)
    run_id = new[0]["dag_run_id"]
    for _ in range(60):
        run = af.api("GET", f"/api/v2/dags/scenario_plan/dagRuns/{run_id}")[1]
        if run.get("note"):
            break
        time.sleep(2)
    assert (run.get("note") or "").startswith("cut10 · "), run


def test_form_sections_modes_menu(airflow_server, browser, screenshots):
    af = airflow_server
    _wait_dag(af)
    page = browser.new_page(viewport={"width": 1300, "height": 1400})
    dialog = _open_form(page, af)
    for title in ("Scenario", "CO2", "Demand and output", "Plants", "Transport", "Solver (advanced)"):
        assert dialog.get_by_role("button", name=title, exact=True).count() == 1, title
    # solver internals are not among the business fields: hidden until their section opens
    assert not dialog.locator("#element_threads").first.is_visible()
    _open_section(dialog, "Transport")
    dialog.locator("#element_banned_modes").first.click()
    page.get_by_text("Air freight").first.wait_for(timeout=5000)
    page.screenshot(path=str(screenshots / "i11-form-modes.png"), full_page=True)


def test_rest_refuses_unknown_plant_by_field(airflow_server):
    af = airflow_server
    _wait_dag(af)
    code, body = af.api("POST", "/api/v2/dags/scenario_plan/dagRuns", {
        "logical_date": None, "conf": {"scenario_id": "out", "plant_capacity": [{"plant_id": "P_XX",
                                                                                  "capacity_pct": 0}]}})
    assert code == 400, body
    assert "plant_capacity" in str(body)


def test_refused_run_fails_in_validate_with_note(airflow_server):
    """A conf one Param cannot refuse (an unknown key) fails in the first task, quickly, with a note."""
    af = airflow_server
    _wait_dag(af)
    af.api("PATCH", "/api/v2/dags/scenario_plan", {"is_paused": False})
    code, run = af.api("POST", "/api/v2/dags/scenario_plan/dagRuns",
                       {"logical_date": None, "dag_run_id": "bogus__1",
                        "conf": {"scenario_id": "x", "bogus": 1}})
    assert code == 200, run
    for _ in range(90):
        run = af.api("GET", "/api/v2/dags/scenario_plan/dagRuns/bogus__1")[1]
        if run["state"] in ("failed", "success") and run.get("note"):
            break
        time.sleep(2)
    assert run["state"] == "failed", run
    assert run["note"].startswith("REFUSED — bogus: unknown parameter"), run
    tis = {t["task_id"]: t for t in af.api("GET", "/api/v2/dags/scenario_plan/dagRuns/bogus__1/taskInstances")[1][
        "task_instances"]}
    assert tis["validate"]["state"] == "failed" and tis["validate"]["try_number"] == 1
    assert tis["plan"]["state"] == "upstream_failed"
