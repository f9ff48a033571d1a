"""The plan report: one PNG summary and one self-contained HTML page per run.

``render_report`` is pure: it takes small, already aggregated tables (see ReportData) and writes
files. The pipeline's report stage gathers those tables from the lake, calls it, writes the result to
``report/<run_id>/`` and logs it to MLflow.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SCOPE_COLOURS = {"scope1": "#d95f02", "scope2_location": "#7570b3", "scope2_market": "#1b9e77",
                 "scope3_transport": "#e7298a", "scope3_cat4": "#e7298a"}


@dataclass
class ReportData:
    title: str
    kpis: dict[str, Any]  # headline figures, shown as a table (name -> value)
    emissions_by_scope: pd.DataFrame  # scope, co2e_t (history, accounted)
    emissions_by_plant: pd.DataFrame  # plant_id, scope, co2e_t
    plan_emissions_by_mode: pd.DataFrame  # mode, co2e_t (planned freight)
    demand: pd.DataFrame  # week, actual, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95, yhat_hi_95 (totals)
    utilisation: pd.DataFrame  # plant_id, planned_units, capacity_units
    frontier: pd.DataFrame = field(default_factory=pd.DataFrame)  # co2_t, objective_eur, co2_mac_eur_per_t
    chosen: dict[str, float] | None = None  # {"co2_t": .., "objective_eur": ..} of the plan
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # extra tables shown in the HTML
    boundary: str = "operational control"  # organisational boundary of the history (and of the plan-vs-history)
    history_period: str = ""  # first–last month of the emissions history
    history_window: str = ""  # the months of history compared with the plan
    scenario_id: str = "baseline"
    demand_band: str = "band of the total from the series' bands, errors taken as independent"


def _fig_emissions_scope(ax, d: ReportData):
    """History by scope as two totals: market-based and location-based scope 2 are two measures of the same
    electricity, so they are shown as alternatives, never side by side as if they added up."""
    df = d.emissions_by_scope
    if "basis" not in df.columns:  # old shape: scope, co2e_t
        ax.bar(df["scope"], df["co2e_t"], color=[SCOPE_COLOURS.get(s, "grey") for s in df["scope"]])
    else:
        bottom = np.zeros(len(df))
        for col, colour in (("scope1", SCOPE_COLOURS["scope1"]), ("scope2", SCOPE_COLOURS["scope2_market"]),
                            ("scope3_transport", SCOPE_COLOURS["scope3_transport"])):
            ax.bar(df["basis"], df[col], bottom=bottom, color=colour, label=col.replace("_", " "))
            bottom = bottom + df[col].to_numpy()
        for x, total in zip(df["basis"], bottom, strict=True):
            ax.annotate(f"{total:,.0f} t", (x, total), ha="center", va="bottom", fontsize=8)
        ax.legend(fontsize=7)
    ax.set_title(f"History {d.history_period}, {d.boundary} (t CO2e):\n"
                 "total with scope 2 market-based or location-based (alternatives)", fontsize=10)
    ax.set_ylabel("t CO2e")


def _fig_emissions_plant(ax, d: ReportData):
    df = d.emissions_by_plant
    if "plan_t_per_week" not in df.columns:  # old shape: plant_id, scope, co2e_t
        df = df.pivot_table(index="plant_id", columns="scope", values="co2e_t", aggfunc="sum", fill_value=0.0)
        ax.barh(df.index, df.sum(axis=1))
        ax.set_title(f"Emissions by plant (history, t CO2e; {d.boundary})")
        return
    df = df.sort_values("plant_id")
    y = np.arange(len(df))
    ax.barh(y - 0.2, df["history_t_per_week"], height=0.4, color="#999999", label=f"history {d.history_window}")
    ax.barh(y + 0.2, df["plan_t_per_week"], height=0.4, color="#1b9e77", label=f"plan ({d.scenario_id})")
    ax.set_yticks(y, df["plant_id"])
    ax.set_xlabel("t CO2e per week (scope 1 + 2 market-based + outbound freight)")
    ax.set_title(f"Emissions by plant, plan vs history, both {d.boundary}", fontsize=10)
    ax.legend(fontsize=7)


def _fig_mode(ax, d: ReportData):
    df = d.plan_emissions_by_mode
    ax.bar(df["mode"], df["co2e_t"], color="#66a61e")
    for x, v in zip(df["mode"], df["co2e_t"], strict=True):
        ax.annotate(f"{v:,.0f}", (x, v), ha="center", va="bottom", fontsize=8)
    ax.set_title(f"Planned freight emissions by mode ({d.scenario_id}):\nt CO2e over the horizon, gross 100 %",
                 fontsize=10)
    ax.set_ylabel("t CO2e")


def _fig_demand(ax, d: ReportData):
    df = d.demand.sort_values("week")
    ax.plot(df["week"], df["actual"], color="black", lw=1, label="actual")
    if "yhat" in df and df["yhat"].notna().any():
        f = df[df["yhat"].notna()]
        ax.fill_between(f["week"], f["yhat_lo_95"], f["yhat_hi_95"], alpha=0.2, color="#1f78b4", label="95%")
        ax.fill_between(f["week"], f["yhat_lo_80"], f["yhat_hi_80"], alpha=0.35, color="#1f78b4", label="80%")
        ax.plot(f["week"], f["yhat"], color="#1f78b4", lw=1.5, label="forecast")
    ax.set_title(f"Demand, all markets (units/week): actuals and forecast;\n{d.demand_band}", fontsize=10)
    ax.set_ylabel("units per week")
    ax.legend(fontsize=7)
    ax.tick_params(axis="x", rotation=20)


def _fig_utilisation(ax, d: ReportData):
    df = d.utilisation.sort_values("plant_id")
    ax.barh(df["plant_id"], df["capacity_units"], color="#dddddd", label="capacity")
    ax.barh(df["plant_id"], df["planned_units"], color="#386cb0", label="plan")
    ax.set_title("Plan against capacity (units over horizon)")
    ax.legend(fontsize=7)


def frontier_basis(d: ReportData) -> tuple[str, float | None]:
    """(frontier column, chosen plan's y) on one cost basis: the objective without the budget-excess and
    output-shortfall penalties (older frontier tables without the column: the objective for both)."""
    ycol = "cost_ex_penalty_eur" if "cost_ex_penalty_eur" in d.frontier else "objective_eur"
    if not d.chosen:
        return ycol, None
    return ycol, float(d.chosen.get(ycol, d.chosen["objective_eur"]))


def _fig_frontier(ax, d: ReportData):
    df = d.frontier
    if df.empty:
        ax.text(0.5, 0.5, "no Pareto sweep in this run", ha="center", va="center")
        ax.set_axis_off()
        return
    df = df.sort_values("co2_t")
    ycol, chosen_y = frontier_basis(d)
    ax.plot(df["co2_t"], df[ycol] / 1e6, marker="o", color="#e6ab02", label="frontier")
    for co2, y, mac in zip(df["co2_t"], df[ycol], df["co2_mac_eur_per_t"], strict=True):
        ax.annotate(f"{mac:,.0f}", (co2, y / 1e6), fontsize=7, textcoords="offset points", xytext=(4, 4))
    if chosen_y is not None:
        ax.scatter([d.chosen["co2_t"]], [chosen_y / 1e6], color="red", zorder=5, s=60, label="chosen plan")
    mac, budget = d.kpis.get("co2_mac_eur_per_t"), d.kpis.get("co2_budget_t")
    has_budget = isinstance(budget, (int, float)) and budget == budget  # not None, not NaN
    ax.set_title(f"Cost / CO2 frontier (plan's shadow price {mac:,.1f} EUR/t)" if has_budget and mac is not None
                 else "Cost / CO2 frontier (plan has no CO2 budget)")
    ax.set_xlabel("t CO2e over horizon")
    ax.set_ylabel("cost incl. unmet-demand penalty, excl. CO2-excess penalty (M EUR)")
    ax.text(0.02, 0.02, "labels: CO2 shadow price at each point (EUR/t)", transform=ax.transAxes, fontsize=7)
    ax.legend(fontsize=7)


def render_png(d: ReportData) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(18, 10))
    for ax, fn in zip(axes.flat, [_fig_emissions_scope, _fig_emissions_plant, _fig_mode, _fig_demand,
                                  _fig_utilisation, _fig_frontier], strict=True):
        fn(ax, d)
    fig.suptitle(d.title, fontsize=14)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


_EUR, _T, _UNITS = "{:,.0f} EUR", "{:,.1f} t CO2e", "{:,.0f} units"
#: every headline figure: label and format (with its unit). A key without a spec is refused.
KPI_SPECS: dict[str, tuple[str, str | None]] = {
    "status": ("solver status", None), "objective_eur": ("objective incl. penalties", _EUR),
    "cost_production_eur": ("production cost", _EUR), "cost_freight_eur": ("freight cost", _EUR),
    "cost_carbon_eur": ("carbon cost", _EUR),
    "co2e_total_t": ("CO2e over the horizon (scope 1 + 2 market-based + 3 transport), gross 100 %", _T),
    "co2e_total_boundary_t": ("the same on the history's boundary", _T),
    "co2e_no_budget_t": ("CO2e of the same scenario planned without a budget, on the budget's boundary", _T),
    "co2e_scope1_t": ("scope 1, gross", _T), "co2e_scope2_market_t": ("scope 2 market-based, gross", _T),
    "co2e_scope2_location_t": ("scope 2 location-based, gross (alternative to market-based, not added)", _T),
    "co2e_scope3_transport_t": ("scope 3 transport, gross", _T), "co2_budget_t": ("CO2 budget", _T),
    "co2_budget_excess_t": ("CO2 budget missed by", _T),
    "co2_mac_eur_per_t": ("CO2 shadow price = marginal abatement cost", "{:,.2f} EUR / t CO2e"),
    "output_units": ("built", _UNITS), "demand_units": ("demand", _UNITS),
    "pipeline_units": ("demand met from shipments in transit", _UNITS), "unmet_units": ("unmet demand", _UNITS),
    "service_level": ("service level (demand met)", "{:.1%}"), "solve_seconds": ("solve time", "{:,.1f} s"),
    "n_variables": ("LP variables", "{:,.0f}"), "diagnosis": ("diagnosis", None),
    "boundary": ("organisational boundary of the history", None),
    "first_week": ("first planned week (Monday)", None), "last_week": ("last planned week (Monday)", None),
    "horizon_weeks": ("horizon", "{:,.0f} weeks"),
    "co2_price_setter": ("what sets the CO2 price", None), "on_track": ("on the target trajectory", None),
    "off_track_t": ("off track by", _T),
    "cost_to_stay_on_track_eur": ("cost to stay on track (a lower bound when off track)", _EUR),
    "co2e_outside_boundary_t": ("plan CO2e outside the budget's boundary", _T),
    # issue 13 (budget-excess economics): the price of a missed tonne and what the plan spends to abate
    "co2_excess_price_eur_per_t": ("budget-excess price (below the cheapest lost sale per t unless set)",
                                   "{:,.2f} EUR / t CO2e"),
    "abatement_cost_eur": ("cost of the abatement in the plan (levers and shifts, excl. penalties)", _EUR),
    # shifts (operating_mode lp | milp): what the shift decisions are and how far the MILP is from its bound
    "operating_mode": ("shift decisions (lp: relaxed to fractions; milp: whole shifts)", None),
    "shift_weeks": ("shift-weeks run", "{:,.1f}"),
    "co2e_shift_following_t": ("fixed emissions that follow the shifts run (in scope 1 and 2)", _T),
    "mip_gap_pct": ("MILP relative gap to the best bound", "{:.3f} %"),
    "mip_bound_eur": ("MILP best bound (the objective cannot be lower)", _EUR),
    "mip_gap_note": ("MILP gap", None),
    "lp_relaxation_note": ("shift relaxation", None),
}


def kpi_label(key: str) -> str:
    if key not in KPI_SPECS:
        raise KeyError(f"report: headline figure {key!r} has no label and unit in KPI_SPECS")
    return KPI_SPECS[key][0]


def format_kpi(key: str, v: Any, signed: bool = False) -> str:
    kpi_label(key)
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    fmt = KPI_SPECS[key][1]
    if fmt is None or not isinstance(v, int | float) or isinstance(v, bool):
        return html.escape(str(v))
    if signed:
        fmt = fmt.replace("{:", "{:+", 1)
    return fmt.format(v)


def _table_html(t: pd.DataFrame) -> str:
    return t.to_html(index=False, float_format=lambda x: f"{x:,.2f}" if abs(x) < 100 else f"{x:,.0f}")


def render_html(d: ReportData, png: bytes) -> str:
    rows = "".join(f"<tr><th>{html.escape(kpi_label(k))}</th><td>{format_kpi(k, v)}</td></tr>"
                   for k, v in d.kpis.items())
    extra = "".join(f"<h2>{html.escape(name)}</h2>{_table_html(t)}" for name, t in d.tables.items())
    img = base64.b64encode(png).decode()
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(d.title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{text-align:left}}</style></head>
<body><h1>{html.escape(d.title)}</h1><h2>Headline</h2><table>{rows}</table>
<p>Boundaries: the plan covers every plant at 100 % (gross); history is reported {html.escape(d.boundary)};
the plan-vs-history comparison puts the plan on the history's boundary.</p>
<h2>Summary</h2><img alt="summary" style="max-width:100%" src="data:image/png;base64,{img}">{extra}
</body></html>"""


def render_report(d: ReportData, out_dir: str | Path) -> dict[str, str]:
    """Write summary.png and report.html into out_dir; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = render_png(d)
    (out / "summary.png").write_bytes(png)
    (out / "report.html").write_text(render_html(d, png), encoding="utf-8")
    return {"png": str(out / "summary.png"), "html": str(out / "report.html")}


# ---- issue 16: the Suppliers section's headline figures (report_data.supplier_section)
KPI_SPECS.update({
    "supplier_alerts": ("supplier risk alerts", "{:,.0f}"),
    "scope3_cat1_t_per_year": ("Scope 3 cat. 1, purchased goods per year (tier-1 links)", _T),
    "submissions_flagged": ("supplier submissions flagged", "{:,.0f}"),
    "submissions_rejected": ("supplier submissions rejected", "{:,.0f}"),
    "supplier_outage": ("supplier outage: what moved", None),
    "co2e_scope3_cat1_t": ("plan Scope 3 cat. 1 of sourced components", _T),
})
