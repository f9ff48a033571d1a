"""Planner-readable before/after figures of the weekly plan on the demo sample (issue 13).

    .venv/bin/python benchmarks/plan_realism.py [--size demo] [--horizon 26] [--reduction 5]
        [--trajectory 4.2] [--params '{"min_utilisation_pct": 50}']

Builds the sample network (features.sample.generate), plans it with the stand-in forecast and the stand-in
emission coefficients (the weekly job uses the trained forecasters; the figures are of the same kind), and
prints: units built per week (first, last four, mean), per-plant utilisation against the last 13 weeks of
history and the plant's minimum, in-transit units discarded, service level and unmet demand with and
without the CO2 target, CO2e, the CO2 shadow price and what sets it, and solve seconds.
``--trajectory 4.2`` plans against the weekly default target (4.2 %/yr from the ledger's first complete year);
without it the target is ``--reduction`` % below the same plan without a target (the old weekly default).
Run it on the commit before issue 13 (35595f5) for the "before" figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np
import pandas as pd


def demo_inputs(size: str, horizon: int):
    from features.sample import generate
    from optimisation.inputs import PlanInputs

    tables = generate(size)
    return tables, PlanInputs.from_tables(tables, horizon_weeks=horizon)


def discarded(model) -> float:
    """In-transit units that exceed their week's demand and go nowhere (old model: netted, rest dropped)."""
    k = getattr(model, "last_kpis", None)
    if k is not None and "pipeline_discarded_units" in k:
        return float(k["pipeline_discarded_units"])
    d = model.demand
    return float(np.maximum(d["pipeline"] - d["demand"], 0.0).sum())


