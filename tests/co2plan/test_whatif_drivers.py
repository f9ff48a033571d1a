"""A planner's what-if on known-in-advance drivers (issue 14), end to end on a real lake, a real MLflow store and
the real solver: "the BEV subsidy in DE ends in week 5" flows from the scenario parameters through a re-forecast
with the champion model into the plan, which then builds fewer of those BEVs."""

from __future__ import annotations

import pandas as pd
import pytest

from co2plan import pipeline
from co2plan.scenario_form import check_conf, scenario_param_specs
from core import catalog
from core.tables import DRIVER_TABLES
from features.sample import generate
from features.sample_drivers import FUTURE_WEEKS
from features.validate import validate
from models.stages import forecast_demand, train_demand

RUN = "weekly-2026-11-16--a20261117T000000-beef"
DE = "M_DE_FRA"
H = 13


def _subset() -> dict[str, pd.DataFrame]:
    """The demo network cut to the products sold in Germany (all markets and plants kept)."""
    t = generate("demo")
    prods = sorted(t["demand_history"].loc[t["demand_history"]["market_id"] == DE, "product_id"].unique())
    keep = {"plants", "products", "markets", "plant_products", "lanes", "demand_history", "production_history",
            "energy_use", "shipments", "emission_factors", *DRIVER_TABLES}
    out = {}
    for name in keep:
        df = t[name]
        if "product_id" in df.columns:
            df = df[df["product_id"].isin(prods)]
        out[name] = df.reset_index(drop=True)
    return out


