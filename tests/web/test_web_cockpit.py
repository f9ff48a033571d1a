"""The scenario form generated from ScenarioParams, its round trip and cross-field checks, the JSON
trigger API, charts' metadata and palette, and the Airflow REST client's protocol."""

from __future__ import annotations

import json

import httpx
import pytest
from conftest import page_csrf

from co2plan.web import charts, forms


class Form(dict):
    """The multi-dict interface parse_form needs (get, getlist, in)."""

    def getlist(self, k):
        v = self.get(k, [])
        return v if isinstance(v, list) else [v]


def test_widgets_types_and_business_fields_first():
    w = forms.widgets()
    kinds = {x["name"]: x["kind"] for g in w.values() for x in g}
    assert kinds["horizon_weeks"] == "number" and kinds["demand_quantile"] == "select"
    assert kinds["banned_modes"] == "checkboxes" and kinds["plant_capacity"] == "rows"
    assert kinds["scenario_id"] == "text"
    assert [x["name"] for x in w["solver"]] == list(forms.SOLVER_FIELDS)
    assert not set(forms.SOLVER_FIELDS) & {x["name"] for x in w["business"]}
    horizon = next(x for x in w["business"] if x["name"] == "horizon_weeks")
    assert (horizon["min"], horizon["max"], horizon["step"]) == (1, 104, "1")


def test_defaults_round_trip_to_scenario_params_defaults():
    from optimisation import ScenarioParams

    posted = Form()
    for g in forms.widgets().values():
        for x in g:
            if x["kind"] in ("number", "text", "select"):
                posted[x["name"]] = "" if x["value"] is None else str(x["value"])
            elif x["kind"] == "checkboxes":  # a browser posts the boxes checked by default
                posted[x["name"]] = list(x["value"])
    conf, errors = forms.parse_form(posted)
    assert errors == {}
    assert ScenarioParams.model_validate(conf) == ScenarioParams()


def test_rows_and_checkboxes_parse_and_cross_field_rules_are_named():
    posted = Form({"scenario_id": "s1", "horizon_weeks": "6", "banned_modes": ["air", "bogus"],
                   "budget_scopes": ["scope1", "scope2_market", "scope3_cat4"],
                   "plant_capacity-0-plant_id": "P_DE_WOB", "plant_capacity-0-capacity_pct": "0",
                   "plant_capacity-0-from_week": "9", "plant_capacity-1-plant_id": "",
                   "plant_capacity-1-capacity_pct": ""})
    conf, errors = forms.parse_form(posted)
    assert conf["banned_modes"] == ["air"]
    assert conf["plant_capacity"] == [{"plant_id": "P_DE_WOB", "capacity_pct": 0.0, "from_week": 9}]
    assert "from_week 9 is beyond horizon_weeks 6" in forms.validate(conf)[""]
    assert "baseline" in forms.validate({"scenario_id": "baseline"})[""]
    assert forms.validate({"scenario_id": "x", "horizon_weeks": 0}).keys() == {"horizon_weeks"}


def test_json_trigger_validates_before_starting_and_refuses_a_taken_id(app, as_user):
    started = []

    class Recorder:
        def trigger(self, scenario_id, conf, note):
            started.append((scenario_id, conf, note))
            return f"scenario-{scenario_id}"

        def state(self, run_id):
            return "running"

    app.state.runner = Recorder()
    pl = as_user("planner")
    h = {"X-CSRF-Token": page_csrf(pl, "/enterprise")}
    bad = pl.post("/api/v1/scenarios", json={"scenario_id": "s2", "co2_budget_t": 5, "co2_reduction_pct": 5},
                  headers=h)
    assert bad.status_code == 422 and "give one, not both" in json.dumps(bad.json()) and started == []
    ok = pl.post("/api/v1/scenarios", json={"scenario_id": "s2", "co2_reduction_pct": 5, "horizon_weeks": 4},
                 headers=h)
    assert ok.status_code == 201 and ok.json()["base_run_id"] == "weekly-2026-11-30"
    assert started[0][0] == "s2" and started[0][1]["base_run_id"] == "weekly-2026-11-30"
    assert "planner" in started[0][2]
    assert pl.post("/api/v1/scenarios", json={"scenario_id": "s2"}, headers=h).status_code == 409
    assert pl.get("/api/v1/scenarios/s2").json()["state"] == "running"


def test_every_chart_names_unit_period_and_boundary_and_colours_have_contrast():
    with pytest.raises(ValueError, match="unit"):
        charts.chart("x", [], title="t", unit="", period="2025", boundary="b")
    for colour in [*charts.PALETTE, *charts.SCOPE_COLOURS.values()]:
        assert charts.contrast_ratio(colour) >= 3.0, colour
    c = charts.chart("x", [charts.bar("a", [1], [2], charts.PALETTE[0])], title="t", unit="t CO2e",
                     period="2025", boundary="all plants")
    fig = json.loads(c["json"])
    assert fig["layout"]["yaxis"]["title"]["text"] == "t CO2e" and fig["layout"]["font"]["size"] >= 13


def test_airflow_client_protocol():
    """The REST calls the runner makes (against a recording transport; the real server is exercised by
    the DAG tests): token, trigger with logical_date null, state, and one token refresh on 401."""
    from co2plan.web.runner import AirflowRunner, RunnerError
    from co2plan.web.settings import WebSettings

    seen, tokens = [], iter(["t1", "t2"])

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append((req.method, req.url.path, req.headers.get("authorization"),
                     json.loads(req.content) if req.content else None))
        if req.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": next(tokens)})
        if req.headers.get("authorization") == "Bearer t1" and req.method == "GET":
            return httpx.Response(401)
        if req.method == "POST":
            return httpx.Response(200, json={"dag_run_id": "scenario-s"})
        return httpx.Response(200, json={"state": "success"})

    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("s3cret\n")
    r = AirflowRunner(WebSettings(airflow_password_file=fh.name), transport=httpx.MockTransport(handler))
    assert r.trigger("s", {"scenario_id": "s"}, "by planner") == "scenario-s"
    assert r.state("scenario-s") == "success"
    assert seen[0] == ("POST", "/auth/token", None, {"username": "admin", "password": "s3cret"})
    assert seen[1][1] == "/api/v2/dags/scenario_plan/dagRuns" and seen[1][3]["logical_date"] is None
    assert [s[2] for s in seen[2:]] == ["Bearer t1", None, "Bearer t2"]
    with pytest.raises(RunnerError, match="PASSWORD_FILE"):
        AirflowRunner(WebSettings(airflow_password_file="")).trigger("s", {}, "")
