"""Benchmark: build + solve the `large` planning instance through PuLP 4 / HiGHS, beside a direct
highspy solve of the same model (the MPS file PuLP writes, read into highspy.Highs and run with the
same options) in the same run.

    .venv/bin/python benchmarks/bench_optimise.py [--horizon 20] [--method ipm] [--size large]

Prints model-build seconds, PuLP solve seconds (matrix transfer + HiGHS run + write-back of values
and duals), the direct highspy run, and the ratio (target: build + PuLP solve <= 1.3 x direct solve).
Uses features.sample.generate(size) when it exists, otherwise a synthetic instance in the same table
shapes. Takes minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time

import numpy as np
import pandas as pd


def synthetic_tables(seed: int = 7, plants: int = 57, products: int = 300, markets: int = 43,
                     weeks_history: int = 60) -> dict[str, pd.DataFrame]:
    """A stand-in network in the co2plan table shapes (used only if features.sample is missing)."""
    rng = np.random.default_rng(seed)
    P = [f"P{i:02d}" for i in range(plants)]
    K = [f"K{i:03d}" for i in range(products)]
    M = [f"M{i:02d}" for i in range(markets)]
    countries = ["DE", "FR", "ES", "PL", "CZ"]
    t = {
        "plants": pd.DataFrame({"plant_id": P, "name": P, "country": rng.choice(countries, plants),
                                "grid_region": None, "lat": 0.0, "lon": 0.0,
                                "capacity_units_per_week": rng.uniform(1500, 6000, plants), "equity_share": 1.0,
                                "operational_control": True}),
        "products": pd.DataFrame({"product_id": K, "name": K, "powertrain": "BEV", "segment": "C",
                                  "weight_t": rng.uniform(1.2, 2.6, products), "price_eur": rng.uniform(2e4, 8e4,
                                                                                                       products)}),
        "markets": pd.DataFrame({"market_id": M, "name": M, "country": "DE", "lat": 0.0, "lon": 0.0}),
    }
    pairs = {(p, k) for k in K for p in rng.choice(P, 3, replace=False)}
    pp = pd.DataFrame(sorted(pairs), columns=["plant_id", "product_id"])
    pp["production_cost_eur_per_unit"] = rng.uniform(1.5e4, 4e4, len(pp))
    pp["electricity_kwh_per_unit"] = rng.uniform(600, 1500, len(pp))
    pp["natural_gas_kwh_per_unit"] = rng.uniform(300, 900, len(pp))
    t["plant_products"] = pp
    rows = []
    for p in P:
        for m in rng.choice(M, 20, replace=False):
            for mode in rng.choice(["road", "rail", "sea"], 2, replace=False):
                rows.append((f"{p}-{m}-{mode}", p, m, mode, rng.uniform(200, 9000), rng.uniform(0.02, 0.2) * 100,
                             rng.uniform(1, 30), rng.uniform(500, 5000)))
    t["lanes"] = pd.DataFrame(rows, columns=["lane_id", "plant_id", "market_id", "mode", "distance_km",
                                             "cost_eur_per_t", "transit_days", "capacity_t_per_week"])
    weeks = pd.date_range("2025-01-06", periods=weeks_history, freq="7D")
    km = pd.MultiIndex.from_product([K, M]).to_frame(index=False, name=["product_id", "market_id"])
    km = km.sample(frac=0.3, random_state=seed)
    dh = km.loc[km.index.repeat(len(weeks))].reset_index(drop=True)
    dh["week"] = np.tile(weeks, len(km))
    dh["units"] = rng.poisson(20, len(dh)).astype(float)
    t["demand_history"] = dh
    from features.factors import reference_factors  # the factor library (freight, grid, gas)

    t["emission_factors"] = reference_factors()
    # issue-13 planning inputs: operating rules and abatement levers, as the sample has them
    t["plant_operations"] = pd.DataFrame({"plant_id": P, "min_utilisation_pct": 20.0, "max_change_pct_per_week": 15.0,
                                          "max_stock_units": 2 * t["plants"]["capacity_units_per_week"].to_numpy(),
                                          "source": "synthetic"})
    t["renewable_supply"] = pd.DataFrame([(c, "EAC", y, 2.0, 1e6, 0.0, "synthetic") for c in countries
                                          for y in (2025, 2026, 2027)],
                                         columns=["market", "instrument", "year", "price_eur_per_mwh", "available_mwh",
                                                  "factor_kg_per_kwh", "source"])
    t["heat_options"] = pd.DataFrame([("biomethane", c, y, 45.0, 0.0, 0.02, 5e5, 0.5, "synthetic") for c in countries
                                      for y in (2025, 2026, 2027)],
                                     columns=["option", "market", "year", "cost_eur_per_mwh_gas_replaced",
                                              "efficiency_ratio", "residual_tco2e_per_mwh", "available_mwh",
                                              "max_share_of_gas", "source"])
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="large")
    ap.add_argument("--horizon", type=int, default=20)
    ap.add_argument("--method", default="ipm")
    ap.add_argument("--min-vars", type=int, default=400_000)
    ap.add_argument("--budget-pct", type=float, default=None,
                    help="also plan with a CO2 budget this %% below the plan without (warm re-solve)")
    ap.add_argument("--skip-stock", action="store_true", help="skip the generic pulp.HiGHS hand-over timing")
    ap.add_argument("--time-limit", type=float, default=None, help="solver time limit (s)")
    ap.add_argument("--no-direct", action="store_true", help="skip the direct highspy solve (xl on a busy machine)")
    ap.add_argument("--milp", action="store_true",
                    help="MILP mode (whole shifts): solve the LP relaxation first (its objective = the LP bound), "
                         "then the MILP; prints time, gap, objective against the LP bound")
    args = ap.parse_args()
    if args.size == "xl":  # >= 1M variables: 100 plants, 600 products, 60 markets, 52 weeks (LP mode)
        args.horizon = max(args.horizon, 52)
        args.min_vars = max(args.min_vars, 1_000_000)
    logging.basicConfig(level=logging.WARNING)

    import resource

    import highspy
    import pulp

    from optimisation.inputs import PlanInputs
    from optimisation.kpis import compute_kpis
    from optimisation.model import build_model
    from optimisation.scenario import ScenarioParams
    from optimisation.solve import solve

    def cpu() -> float:  # CPU seconds of this process (all threads, HiGHS included): robust to other load
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    t0 = time.perf_counter()
    if args.size == "xl":
        tables, source = synthetic_tables(plants=100, products=600, markets=60), "synthetic xl (100 x 600 x 60)"
    else:
        try:
            from features.sample import generate

            tables, source = generate(args.size), f"features.sample.generate({args.size!r})"
        except ImportError:
            tables, source = synthetic_tables(), "synthetic (features.sample not available)"
    inputs = PlanInputs.from_tables(tables, horizon_weeks=args.horizon)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"instance: {source}, inputs ready in {time.perf_counter() - t0:.1f} s")

    params = ScenarioParams(horizon_weeks=args.horizon, highs_method=args.method, carbon_price_eur_per_t=80.0,
                            time_limit_s=args.time_limit)
    if args.milp:
        milp_bench(inputs, params)
        return
    c0 = cpu()
    model = build_model(inputs, params)
    build_cpu = cpu() - c0
    if model.num_variables < args.min_vars:
        raise SystemExit(f"only {model.num_variables} variables (< {args.min_vars}): raise --horizon")
    n_rows = model.prob.toRustModel().num_constraints
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fams = ", ".join(f"{f.name} {f.n:,}" for f in model.families.values())
    print(f"model: {model.num_variables:,} variables, {n_rows:,} constraints "
          f"(horizon {args.horizon} weeks, carbon price {params.carbon_price_eur_per_t} EUR/t); peak RSS after "
          f"inputs {rss0:,.0f} MiB, after build {rss1:,.0f} MiB\n  families: {fams}")
    build_s = model.build_seconds

    c0 = cpu()
    res = solve(model)
    solve_cpu = cpu() - c0
    k = compute_kpis(model, res)
    pulp_solve_s = res.solve_seconds
    info = model.prob.solverModel.getInfo()
    pulp_run = (model.prob.solverModel.getRunTime(), info.ipm_iteration_count, info.crossover_iteration_count)
    # breakdown of the PuLP solve: matrix hand-over and write-back timed again separately, for the
    # fast path used above (PlanHiGHS) and for PuLP's generic pulp.HiGHS hand-over
    keep = model.prob.solverModel
    fast = model._solver
    others = () if args.skip_stock else (("stock", pulp.HiGHS(msg=False)),)
    times = {"stock_transfer": float("nan"), "stock_writeback": float("nan")}
    for name, solver in (("fast", fast), *others):
        model.prob.solverModel = highspy.Highs()
        model.prob.solverModel.setOptionValue("output_flag", False)
        t1 = time.perf_counter()
        solver.buildSolverModel(model.prob)
        times[f"{name}_transfer"] = time.perf_counter() - t1
    model.prob.solverModel = keep
    for name, solver in (("fast", fast), *others):
        t1 = time.perf_counter()
        solver.findSolutionValues(model.prob)
        times[f"{name}_writeback"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    _ = compute_kpis(model, res)
    kpi_s = time.perf_counter() - t1
    rss2 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    budget_line = ""
    if args.budget_pct:
        from optimisation.levers import price_setter
        from optimisation.solve import resolve_with_budget

        rb = resolve_with_budget(model, k["co2e_total_t"] * (1 - args.budget_pct / 100))
        kb = compute_kpis(model, rb)
        t1 = time.perf_counter()
        setter = price_setter(model)
        budget_line = (f"budget -{args.budget_pct:g} %: {rb.status} in {rb.solve_seconds:.2f} s (warm), shadow price "
                       f"{kb['co2_mac_eur_per_t']:,.2f} EUR/t; setter ({time.perf_counter() - t1:.2f} s): "
                       f"{setter.get('text', '')}")

    if args.no_direct:
        print(f"PuLP   : status {res.status}, objective {res.objective_eur}, build {build_s:.2f} s, solve "
              f"{pulp_solve_s:.2f} s (HiGHS {args.method}), KPIs {kpi_s:.2f} s; peak RSS "
              f"{max(rss2, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024):,.0f} MiB")
        if budget_line:
            print(budget_line)
        return
    with tempfile.TemporaryDirectory() as tmp:
        mps = os.path.join(tmp, "plan.mps")
        t1 = time.perf_counter()
        model.prob.writeMPS(mps)
        write_mps_s = time.perf_counter() - t1
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        t1 = time.perf_counter()
        h.readModel(mps)
        read_s = time.perf_counter() - t1
        h.setOptionValue("solver", args.method)
        t1, c0 = time.perf_counter(), cpu()
        h.run()
        direct_s, direct_cpu = time.perf_counter() - t1, cpu() - c0
        direct_status = h.modelStatusToString(h.getModelStatus())
        direct_obj = h.getInfo().objective_function_value
        direct_run = (h.getRunTime(), h.getInfo().ipm_iteration_count, h.getInfo().crossover_iteration_count)

    total = build_s + pulp_solve_s
    offset = model.prob.objective.constant  # carbon cost of fixed emissions: not in the MPS file
    print(f"PuLP   : status {res.status}, objective {res.objective_eur:,.2f} EUR, CO2e {k['co2e_total_t']:,.0f} t")
    print(f"direct : status {direct_status}, objective {direct_obj + offset:,.2f} EUR incl. the constant "
          f"{offset:,.2f} (rel. diff {abs(direct_obj + offset - res.objective_eur) / max(abs(direct_obj), 1):.2e})")
    print(f"build (PuLP model)               {build_s:8.2f} s")
    print(f"solve through PuLP (HiGHS {args.method})   {pulp_solve_s:8.2f} s  "
          f"[of which matrix hand-over ~{times['fast_transfer']:.2f} s, write-back ~{times['fast_writeback']:.2f} s]")
    print(f"  (generic pulp.HiGHS would take   hand-over {times['stock_transfer']:.2f} s, "
          f"write-back {times['stock_writeback']:.2f} s)")
    print(f"KPI extraction                   {kpi_s:8.2f} s")
    print(f"direct highspy run (same MPS)    {direct_s:8.2f} s  [+ read MPS {read_s:.2f} s; PuLP writeMPS "
          f"{write_mps_s:.2f} s]")
    print(f"HiGHS's own run clock: in PuLP {pulp_run[0]:.2f} s ({pulp_run[1]} IPM + {pulp_run[2]} crossover "
          f"iterations), direct {direct_run[0]:.2f} s ({direct_run[1]} + {direct_run[2]})")
    print(f"ratio (build + PuLP solve) / direct run          = {total / direct_s:.2f}  (target <= 1.30)")
    print(f"ratio (build + PuLP solve) / (read MPS + run)    = {total / (read_s + direct_s):.2f}")
    print(f"CPU seconds (this process, all threads): build {build_cpu:.2f}, PuLP solve {solve_cpu:.2f}, direct run "
          f"{direct_cpu:.2f}; ratio (build + PuLP solve) / direct = {(build_cpu + solve_cpu) / direct_cpu:.2f} "
          "(the wall ratio moves with other load on a shared machine, the CPU ratio much less)")
    print(f"peak RSS of the process (incl. in-process HiGHS): {max(rss2, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024):,.0f} MiB")
    if budget_line:
        print(budget_line)


def milp_bench(inputs, params) -> None:
    """MILP mode: LP relaxation (operating_mode lp) for the LP bound, then whole shifts (HiGHS branch and bound,
    gap ``mip_gap_pct``); prints time, gap, HiGHS's bound and the MILP objective against the LP bound."""
    from optimisation.kpis import compute_kpis
    from optimisation.model import build_model
    from optimisation.solve import solve

    lp = build_model(inputs, params.model_copy(update={"operating_mode": "lp"}))
    r_lp = solve(lp)
    k_lp = compute_kpis(lp, r_lp)
    print(f"LP relaxation: {lp.num_variables:,} variables, {r_lp.status}, objective {r_lp.objective_eur:,.2f} EUR, "
          f"build {lp.build_seconds:.2f} s, solve {r_lp.solve_seconds:.2f} s, shift-weeks {k_lp.get('shift_weeks')}")
    del lp
    m = build_model(inputs, params.model_copy(update={"operating_mode": "milp"}))
    r = solve(m)
    k = compute_kpis(m, r)
    mip = m.mip or {}
    obj = mip.get("mip_objective_eur", r.objective_eur)
    print(f"MILP: {r.status} in {r.solve_seconds:.2f} s (build {m.build_seconds:.2f} s; gap limit "
          f"{params.mip_gap_pct} %), gap {100 * mip.get('mip_gap', float('nan')):.3f} %, nodes {mip.get('mip_nodes')}, "
          f"objective {obj:,.2f} EUR, HiGHS bound {mip.get('mip_bound_eur', float('nan')):,.2f} EUR; against the LP "
          f"bound {r_lp.objective_eur:,.2f}: +{100 * (obj / r_lp.objective_eur - 1):.3f} %; shift-weeks "
          f"{k.get('shift_weeks')}")


if __name__ == "__main__":
    main()
