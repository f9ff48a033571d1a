"""The supplier graph on hand-built networks: exposure by hand, concentration, single points of failure."""

from __future__ import annotations

import pytest
from supply_helpers import links_frame, plants_frame, suppliers_frame

from suppliers.graph import (
    build_graph,
    concentration,
    dependants,
    exposure,
    hhi,
    single_points_of_failure,
    top_paths,
)


def _plan_example():
    # P <- A (0.6) + B (0.4); A <- M1 (0.5) + M2 (0.5); B <- M1 (1.0)
    sup = suppliers_frame({"A": ("battery_pack", "PL"), "B": ("battery_pack", "HU"), "M1": ("cell", "CN"),
                           "M2": ("cell", "KR")})
    links = links_frame([("A", "P", "battery_pack", 0.6, 600.0), ("B", "P", "battery_pack", 0.4, 400.0),
                         ("M1", "A", "cell", 0.5, 300.0), ("M2", "A", "cell", 0.5, 300.0),
                         ("M1", "B", "cell", 1.0, 400.0)])
    return build_graph(sup, links, plants_frame()), sup, links


def test_exposure_is_the_volume_weighted_share_through_each_node_by_hand():
    G, _, _ = _plan_example()
    e = exposure(G).set_index(["plant_id", "commodity", "node_id"])["exposure"]
    assert e[("P", "*", "A")] == pytest.approx(0.6)
    assert e[("P", "*", "B")] == pytest.approx(0.4)
    assert e[("P", "*", "M1")] == pytest.approx(0.6 * 0.5 + 0.4 * 1.0)  # 0.7
    assert e[("P", "*", "M2")] == pytest.approx(0.3)
    assert e[("P", "battery_pack", "M1")] == pytest.approx(0.7)


def test_a_buyer_of_two_commodities_weights_them_by_spend():
    # P buys packs from A (spend 300) and steel from S (spend 100): 3/4 of its inputs pass A
    sup = suppliers_frame({"A": ("battery_pack", "PL"), "S": ("steel", "DE")})
    links = links_frame([("A", "P", "battery_pack", 1.0, 10.0, 300.0), ("S", "P", "steel", 1.0, 5.0, 100.0)])
    e = exposure(build_graph(sup, links, plants_frame())).set_index(["commodity", "node_id"])["exposure"]
    assert e[("*", "A")] == pytest.approx(0.75) and e[("*", "S")] == pytest.approx(0.25)
    assert e[("steel", "S")] == pytest.approx(1.0)


def test_a_single_cell_maker_behind_two_packers_is_a_single_point_of_failure_by_both_methods():
    sup = suppliers_frame({"K1": ("battery_pack", "PL"), "K2": ("battery_pack", "HU"), "C": ("cell", "CN")})
    links = links_frame([("K1", "P", "battery_pack", 0.5, 50.0), ("K2", "P", "battery_pack", 0.5, 50.0),
                         ("C", "K1", "cell", 1.0, 50.0), ("C", "K2", "cell", 1.0, 50.0)])
    spof = single_points_of_failure(build_graph(sup, links, plants_frame()))
    assert spof[["node_id", "kind"]].values.tolist() == [["C", "both"]]
    assert spof["exposure"].iloc[0] == pytest.approx(1.0)
    # dual-sourced cells: no single point of failure
    sup2 = suppliers_frame({"K1": ("battery_pack", "PL"), "K2": ("battery_pack", "HU"), "C1": ("cell", "CN"),
                            "C2": ("cell", "KR")})
    links2 = links_frame([("K1", "P", "battery_pack", 0.5, 50.0), ("K2", "P", "battery_pack", 0.5, 50.0),
                          ("C1", "K1", "cell", 0.5, 25.0), ("C2", "K1", "cell", 0.5, 25.0),
                          ("C1", "K2", "cell", 0.5, 25.0), ("C2", "K2", "cell", 0.5, 25.0)])
    assert single_points_of_failure(build_graph(sup2, links2, plants_frame())).empty


def test_a_structural_bottleneck_with_a_tiny_share_is_found_by_dominators_only():
    # every path runs through the single packer K, and K is the plant's only pack seller
    sup = suppliers_frame({"K": ("battery_pack", "PL"), "C1": ("cell", "CN"), "C2": ("cell", "KR")})
    links = links_frame([("K", "P", "battery_pack", 1.0, 50.0), ("C1", "K", "cell", 0.5, 25.0),
                         ("C2", "K", "cell", 0.5, 25.0)])
    spof = single_points_of_failure(build_graph(sup, links, plants_frame()))
    assert spof[["node_id", "kind"]].values.tolist() == [["K", "both"]]


def test_hhi_and_concentration_per_commodity():
    assert hhi([0.5, 0.3, 0.2]) == pytest.approx(3800.0)
    sup = suppliers_frame({"A": ("cell", "CN"), "B": ("cell", "CN"), "C": ("cell", "KR")})
    links = links_frame([("A", "P", "cell", 0.5, 50.0), ("B", "P", "cell", 0.3, 30.0), ("C", "P", "cell", 0.2, 20.0)])
    c = concentration(sup, links).set_index("by")
    assert c.loc["supplier", "hhi"] == pytest.approx(3800.0)
    assert c.loc["country", "hhi"] == pytest.approx(80.0 ** 2 + 20.0 ** 2)
    assert c.loc["country", "top"] == "CN" and c.loc["country", "top_share"] == pytest.approx(0.8)


def test_dependants_and_top_paths_of_a_deep_supplier():
    G, _, _ = _plan_example()
    import pandas as pd

    pp = pd.DataFrame({"plant_id": ["P", "P"], "product_id": ["K1", "K2"]})
    lanes = pd.DataFrame({"plant_id": ["P"], "market_id": ["M_DE"]})
    d = dependants(G, node="M1", plant_products=pp, lanes=lanes)
    assert d == {"nodes": ["M1"], "plants": ["P"], "products": ["K1", "K2"], "markets": ["M_DE"]}
    assert dependants(G, country="KR")["plants"] == ["P"]
    paths = top_paths(G, "M1", "P")
    assert [p for p, _ in paths] == [["M1", "B", "P"], ["M1", "A", "P"]]
    assert [w for _, w in paths] == pytest.approx([0.4, 0.3])
