"""Validation speed on a large demand table, against a bare pandas typing of the same frame.

    .venv/bin/python benchmarks/bench_validate.py [rows=3000000]

Builds ``rows`` demand rows as text (what a CSV gives: 300 products x 40 markets x weeks), with 0.1 %
bad rows, and times ``validate_tables`` (types, ranges, Monday weeks, unique key, references,
quarantine with reasons) against the baseline ``astype`` (float) + ``to_datetime`` (ISO) that checks
nothing. Prints rows/s of both and the ratio.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from features.validate import validate_tables


def build(rows: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    products = [f"K{i:03d}" for i in range(300)]
    markets = [f"M{i:02d}" for i in range(40)]
    series = len(products) * len(markets)
    weeks = pd.date_range("1990-01-01", periods=rows // series + 1, freq="7D").strftime("%Y-%m-%d")
    n = rows
    week = np.repeat(np.asarray(weeks, dtype=object), series)[:n]
    product = np.tile(np.repeat(np.asarray(products, dtype=object), len(markets)), len(weeks))[:n]
    market = np.tile(np.asarray(markets, dtype=object), len(products) * len(weeks))[:n]
    units = np.round(rng.gamma(2.0, 50.0, n), 3).astype(str).astype(object)
    bad = rng.choice(n, size=n // 1000, replace=False)
    units[bad[: len(bad) // 2]] = "-1"
    units[bad[len(bad) // 2:]] = "n/a"
    demand = pd.DataFrame({"week": week, "product_id": product, "market_id": market, "units": units})
    prod = pd.DataFrame({"product_id": products, "name": products, "powertrain": "BEV", "segment": "C",
                         "weight_t": "1.5", "price_eur": "40000"})
    mk = pd.DataFrame({"market_id": markets, "name": markets, "country": "DE", "lat": "50", "lon": "10"})
    return {"products": prod, "markets": mk, "demand_history": demand}


def main(rows: int = 3_000_000) -> None:
    tables = build(rows)
    demand = tables["demand_history"]
    only = ("products", "markets", "demand_history")

    t0 = time.perf_counter()
    base = demand.astype({"units": "float64"}, errors="ignore")
    base["week"] = pd.to_datetime(demand["week"], format="ISO8601")
    base_s = time.perf_counter() - t0
    # errors="ignore" leaves the column as text when a value does not parse: time the parse that works
    t0 = time.perf_counter()
    pd.to_numeric(demand["units"], errors="coerce")
    base_s += time.perf_counter() - t0

    t0 = time.perf_counter()
    res = validate_tables(tables, max_bad_share=0.01, required=only)
    val_s = time.perf_counter() - t0
    c = res.counts["demand_history"]
    print(f"rows: {rows:,}  valid: {c['valid']:,}  quarantined: {c['quarantined']:,}  rules: {c['by_reason']}")
    print(f"baseline astype/to_datetime/to_numeric: {base_s:6.2f} s  {rows / base_s:12,.0f} rows/s")
    print(f"validate_tables (all rules):            {val_s:6.2f} s  {rows / val_s:12,.0f} rows/s")
    print(f"ratio validate / baseline: {val_s / base_s:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000)
