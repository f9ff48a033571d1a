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


def _fig_emissions_scope(ax, d: ReportData):
    df = d.emissions_by_scope
    ax.bar(df["scope"], df["co2e_t"], color=[SCOPE_COLOURS.get(s, "grey") for s in df["scope"]])
    ax.set_title("Emissions by scope (history, t CO2e)")
    ax.tick_params(axis="x", rotation=20)


def _fig_emissions_plant(ax, d: ReportData):
    df = d.emissions_by_plant.pivot_table(index="plant_id", columns="scope", values="co2e_t",
                                          aggfunc="sum", fill_value=0.0)
    bottom = None
    for scope in df.columns:
        ax.barh(df.index, df[scope], left=bottom, label=scope, color=SCOPE_COLOURS.get(scope, "grey"))
        bottom = df[scope] if bottom is None else bottom + df[scope]
    ax.set_title(f"Emissions by plant (history, t CO2e; {d.kpis.get('boundary', 'operational control')})")
    ax.legend(fontsize=7)


def _fig_mode(ax, d: ReportData):
    df = d.plan_emissions_by_mode
    ax.bar(df["mode"], df["co2e_t"], color="#66a61e")
    ax.set_title("Planned freight emissions by mode (t CO2e)")


def _fig_demand(ax, d: ReportData):
    df = d.demand.sort_values("week")
    ax.plot(df["week"], df["actual"], color="black", lw=1, label="actual")
    if "yhat" in df and df["yhat"].notna().any():
        f = df[df["yhat"].notna()]
        ax.fill_between(f["week"], f["yhat_lo_95"], f["yhat_hi_95"], alpha=0.2, color="#1f78b4", label="95%")
        ax.fill_between(f["week"], f["yhat_lo_80"], f["yhat_hi_80"], alpha=0.35, color="#1f78b4", label="80%")
        ax.plot(f["week"], f["yhat"], color="#1f78b4", lw=1.5, label="forecast")
    ax.set_title("Demand: actuals and forecast (units/week, all markets;\nbands are sums of series bounds)")
    ax.legend(fontsize=7)
    ax.tick_params(axis="x", rotation=20)


def _fig_utilisation(ax, d: ReportData):
    df = d.utilisation.sort_values("plant_id")
    ax.barh(df["plant_id"], df["capacity_units"], color="#dddddd", label="capacity")
    ax.barh(df["plant_id"], df["planned_units"], color="#386cb0", label="plan")
    ax.set_title("Plan against capacity (units over horizon)")
    ax.legend(fontsize=7)


def _fig_frontier(ax, d: ReportData):
    df = d.frontier
    if df.empty:
        ax.text(0.5, 0.5, "no Pareto sweep in this run", ha="center", va="center")
        ax.set_axis_off()
        return
    df = df.sort_values("co2_t")
    ax.plot(df["co2_t"], df["objective_eur"] / 1e6, marker="o", color="#e6ab02", label="frontier")
    for row in df.itertuples(index=False):
        ax.annotate(f"{row.co2_mac_eur_per_t:,.0f}", (row.co2_t, row.objective_eur / 1e6), fontsize=7,
                    textcoords="offset points", xytext=(4, 4))
    if d.chosen:
        ax.scatter([d.chosen["co2_t"]], [d.chosen["objective_eur"] / 1e6], color="red", zorder=5, s=60,
                   label="chosen plan")
    mac, budget = d.kpis.get("co2_mac_eur_per_t"), d.kpis.get("co2_budget_t")
    has_budget = isinstance(budget, (int, float)) and budget == budget  # not None, not NaN
    ax.set_title(f"Cost / CO2 frontier (plan's shadow price {mac:,.1f} EUR/t)" if has_budget and mac is not None
                 else "Cost / CO2 frontier (plan has no CO2 budget)")
    ax.set_xlabel("t CO2e over horizon")
    ax.set_ylabel("cost incl. unmet-demand penalty (M EUR)")
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


KPI_LABELS = {
    "status": "solver status", "objective_eur": "objective incl. penalties (EUR)",
    "cost_production_eur": "production cost (EUR)", "cost_freight_eur": "freight cost (EUR)",
    "cost_carbon_eur": "carbon cost (EUR)", "co2e_total_t": "CO2e over the horizon (t)",
    "co2e_scope1_t": "scope 1 (t CO2e)", "co2e_scope2_market_t": "scope 2 market-based (t CO2e)",
    "co2e_scope2_location_t": "scope 2 location-based (t CO2e)",
    "co2e_scope3_transport_t": "scope 3 transport (t CO2e)", "co2_budget_t": "CO2 budget (t)",
    "co2_budget_excess_t": "CO2 budget missed by (t)",
    "co2_mac_eur_per_t": "CO2 shadow price = marginal abatement cost (EUR/t)",
    "output_units": "built (units)", "demand_units": "demand (units)",
    "pipeline_units": "demand met from shipments in transit (units)", "unmet_units": "unmet demand (units)",
    "service_level": "service level", "n_variables": "LP variables", "diagnosis": "diagnosis",
    "boundary": "organisational boundary (history)",
    "co2_price_setter": "what sets the CO2 price", "on_track": "on the target trajectory",
    "off_track_t": "off track by (t CO2e)", "cost_to_stay_on_track_eur": "cost to stay on track (EUR)",
    "co2e_outside_boundary_t": "plan CO2e outside the budget's boundary (t)",
}


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
    return html.escape(str(v))


def render_html(d: ReportData, png: bytes) -> str:
    rows = "".join(f"<tr><th>{html.escape(KPI_LABELS.get(k, k))}</th><td>{_fmt(v)}</td></tr>"
                   for k, v in d.kpis.items())
    extra = "".join(f"<h2>{html.escape(name)}</h2>{t.to_html(index=False, float_format=lambda x: f'{x:,.2f}')}"
                    for name, t in d.tables.items())
    img = base64.b64encode(png).decode()
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(d.title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{text-align:left}}</style></head>
<body><h1>{html.escape(d.title)}</h1><h2>Headline</h2><table>{rows}</table>
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
