"""Cross-validation of supplier emission submissions (public: ``check_submissions``, ``build_reference``).

Contract and rules: docs/SUPPLIERS.md. Every row gets a status; none is dropped. The work is
vectorised on integer codes (one factorize per key, dense arrays for the year-before look-up, a
groupby median for the peers), so a million rows take about a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from suppliers.factors import (
    COMMODITY_NAICS,
    DEFLATOR_VS_2021,
    UNIT_TO_BASE,
    USD_PER_EUR,
    material_factors,
)
from suppliers.factors import spend_factors as default_spend_factors

# thresholds (docs/SUPPLIERS.md)
ACTIVITY_BAND = (0.1, 10.0)  # outside: rejected
SPEND_BAND = (0.2, 5.0)  # outside: flagged (EEIO is US-average and coarse)
SLIP_EXPONENTS = (3, -3, 6, -6)
SLIP_TOLERANCE = 0.3
JUMP = 0.5  # |tco2e change| above this ...
JUMP_ACTIVITY = 0.1  # ... while activity moved less than this
COPY_TOL = 0.001  # tco2e within 0.1 % of last year's ...
COPY_ACTIVITY = 0.05  # ... while activity changed by more than 5 %
PEER_Z = 3.5
PEER_MIN = 5

STATUSES = ("accepted", "flagged", "rejected", "superseded")
REJECT_RULES = ("unit_slip_x1000", "activity:ratio_high", "activity:ratio_low", "value:impossible")
FLAG_RULES = ("spend:ratio", "history:jump", "history:copy_paste", "peer:robust_z")
OUT_COLUMNS = ("activity_estimate_t", "activity_ratio", "spend_estimate_t", "spend_ratio", "prev_tco2e",
               "prev_activity_qty", "intensity", "peer_z", "status", "reasons")


def _codes(values: pd.Series | np.ndarray, categories) -> np.ndarray:
    """Codes of ``values`` in ``categories`` (-1: not among them), by one factorize of the column
    (a categorical column, e.g. read with a dictionary, costs nothing)."""
    cats = list(categories)
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        return pd.Index(cats).get_indexer(values.cat.categories)[values.cat.codes.to_numpy()].astype(np.int64) \
            if len(values) else np.zeros(0, dtype=np.int64)
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    remap = np.append(pd.Index(cats).get_indexer(uniques), -1).astype(np.int64)
    return remap[codes]  # code -1 (null) -> the appended -1


def _slip(ratio: np.ndarray) -> np.ndarray:
    out = np.zeros(len(ratio), dtype=bool)
    with np.errstate(invalid="ignore"):
        for k in SLIP_EXPONENTS:
            out |= np.abs(ratio / 10.0 ** k - 1.0) <= SLIP_TOLERANCE
    return out


def _base_qty(df: pd.DataFrame, base_unit_of_commodity: np.ndarray, ccode: np.ndarray) -> np.ndarray:
    """activity_qty in the commodity's base unit (NaN when the unit does not fit the commodity)."""
    units = list(UNIT_TO_BASE)
    ucode = _codes(df["activity_unit"], units)
    mult = np.array([UNIT_TO_BASE[u][1] for u in units] + [np.nan])[ucode]
    fits = np.array([[UNIT_TO_BASE[u][0] == b for b in base_unit_of_commodity] + [False] for u in units]
                    + [[False] * (len(base_unit_of_commodity) + 1)])  # [unit code, commodity code], -1 = last
    ok = fits[ucode, ccode]
    qty = df["activity_qty"].to_numpy(dtype=float, na_value=np.nan) * mult
    return np.where(ok, qty, np.nan)


def _spend_per_supplier_year(links: pd.DataFrame, spend: pd.DataFrame) -> pd.DataFrame:
    """supplier_id, commodity, year, spend_estimate_t from the links (EUR of spend_year -> USD 2021 x EEIO)."""
    f = spend.set_index("commodity")["kg_co2e_per_usd2021"]
    years = links["spend_year"].to_numpy()
    lo, hi = min(USD_PER_EUR), max(USD_PER_EUR)
    yc = np.clip(years, lo, hi)
    usd = np.array([USD_PER_EUR[y] / DEFLATOR_VS_2021[y] for y in range(lo, hi + 1)])[yc - lo]
    t = links["annual_spend_eur"].to_numpy(dtype=float) * usd * links["commodity"].map(f).to_numpy(dtype=float) / 1000
    out = pd.DataFrame({"supplier_id": links["from_id"].to_numpy(), "commodity": links["commodity"].to_numpy(),
                        "year": years, "spend_estimate_t": t})
    return out.groupby(["supplier_id", "commodity", "year"], as_index=False, sort=False)["spend_estimate_t"].sum()


