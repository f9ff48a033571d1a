"""Sourcing options for the plan (suppliers.sourcing) on a hand-built network, and the scenario form's
check of supplier outages against them."""

from __future__ import annotations

import pandas as pd
import pytest
from supply_helpers import links_frame, plants_frame, suppliers_frame

from suppliers.factors import material_factors
from suppliers.sourcing import component_needs, sourcing_options


def _network():
    sup = suppliers_frame({"B1": ("battery_pack", "PL"), "B2": ("battery_pack", "CN"), "C1": ("cell", "KR")})
    links = links_frame([("B1", "P", "battery_pack", 0.6, 600.0, 60_000.0), ("B2", "P", "battery_pack", 0.4, 0.4,
                                                                            50_000.0),
                         ("C1", "B1", "cell", 1.0, 600.0)])
    links.loc[0, "capacity_per_week"] = 15.0
    links.loc[1, ["volume_unit", "capacity_per_week"]] = ["MWh", 0.01]  # 400 kWh a year, 10 kWh a week
    links.loc[2, "capacity_per_week"] = 20.0  # a cell link into a supplier: not a plant option
    return sup, links


def test_options_convert_units_and_take_cat1_intensity_else_the_material_factor():
    sup, links = _network()
    cat1 = pd.DataFrame({"link_id": ["L0"], "year": [2025], "tco2e": [36.0], "dq_tier": [1],
                         "method": ["supplier_specific"]})
    risk = pd.DataFrame({"node_id": ["B1", "B2", "P"], "kind": ["supplier", "supplier", "plant"],
                         "total": [0.2, 0.7, 0.4]})
    opt = sourcing_options(links, sup, plants_frame()["plant_id"], cat1, risk).set_index("supplier_id")
    assert list(opt.index) == ["B1", "B2"]
    assert opt.loc["B1", "tco2e_per_unit"] == pytest.approx(36.0 / 600.0) and opt.loc["B1", "dq_tier"] == 1
    pack = material_factors().set_index("commodity").loc["battery_pack", "factor_t_per_unit"]
    assert opt.loc["B2", "tco2e_per_unit"] == pytest.approx(pack) and opt.loc["B2", "dq_tier"] == 3
    assert opt.loc["B2", "capacity_per_week"] == pytest.approx(10.0) and opt.loc["B2", "unit"] == "kWh"
    assert opt.loc["B2", "price_eur_per_unit"] == pytest.approx(50_000.0 / 400.0)
    assert opt.loc["B1", "price_eur_per_unit"] == pytest.approx(100.0)
    assert opt.loc["B2", "risk"] == 0.7 and opt.loc["B2", "country"] == "CN"


def test_component_needs_by_powertrain():
    products = pd.DataFrame({"product_id": ["E", "H", "I"], "powertrain": ["BEV", "PHEV", "ICE"]})
    need = component_needs(products, {"battery_pack"})
    assert list(need["qty_per_unit"]) == [75.0, 15.0, 0.0] and set(need["commodity"]) == {"battery_pack"}


def test_scenario_form_refuses_unknown_outage_ids(tmp_path):
    from co2plan.scenario_form import supplier_outage_refusals
    from core import catalog

    root = str(tmp_path)
    sup, links = _network()
    catalog.SOURCING_OPTIONS.write(sourcing_options(links, sup, ["P"]), "r1", root=root)
    ok = supplier_outage_refusals({"base_run_id": "r1", "supplier_outage": [{"supplier_id": "B1"},
                                                                             {"country": "CN"}]}, root)
    assert ok == []
    bad = supplier_outage_refusals({"base_run_id": "r1", "supplier_outage": [{"supplier_id": "C1"},
                                                                              {"country": "FR"}]}, root)
    assert [r.field for r in bad] == ["supplier_outage[0].supplier_id", "supplier_outage[1].country"]
    none = supplier_outage_refusals({"base_run_id": "r2", "supplier_outage": [{"supplier_id": "B1"}]}, root)
    assert "no sourcing options" in none[0].reason


def test_upstream_exposure_of_option_suppliers_by_node_and_country():
    from suppliers.graph import build_graph
    from suppliers.sourcing import sourcing_upstream

    sup = suppliers_frame({"B1": ("battery_pack", "PL"), "C1": ("cell", "KR"), "C2": ("cell", "CN"),
                           "K1": ("cathode", "KR")})
    links = links_frame([("B1", "P", "battery_pack", 1.0, 100.0), ("C1", "B1", "cell", 0.75, 75.0),
                         ("C2", "B1", "cell", 0.25, 25.0), ("K1", "C1", "cathode", 1.0, 1.0),
                         ("K1", "C2", "cathode", 1.0, 1.0)])
    up = sourcing_upstream(build_graph(sup, links, plants_frame()), ["B1"]).set_index("node_id")["exposure"]
    assert up["C1"] == pytest.approx(0.75) and up["C2"] == pytest.approx(0.25)
    assert up["K1"] == pytest.approx(1.0)  # both cell makers buy all their cathode from K1
    # Korea: C1 (0.75) and K1 behind C2 (0.25); the path C1 -> K1 counts once
    assert up["country:KR"] == pytest.approx(1.0) and up["country:CN"] == pytest.approx(0.25)
