"""Cross-row rules of the supply tables at the door (issue 16), run by ``features.validate.validate_tables``
after the per-table contract checks, on the valid rows.

Rules (rule key: meaning), each quarantining the rows with a reason; ``rows_in == valid + quarantined``
still holds per table:

- ``to_id:reference``: a link whose buyer is neither a valid supplier nor a valid plant (a dangling end);
- ``link:cycle``: every link inside a cycle of the seller -> buyer graph (a non-trivial strongly
  connected component, or a self-loop); the reason names one cycle, e.g. ``A -> B -> C -> A``;
- ``share:sum``: after the rows above are gone, a buyer's shares of one commodity that do not sum to
  1 +- ``SHARE_TOLERANCE``; the whole (to_id, commodity) group is quarantined and the reason gives the sum;
- ``row:score_xor_grade`` (esg_scores): exactly one of score and grade; a numeric score needs
  scale_min < scale_max and must lie on that scale;
- ``row:no_subject`` (supplier_events): an event names a supplier or a country.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SHARE_TOLERANCE = 0.01


def _cycle_edges(links: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Mask of links inside a cycle and, per such link, the text of one cycle through its component."""
    import networkx as nx  # on first use: validate imports this module and must stay light

    g = nx.DiGraph()
    g.add_edges_from(zip(links["from_id"], links["to_id"], strict=True))
    comp: dict[str, int] = {}
    names: dict[int, str] = {}
    for i, scc in enumerate(sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)):
        for n in scc:
            comp[n] = i
        cyc = nx.find_cycle(g.subgraph(scc), source=scc[0])
        names[i] = " -> ".join([cyc[0][0], *[v for _, v in cyc]])
    a = links["from_id"].map(comp)
    b = links["to_id"].map(comp)
    inside = (a.notna() & (a == b)).to_numpy() | (links["from_id"] == links["to_id"]).to_numpy()
    text = np.where(links["from_id"] == links["to_id"], links["from_id"] + " -> " + links["from_id"],
                    a.map(names).fillna("").to_numpy())
    return inside, text.astype(object)


def link_problems(links: pd.DataFrame, supplier_ids: set, plant_ids: set) -> list[tuple[np.ndarray, str, np.ndarray]]:
    """(mask, rule key, reason per row) for the valid ``supply_links`` rows, in rule order."""
    out = []
    dangling = ~links["to_id"].isin(supplier_ids | plant_ids).to_numpy()
    if dangling.any():
        out.append((dangling, "to_id:reference",
                    ("to_id: '" + links["to_id"].astype(str) + "' not found in suppliers or plants").to_numpy()))
    keep = ~dangling
    inside, text = _cycle_edges(links[keep])
    cyc = np.zeros(len(links), dtype=bool)
    cyc[np.flatnonzero(keep)[inside]] = True
    if cyc.any():
        msg = np.full(len(links), "", dtype=object)
        msg[np.flatnonzero(keep)[inside]] = "link in a cycle: " + text[inside]
        out.append((cyc, "link:cycle", msg))
    keep &= ~cyc
    k = links[keep]
    total = k.groupby(["to_id", "commodity"])["share"].transform("sum")
    off = (total - 1.0).abs() > SHARE_TOLERANCE
    if off.any():
        mask = np.zeros(len(links), dtype=bool)
        mask[np.flatnonzero(keep)[off.to_numpy()]] = True
        msg = np.full(len(links), "", dtype=object)
        msg[mask] = ("shares of (" + k["to_id"][off] + ", " + k["commodity"][off] + ") sum to "
                     + total[off].round(4).astype(str) + f" (1 +- {SHARE_TOLERANCE} expected)").to_numpy()
        out.append((mask, "share:sum", msg))
    return out


def esg_problems(esg: pd.DataFrame) -> list[tuple[np.ndarray, str, np.ndarray]]:
    has_s, has_g = esg["score"].notna().to_numpy(), esg["grade"].notna().to_numpy()
    lo, hi, s = esg["scale_min"].to_numpy(), esg["scale_max"].to_numpy(), esg["score"].to_numpy()
    with np.errstate(invalid="ignore"):
        bad_scale = has_s & ~((lo < hi) & (s >= lo) & (s <= hi))
    bad = (has_s == has_g) | bad_scale
    msg = np.where(has_s & has_g, "both score and grade given",
                   np.where(~has_s & ~has_g, "neither score nor grade given",
                            "score not on its scale [scale_min, scale_max]")).astype(object)
    return [(bad, "row:score_xor_grade", msg)] if bad.any() else []


def event_problems(ev: pd.DataFrame) -> list[tuple[np.ndarray, str, np.ndarray]]:
    bad = (ev["supplier_id"].isna() & ev["country"].isna()).to_numpy()
    return [(bad, "row:no_subject", np.full(len(ev), "neither supplier_id nor country given", dtype=object))] \
        if bad.any() else []


def apply(raw: dict[str, pd.DataFrame], result: Any, as_text: Any) -> None:
    """Move the rows the rules above refuse from ``result.valid`` to ``result.quarantine`` (in place);
    ``as_text(raw[table])`` gives the input in text form, for the quarantine rows."""
    v = result.valid
    jobs = []
    if "supply_links" in v and "suppliers" in v and "plants" in v:
        jobs.append(("supply_links", link_problems(v["supply_links"], set(v["suppliers"]["supplier_id"]),
                                                   set(v["plants"]["plant_id"]))))
    if "esg_scores" in v:
        jobs.append(("esg_scores", esg_problems(v["esg_scores"])))
    if "supplier_events" in v:
        jobs.append(("supplier_events", event_problems(v["supplier_events"])))
    for table, problems in jobs:
        if not problems:
            continue
        valid, quar, counts = v[table], result.quarantine[table], result.counts[table]
        bad = np.zeros(len(valid), dtype=bool)
        reason = np.full(len(valid), "", dtype=object)
        by_reason = dict(counts.get("by_reason", {}))
        for mask, rule, msg in problems:
            reason[mask] = np.where(reason[mask] == "", "", reason[mask] + "; ") + msg[mask]
            bad |= mask
            by_reason[rule] = by_reason.get(rule, 0) + int(mask.sum())
        # valid row i is the i-th input row that the contract checks did not quarantine
        n = counts["rows_in"]
        good_pos = np.setdiff1d(np.arange(n), quar["source_row"].to_numpy() - 1)
        pos = good_pos[bad]
        text = as_text(raw[table].iloc[pos].reset_index(drop=True))
        text["reason"] = reason[bad]
        text["source_row"] = (pos + 1).astype("int64")
        quar = pd.concat([quar, text[[c for c in quar.columns if c in text.columns]]], ignore_index=True)
        result.quarantine[table] = quar.sort_values("source_row", kind="stable").reset_index(drop=True)
        v[table] = valid[~bad].reset_index(drop=True)
        nbad = counts["quarantined"] + int(bad.sum())
        counts.update(valid=len(v[table]), quarantined=nbad, bad_share=round(nbad / n, 6) if n else 0.0,
                      by_reason=dict(sorted(by_reason.items())))
        assert counts["valid"] + counts["quarantined"] == n
