"""Cost of the plausibility rules (features.plausibility) against validation without them, same run.

Generates the embedded sample (``--size large`` by default: ~470k demand rows), then times in the same
process ``validate_tables(raw, plausibility=None)`` (the per-value checks only) and
``validate_tables(raw, plausibility={})`` (with the rules), each after an untimed warm-up call, best of
--repeat. Prints both times, the ratio with/without and the load average. Run:

    .venv/bin/python benchmarks/bench_plausibility.py [--size large] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import time

from features.sample import generate
from features.validate import validate_tables


def _best(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="large", choices=["demo", "large"])
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    raw = generate(size=a.size, seed=7)
    print(f"sample {a.size}: {sum(len(v) for v in raw.values()):,} rows, demand {len(raw['demand_history']):,}")
    base = _best(lambda: validate_tables(raw, plausibility=None), a.repeat)
    full = _best(lambda: validate_tables(raw, plausibility={}), a.repeat)
    print(f"validate without plausibility {base:.2f} s, with {full:.2f} s: ratio {full / base:.2f} "
          f"(+{full - base:.2f} s); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
