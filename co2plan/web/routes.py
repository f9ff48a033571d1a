"""Pages (HTML, not in the OpenAPI schema) and their JSON twins under /api/v1, per view:
public (anyone), supplier (supplier users; no URL carries a supplier id, the principal does), enterprise
(viewer < planner < admin) with the planner's scenario cockpit, and admin. Every read goes through
``co2plan.web.data`` with the principal; nothing here touches the lake or the database."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse

from co2plan.web import charts, data, forms
from co2plan.web.data import Forbidden, NotFound
from co2plan.web.http import COMMON_RESPONSES, create_user, current_principal, render, require
from co2plan.web.runner import RunnerError
from co2plan.web.security import Principal
from co2plan.web.submissions import FIELDS, FORM_CHOICES, DoorError, parse_csv, parse_json_rows

__all__ = ["register"]



def RunQ():  # noqa: N802 - one Query object per parameter (FastAPI drops reused ones)
    return Query(None, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", description="lake run id; default the newest")


def IdQ():  # noqa: N802
    return Query(None, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")


def MonthQ():  # noqa: N802
    return Query(None, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")



SUBMISSION_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["rows"], "properties": {"rows": {
        "type": "array", "maxItems": 50000, "items": {"type": "object", "properties": {
            "year": {"type": "integer"}, "commodity": {"type": "string"}, "plant_id": {"type": ["string", "null"]},
            "product_id": {"type": ["string", "null"]}, "activity_qty": {"type": ["number", "null"]},
            "activity_unit": {"type": ["string", "null"]}, "tco2e": {"type": "number"}, "method": {"type": "string"},
            "dq_tier": {"type": "integer"}}}}}}},
    "text/csv": {"schema": {"type": "string", "description": "header: " + ",".join(FIELDS)}}}}}


def _st(request: Request):
    return request.app.state


# ---------------------------------------------------------------------------------------------- charts (view)
def _trajectory_chart(t: dict, boundary: str, cid: str = "trajectory") -> dict | None:
    if not t.get("years"):
        return None
    tr = [charts.lines("Actual", t["years"], t["actual"], charts.SCOPE_COLOURS["total"]),
          charts.lines(f"Target path (from {t['base_year']})", t["target_years"], t["target"],
                       charts.SCOPE_COLOURS["target"], dash="dash")]
    return charts.chart(cid, tr, title="Emissions against the reduction target", unit="t CO2e per year",
                        period=f"calendar years {t['years'][0]}-{t['target_years'][-1]} (full years only)",
                        boundary=boundary, x_title="year",
                        table_head=["year", "actual t CO2e"], table=[[y, f"{v:,.0f}"] for y, v in
                                                                     zip(t["years"], t["actual"], strict=True)])


def _overview_charts(o: dict) -> list[dict]:
    b = f"{o['boundary'].replace('_', ' ')}, {o['gwp_set']} GWPs"
    main = {k: o["by_month"][k] for k in ("scope1", "scope2_market", "scope3_cat4")}
    out = [charts.chart("by-month", charts.stacked(o["months"], main), title="Emissions by scope and month",
                        unit="t CO2e per month", period=o["period"], boundary=b, x_title="month", barmode="stack",
                        table_head=["month", *[charts.SCOPE_LABELS[k] for k in main]],
                        table=[[m, *[f"{main[k][i]:,.0f}" for k in main]] for i, m in enumerate(o["months"])])]
    s2 = {k: o["by_month"][k] for k in ("scope2_location", "scope2_market")}
    out.append(charts.chart("scope2", [charts.bar(charts.SCOPE_LABELS[k], o["months"], v, charts.SCOPE_COLOURS[k])
                                       for k, v in s2.items()],
                            title="Scope 2: location-based and market-based side by side (alternative methods, "
                                  "do not add)", unit="t CO2e per month", period=o["period"], boundary=b,
                            x_title="month", barmode="group"))
    out.append(charts.chart("by-plant", charts.stacked(o["plants"], o["by_plant"]),
                            title="Emissions by plant and scope", unit="t CO2e", period=o["period"], boundary=b,
                            x_title="plant", barmode="stack"))
    act = sorted(o["by_activity"], key=lambda r: r["co2e_t"])  # largest at the top of a horizontal bar chart
    out.append(charts.chart("by-carrier", [charts.bar("t CO2e", [r["co2e_t"] for r in act],
                                                      [f"{r['activity'].replace('_', ' ')} ({r['scope']})" for r in act],
                                                      charts.PALETTE[0], orientation="h")],
                            title="Emissions by carrier and transport mode (scope 2 location-based is the "
                                  "alternative method)", unit="t CO2e", period=o["period"],
                            boundary=b, x_title="", height=max(420, 90 + 24 * len(act)),
                            layout_extra={"xaxis": {"title": {"text": "t CO2e"}, "separatethousands": True},
                                          "yaxis": {"title": {"text": ""}, "type": "category"},
                                          "margin": {"l": 20, "r": 20, "t": 30, "b": 50}}))
    t = _trajectory_chart(o["trajectory"], b)
    if t:
        out.append(t)
    return out


def _compare_charts(c: dict) -> list[dict]:
    if not c["plants"]:
        return []
    period = "; ".join(f"{n}: {w}" for n, w in c["period"].items())
    cols = [charts.PALETTE[4], charts.PALETTE[0]]
    out = [charts.chart("cmp-production", [charts.bar(n, c["plants"], c["production"][n], cols[i])
                                           for i, n in enumerate(c["names"])],
                        title="Production by plant, plans side by side", unit="units over the horizon",
                        period=period, boundary="all plants of the network", x_title="plant", barmode="group")]
    if any(v is not None for n in c["names"] for v in c["co2_by_plant"][n]):
        out.append(charts.chart("cmp-co2", [charts.bar(n, c["plants"], [v or 0 for v in c["co2_by_plant"][n]], cols[i])
                                            for i, n in enumerate(c["names"])],
                                title="CO2e by plant, plans side by side", unit="t CO2e over the horizon",
                                period=period, boundary="scope 1 + scope 2 market-based + transport",
                                x_title="plant", barmode="group"))
    return out


def _supplier_charts(o: dict) -> list[dict]:
    out = []
    if o["years"]:
        out.append(charts.chart("sup-annual", [
            charts.bar("Reported", o["years"], o["totals"], charts.PALETTE[0]),
            charts.lines("Planned (company commitment path)", o["years"], o["planned"], charts.PALETTE[4], "dash")],
            title="Your annual emissions: actual against planned", unit="t CO2e per year",
            period=f"{o['years'][0]}-{o['years'][-1]}", boundary=f"supplier {o['supplier_id']}, all plants supplied",
            x_title="year", table_head=["year", "t CO2e"],
            table=[[y, f"{v:,.1f}"] for y, v in zip(o["years"], o["totals"], strict=True)]))
    s = o["share"]
    if s.get("available"):
        labels = ["You"] + [f"Peer {i + 1}" for i in range(len(s["peers_pct"]))]
        vals = [s["own_pct"], *s["peers_pct"]]
        out.append(charts.chart("sup-share", [charts.bar("share", labels, vals, charts.PALETTE[0],
                                                         marker={"color": [charts.PALETTE[1]] + [charts.PALETTE[4]] *
                                                                 len(s["peers_pct"])})],
                                title=f"Your share within {s['industry']} (peers anonymised)", unit="% of industry total",
                                period=str(s["year"]), boundary=f"{s['n']} suppliers in {s['industry']}",
                                x_title=""))
    return out


# ---------------------------------------------------------------------------------------------- register
def _forecast_charts(h: dict) -> list[dict]:
    ser, w = h["series"], h["weeks"]
    if not w or "yhat" not in ser:
        return []
    tr = []
    for lo, hi, name, fill in (("yhat_lo_95", "yhat_hi_95", "95 % interval", "rgba(0,114,178,0.12)"),
                               ("yhat_lo_80", "yhat_hi_80", "80 % interval", "rgba(0,114,178,0.28)")):
        if lo in ser and hi in ser:
            tr.append({"type": "scatter", "mode": "lines", "name": name + " (upper)", "x": w, "y": ser[hi],
                       "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip"})
            tr.append({"type": "scatter", "mode": "lines", "name": name, "x": w, "y": ser[lo], "fill": "tonexty",
                       "fillcolor": fill, "line": {"width": 0}})
    tr.append(charts.lines("Point forecast", w, ser["yhat"], charts.PALETTE[0]))
    if h.get("naive_sum"):
        ns = h["naive_sum"]
        tr += [charts.lines("Sum of product x market 95 % bounds (not a valid band)", w, ns[c], charts.PALETTE[1],
                            "dot", showlegend=(i == 0), marker={"size": 4})
               for i, c in enumerate(ns) if len(ns[c]) == len(w)]
    what = "all products and markets" if h["level"] == h["node"] == "total" else f"{h['level']} {h['node']}"
    out = [charts.chart("forecast", tr, title=f"Demand forecast, {what}, with reconciled intervals",
                        unit="units per week", period=f"weeks {w[0]} to {w[-1]}",
                        boundary=f"level {h['level']}, node {h['node']} (coherent with every other level)",
                        x_title="week starting", table_head=["week", "forecast", "80 % low", "80 % high", "95 % low",
                                                             "95 % high"],
                        table=[[wk, *[f"{ser[c][i]:,.0f}" if c in ser else "–" for c in
                                      ("yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95")]]
                               for i, wk in enumerate(w)])]
    return out


def _levers_charts(lv: dict) -> list[dict]:
    out = []
    pp = lv["price_by_period"]
    plan = f"plan {lv['scenario']}"
    if len(pp) > 1:  # one period: the KPI card says it
        out.append(charts.chart("co2-price", [charts.bar("CO2 shadow price", list(pp), list(pp.values()),
                                                         charts.PALETTE[1])],
                                title="CO2 shadow price of the plan per budget period (dual of the CO2 budget)",
                                unit="EUR per t CO2e", period="budget periods of the plan horizon",
                                boundary=f"{plan}, CO2 budget boundary of the run", x_title="period",
                                height=340, table_head=["period", "EUR/t CO2e"],
                                table=[[k, f"{v:,.2f}"] for k, v in pp.items()]))
    mac = lv.get("mac")
    if mac:
        price = lv.get("shadow_price_eur_per_t")
        # the marginal option: of the price-setting lever family, the one the plan uses only in part (its cost is
        # the price); without one, the dearest used option of that family
        setters = [m for m in mac if m["sets_price"] and 0.001 < m["used_share"] < 0.999] or \
            [m for m in mac if m["sets_price"] and m["used_share"] > 0][-1:]
        marginal = {id(m) for m in setters}
        groups = (("sets the price: the marginal option, partly used", lambda m: id(m) in marginal, charts.PALETTE[1]),
                  ("used by the plan", lambda m: id(m) not in marginal and m["used_share"] > 0, charts.PALETTE[2]),
                  ("available, not used", lambda m: id(m) not in marginal and m["used_share"] <= 0, charts.PALETTE[0]))
        tr = []
        for name, keep, colour in groups:
            ms = [m for m in mac if keep(m)]
            if ms:
                tr.append({"type": "bar", "name": name, "x": [m["start_t"] + m["potential_t"] / 2 for m in ms],
                           "width": [m["potential_t"] for m in ms], "y": [m["cost_eur_per_t"] for m in ms],
                           "marker": {"color": colour, "line": {"color": "#ffffff", "width": 0.5}},
                           "customdata": [[f"{m['lever']} {m['key']} {m['period']}".strip(), m["potential_t"],
                                           m["used_share"] * 100] for m in ms],
                           "hovertemplate": "%{customdata[0]}<br>%{y:,.1f} EUR/t · up to %{customdata[1]:,.0f} t"
                                            "<br>used %{customdata[2]:.0f} %<extra></extra>"})
        costs = [m["cost_eur_per_t"] for m in mac]
        log = min(costs) > 0 and max(costs) / min(costs) > 100  # cheap options stay visible beside dear ones
        end = mac[-1]["start_t"] + mac[-1]["potential_t"]
        if price is not None:
            tr.append(charts.lines(f"CO2 shadow price of the plan: {price:,.1f} EUR/t", [0, end], [price, price],
                                   charts.PALETTE[6], "dash", marker={"size": 1}))
        out.append(charts.chart(
            "mac", tr, title="Marginal abatement cost curve: every option, cheapest first (bar width = t CO2e it "
                             "can abate)", unit="EUR per t CO2e abated" + (" (log scale)" if log else ""),
            period="plan horizon, by calendar year", boundary=f"{plan}; levers per market or plant",
            x_title="t CO2e abatable (cumulative, cheapest first)", height=480,
            layout_extra={"bargap": 0, "xaxis": {"separatethousands": True},
                          **({"yaxis": {"type": "log", "rangemode": "normal"}} if log else {})},
            table_head=["lever", "market / plant", "year", "t CO2e potential", "EUR/t", "used %", "sets the price"],
            table=[[m["lever"], m["key"], m["period"], f"{m['potential_t']:,.0f}", f"{m['cost_eur_per_t']:,.1f}",
                    f"{m['used_share'] * 100:.0f}", "yes" if m["sets_price"] else ""] for m in mac]))
    if lv.get("levers"):
        lev = lv["levers"]
        out.append(charts.chart("levers", [charts.bar("t CO2e abated", [x["abated_t"] for x in lev],
                                                      [x["lever"] for x in lev], charts.PALETTE[2], orientation="h",
                                                      width=0.6, customdata=[[x["mwh"], x["cost_eur"]] for x in lev],
                                                      hovertemplate="%{y}: %{x:,.0f} t CO2e<br>%{customdata[0]:,.0f} "
                                                                    "MWh, %{customdata[1]:,.0f} EUR<extra></extra>")],
                                title="Abatement levers bought in the plan", unit="t CO2e abated",
                                period="plan horizon", boundary=f"{plan}, all plants", x_title="",
                                height=150 + 45 * len(lev),
                                layout_extra={"xaxis": {"title": {"text": "t CO2e abated"}, "separatethousands": True},
                                              "yaxis": {"title": {"text": ""}, "type": "category"}}, table_head=["lever", "MWh", "EUR", "t CO2e abated"],
                                table=[[x["lever"], f"{x['mwh']:,.0f}", f"{x['cost_eur']:,.0f}",
                                        f"{x['abated_t']:,.1f}"] for x in lev]))
    return out


def _supply_charts(sv: dict) -> list[dict]:
    if not sv.get("available"):
        return []
    out = []
    top = sv["suppliers"]
    if top:
        labels = [f"{x['node_id']} · {x['name']} ({x['country'] or '?'})" for x in top][::-1]
        out.append(charts.chart("risk-top", [
            charts.bar("total risk", [x["total"] for x in top][::-1], labels, charts.PALETTE[1], orientation="h",
                       customdata=[[x["own"], x["inherited"], x["commodity"] or "", x["tier"]] for x in top][::-1],
                       hovertemplate="%{y}<br>total %{x:.2f} (own %{customdata[0]:.2f}, inherited from its "
                                     "suppliers %{customdata[1]:.2f})<br>%{customdata[2]}, tier %{customdata[3]}"
                                     "<extra></extra>")],
            title=f"Riskiest suppliers (top {len(top)} of {sv['n_suppliers']})", unit="risk score (0 = none, 1 = max)",
            period=f"run {sv['run_id']}", boundary="all tiers of the supplier network",
            x_title="", height=120 + 28 * len(top),
            layout_extra={"xaxis": {"title": {"text": "risk score (0 = none, 1 = max)"}, "range": [0, 1]},
                          "yaxis": {"title": {"text": ""}, "type": "category", "automargin": True},
                          "margin": {"l": 20, "r": 20, "t": 30, "b": 50}},
            table_head=["supplier", "name", "country", "commodity", "tier", "own", "inherited", "total"],
            table=[[x["node_id"], x["name"], x["country"] or "", x["commodity"] or "", x["tier"], f"{x['own']:.3f}",
                    f"{x['inherited']:.3f}", f"{x['total']:.3f}"] for x in top]))
    g = sv.get("graph")
    if g and g["nodes"]:
        by_tier: dict[int, list[dict]] = {}
        for n in g["nodes"]:
            by_tier.setdefault(n["tier"], []).append(n)
        pos = {}
        for t, ns in by_tier.items():
            ns.sort(key=lambda n: -n["exposure"])
            for i, n in enumerate(ns):
                pos[n["node_id"]] = (t, (len(ns) - 1) / 2 - i)
        ex, ey = [], []
        for e in g["edges"]:
            (x0, y0), (x1, y1) = pos[e["from"]], pos[e["to"]]
            ex += [x0, x1, None]
            ey += [y0, y1, None]
        nodes = g["nodes"]
        tr = [{"type": "scatter", "mode": "lines", "name": "supply link (seller → buyer)", "x": ex, "y": ey,
               "line": {"color": "#9a9a9a", "width": 1}, "hoverinfo": "skip"},
              {"type": "scatter", "mode": "markers+text", "name": "supplier (size: exposure, colour: risk)",
               "x": [pos[n["node_id"]][0] for n in nodes], "y": [pos[n["node_id"]][1] for n in nodes],
               "text": [n["node_id"] for n in nodes], "textposition": "top center", "textfont": {"size": 12},
               "customdata": [[n["name"], n["commodity"], n["exposure"] * 100, n["risk"]] for n in nodes],
               "hovertemplate": "%{text} · %{customdata[0]}<br>%{customdata[1]}<br>exposure %{customdata[2]:.1f} % "
                                "of the plant's input<br>risk %{customdata[3]:.2f}<extra></extra>",
               "marker": {"size": [14 + 40 * min(n["exposure"], 1.0) for n in nodes],
                          "color": [n["risk"] for n in nodes], "colorscale": "Cividis", "cmin": 0, "cmax": 1,
                          "line": {"color": "#1a1a1a", "width": 1},
                          "colorbar": {"title": {"text": "risk 0-1"}, "thickness": 14}}}]
        tiers = sorted(by_tier)
        out.append(charts.chart(
            "supply-graph", tr, title=f"Supplier graph around {sv['plant_id']}: its {len(nodes) - 1} most exposed "
                                      "suppliers", unit="tier (0 = the plant)", period=f"run {sv['run_id']}",
            boundary=f"plant {sv['plant_id']}; exposure = share of the plant's input lost if the supplier fails",
            x_title="tier (0 = the plant, 1 = sells to it, 2 = sells to a tier-1 supplier, ...)", height=560,
            layout_extra={"xaxis": {"tickmode": "array", "tickvals": tiers, "ticktext": [f"tier {t}" for t in tiers],
                                    "zeroline": False, "range": [tiers[0] - 0.5, tiers[-1] + 0.5]},
                          "yaxis": {"title": {"text": ""}, "showticklabels": False, "zeroline": False,
                                    "showgrid": False, "rangemode": "normal"}},
            table_head=["supplier", "name", "commodity", "tier", "exposure %", "risk"],
            table=[[n["node_id"], n["name"], n["commodity"], n["tier"], f"{n['exposure'] * 100:.1f}",
                    f"{n['risk']:.2f}"] for n in sorted(nodes[1:], key=lambda n: -n["exposure"])]))
    return out


def register(app: FastAPI) -> None:  # noqa: C901 - one place that lists every route
    # ------------------------------------------------------------------ public
    @app.get("/", include_in_schema=False)
    def public_page(request: Request):
        s = _st(request)
        p = current_principal(request)
        summary = data.public_summary(p, s.lake, s.store, s.settings)
        ch = []
        if summary["run_id"]:
            t = _trajectory_chart(summary["trajectory"], "operational control; scope 1 + scope 2 market-based + "
                                  "scope 3 cat. 4", "public-trajectory")
            if t:
                ch.append(t)
        return render(request, "public.html", {"s": summary, "charts": ch})

    @app.get("/api/v1/public/summary", tags=["public"], responses=COMMON_RESPONSES)
    def api_public(request: Request) -> dict:
        s = _st(request)
        return data.public_summary(current_principal(request), s.lake, s.store, s.settings)

    # ------------------------------------------------------------------ supplier
    @app.get("/supplier", include_in_schema=False)
    def supplier_page(request: Request, p: Principal = Depends(require("supplier"))):
        s = _st(request)
        o = data.supplier_overview(p, s.lake, s.store, s.settings)
        return render(request, "supplier.html", {"o": o, "charts": _supplier_charts(o)})

    @app.get("/api/v1/supplier/summary", tags=["supplier"], responses=COMMON_RESPONSES)
    def api_supplier(request: Request, p: Principal = Depends(require("supplier"))) -> dict:
        s = _st(request)
        return data.supplier_overview(p, s.lake, s.store, s.settings)

    @app.get("/supplier/submit", include_in_schema=False)
    def submit_page(request: Request, p: Principal = Depends(require("supplier"))):
        return render(request, "supplier_submit.html", {"fields": FIELDS, "error": None, **FORM_CHOICES})

    def _after_submit(request: Request, batch: dict) -> RedirectResponse:
        return RedirectResponse(f"/supplier/submissions/{batch['id']}", status_code=303)

    @app.post("/supplier/submit", include_in_schema=False)
    def submit_row(request: Request, year: str = Form("", max_length=20), commodity: str = Form("", max_length=200),
                   plant_id: str = Form("", max_length=200), product_id: str = Form("", max_length=200),
                   activity_qty: str = Form("", max_length=40), activity_unit: str = Form("", max_length=40),
                   tco2e: str = Form("", max_length=40), method: str = Form("", max_length=200),
                   dq_tier: str = Form("", max_length=20), p: Principal = Depends(require("supplier"))):
        s = _st(request)
        raw = {"year": year, "commodity": commodity, "plant_id": plant_id, "product_id": product_id,
               "activity_qty": activity_qty, "activity_unit": activity_unit, "tco2e": tco2e, "method": method,
               "dq_tier": dq_tier}
        batch, _ = data.submit(p, s.store, s.lake, "form", json.dumps(raw).encode(), [raw])
        return _after_submit(request, batch)

    @app.post("/supplier/upload", include_in_schema=False)
    async def submit_csv(request: Request, file: UploadFile = File(...), p: Principal = Depends(require("supplier"))):
        s = _st(request)
        payload = await file.read(s.settings.max_upload_bytes + 1)
        try:
            if len(payload) > s.settings.max_upload_bytes:
                raise DoorError("file too large")
            raw = parse_csv(payload, s.settings.max_rows)
        except DoorError as e:
            return render(request, "supplier_submit.html", {"fields": FIELDS, "error": str(e), **FORM_CHOICES}, 422)
        batch, _ = await run_in_threadpool(data.submit, p, s.store, s.lake, "csv", payload, raw)
        return _after_submit(request, batch)

    @app.post("/api/v1/supplier/submissions", tags=["supplier"], status_code=201, openapi_extra=SUBMISSION_BODY,
              responses={**COMMON_RESPONSES, 200: {"description": "a retry: the batch stored earlier under the "
                                                                  "same Idempotency-Key"},
                         413: {"description": "body too large"}})
    async def api_submit(request: Request, p: Principal = Depends(require("supplier"))):
        s = _st(request)
        payload = await request.body()
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        key = request.headers.get("idempotency-key")
        if key is not None and not re.match(r"^[A-Za-z0-9_.:\-]{1,128}$", key):
            return JSONResponse({"detail": "Idempotency-Key: 1-128 characters of A-Z a-z 0-9 _ . : -"}, 422)
        try:
            if ctype == "text/csv":
                raw, channel = parse_csv(payload, s.settings.max_rows), "csv"
            elif ctype == "application/json":
                try:
                    body = json.loads(payload)
                except (json.JSONDecodeError, UnicodeDecodeError) as e:
                    raise DoorError(f"not JSON: {e}") from e
                raw, channel = parse_json_rows(body, s.settings.max_rows), "json"
            else:
                return JSONResponse({"detail": "send application/json or text/csv"}, 415)
        except DoorError as e:
            return JSONResponse({"detail": str(e)}, 422)
        batch, created = await run_in_threadpool(data.submit, p, s.store, s.lake, channel, payload, raw, key)
        return JSONResponse(_batch_json(batch), 201 if created else 200)

    @app.get("/supplier/submissions", include_in_schema=False)
    def batches_page(request: Request, p: Principal = Depends(require("supplier"))):
        s = _st(request)
        return render(request, "supplier_batches.html", {
            "batches": data.supplier_batches(p, s.store), "records": data.supplier_records(p, s.store),
            "audit": data.supplier_audit(p, s.store)[:50]})

    @app.get("/api/v1/supplier/submissions", tags=["supplier"], responses=COMMON_RESPONSES)
    def api_batches(request: Request, p: Principal = Depends(require("supplier"))) -> list[dict]:
        return [_batch_json(b) for b in data.supplier_batches(p, _st(request).store)]

    @app.get("/supplier/submissions/{batch_id}", include_in_schema=False)
    def batch_page(request: Request, batch_id: str, p: Principal = Depends(require("supplier"))):
        b = data.supplier_batch(p, _st(request).store, batch_id)
        for r in b["rows"]:
            r["reasons_list"] = json.loads(r["reasons"])
        return render(request, "supplier_batch.html", {"b": b})

    @app.get("/api/v1/supplier/submissions/{batch_id}", tags=["supplier"], responses=COMMON_RESPONSES)
    def api_batch(request: Request, batch_id: str, p: Principal = Depends(require("supplier"))) -> dict:
        b = data.supplier_batch(p, _st(request).store, batch_id)
        return {**_batch_json(b), "rows": [_row_json(r) for r in b["rows"]],
                "quarantine": [{"source_row": q["source_row"], "reason": q["reason"], "raw": json.loads(q["raw"])}
                               for q in b["quarantine"]]}

    @app.get("/supplier/record", include_in_schema=False)
    def record_page(request: Request, key: str = Query(..., max_length=200),
                    p: Principal = Depends(require("supplier"))):
        versions = data.supplier_record_versions(p, _st(request).store, key)
        return render(request, "supplier_record.html", {"key": key, "versions": [_row_json(v) for v in versions]})

    @app.get("/api/v1/supplier/records", tags=["supplier"], responses=COMMON_RESPONSES)
    def api_records(request: Request, p: Principal = Depends(require("supplier"))) -> list[dict]:
        return [_row_json(r) for r in data.supplier_records(p, _st(request).store)]

    @app.get("/api/v1/supplier/record", tags=["supplier"], responses=COMMON_RESPONSES)
    def api_record(request: Request, key: str = Query(..., max_length=200),
                   p: Principal = Depends(require("supplier"))) -> list[dict]:
        return [_row_json(r) for r in data.supplier_record_versions(p, _st(request).store, key)]

    # ------------------------------------------------------------------ enterprise
    @app.get("/enterprise", include_in_schema=False)
    def enterprise_page(request: Request, run: str | None = RunQ(), p: Principal = Depends(require("viewer"))):
        s = _st(request)
        try:
            o = data.enterprise_overview(p, s.lake, s.settings, run)
        except NotFound as e:
            if run:
                raise
            return render(request, "enterprise.html", {"o": None, "message": str(e), "runs": []})
        return render(request, "enterprise.html", {"o": o, "charts": _overview_charts(o),
                                                   "runs": data.enterprise_runs(p, s.lake)})

    @app.get("/api/v1/enterprise/overview", tags=["enterprise"], responses=COMMON_RESPONSES)
    def api_overview(request: Request, run: str | None = RunQ(), p: Principal = Depends(require("viewer"))) -> dict:
        s = _st(request)
        return data.enterprise_overview(p, s.lake, s.settings, run)

    @app.get("/api/v1/enterprise/runs", tags=["enterprise"], responses=COMMON_RESPONSES)
    def api_runs(request: Request, p: Principal = Depends(require("viewer"))) -> list[str]:
        return data.enterprise_runs(p, _st(request).lake)

    @app.get("/enterprise/emissions", include_in_schema=False)
    def emissions_page(request: Request, run: str | None = RunQ(), scope: str | None = IdQ(),
                       plant_id: str | None = IdQ(), activity: str | None = IdQ(), month: str | None = MonthQ(),
                       p: Principal = Depends(require("viewer"))):
        e = data.emissions_breakdown(p, _st(request).lake, run, scope, plant_id, activity, month)
        return render(request, "emissions.html", {"e": e})

    @app.get("/api/v1/enterprise/emissions", tags=["enterprise"], responses=COMMON_RESPONSES)
    def api_emissions(request: Request, run: str | None = RunQ(), scope: str | None = IdQ(),
                      plant_id: str | None = IdQ(), activity: str | None = IdQ(), month: str | None = MonthQ(),
                      p: Principal = Depends(require("viewer"))) -> dict:
        return data.emissions_breakdown(p, _st(request).lake, run, scope, plant_id, activity, month)

    @app.get("/enterprise/ledger", include_in_schema=False)
    def ledger_page(request: Request, run: str | None = RunQ(), scope: str | None = IdQ(), plant_id: str | None = IdQ(),
                    activity: str | None = IdQ(), month: str | None = MonthQ(), page: int = Query(1, ge=1, le=100000),
                    p: Principal = Depends(require("viewer"))):
        led = data.ledger_rows(p, _st(request).lake, run, scope, plant_id, activity, month, page)
        return render(request, "ledger.html", {"l": led, "q": {"run": led["run_id"], "scope": scope or "",
                                                               "plant_id": plant_id or "", "activity": activity or "",
                                                               "month": month or ""}})

    @app.get("/api/v1/enterprise/ledger", tags=["enterprise"], responses=COMMON_RESPONSES)
    def api_ledger(request: Request, run: str | None = RunQ(), scope: str | None = IdQ(), plant_id: str | None = IdQ(),
                   activity: str | None = IdQ(), month: str | None = MonthQ(), page: int = Query(1, ge=1, le=100000),
                   per_page: int = Query(50, ge=1, le=1000), p: Principal = Depends(require("viewer"))) -> dict:
        return data.ledger_rows(p, _st(request).lake, run, scope, plant_id, activity, month, page, per_page)

    @app.get("/enterprise/plans", include_in_schema=False)
    def plans_page(request: Request, run: str | None = RunQ(), scenario: str | None = IdQ(),
                   p: Principal = Depends(require("viewer"))):
        c = data.plan_compare(p, _st(request).lake, run, scenario)
        return render(request, "plans.html", {"c": c, "charts": _compare_charts(c)})

    @app.get("/api/v1/enterprise/plans", tags=["enterprise"], responses=COMMON_RESPONSES)
    def api_plans(request: Request, run: str | None = RunQ(), scenario: str | None = IdQ(),
                  p: Principal = Depends(require("viewer"))) -> dict:
        return data.plan_compare(p, _st(request).lake, run, scenario)

    @app.get("/enterprise/forecast", include_in_schema=False)
    def forecast_page(request: Request, run: str | None = RunQ(), level: str | None = IdQ(), node: str | None = IdQ(),
                      p: Principal = Depends(require("viewer"))):
        lake = _st(request).lake
        h = data.forecast_hierarchy(p, lake, run, level, node)
        if h["available"]:
            return render(request, "forecast.html", {"h": h, "f": None, "charts": _forecast_charts(h)})
        f = data.forecast_summary(p, lake, run)
        ch = []
        if f["available"]:
            ser = f["series"]
            tr = []
            if "yhat_lo_80" in ser and "yhat_hi_80" in ser:
                tr.append({"type": "scatter", "mode": "lines", "name": "80 % interval (upper)", "x": f["weeks"],
                           "y": ser["yhat_hi_80"], "line": {"color": charts.PALETTE[0], "width": 0}})
                tr.append({"type": "scatter", "mode": "lines", "name": "80 % interval", "x": f["weeks"],
                           "y": ser["yhat_lo_80"], "fill": "tonexty", "fillcolor": "rgba(0,114,178,0.2)",
                           "line": {"color": charts.PALETTE[0], "width": 0}})
            if "yhat" in ser:
                tr.append(charts.lines("Point forecast", f["weeks"], ser["yhat"], charts.PALETTE[0]))
            if tr:
                ch.append(charts.chart("forecast", tr, title="Demand forecast, all products and markets",
                                       unit="units per week", period=f"{f['weeks'][0]} to {f['weeks'][-1]}",
                                       boundary="all markets; intervals summed, not reconciled", x_title="week"))
        return render(request, "forecast.html", {"h": h, "f": f, "charts": ch})

    @app.get("/api/v1/enterprise/forecast", tags=["enterprise"], responses=COMMON_RESPONSES)
    def api_forecast(request: Request, run: str | None = RunQ(), p: Principal = Depends(require("viewer"))) -> dict:
        return data.forecast_summary(p, _st(request).lake, run)

    @app.get("/api/v1/enterprise/forecast/hierarchy", tags=["enterprise"], responses=COMMON_RESPONSES)
    def api_forecast_hierarchy(request: Request, run: str | None = RunQ(), level: str | None = IdQ(),
                               node: str | None = IdQ(), p: Principal = Depends(require("viewer"))) -> dict:
        return data.forecast_hierarchy(p, _st(request).lake, run, level, node)

    @app.get("/enterprise/levers", include_in_schema=False)
    def levers_page(request: Request, run: str | None = RunQ(), scenario: str | None = IdQ(),
                    p: Principal = Depends(require("viewer"))):
        lv = data.levers_summary(p, _st(request).lake, run, scenario)
        return render(request, "levers.html", {"l": lv, "charts": _levers_charts(lv)})

    @app.get("/api/v1/enterprise/levers", tags=["enterprise"], responses=COMMON_RESPONSES)
    def api_levers(request: Request, run: str | None = RunQ(), scenario: str | None = IdQ(),
                   p: Principal = Depends(require("viewer"))) -> dict:
        return data.levers_summary(p, _st(request).lake, run, scenario)

    @app.get("/enterprise/supply", include_in_schema=False)
    def supply_page(request: Request, run: str | None = RunQ(), plant_id: str | None = IdQ(),
                    p: Principal = Depends(require("viewer"))):
        sv = data.supply_overview(p, _st(request).lake, run, plant_id)
        return render(request, "supply.html", {"s": sv, "charts": _supply_charts(sv)})

    @app.get("/api/v1/enterprise/supply", tags=["enterprise"], responses=COMMON_RESPONSES)
    def api_supply(request: Request, run: str | None = RunQ(), plant_id: str | None = IdQ(),
                   p: Principal = Depends(require("viewer"))) -> dict:
        return data.supply_overview(p, _st(request).lake, run, plant_id)

    # ------------------------------------------------------------------ cockpit
    def _choices(request: Request) -> dict[str, list[str]]:
        plants = data.known_plants(_st(request).lake) or set()
        return {"plant_id": sorted(plants)}

    @app.get("/enterprise/scenarios", include_in_schema=False)
    def scenarios_page(request: Request, p: Principal = Depends(require("viewer"))):
        return render(request, "scenarios.html", {"runs": data.scenario_list(p, _st(request).store)})

    @app.get("/enterprise/scenarios/new", include_in_schema=False)
    def scenario_form(request: Request, p: Principal = Depends(require("planner"))):
        return render(request, "scenario_new.html", {"w": forms.widgets(None, _choices(request)), "errors": {},
                                                     "choices": _choices(request)})

    def _trigger(request: Request, p: Principal, conf: dict) -> dict:
        s = _st(request)
        base = data.enterprise_runs(p, s.lake)
        base_run = conf.pop("base_run_id", None) or _latest_planned(s, p, base)
        if base_run is None:
            raise NotFound("no weekly run with a plan yet: run the weekly refresh first")
        conf["base_run_id"] = base_run
        sid = conf["scenario_id"]
        if s.store.scenario_run(sid) is not None:
            raise _Conflict(f"scenario id {sid} is taken: choose another")
        dag_run = s.runner.trigger(sid, conf, note=f"from the web cockpit by {p.username}")
        s.store.add_scenario_run(sid, base_run, dag_run, int(p.user_id or 0), conf)
        return s.store.scenario_run(sid)

    @app.post("/enterprise/scenarios", include_in_schema=False)
    async def scenario_submit(request: Request, p: Principal = Depends(require("planner"))):
        form = await request.form()
        conf, errors = forms.parse_form(form)
        if not errors:
            errors = forms.validate(conf)
        if not errors:
            try:
                await run_in_threadpool(_trigger, request, p, conf)
                return RedirectResponse(f"/enterprise/scenarios/{conf['scenario_id']}", status_code=303)
            except (RunnerError, _Conflict) as e:
                errors = {"": str(e)}
        return render(request, "scenario_new.html", {"w": forms.widgets(conf, _choices(request)), "errors": errors,
                                                     "choices": _choices(request)}, 422)

    @app.post("/api/v1/scenarios", tags=["cockpit"], status_code=201,
              responses={**COMMON_RESPONSES, 409: {"description": "scenario id taken"},
                         502: {"description": "the orchestrator refused or is unreachable"}})
    def api_scenario(request: Request, body: dict[str, Any], p: Principal = Depends(require("planner"))):
        conf = dict(body)
        errors = forms.validate({k: v for k, v in conf.items() if k != "base_run_id"})
        if errors:
            return JSONResponse({"detail": errors}, 422)
        try:
            run = _trigger(request, p, conf)
        except _Conflict as e:
            return JSONResponse({"detail": str(e)}, 409)
        except RunnerError as e:
            return JSONResponse({"detail": str(e)}, 502)
        return JSONResponse(_scenario_json(run), 201)

    @app.get("/api/v1/scenarios", tags=["cockpit"], responses=COMMON_RESPONSES)
    def api_scenarios(request: Request, p: Principal = Depends(require("viewer"))) -> list[dict]:
        return [_scenario_json(r) for r in data.scenario_list(p, _st(request).store)]

    def _follow(request: Request, p: Principal, scenario_id: str) -> dict:
        s = _st(request)
        data.scenario_list(p, s.store)  # role check in the data layer
        run = s.store.scenario_run(scenario_id)
        if run is None:
            raise NotFound("no such scenario")
        if run["state"] not in ("success", "failed"):
            try:
                state = s.runner.state(run["dag_run_id"])
            except RunnerError as e:
                state, run["message"] = run["state"], str(e)
            if state != run["state"] and state != "unknown":
                msg = s.runner.error(run["dag_run_id"]) if hasattr(s.runner, "error") else ""
                s.store.set_scenario_state(scenario_id, state, msg)
                run = s.store.scenario_run(scenario_id)
        return run

    @app.get("/api/v1/scenarios/{scenario_id}", tags=["cockpit"], responses=COMMON_RESPONSES)
    def api_scenario_state(request: Request, scenario_id: str, p: Principal = Depends(require("viewer"))) -> dict:
        return _scenario_json(_follow(request, p, scenario_id[:64]))

    @app.get("/enterprise/scenarios/{scenario_id}", include_in_schema=False)
    def scenario_page(request: Request, scenario_id: str, p: Principal = Depends(require("viewer"))):
        run = _follow(request, p, scenario_id[:64])
        c, ch = None, []
        if run["state"] == "success":
            c = data.plan_compare(p, _st(request).lake, run["base_run_id"], scenario_id)
            ch = _compare_charts(c)
        return render(request, "scenario.html", {"r": _scenario_json(run), "c": c, "charts": ch})

    # ------------------------------------------------------------------ admin
    @app.get("/admin", include_in_schema=False)
    def admin_page(request: Request, p: Principal = Depends(require("admin"))):
        s = _st(request)
        return render(request, "admin.html", {"users": s.store.list_users(), "runs": data.enterprise_runs(p, s.lake),
                                              "published": s.lake.published_runs(), "assured": s.store.assured_runs(),
                                              "audit": s.store.audit_entries(None, 100), "error": None})

    @app.post("/admin/users", include_in_schema=False)
    def admin_add_user(request: Request, username: str = Form(..., max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$"),
                       password: str = Form(..., max_length=256), role: str = Form(..., max_length=16),
                       supplier_id: str = Form("", max_length=64), p: Principal = Depends(require("admin"))):
        s = _st(request)
        try:
            create_user(s.store, username, password, role, supplier_id or None if role == "supplier" else None)
        except Exception as e:  # noqa: BLE001 - shown to the admin (duplicate name, short password, bad role)
            raise Forbidden(f"user not created: {str(e).splitlines()[0][:200]}") from e
        return RedirectResponse("/admin", status_code=303)

    @app.post("/admin/assurance", include_in_schema=False)
    def admin_assure(request: Request, run_id: str = Form(..., max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$"),
                     statement: str = Form(..., max_length=1000), p: Principal = Depends(require("admin"))):
        s = _st(request)
        if run_id not in s.lake.published_runs():
            raise NotFound("only a published run can be assured")
        if run_id not in s.store.assured_runs():
            s.store.assure(run_id, statement, int(p.user_id or 0))
        return RedirectResponse("/admin", status_code=303)


class _Conflict(Exception):
    pass


def _latest_planned(s, p: Principal, runs: list[str]) -> str | None:
    for r in reversed(runs):
        if "baseline" in s.lake.scenarios(r):
            return r
    return None


def _batch_json(b: dict) -> dict:
    return {k: (str(v) if k == "created_at" else v) for k, v in b.items()
            if k in ("id", "channel", "idempotency_key", "rows_in", "rows_stored", "rows_quarantined", "created_at")}


def _row_json(r: dict) -> dict:
    out = {k: r[k] for k in ("record_key", "version", *FIELDS, "status", "source_row", "batch_id")}
    out["reasons"] = json.loads(r["reasons"]) if isinstance(r["reasons"], str) else r["reasons"]
    out["created_at"] = str(r["created_at"])
    return out


def _scenario_json(r: dict) -> dict:
    return {"scenario_id": r["scenario_id"], "base_run_id": r["base_run_id"], "dag_run_id": r["dag_run_id"],
            "state": r["state"], "message": r["message"], "conf": json.loads(r["conf"]),
            "created_at": str(r["created_at"]), "updated_at": str(r["updated_at"])}