@pytest.fixture(scope="module")
def lake_root(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("whatif")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
    mp.setenv("MLFLOW_ARTIFACT_ROOT", (tmp / "artifacts").as_uri())
    root = str(tmp / "lake")
    for name, df in _subset().items():
        catalog.RAW[name].write(df, RUN, root=root)
    validate(RUN, root=root)
    cfg = {"n_estimators": 80, "candidates": ["lgbm"], "cv_windows": 2, "num_leaves": 7, "min_child_samples": 5}
    trained = train_demand(RUN, root=root, horizon=H, config=cfg, n_folds=1, step=H)
    forecast_demand(RUN, root=root, horizon=H)
    yield root, trained
    mp.undo()
    import mlflow

    mlflow.set_tracking_uri(None)


def _bev_de(root: str) -> list[str]:
    products = catalog.VALIDATED.products.read(RUN, root=root)
    dh = catalog.VALIDATED.demand_history.read(RUN, root=root)
    sold = set(dh.loc[(dh["market_id"] == DE) & (dh["units"] > 0), "product_id"])
    return sorted(set(products.loc[products["powertrain"] == "BEV", "product_id"]) & sold)


def test_champion_was_trained_on_the_driver_tables(lake_root):
    root, trained = lake_root
    from models import registry
    from models.pyfunc import unwrap

    assert trained["model_version"] == "1" and trained["champion_moved"]
    model = unwrap(registry.load_model(registry.champion_uri(registry.DEMAND_MODEL)))
    assert model.config.future_exog == ["incentive_pct", "price_index", "promo_pct", "working_days", "availability"]
    assert model.config.exog_monotone["price_index"] == -1
    fc = catalog.DEMAND_FORECAST.read(RUN, root=root)
    assert fc["week"].nunique() == H and (fc["yhat"] >= 0).all()


def test_subsidy_end_lowers_de_bev_demand_and_the_plan_builds_fewer(lake_root):
    root, _ = lake_root
    bev = _bev_de(root)
    assert bev, "the demo sells BEVs in Germany"
    common = {"horizon_weeks": H, "base_run_id": RUN, "pareto_points": 0, "tail_demand": False}
    assert "whatif" not in pipeline.scenario_stage({**common, "scenario_id": "same"}, root=root)
    conf = {**common, "scenario_id": "de_subsidy_ends",
            "driver_changes": [{"market_id": DE, "driver": "incentive_eur", "value": 0, "from_week": 5}]}
    assert check_conf(conf, root) == []  # the scenario form accepts it (ids checked against the base run)
    bad = {**conf, "driver_changes": [{"market_id": "M_XX", "driver": "incentive_eur", "value": 0}]}
    assert [r.field for r in check_conf(bad, root)] == ["driver_changes[0].market_id"]
    out = pipeline.scenario_stage(conf, root=root)
    wf = out["whatif"]
    assert wf["changes"][0]["rows"] == FUTURE_WEEKS - 4  # DE BEV incentive rows from week 5 to the table's end
    assert wf["units_after"] < wf["units_before"]

    f0 = catalog.DEMAND_FORECAST.read(RUN, root=root)
    f1 = catalog.DEMAND_FORECAST.read(catalog.whatif_forecast_run(RUN, "de_subsidy_ends"), root=root)
    m = f0.merge(f1, on=["week", "product_id", "market_id"], suffixes=("_0", "_1"))
    first = m["week"].min()
    late = m["week"] >= first + pd.Timedelta(weeks=4)
    de_bev = (m["market_id"] == DE) & m["product_id"].isin(bev)
    # before week 5 and outside DE BEVs nothing changes; after it DE BEV demand is lower
    assert (m.loc[~de_bev, "yhat_0"] - m.loc[~de_bev, "yhat_1"]).abs().max() < 1e-9
    assert (m.loc[de_bev & ~late, "yhat_0"] - m.loc[de_bev & ~late, "yhat_1"]).abs().max() < 1e-9
    assert m.loc[de_bev & late, "yhat_1"].sum() < 0.97 * m.loc[de_bev & late, "yhat_0"].sum()

    p0 = catalog.PRODUCTION_PLAN.read(RUN, "same", root=root)
    p1 = catalog.PRODUCTION_PLAN.read(RUN, "de_subsidy_ends", root=root)
    built0 = p0.loc[p0["product_id"].isin(bev), "units"].sum()
    built1 = p1.loc[p1["product_id"].isin(bev), "units"].sum()
    assert built1 < built0 - 0.5 * (m.loc[de_bev, "yhat_0"].sum() - m.loc[de_bev, "yhat_1"].sum())


def test_driver_changes_in_the_scenario_form():
    specs = scenario_param_specs(None)
    default, schema = specs["driver_changes"]
    assert default is None and schema["section"] == "Demand and output"
    assert "incentive_eur" in schema["description_md"]
    ok = {"scenario_id": "x", "driver_changes": [{"market_id": "M_DE_FRA", "driver": "incentive_eur",
                                                  "value": 0, "from_week": 10}]}
    assert check_conf(ok, check_base=False) == []
    bad = check_conf({"scenario_id": "x", "driver_changes": [{"driver": "rebate", "value": 1}]}, check_base=False)
    assert bad and bad[0].field.startswith("driver_changes[0]")
    beyond = check_conf({"scenario_id": "x", "horizon_weeks": 8, "driver_changes": [
        {"driver": "working_days", "value": 4, "from_week": 9}]}, check_base=False)
    assert beyond and "beyond horizon_weeks" in beyond[0].reason
    eos = check_conf({"scenario_id": "x", "driver_changes": [{"driver": "end_of_sale"}]}, check_base=False)
    assert eos and "product_id" in eos[0].reason


def test_airflow_params_accept_driver_changes_and_refuse_a_bad_one():
    """The scenario DAG's Params (built from ScenarioParams) validate driver_changes at trigger."""
    from airflow.sdk import Param
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    params = ParamsDict({n: Param(d, **s) for n, (d, s) in scenario_param_specs(None).items()})
    params.validate()  # the defaults are valid
    params["driver_changes"] = [{"market_id": "M_DE_FRA", "driver": "incentive_eur", "value": 0, "from_week": 10}]
    assert params.validate()["driver_changes"][0]["from_week"] == 10
    with pytest.raises(ParamValidationError, match="driver_changes"):
        params["driver_changes"] = [{"driver": "rebate", "value": 0}]
