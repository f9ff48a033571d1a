"""Benchmark of the sample generator: rows per table, total rows and seconds for ``demo`` and ``large``.

Baseline measured in the same run: drawing as many lognormal numbers as the generator emits rows and
putting them into one 4-column DataFrame (the least any generator of that many rows has to do); the
ratio says how much the generator's bookkeeping costs on top. The target is ``large`` in under 60 s.

    .venv/bin/python benchmarks/bench_sample.py [--write]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd

from features.sample import generate, write_sample

TARGET_LARGE_S = 60.0


def _baseline(rows: int) -> float:
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    pd.DataFrame({c: rng.lognormal(0.0, 0.17, rows) for c in "abcd"})
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true", help="also time write_sample (parquet) per size")
    args = ap.parse_args()
    for size in ("demo", "large"):
        t0 = time.perf_counter()
        tables = generate(size)
        secs = time.perf_counter() - t0
        total = sum(len(df) for df in tables.values())
        base = _baseline(total)
        print(f"\n== {size}: {total:,} rows in {secs:.2f} s ({total / secs:,.0f} rows/s); "
              f"baseline (bare numpy + one DataFrame of {total:,} rows) {base:.3f} s, ratio {secs / base:.1f}x")
        for name, df in tables.items():
            print(f"   {name:<20} {len(df):>10,}")
        if size == "large":
            verdict = "OK" if secs < TARGET_LARGE_S else "TOO SLOW"
            print(f"   target < {TARGET_LARGE_S:.0f} s: {verdict} ({secs / TARGET_LARGE_S:.2f} of the budget)")
        if args.write:
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                write_sample(tmp, size=size, fmt="parquet")
                print(f"   write_sample parquet (generate + write): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
