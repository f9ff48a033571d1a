"""Contractual instruments (market-based Scope 2): allocation in precedence order, surplus."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.ghg.errors import GHGError as AccountingError
from features.accounting._common import INSTRUMENT_RANK
from features.accounting._inputs import _EnergyRows


def _level_groups(level: np.ndarray, n_len: np.ndarray, max_cells: int = 1 << 22):
    """Contract positions per level (contracts with rows only), split so that a padded matrix (contracts x
    longest) stays under ``max_cells`` (contracts of one level are independent, so any split is exact)."""
    for lev in range(int(level.max()) + 1 if len(level) else 0):
        js = np.flatnonzero((level == lev) & (n_len > 0))
        js = js[np.argsort(n_len[js], kind="stable")]
        i = 0
        while i < len(js):
            k = i + 1
            while k < len(js) and (k + 1 - i) * int(n_len[js[k]]) <= max_cells:
                k += 1
            yield np.sort(js[i:k])
            i = k


def _allocate_instruments(er: _EnergyRows, plants: pd.DataFrame, kwh: np.ndarray,
                          contracts: pd.DataFrame | None, elec_spans: list[tuple[int, int]]):
    """Cover electricity with contractual instruments, week by week in precedence order.

    A contract applies to rows of its own plant whose week (the Monday) lies in [start, end] and only when
    its market equals the plant's country. Its volume (mwh) is used chronologically; what is left of a
    week's consumption falls to the next instrument, then to the residual mix. Allocating instrument by
    instrument (chronologically within each) equals the week-by-week greedy allocation, because an
    instrument only ever sees what the instruments before it left.

    Returns the kWh left for the residual mix per row, the instrument slices (row, contract, kWh) and a
    report of MWh applied per contract and of contracts not counted, with the reason.
    """
    report: dict[str, Any] = {"instruments_applied_mwh": {}, "instruments_not_counted": {},
                              "instruments_surplus_mwh": {}}
    if contracts is None or contracts.empty:
        return kwh, None, report
    need = {"contract_id", "plant_id", "instrument", "market", "start", "end", "mwh", "factor_kg_per_kwh"}
    missing = need - set(contracts.columns)
    if missing:
        raise AccountingError(f"energy_contracts: missing columns {sorted(missing)}")
    c = contracts.reset_index(drop=True).copy()
    bad_inst = ~c["instrument"].isin(list(INSTRUMENT_RANK))
    if bad_inst.any():
        row = int(np.flatnonzero(bad_inst.to_numpy())[0])
        raise AccountingError(f"energy_contracts row {row}: instrument {c['instrument'].iloc[row]!r} not in "
                              f"{sorted(INSTRUMENT_RANK)}")
    unknown = ~c["plant_id"].isin(plants.index)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise AccountingError(f"energy_contracts row {row}: plant_id {c['plant_id'].iloc[row]!r} is not in plants")
    c["start"] = pd.to_datetime(c["start"])
    c["end"] = pd.to_datetime(c["end"])
    c["_rank"] = c["instrument"].map(INSTRUMENT_RANK)
    c["_country"] = plants.loc[c["plant_id"], "country"].astype(str).to_numpy()
    wrong_market = c["market"].astype(str) != c["_country"]
    for cid, mkt, ctry in c.loc[wrong_market, ["contract_id", "market", "_country"]].itertuples(index=False):
        report["instruments_not_counted"][str(cid)] = f"market {mkt} differs from the plant's country {ctry}"
    order = c[~wrong_market].sort_values(["plant_id", "_rank", "start", "contract_id"])
    # electricity rows of plants with a contract, grouped by plant, chronological inside each plant
    has_contract = np.zeros(len(plants), dtype=bool)
    has_contract[plants.index.get_indexer(order["plant_id"].unique())] = True
    parts = [lo + np.flatnonzero(np.take(has_contract, er.pcodes[lo:hi], mode="clip")) for lo, hi in elec_spans]
    sel = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    sel = sel[np.lexsort((er.weeks[sel], er.pcodes[sel]))]
    # each row as one sortable number (plant, week rank): a contract's rows are then one contiguous span
    uweeks = np.unique(er.weeks[sel])
    wrank = np.searchsorted(uweeks, er.weeks[sel])
    stride = len(uweeks) + 1
    row_key = er.pcodes[sel].astype(np.int64) * stride + wrank
    o_plant = plants.index.get_indexer(order["plant_id"]).astype(np.int64)
    starts = order["start"].to_numpy(dtype="datetime64[ns]")
    ends = order["end"].to_numpy(dtype="datetime64[ns]")
    lo = np.searchsorted(row_key, o_plant * stride + np.searchsorted(uweeks, starts, "left"), "left")
    hi = np.searchsorted(row_key, o_plant * stride + np.searchsorted(uweeks, ends, "right"), "left")
    hi = np.where(np.isnat(starts) | np.isnat(ends), lo, np.maximum(hi, lo))  # NaT: no week qualifies
    caps = order["mwh"].to_numpy(dtype=float) * 1000.0
    # contracts of one plant use its rows one after the other (precedence order); contracts of different
    # plants are independent. So contracts are taken in levels (the 1st of every plant, then the 2nd, ...),
    # each level vectorised: its contracts' rows padded into a matrix, with a running sum along each line
    # (the same additions, in the same order, as contract by contract)
    level = order.groupby("plant_id", sort=False).cumcount().to_numpy()
    n_len = hi - lo
    residual = kwh  # updated in place: the caller hands over its array
    applied = np.zeros(len(order))
    out_j, out_t, out_rows, out_kwh = [], [], [], []
    for js in _level_groups(level, n_len):
        width = int(n_len[js].max())
        t = np.arange(width)
        valid = t[None, :] < n_len[js][:, None]
        rows2 = sel[np.where(valid, lo[js][:, None] + t[None, :], 0)]
        r = np.where(valid, residual[rows2], 0.0)
        before = np.cumsum(r, axis=1) - r
        take = np.clip(caps[js][:, None] - before, 0.0, r)
        residual[rows2[valid]] -= take[valid]
        applied[js] = take.sum(axis=1)
        jj, tt = np.nonzero(valid & (take > 0))
        out_j.append(js[jj])
        out_t.append(tt)
        out_rows.append(rows2[jj, tt])
        out_kwh.append(take[jj, tt])
    cids = c["contract_id"].astype(str).to_numpy()
    for j, ci in enumerate(order.index.to_numpy()):
        if n_len[j] == 0:
            report["instruments_not_counted"][cids[ci]] = "no consumption in its period"
        else:
            report["instruments_applied_mwh"][cids[ci]] = round(float(applied[j]) / 1000.0, 6)
        left = (caps[j] - applied[j]) / 1000.0
        if left > 1e-9 * max(caps[j] / 1000.0, 1.0):  # volume not used: reported, never silently dropped
            report["instruments_surplus_mwh"][cids[ci]] = round(float(left), 6)
    for ci in np.flatnonzero(wrong_market.to_numpy()):
        report["instruments_surplus_mwh"][cids[ci]] = round(float(c["mwh"].iloc[ci]), 6)
    if not out_j or not sum(len(x) for x in out_j):
        return kwh, None, report
    j_a, t_a = np.concatenate(out_j), np.concatenate(out_t)
    srt = np.lexsort((t_a, j_a))  # contract by contract (precedence order), chronological inside each
    rows_a = np.concatenate(out_rows)[srt]
    con_a = order.index.to_numpy()[j_a[srt]].astype(np.int64)
    kwh_a = np.concatenate(out_kwh)[srt]
    return residual, {"row": rows_a, "contract": con_a, "kwh": kwh_a, "table": c}, report