def check_submissions(submissions: pd.DataFrame, reference: pd.DataFrame | None = None,
                      links: pd.DataFrame | None = None, factors: pd.DataFrame | None = None,
                      spend_factors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check every supplier submission; returns the input columns plus the check columns (see
    docs/SUPPLIERS.md), in input order."""
    df = submissions if submissions.index.equals(pd.RangeIndex(len(submissions))) \
        else submissions.reset_index(drop=True)
    n = len(df)
    mat = (factors if factors is not None else material_factors()).set_index("commodity")
    commodities = sorted(set(mat.index) | set(COMMODITY_NAICS))
    ccode = _codes(df["commodity"], commodities)
    fac = mat["factor_t_per_unit"].reindex(commodities).to_numpy(dtype=float)
    base_unit = mat["unit"].reindex(commodities).to_numpy(dtype=object)
    qty = _base_qty(df, base_unit, ccode)
    t = df["tco2e"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = qty * np.where(ccode >= 0, fac[np.maximum(ccode, 0)], np.nan)
        a_ratio = t / est
        intensity = t / qty

    # superseded: a higher version of the same submission_id is in the input (only ids that have a
    # version above 1 can be affected: the door keeps (submission_id, version) unique)
    version = df["version"].to_numpy(dtype=np.int64)
    superseded = np.zeros(n, dtype=bool)
    if n and version.max() > 1:
        sids = df["submission_id"].to_numpy(dtype=object)
        cand = np.flatnonzero(pd.Series(sids).isin(set(sids[version > 1])).to_numpy())
        code, _ = pd.factorize(sids[cand])
        vmax = np.zeros(code.max() + 1, dtype=np.int64)
        np.maximum.at(vmax, code, version[cand])
        superseded[cand] = version[cand] < vmax[code]

    # spend
    s_est = np.full(n, np.nan)
    if links is not None and len(links):
        sp = _spend_per_supplier_year(links, spend_factors if spend_factors is not None
                                      else default_spend_factors())
        key = pd.MultiIndex.from_frame(sp[["supplier_id", "commodity", "year"]])
        pos = key.get_indexer(pd.MultiIndex.from_arrays([df["supplier_id"], df["commodity"],
                                                         df["year"].to_numpy(dtype=np.int64)]))
        s_est = np.where(pos >= 0, sp["spend_estimate_t"].to_numpy()[np.maximum(pos, 0)], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        s_ratio = t / s_est

    slip = _slip(a_ratio) | _slip(s_ratio)
    high = ~slip & (a_ratio > ACTIVITY_BAND[1])
    low = ~slip & (a_ratio < ACTIVITY_BAND[0])
    impossible = (t <= 0) & (qty > 0)
    rejected = slip | high | low | impossible

    # history: the same supplier and commodity one year earlier (sums over the live, not rejected rows)
    sup_col = df["supplier_id"]
    s_code = sup_col.cat.codes.to_numpy() if isinstance(sup_col.dtype, pd.CategoricalDtype) \
        else pd.factorize(np.asarray(sup_col, dtype=object))[0]
    g_code = s_code.astype(np.int64) * (len(commodities) + 1) + (ccode + 1)
    year = df["year"].to_numpy(dtype=np.int64)
    y0 = int(year.min()) if n else 0
    span = int(year.max() - y0 + 2) if n else 2
    cell = g_code * span + (year - y0 + 1)  # slot 0 of each group is the year before the first
    live = ~superseded & ~rejected
    size = int(g_code.max(initial=-1) + 1) * span
    t_sum = np.bincount(cell[live], weights=t[live], minlength=size)
    q_sum = np.bincount(cell[live], weights=np.nan_to_num(qty[live]), minlength=size)
    has = np.bincount(cell[live], minlength=size) > 0
    prev = cell - 1
    ok_prev = has[prev]
    prev_t = np.where(ok_prev, t_sum[prev], np.nan)
    prev_q = np.where(ok_prev, q_sum[prev], np.nan)
    # compare like with like: this row's group total this year
    this_t = np.where(has[cell], t_sum[cell], t)
    this_q = np.where(has[cell], q_sum[cell], np.nan_to_num(qty))
    with np.errstate(invalid="ignore", divide="ignore"):
        dt = this_t / prev_t - 1.0
        dq = this_q / prev_q - 1.0
    jump = ok_prev & (np.abs(dt) > JUMP) & (np.abs(dq) < JUMP_ACTIVITY)
    copy = ok_prev & (np.abs(dt) <= COPY_TOL) & (np.abs(dq) > COPY_ACTIVITY)

    # peers: robust z of log10 intensity within (commodity, year)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.log10(intensity)
    finite = np.isfinite(x)
    py_key = (ccode + 1) * span + (year - y0)  # dense: commodity x year
    if reference is not None and len(reference):
        ry = reference["year"].to_numpy(dtype=np.int64) - y0
        rk = np.where((ry >= 0) & (ry < span), (_codes(reference["commodity"], commodities) + 1) * span + ry, -1)
        rpos = pd.Index(rk).get_indexer(py_key)
        ref = reference.reset_index(drop=True)
        med = np.where(rpos >= 0, ref["median_log10_intensity"].to_numpy()[np.maximum(rpos, 0)], np.nan)
        mad = np.where(rpos >= 0, ref["mad_log10_intensity"].to_numpy()[np.maximum(rpos, 0)], np.nan)
        cnt = np.where(rpos >= 0, ref["n_peers"].to_numpy()[np.maximum(rpos, 0)], 0)
    else:
        peers = finite & ~superseded
        st = _peer_stats(py_key[peers], x[peers])
        pos = pd.Index(st.index).get_indexer(py_key)
        med = np.where(pos >= 0, st["median"].to_numpy()[np.maximum(pos, 0)], np.nan)
        mad = np.where(pos >= 0, st["mad"].to_numpy()[np.maximum(pos, 0)], np.nan)
        cnt = np.where(pos >= 0, st["n"].to_numpy()[np.maximum(pos, 0)], 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where((cnt >= PEER_MIN) & (mad > 0), 0.6745 * (x - med) / mad, np.nan)
    peer = np.abs(z) > PEER_Z
    spend_off = ~slip & ((s_ratio < SPEND_BAND[0]) | (s_ratio > SPEND_BAND[1]))

    rules = {"unit_slip_x1000": slip, "activity:ratio_high": high, "activity:ratio_low": low,
             "value:impossible": impossible, "spend:ratio": spend_off, "history:jump": jump,
             "history:copy_paste": copy, "peer:robust_z": peer}
    # reasons as a bit mask per row, then one text per distinct mask (a categorical column)
    bits = np.zeros(n, dtype=np.int64)
    for b, mask in enumerate(rules.values()):
        bits |= mask.astype(np.int64) << b
    masks = np.flatnonzero(np.bincount(bits, minlength=1 << len(rules)))
    lookup = np.zeros(1 << len(rules), dtype=np.int64)
    lookup[masks] = np.arange(len(masks))
    rcode = lookup[bits]
    names = list(rules)
    texts = ["; ".join(names[b] for b in range(len(names)) if m >> b & 1) for m in masks]
    reasons = pd.Categorical.from_codes(rcode.reshape(-1), categories=pd.Index(texts, dtype=object)) \
        if len(set(texts)) == len(texts) else np.asarray(texts, dtype=object)[rcode]
    flagged = spend_off | jump | copy | peer
    code = np.where(superseded, 3, np.where(rejected, 2, flagged.astype(np.int8)))
    status = pd.Categorical.from_codes(code, categories=list(STATUSES))
    out = df.copy(deep=False)  # the input's columns are shared, not copied; the input is not modified
    for col, v in zip(OUT_COLUMNS, (est, a_ratio, s_est, s_ratio, prev_t, prev_q, intensity, z, status, reasons),
                      strict=True):
        out[col] = v
    return out


def _peer_stats(key: np.ndarray, x: np.ndarray) -> pd.DataFrame:
    """median, MAD and count of x per key, by one sort and medians of the sorted segments."""
    if not len(key):
        return pd.DataFrame({"median": [], "mad": [], "n": []}, index=pd.Index([], dtype=np.int64))
    small = key - key.min()
    # a small key range sorts by radix (linear) as int16
    order = np.argsort(small.astype(np.int16) if small.max() < 2**15 else small, kind="stable")
    ks, xs = key[order], x[order]
    uniq, start, cnt = np.unique(ks, return_index=True, return_counts=True)
    med = np.empty(len(uniq))
    mad = np.empty(len(uniq))
    for i, (a, c) in enumerate(zip(start, cnt, strict=True)):
        seg = xs[a:a + c]
        med[i] = np.median(seg)
        mad[i] = np.median(np.abs(seg - med[i]))
    return pd.DataFrame({"median": med, "mad": mad, "n": cnt}, index=pd.Index(uniq))


def build_reference(checked: pd.DataFrame) -> pd.DataFrame:
    """Peer statistics per commodity and year from the accepted and flagged rows of a check:
    commodity, year, median_log10_intensity, mad_log10_intensity, n_peers (the ``xval_reference`` table)."""
    ok = checked[checked["status"].isin(["accepted", "flagged"])]
    x = np.log10(ok["intensity"].to_numpy(dtype=float))
    d = pd.DataFrame({"commodity": ok["commodity"].to_numpy(), "year": ok["year"].to_numpy(), "x": x})
    d = d[np.isfinite(d["x"])]
    g = d.groupby(["commodity", "year"])["x"]
    med = g.median().rename("median_log10_intensity")
    d = d.join(med, on=["commodity", "year"])
    mad = (d["x"] - d["median_log10_intensity"]).abs().groupby([d["commodity"], d["year"]]).median()
    out = pd.concat([med, mad.rename("mad_log10_intensity"), g.size().rename("n_peers")], axis=1).reset_index()
    return out.sort_values(["commodity", "year"]).reset_index(drop=True)
