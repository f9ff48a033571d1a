"""ScenarioParams: validation errors name the field; the JSON schema is self-contained for Airflow."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from optimisation.scenario import ScenarioParams, as_params


def test_defaults_and_dict_input():
    p = as_params({"co2_budget_t": 1000, "plant_capacity": [{"plant_id": "A", "capacity_pct": 0}]})
    assert p.co2_budget_t == 1000 and p.plant_capacity[0].to_week is None
    assert as_params(None) == ScenarioParams()


@pytest.mark.parametrize("bad, field", [
    ({"co2_budget_t": 10, "co2_reduction_pct": 5}, "co2_budget_t and co2_reduction_pct"),
    ({"output_target_units": 10, "output_target_pct": 5}, "output_target_units and output_target_pct"),
    ({"horizon_weeks": 0}, "horizon_weeks"),
    ({"demand_quantile": "p99"}, "demand_quantile"),
    ({"carbon_price_eur_per_t": -1}, "carbon_price_eur_per_t"),
    ({"plant_capacity": [{"plant_id": "A", "capacity_pct": 50, "from_week": 20}]}, "plant_capacity"),
    ({"demand_shocks": [{"pct": 10}]}, "demand_shocks"),
    ({"banned_modes": ["teleport"]}, "banned_modes"),
    ({"start_week": "2026-01-07"}, "start_week"),
    ({"solver": "gurobi"}, "solver"),
    ({"co2_budget": 5}, "co2_budget"),  # unknown field is refused, not ignored
])
def test_validation_errors_name_the_field(bad, field):
    with pytest.raises(ValidationError) as err:
        ScenarioParams.model_validate(bad)
    assert field in str(err.value)


def test_json_schema_is_self_contained_and_validates():
    schema = ScenarioParams.model_json_schema()
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in schema
    props = schema["properties"]
    assert props["plant_capacity"]["items"]["properties"]["capacity_pct"]["maximum"] == 500
    assert "t CO2e" in props["co2_budget_t"]["title"]
    jsonschema.validate(ScenarioParams().model_dump(mode="json"), schema)
    good = ScenarioParams(co2_reduction_pct=10, banned_modes=["air"],
                          demand_shocks=[{"product_id": "K", "pct": -20}]).model_dump(mode="json")
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "horizon_weeks": 0}, schema)


def test_flat_params_are_scalars():
    flat = ScenarioParams(banned_modes=["air"]).flat_params()
    assert flat["banned_modes"] == '["air"]' and flat["co2_budget_t"] == "none"
    assert all(isinstance(v, (str, int, float)) for v in flat.values())
