"""The supplier network as a graph: networkx for structure, scipy.sparse for the numbers.

Edges run seller -> buyer (a supplier or a plant). The validated tables stay the source of truth; the
graph is rebuilt from them on every run.

Input weights: ``W[b, s] = share(s -> b) x alpha_c(b)``, where ``share`` is s's share of b's need of
commodity c and ``alpha_c(b)`` is commodity c's share of b's input spend (1 when b buys one commodity),
so each buyer's weights sum to 1. Exposure of plant p to node n is the share of p's inputs (by value)
whose supply chain passes n: ``E = sum_k R W^k`` with R the plant's own input weights (additive over
tiers; in a DAG a unit of input passes n at most once). Per input commodity c the same sum starts from
p's c links only (their shares). With positive shares, exposure 1 means every path passes n, which is
the structural single point of failure that ``single_points_of_failure`` also finds with dominators.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

MAX_DEPTH = 12
EPS = 1e-9


@dataclass
class SupplyGraph:
    """The network: ``g`` (networkx DiGraph seller -> buyer), ``nodes`` (index -> node_id),
    ``W`` (CSR, buyer x seller input weights), the links with their weights and the plant ids."""

    g: nx.DiGraph
    nodes: pd.Index
    W: sp.csr_matrix
    links: pd.DataFrame
    plants: list[str]

    def index(self, ids) -> np.ndarray:
        return self.nodes.get_indexer(ids)


def build_graph(suppliers: pd.DataFrame, links: pd.DataFrame, plants: pd.DataFrame) -> SupplyGraph:
    """Graph of validated suppliers, links and plants (node attributes: kind, country, commodity, tier)."""
    plant_ids = sorted(plants["plant_id"])
    nodes = pd.Index(sorted(set(suppliers["supplier_id"])) + plant_ids)
    lk = links[["link_id", "from_id", "to_id", "commodity", "annual_volume", "annual_spend_eur", "share"]].copy()
    lk = lk[lk["from_id"].isin(nodes) & lk["to_id"].isin(nodes)].reset_index(drop=True)
    spend_c = lk.groupby(["to_id", "commodity"])["annual_spend_eur"].transform("sum")
    spend_b = lk.groupby("to_id")["annual_spend_eur"].transform("sum")
    n_c = lk.groupby("to_id")["commodity"].transform("nunique")
    alpha = np.where(spend_b > 0, spend_c / spend_b.where(spend_b > 0, 1.0), 1.0 / n_c)
    lk["weight"] = lk["share"].to_numpy() * alpha
    b, s = nodes.get_indexer(lk["to_id"]), nodes.get_indexer(lk["from_id"])
    W = sp.csr_matrix((lk["weight"].to_numpy(), (b, s)), shape=(len(nodes), len(nodes)))
    W.sum_duplicates()
    g = nx.DiGraph()
    g.add_nodes_from((sid, {"kind": k, "country": co, "commodity": c, "tier": int(t)}) for sid, k, co, c, t in
                     zip(suppliers["supplier_id"], suppliers["kind"], suppliers["country"], suppliers["commodity"],
                         suppliers["tier"], strict=True))
    pl = plants.set_index("plant_id")
    g.add_nodes_from((pid, {"kind": "plant", "country": pl.at[pid, "country"], "commodity": None, "tier": 0})
                     for pid in plant_ids)
    g.add_edges_from((f, t, {"commodity": c, "weight": w, "share": sh}) for f, t, c, w, sh in
                     zip(lk["from_id"], lk["to_id"], lk["commodity"], lk["weight"], lk["share"], strict=True))
    return SupplyGraph(g, nodes, W, lk, plant_ids)


def _propagate(G: SupplyGraph, R: sp.csr_matrix) -> sp.csr_matrix:
    """sum_k R W^k, k = 0.., level by level until nothing is left (the graph is acyclic after the door)."""
    total = R.copy()
    cur = R
    for _ in range(MAX_DEPTH):
        cur = (cur @ G.W).tocsr()
        cur.eliminate_zeros()
        if cur.nnz == 0:
            break
        total = total + cur
    return total.tocsr()


def exposure(G: SupplyGraph, by_commodity: bool = True) -> pd.DataFrame:
    """plant_id, commodity (``*`` = all inputs by value), node_id, exposure in [0, 1]."""
    starts = [(p, "*") for p in G.plants]
    if by_commodity:
        pc = G.links[G.links["to_id"].isin(G.plants)][["to_id", "commodity"]].drop_duplicates()
        starts += sorted(zip(pc["to_id"], pc["commodity"], strict=True))
    st = pd.DataFrame(starts, columns=["plant_id", "commodity"])
    lk = G.links[G.links["to_id"].isin(G.plants)]
    # overall rows: the plant's weights; commodity rows: its shares of that commodity
    rows_all = st.reset_index().merge(lk, left_on="plant_id", right_on="to_id", suffixes=("", "_l"))
    rows_all = rows_all[(rows_all["commodity"] == "*") | (rows_all["commodity"] == rows_all["commodity_l"])]
    val = np.where(rows_all["commodity"] == "*", rows_all["weight"], rows_all["share"])
    R = sp.csr_matrix((val, (rows_all["index"].to_numpy(), G.index(rows_all["from_id"]))),
                      shape=(len(st), len(G.nodes)))
    E = _propagate(G, R).tocoo()
    keep = E.data > EPS
    out = pd.DataFrame({
        "plant_id": st["plant_id"].to_numpy()[E.row[keep]], "commodity": st["commodity"].to_numpy()[E.row[keep]],
        "node_id": G.nodes.to_numpy()[E.col[keep]], "exposure": np.minimum(E.data[keep], 1.0),
    })
    return out.sort_values(["plant_id", "commodity", "node_id"]).reset_index(drop=True)


def hhi(shares: np.ndarray) -> float:
    """Herfindahl-Hirschman index on 0..10,000 of shares that sum to 1."""
    s = np.asarray(shares, dtype=float)
    return float(np.sum((100.0 * s / s.sum()) ** 2)) if s.sum() > 0 else float("nan")


def concentration(suppliers: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """HHI per commodity over the suppliers' sold volume and over their countries:
    commodity, by (supplier | country), hhi, n, top, top_share."""
    v = links.groupby(["commodity", "from_id"], as_index=False)["annual_volume"].sum()
    v["country"] = v["from_id"].map(suppliers.set_index("supplier_id")["country"])
    rows = []
    for by, col in (("supplier", "from_id"), ("country", "country")):
        agg = v.groupby(["commodity", col], as_index=False)["annual_volume"].sum()
        for c, g in agg.groupby("commodity", sort=True):
            s = g["annual_volume"].to_numpy()
            top = g.iloc[int(np.argmax(s))]
            rows.append({"commodity": c, "by": by, "hhi": round(hhi(s), 1), "n": len(g), "top": top[col],
                         "top_share": float(s.max() / s.sum()) if s.sum() > 0 else float("nan")})
    return pd.DataFrame(rows)


STRUCTURAL_MAX_NODES = 5000


def single_points_of_failure(G: SupplyGraph, exp: pd.DataFrame | None = None,
                             structural: bool | None = None) -> pd.DataFrame:
    """Nodes that carry all of a plant's supply of one input commodity:
    plant_id, commodity, node_id, exposure, kind (``volume``: exposure >= 0.999; ``structural``: every
    path from the raw materials to the plant passes the node, by dominators; ``both``).

    With every share > 0 the two agree (all volume passes a node iff every path does), so the
    dominator pass (one per plant and commodity) runs by default only up to ``STRUCTURAL_MAX_NODES``
    nodes; on bigger graphs the volume test stands for both."""
    exp = exposure(G) if exp is None else exp
    if structural is None:
        structural = len(G.nodes) <= STRUCTURAL_MAX_NODES
    vol = exp[(exp["commodity"] != "*") & (exp["exposure"] >= 0.999)][["plant_id", "commodity", "node_id", "exposure"]]
    out = vol.assign(kind="volume")
    if structural:
        rev = G.g.reverse(copy=False)
        found = []
        pc = G.links[G.links["to_id"].isin(G.plants)][["to_id", "commodity", "from_id"]]
        for (p, c), grp in pc.groupby(["to_id", "commodity"], sort=True):
            start = ("__start__", p, c)
            sub_nodes = set()
            for s in grp["from_id"]:
                sub_nodes.add(s)
                sub_nodes |= nx.descendants(rev, s)
            h = nx.DiGraph(rev.subgraph(sub_nodes))
            h.add_edges_from((start, s) for s in grp["from_id"])
            sink = ("__sink__",)
            h.add_edges_from((n, sink) for n in sub_nodes if h.out_degree(n) == 0)
            idom = nx.immediate_dominators(h, start)
            d = idom[sink]
            while d != start:
                found.append((p, c, d))
                d = idom[d]
        st = pd.DataFrame(found, columns=["plant_id", "commodity", "node_id"])
        m = out.merge(st.assign(s=True), on=["plant_id", "commodity", "node_id"], how="outer")
        m["kind"] = np.where(m["kind"].notna() & m["s"].notna(), "both", np.where(m["s"].notna(), "structural", "volume"))
        key = exp.set_index(["plant_id", "commodity", "node_id"])["exposure"]
        m["exposure"] = key.reindex(pd.MultiIndex.from_frame(m[["plant_id", "commodity", "node_id"]])).to_numpy()
        out = m.drop(columns="s")
    return out.sort_values(["plant_id", "commodity", "node_id"]).reset_index(drop=True)


def dependants(G: SupplyGraph, node: str | None = None, country: str | None = None,
               plant_products: pd.DataFrame | None = None, lanes: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """Plants, products and markets that depend on a supplier (``node``) or on every supplier of a
    ``country``, at any tier: {"nodes", "plants", "products", "markets"}."""
    if (node is None) == (country is None):
        raise ValueError("give exactly one of node and country")
    srcs = [node] if node is not None else sorted(n for n, d in G.g.nodes(data=True)
                                                 if d.get("country") == country and d.get("kind") != "plant")
    reach: set[str] = set()
    for s in srcs:
        if s in G.g:
            reach |= nx.descendants(G.g, s)
    plants = sorted(reach & set(G.plants))
    products = sorted(set(plant_products.loc[plant_products["plant_id"].isin(plants), "product_id"])) \
        if plant_products is not None else []
    markets = sorted(set(lanes.loc[lanes["plant_id"].isin(plants), "market_id"])) if lanes is not None else []
    return {"nodes": srcs, "plants": plants, "products": products, "markets": markets}


def top_paths(G: SupplyGraph, source: str, target: str, k: int = 3) -> list[tuple[list[str], float]]:
    """Up to k paths source -> ... -> target with the largest product of input weights, best first."""
    if source not in G.g or target not in G.g or not nx.has_path(G.g, source, target):
        return []
    sub = G.g.subgraph((nx.descendants(G.g, source) | {source}) & (nx.ancestors(G.g, target) | {target}))
    h = nx.DiGraph()
    h.add_edges_from((u, v, {"cost": -np.log(max(d["weight"], 1e-12))}) for u, v, d in sub.edges(data=True))
    out = []
    for path in nx.shortest_simple_paths(h, source, target, weight="cost"):
        w = float(np.exp(-sum(h[u][v]["cost"] for u, v in zip(path, path[1:], strict=False))))
        out.append((path, w))
        if len(out) == k:
            break
    return out


def graph_nodes(G: SupplyGraph) -> pd.DataFrame:
    """node_id, kind, country, commodity, declared tier, depth (shortest distance to a plant), in/out degree."""
    rev = G.g.reverse(copy=False)
    depth = nx.multi_source_dijkstra_path_length(rev, set(G.plants), weight=lambda u, v, d: 1)
    rows = [{"node_id": n, "kind": d.get("kind"), "country": d.get("country"), "commodity": d.get("commodity"),
             "tier": d.get("tier"), "depth": depth.get(n), "n_buyers": G.g.out_degree(n),
             "n_sellers": G.g.in_degree(n)} for n, d in G.g.nodes(data=True)]
    df = pd.DataFrame(rows)
    df["depth"] = df["depth"].astype("Int64")
    df["tier_mismatch"] = df["depth"].notna() & (df["kind"] != "plant") & (df["tier"] != df["depth"])
    return df.sort_values("node_id").reset_index(drop=True)
