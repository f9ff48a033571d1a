"""Accounting engine throughput against a bare vectorised pandas multiply of the same rows.

Builds N energy_use rows (default 10 million: plants x weeks x carriers; ``--carriers issue15`` (default)
adds coal_bituminous (tonne), lpg (GJ), steam (kWh; bench-only fixture factors, 0.2 kg CO2e/kWh per
country, since the library has steam for the US only) and biomethane (mmBtu, biogenic CO2 split) to
electricity, natural_gas and diesel; ``--carriers legacy`` is the three of before) and
times, in the same run:

- bare:   energy_use merged with a per-(plant, carrier) CO2e-factor table, then quantity x factor;
- engine: features.accounting.build_ledger (Scope 1 per gas with unit conversion, Scope 2 location- and
          market-based with contractual instruments, lineage columns), with the full ledger and with
          detail=False (without the derivable quantity, unit and factor_year columns).

Both are timed with the string columns as Python objects (what a plain parquet read gives) and as
categoricals (what the lake stage reads: dictionary-encoded). Each timed call follows an untimed call of the
same function, so every timed call runs on memory its own previous call touched: on this VM, memory the
process has not touched recently costs ~2 ms/MB on first touch, which would otherwise favour whichever call
follows a larger one. The first (untimed) call is printed in brackets. Prints rows per second of each, the
ratio engine/bare (target >= 0.5, best of --repeat) and the load average. Run:

    .venv/bin/python benchmarks/bench_accounting.py [--rows 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import time

import numpy as np
import pandas as pd

from core.ghg.carriers import CARRIERS as CARRIERS_TABLE
from features.accounting import build_ledger
from features.factors import reference_factors

COUNTRIES = [("DE", None), ("FR", None), ("ES", None), ("PL", None), ("CZ", None), ("GB", None), ("US", None),
             ("US", "SRSO"), ("US", "RFCW"), ("MX", None), ("CN", None), ("HU", None), ("SK", None)]
CARRIER_SETS = {
    "legacy": [("electricity", "kWh"), ("natural_gas", "kWh"), ("diesel", "litre")],
    "issue15": [("electricity", "kWh"), ("natural_gas", "kWh"), ("diesel", "litre"), ("coal_bituminous", "tonne"),
                ("lpg", "GJ"), ("steam", "kWh"), ("biomethane", "mmBtu")],
}
CARRIERS = CARRIER_SETS["issue15"]


def bench_factors() -> pd.DataFrame:
    """The reference library plus steam rows for every bench country (fixture values, not a source)."""
    f = reference_factors()
    have = set(f.loc[f["activity"] == "steam", "region"])
    extra = [{"factor_id": f"BENCH-STEAM-{c}", "activity": "steam", "gas": "CO2e", "value": 0.2, "unit": "kg/kWh",
              "source": "bench fixture", "year": 2021, "region": c, "version": f["version"].iloc[0], "basis": None,
              "status": "approximation"} for c in sorted({c for c, _ in COUNTRIES}) if c not in have]
    return pd.concat([f, pd.DataFrame(extra)], ignore_index=True)


def per_unit_factors(plants: pd.DataFrame, factors: pd.DataFrame, week) -> pd.DataFrame:
    """t CO2e (scope 1 + scope 2 location) per unit of each (plant, carrier) in the bench unit: the engine on
    one unit row per pair (the bare baseline's factor table)."""
    one = pd.DataFrame([(week, p, c, 1.0, u) for p in plants["plant_id"] for c, u in CARRIERS],
                       columns=["week", "plant_id", "carrier", "quantity", "unit"])
    led, _ = build_ledger(plants, one, factors)
    led = led[led["scope"].isin(["scope1", "scope2_location"])]
    pf = led.groupby([led["plant_id"].astype(str), led["activity"].astype(str)], observed=True)["co2e_t"].sum()
    pf = pf.rename("tco2e_per_unit").reset_index().rename(columns={"activity": "carrier"})
    loc = {c.location_activity: c.id for c in CARRIERS_TABLE.values()}
    pf["carrier"] = pf["carrier"].map(lambda a: loc.get(a, a))
    return pf[["plant_id", "carrier", "tco2e_per_unit"]]


def make_inputs(n_rows: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2021-01-04", periods=260, freq="W-MON")
    n_plants = max(1, int(np.ceil(n_rows / (len(weeks) * len(CARRIERS)))))
    cc = [COUNTRIES[i % len(COUNTRIES)] for i in range(n_plants)]
    plants = pd.DataFrame({
        "plant_id": [f"P{i:05d}" for i in range(n_plants)], "name": "plant",
        "country": [c for c, _ in cc], "grid_region": [g for _, g in cc], "lat": 0.0, "lon": 0.0,
        "capacity_units_per_week": 1000.0, "equity_share": rng.uniform(0.2, 1.0, n_plants).round(2),
        "operational_control": rng.uniform(size=n_plants) < 0.8,
    })
    # rows: plant-major, then week, then carrier
    total = n_plants * len(weeks) * len(CARRIERS)
    pi = np.repeat(np.arange(n_plants), len(weeks) * len(CARRIERS))[:n_rows]
    wi = np.tile(np.repeat(np.arange(len(weeks)), len(CARRIERS)), n_plants)[:n_rows]
    ci = np.tile(np.arange(len(CARRIERS)), n_plants * len(weeks))[:n_rows]
    assert total >= n_rows
    plant_ids = plants["plant_id"].to_numpy(dtype=object)
    energy_use = pd.DataFrame({
        "week": weeks.to_numpy()[wi],
        "plant_id": plant_ids[pi],
        "carrier": np.array([c for c, _ in CARRIERS], dtype=object)[ci],
        "quantity": rng.uniform(100.0, 10_000.0, n_rows),
        "unit": np.array([u for _, u in CARRIERS], dtype=object)[ci],
    })
    # one EAC and one PPA per 10th plant (market = the plant's country)
    sel = plants.iloc[::10]
    contracts = pd.concat([
        pd.DataFrame({"contract_id": "EAC-" + sel["plant_id"], "plant_id": sel["plant_id"], "instrument": "EAC",
                      "market": sel["country"], "start": pd.Timestamp("2022-01-01"),
                      "end": pd.Timestamp("2022-12-31"), "mwh": 100.0, "factor_kg_per_kwh": 0.0}),
        pd.DataFrame({"contract_id": "PPA-" + sel["plant_id"], "plant_id": sel["plant_id"], "instrument": "PPA",
                      "market": sel["country"], "start": pd.Timestamp("2023-01-01"),
                      "end": pd.Timestamp("2025-12-31"), "mwh": 500.0, "factor_kg_per_kwh": 0.02}),
    ], ignore_index=True)
    return {"plants": plants, "energy_use": energy_use, "contracts": contracts, "weeks": pd.Series(weeks)}


def bare_multiply(energy_use: pd.DataFrame, plant_factor: pd.DataFrame) -> np.ndarray:
    """The baseline: merge a small factor table onto the rows, multiply quantity by factor."""
    m = energy_use.merge(plant_factor, on=["plant_id", "carrier"], how="left")
    return m["quantity"].to_numpy() * m["tco2e_per_unit"].to_numpy()


def timed(fn) -> tuple[float, object]:
    """Seconds taken by ``fn()`` (after a garbage collection) and its result."""
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per measurement; the best counts")
    ap.add_argument("--carriers", choices=sorted(CARRIER_SETS), default="issue15")
    args = ap.parse_args()
    global CARRIERS
    CARRIERS = CARRIER_SETS[args.carriers]

    t0 = time.perf_counter()
    data = make_inputs(args.rows)
    factors = bench_factors()
    eu = data["energy_use"]
    print(f"inputs: {len(eu):,} energy_use rows, {len(data['plants']):,} plants, "
          f"{len(data['contracts']):,} contracts (built in {time.perf_counter() - t0:.1f} s)")
    print("load average at start: {:.2f} {:.2f} {:.2f} ({} cores)".format(*os.getloadavg(), os.cpu_count()))

    # the bare baseline's factor table: t CO2e per unit per (plant, carrier), one number each
    plant_factor = per_unit_factors(data["plants"], factors, data["weeks"].iloc[0])
    print(f"carriers: {', '.join(f'{c} ({u})' for c, u in CARRIERS)}")

    bare_name = "bare merge+multiply"
    for label, frame, pf in variants(eu, plant_factor):
        calls = {bare_name: lambda frame=frame, pf=pf: bare_multiply(frame, pf)}
        for detail in (True, False):
            name = "engine, full ledger" if detail else "engine, detail=False"
            calls[name] = lambda frame=frame, detail=detail: build_ledger(
                data["plants"], frame, factors, data["contracts"], detail=detail)[0]
        first: dict[str, float] = {}
        best: dict[str, float] = {}
        shape: dict[str, tuple[int, int]] = {}
        for r in range(args.repeat):
            for name, fn in calls.items():
                # an untimed call of the same function first: each timed call then runs on memory its own
                # previous call touched (on this VM freshly touched memory costs ~2 ms/MB at first touch)
                dt, out = timed(fn)
                if r == 0:
                    first[name] = dt
                    shape[name] = (len(out), out.shape[1] if out.ndim == 2 else 1)
                    if name == bare_name:  # every row matched a factor: the same rows, fully computed
                        assert len(out) == len(frame) and not np.isnan(out).any()
                    else:
                        assert len(out) >= len(frame)
                del out
                dt, out = timed(fn)
                best[name] = min(best.get(name, np.inf), dt)
                del out
        n = len(frame)
        print(f"[{label}]  best of {args.repeat} (first call in brackets)")
        for name in calls:
            rows, cols = shape[name]
            ratio = "" if name == bare_name else (f"  ratio {best[bare_name] / best[name]:4.2f} "
                                                  f"[{first[bare_name] / first[name]:4.2f}]")
            print(f"  {name:22s}: {best[name]:6.2f} s [{first[name]:5.2f}] {n / best[name]:12,.0f} rows/s{ratio}"
                  f"  ({rows:,} rows x {cols} columns)")
    print("load average at end:   {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print("target: ratio engine/bare >= 0.60 (best of --repeat runs, same process, same rows)")


def variants(eu: pd.DataFrame, plant_factor: pd.DataFrame):
    """The same rows with string columns as Python objects (a plain parquet read) and as categoricals."""
    yield "object strings", eu, plant_factor
    cat = eu.astype({"plant_id": "category", "carrier": "category", "unit": "category"})
    pf = plant_factor.astype({"plant_id": cat["plant_id"].dtype, "carrier": cat["carrier"].dtype})
    yield "categorical strings", cat, pf


if __name__ == "__main__":
    main()