def report(name: str, o, tables, hist_weeks: int = 13) -> dict:
    k = o.kpis
    plan = o.tables["production_plan"]
    by_week = plan.groupby("week")["units"].sum()
    ph = tables["production_history"]
    wk = pd.to_datetime(ph["week"])
    recent = ph[wk > wk.max() - pd.Timedelta(weeks=hist_weeks)]
    cap = tables["plants"].set_index("plant_id")["capacity_units_per_week"]
    hist_util = recent.groupby("plant_id")["units"].sum() / (cap * hist_weeks)
    util = pd.Series(k.get("utilisation_by_plant", {}))
    mins = pd.Series(k.get("min_utilisation_by_plant", {}), dtype=float)
    week_util = (plan.groupby(["plant_id", "week"])["units"].sum().unstack()
                 .div(o.model.capacity.pivot(index="plant_id", columns="t", values="capacity_units")
                      .set_axis(by_week.index, axis=1)).replace([np.inf, -np.inf], np.nan))
    below = 0
    if len(mins):
        below = int((week_util.lt(mins.reindex(week_util.index).fillna(0.0) - 1e-6, axis=0)).sum().sum())
    pairs = plan.groupby(["plant_id", "product_id"])["units"]
    zero_weeks = int((pairs.apply(lambda s: (s < 1e-6).any() and (s > 1e-6).any())).sum())
    mean = float(by_week.mean())
    out = {
        "plan": name, "status": k.get("status"), "units_built": float(plan["units"].sum()),
        "week1_units": float(by_week.iloc[0]), "last4_units": [round(v) for v in by_week.iloc[-4:]],
        "horizon_mean_units": mean,
        "last4_max_dev_pct": float(100 * np.abs(by_week.iloc[-4:] / mean - 1).max()) if mean > 0 else 0.0,
        "service_level": k.get("service_level"), "unmet_units": k.get("unmet_units"),
        "demand_units": k.get("demand_units"), "co2e_t": k.get("co2e_total_t"),
        "co2_budget_t": k.get("co2_budget_t"), "shadow_price_eur_per_t": k.get("co2_mac_eur_per_t"),
        "price_setter": k.get("co2_price_setter", "(not reported)"),
        "pipeline_discarded_units": discarded(o.model), "solve_seconds": k.get("solve_seconds"),
        "build_seconds": k.get("build_seconds"), "n_variables": k.get("n_variables"),
        "objective_eur": k.get("objective_eur"), "cost_to_stay_on_track_eur": k.get("cost_to_stay_on_track_eur"),
        "on_track": k.get("on_track"), "off_track_t": k.get("off_track_t"),
        "co2_excess_price_eur_per_t": k.get("co2_excess_price_eur_per_t"), "abatement_cost_eur": k.get("abatement_cost_eur"),
        "unmet_units_no_target": k.get("unmet_units_no_target"), "co2_baseline_t": k.get("co2_baseline_t"), "co2e_outside_boundary_t": k.get("co2e_outside_boundary_t"),
        "shift_weeks": k.get("shift_weeks"), "mip_gap_pct": k.get("mip_gap_pct"), "mip_bound_eur": k.get("mip_bound_eur"),
        "min_util_shortfall_units": k.get("min_util_shortfall_units"), "tail_unmet_units": k.get("tail_unmet_units"),
        "plant_weeks_below_min_utilisation": below, "pairs_with_zero_and_nonzero_weeks": zero_weeks,
        "utilisation_plan_vs_history": {p: [round(float(util.get(p, 0.0)), 3), round(float(hist_util.get(p, 0)), 3)]
                                        for p in sorted(cap.index)},
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="demo")
    ap.add_argument("--horizon", type=int, default=26)
    ap.add_argument("--reduction", type=float, default=5.0, help="co2_reduction_pct (the old weekly default)")
    ap.add_argument("--trajectory", type=float, default=None, help="target: % per year from the ledger's base year")
    ap.add_argument("--params", default="{}", help="extra ScenarioParams as JSON")
    ap.add_argument("--json", default=None, help="write the figures to this file")
    ap.add_argument("--no-lever-tables", action="store_true",
                    help="drop renewable_supply and heat_options (a user's data without lever tables)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from optimisation.plan import run_plan

    tables, inputs = demo_inputs(args.size, args.horizon)
    if args.no_lever_tables:
        from optimisation.inputs import PlanInputs

        tables = {k: v for k, v in tables.items() if k not in ("renewable_supply", "heat_options")}
        inputs = PlanInputs.from_tables(tables, horizon_weeks=args.horizon)
    extra = json.loads(args.params)
    if args.trajectory is not None:  # base year from the sample's emissions ledger, as the weekly job does
        from features.accounting import build_ledger
        from optimisation.emissions import base_year_totals

        ledger, _ = build_ledger(tables["plants"], tables["energy_use"], tables["emission_factors"],
                              shipments=tables["shipments"], lanes=tables["lanes"],
                              contracts=tables["energy_contracts"])
        year, base = base_year_totals(ledger, tables["plants"], "operational_control",
                                      ["scope1", "scope2_market", "scope3_cat4"], None)
        extra.update(trajectory_rate_pct=args.trajectory, base_year=year, base_year_co2e_t=base)
        print(f"trajectory {args.trajectory} %/yr from base year {year}: {base:,.0f} t CO2e (ledger, opcon)")
    base = {"horizon_weeks": args.horizon, **extra}
    figures = []
    no_target = {k: v for k, v in base.items() if k not in ("trajectory_rate_pct",)}
    for name, p in (("no target", no_target),
                    ("target", {**base, **({} if args.trajectory is not None else {"co2_reduction_pct": args.reduction})})):
        t0 = time.perf_counter()
        o = run_plan(inputs, p)
        o.model.last_kpis = o.kpis
        fig = report(name, o, tables)
        fig["wall_seconds"] = time.perf_counter() - t0
        figures.append(fig)
    nt, tg = figures
    tg["unmet_increase_pct_of_demand"] = (100 * (tg["unmet_units"] - nt["unmet_units"]) / tg["demand_units"]
                                          if tg["demand_units"] else 0.0)
    for fig in figures:
        print(f"== {fig['plan']}")
        for key, val in fig.items():
            if key != "plan":
                print(f"  {key}: {val}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
