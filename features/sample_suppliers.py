"""Seeded multi-tier supplier network for the embedded sample (issue 16).

``supply_tables(size, seed, plants, products, production)`` returns the five supply tables of
``core.tables.SUPPLY_TABLES`` (suppliers, supply_links, esg_scores, supplier_events,
supplier_submissions), derived from the plants' last 52 weeks of production so volumes are consistent.
It draws from its own random stream, so the rest of the sample is unchanged by it.

The network follows a bill of materials by commodity (``RECIPE``): plants buy battery packs, parts,
electronics, castings, steel and aluminium (tier 1); pack makers buy cells; cell makers buy cathode and
lithium; cathode makers buy nickel, cobalt and lithium; parts makers buy steel and aluminium; casters buy
aluminium. Each buyer takes 1-4 sellers per input with Dirichlet shares, and sellers are drawn with a
heavy-tailed size weight, so a few suppliers carry a lot (concentration). Mine and refinery countries
follow USGS Mineral Commodity Summaries 2024 (cobalt ~3/4 DR Congo, nickel ~1/2 Indonesia, lithium
Australia/Chile/China). ESG ratings come from three providers on different scales that agree only
partly (latent risk + provider noise, pairwise rank correlation ~0.4-0.7 as reported by Berg, Koelbel
& Rigobon 2022). News events are short texts (a sentence frame + an issue phrase) with labelled
category and severity; frame and phrase are recorded in ``source`` (``<outlet>#<frame>/<phrase>``) so a
held-apart test split can keep unseen sentence shapes and unseen phrases apart. Submissions carry planted errors: unit slips (x1000 or /1000), copy-paste from
last year while activity moved, and intensities far off peers.

Numbers in ``TRUE_INTENSITY`` are the generator's truth (t CO2e per volume unit), close to the public
averages in ``suppliers.factors`` but not equal: real suppliers differ from averages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SIZES = {"demo": {"n_suppliers": 420, "sellers": (2, 4)}, "large": {"n_suppliers": 20000, "sellers": (4, 8)}}
YEARS = (2023, 2024, 2025)
RUN_DATE = pd.Timestamp("2026-11-16")

# commodity -> (share of suppliers, kind, volume unit, EUR per unit, countries, country weights)
COMMODITY = {
    "battery_pack": (0.05, "supplier", "kWh", 130.0, ("PL", "HU", "DE", "US", "MX", "CN", "CZ"), None),
    "parts": (0.20, "supplier", "units", 1900.0, ("DE", "CZ", "PL", "ES", "FR", "SK", "HU", "US", "MX", "CN"), None),
    "electronics": (0.09, "supplier", "units", 1400.0, ("DE", "CN", "JP", "KR", "TW", "MX", "HU"), None),
    "casting": (0.07, "supplier", "t", 4500.0, ("DE", "CZ", "ES", "IT", "MX", "CN", "US"), None),
    "steel": (0.10, "smelter", "t", 800.0, ("CN", "IN", "JP", "DE", "KR", "US", "BR", "TR"), None),
    "aluminium": (0.09, "smelter", "t", 2500.0, ("CN", "IN", "RU", "CA", "AE", "NO", "IS", "AU"), None),
    "cell": (0.07, "supplier", "kWh", 90.0, ("CN", "KR", "JP", "PL", "HU", "DE", "US"),
             (0.45, 0.15, 0.08, 0.1, 0.1, 0.06, 0.06)),
    "cathode": (0.06, "refiner", "t", 25000.0, ("CN", "KR", "JP", "FI", "BE"), (0.6, 0.2, 0.1, 0.05, 0.05)),
    "lithium": (0.07, "mine", "t", 15000.0, ("AU", "CL", "CN", "AR", "ZW"), (0.45, 0.25, 0.18, 0.07, 0.05)),
    "nickel": (0.10, "mine", "t", 18000.0, ("ID", "PH", "RU", "CA", "AU", "NC"), (0.5, 0.1, 0.1, 0.1, 0.1, 0.1)),
    "cobalt": (0.10, "mine", "t", 30000.0, ("CD", "ID", "AU", "PH", "CU"), (0.74, 0.08, 0.06, 0.06, 0.06)),
}
# buyer commodity -> {input commodity: volume of input per unit of output}
RECIPE = {
    "battery_pack": {"cell": 1.0},
    "cell": {"cathode": 0.0014, "lithium": 0.00012},
    "cathode": {"nickel": 0.5, "cobalt": 0.08, "lithium": 0.07},
    "parts": {"steel": 0.03, "aluminium": 0.008},
    "casting": {"aluminium": 1.05},
}
# per vehicle built: tier-1 commodity -> volume (battery packs in kWh by powertrain)
PACK_KWH = {"BEV": 75.0, "PHEV": 15.0, "ICE": 0.0}  # typical pack sizes
PER_VEHICLE = {"parts": 1.0, "electronics": 1.0, "casting": 0.09, "steel": 0.75, "aluminium": 0.12}
# the generator's truth, t CO2e per volume unit (cradle to gate)
TRUE_INTENSITY = {"battery_pack": 0.08, "cell": 0.072, "cathode": 15.0, "lithium": 9.0, "nickel": 13.0,
                  "cobalt": 13.0, "steel": 1.95, "aluminium": 11.0, "casting": 5.2, "parts": 0.32,
                  "electronics": 0.14}
COUNTRY_RISK = {"CD": 0.35, "RU": 0.4, "ID": 0.15, "PH": 0.1, "CN": 0.12, "ZW": 0.2, "CU": 0.3, "AR": 0.05,
                "IN": 0.08, "MX": 0.06, "TR": 0.08, "BR": 0.06, "NC": 0.05}
# providers: (name, kind, scale_min, scale_max, higher_is_better, noise sd, bias, coverage)
PROVIDERS = (
    ("ratea", "numeric", 0.0, 100.0, True, 0.12, 0.0, 0.85),  # an ESG score, higher = better
    ("riskb", "numeric", 0.0, 50.0, False, 0.16, 0.05, 0.7),  # a risk rating, lower = better
    ("gradec", "letter", None, None, True, 0.2, -0.05, 0.6),  # a letter grade AAA..CCC
)
GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")

# news: a text = a sentence frame (the "family", shared across categories) + an issue phrase that
# carries the category and severity, so a model must learn the topic, not the sentence shape.
# {n} supplier name, {c} country, {i} issue
RISK_FRAMES = (
    ("f1", "{n} accused of {i} at its site in {c}"),
    ("f2", "Report: {i} at {n}, authorities in {c} investigating"),
    ("f3", "NGO says {i} at {n} went unreported for months"),
    ("f4", "Shares of {n} fall after {i}"),
    ("f5", "{c} media: {i} at {n} plant"),
    ("f6", "Customers review contracts with {n} following {i}"),
    ("f7", "Local officials confirm {i} at {n}"),
    ("f8", "{n} under pressure after {i} in {c}"),
)
NEUTRAL_FRAMES = (
    ("n1", "{n} announces {i}"),
    ("n2", "{c} business news: {n} reports {i}"),
    ("n3", "Analysts welcome {i} at {n}"),
    ("n4", "{n} confirms {i} for next year"),
)
ISSUES = {
    "labour_human_rights": [
        ("child labour in its mines", 3), ("forced labour among migrant workers", 3), ("debt bondage of recruits", 3),
        ("unpaid wages and excessive overtime", 2), ("a strike over working conditions", 2),
        ("union busting and dismissed organisers", 2), ("complaints about long shifts", 1),
        ("a dispute over worker housing", 1), ("missing safety training for staff", 1),
    ],
    "environment": [
        ("a toxic spill into the river", 3), ("a tailings dam breach", 3), ("an acid leak near villages", 3),
        ("emissions above permitted limits", 2), ("illegal deforestation at a concession", 2),
        ("groundwater contamination", 2), ("a late wastewater permit filing", 1), ("dust and noise complaints", 1),
        ("a minor oil leak", 1),
    ],
    "sanctions": [
        ("its addition to a sanctions list", 3), ("an export ban on its products", 3),
        ("a trade embargo on its home region", 3), ("detained shipments under an import ban", 2),
        ("a sanctions evasion probe", 2), ("frozen assets of its owners", 2), ("calls for a sanctions review", 1),
        ("new export licence requirements", 1),
    ],
    "accident": [
        ("an explosion that killed workers", 3), ("a mine collapse trapping miners", 3), ("a deadly fire", 3),
        ("a warehouse fire halting output", 2), ("flooding that shut the factory", 2),
        ("a crane accident injuring staff", 2), ("a small fire contained quickly", 1),
        ("a brief power outage on one line", 1), ("a minor chemical spill cleaned up on site", 1),
    ],
    "insolvency": [
        ("a bankruptcy filing", 3), ("the appointment of an administrator", 3), ("a default on its bonds", 3),
        ("a missed coupon payment", 2), ("a credit rating downgrade on liquidity", 2),
        ("creditors demanding restructuring", 2), ("a quarterly loss and cost cuts", 1),
        ("a profit warning", 1), ("delayed payments to its own suppliers", 1),
    ],
    "none": [
        ("a new research centre", 1), ("record quarterly revenue", 1), ("a long-term supply agreement", 1),
        ("a new chief executive", 1), ("an innovation award", 1), ("a capacity expansion", 1),
        ("a new recycling line", 1), ("a dividend increase", 1), ("a partnership with a university", 1),
    ],
}
OUTLETS = ("newswire", "tradepress", "localnews", "ngo_report")


def _countries(rng: np.random.Generator, commodity: str, n: int) -> np.ndarray:
    _, _, _, _, countries, weights = COMMODITY[commodity]
    p = np.asarray(weights if weights is not None else np.ones(len(countries)) / len(countries), dtype=float)
    return np.asarray(countries, dtype=object)[rng.choice(len(countries), size=n, p=p / p.sum())]


def _suppliers(rng: np.random.Generator, n_total: int) -> pd.DataFrame:
    parts = []
    for c, (frac, kind, *_rest) in COMMODITY.items():
        n = max(3, int(round(frac * n_total)))
        width = len(str(n_total))
        ids = [f"S_{c[:3].upper()}_{i:0{width}d}" for i in range(n)]
        country = _countries(rng, c, n)
        parts.append(pd.DataFrame({
            "supplier_id": ids, "name": [f"{c.replace('_', ' ').title()} Co {i}" for i in range(n)],
            "country": country, "commodity": c, "kind": kind,
            "lat": np.round(rng.uniform(-40, 60, n), 3), "lon": np.round(rng.uniform(-120, 150, n), 3),
            "size": rng.pareto(2.0, n) + 1.0,  # heavy-tailed: a few large sellers
        }))
    return pd.concat(parts, ignore_index=True)


def _pick(rng: np.random.Generator, buyers: pd.DataFrame, pool: pd.DataFrame, commodity: str,
          k_range: tuple[int, int]) -> pd.DataFrame:
    """Links from sellers in ``pool`` to each buyer (columns to_id, need): k draws with replacement by
    size weight, duplicates merged, Dirichlet shares."""
    k = rng.integers(k_range[0], k_range[1] + 1, len(buyers))
    rows = np.repeat(np.arange(len(buyers)), k)
    w = pool["size"].to_numpy()
    seller = rng.choice(len(pool), size=len(rows), p=w / w.sum())
    # every seller of the pool sells to at least one buyer (no idle suppliers in the sample)
    rows = np.concatenate([rows, rng.integers(len(buyers), size=len(pool))])
    seller = np.concatenate([seller, np.arange(len(pool))])
    df = pd.DataFrame({"b": rows, "s": seller}).drop_duplicates().sort_values(["b", "s"]).reset_index(drop=True)
    g = rng.gamma(1.5, 1.0, len(df))
    share = g / pd.Series(g).groupby(df["b"].to_numpy()).transform("sum").to_numpy()
    share = np.round(share, 4)
    last = ~df["b"].duplicated(keep="last").to_numpy()  # the last link of each buyer takes the rounding rest
    tot = pd.Series(share).groupby(df["b"].to_numpy()).transform("sum").to_numpy()
    share[last] = np.round(share[last] + 1.0 - tot[last], 4)
    return pd.DataFrame({
        "from_id": pool["supplier_id"].to_numpy()[df["s"].to_numpy()],
        "to_id": buyers["to_id"].to_numpy()[df["b"].to_numpy()],
        "commodity": commodity,
        "share": share,
        "annual_volume": buyers["need"].to_numpy()[df["b"].to_numpy()] * share,
    })


def _links(rng: np.random.Generator, sup: pd.DataFrame, plant_need: pd.DataFrame, k_range) -> pd.DataFrame:
    """All links, built buyer commodity by buyer commodity from the plants down (the recipe is a DAG)."""
    pools = {c: g.reset_index(drop=True) for c, g in sup.groupby("commodity", sort=True)}
    out = []
    for c in sorted(plant_need["commodity"].unique()):
        need = plant_need[plant_need["commodity"] == c]
        out.append(_pick(rng, need[["to_id", "need"]].reset_index(drop=True), pools[c], c, k_range))
    links = pd.concat(out, ignore_index=True)
    for buyer_c in ("battery_pack", "parts", "casting", "cell", "cathode"):
        output = links[links["from_id"].isin(pools[buyer_c]["supplier_id"])].groupby("from_id")["annual_volume"].sum()
        output = output[output > 0].sort_index()
        for input_c, per_unit in sorted(RECIPE[buyer_c].items()):
            buyers = pd.DataFrame({"to_id": output.index.to_numpy(), "need": output.to_numpy() * per_unit})
            links = pd.concat([links, _pick(rng, buyers, pools[input_c], input_c, k_range)], ignore_index=True)
    return links


def _depth(links: pd.DataFrame, plant_ids: set) -> dict[str, int]:
    depth: dict[str, int] = {}
    frontier = set(plant_ids)
    d = 0
    by_to = links.groupby("to_id")["from_id"].apply(list).to_dict()
    while frontier:
        d += 1
        nxt = set()
        for b in frontier:
            for s in by_to.get(b, ()):
                if s not in depth:
                    depth[s] = d
                    nxt.add(s)
        frontier = nxt
    return depth


def _esg(rng: np.random.Generator, sup: pd.DataFrame) -> pd.DataFrame:
    n = len(sup)
    latent = np.clip(rng.beta(2, 5, n) + sup["country"].map(COUNTRY_RISK).fillna(0.0).to_numpy(), 0, 1)
    rows = []
    for name, kind, lo, hi, hib, sd, bias, cover in PROVIDERS:
        for date in (pd.Timestamp("2025-06-30"), pd.Timestamp("2026-06-30")):
            rated = rng.random(n) < cover
            view = np.clip(latent + bias + rng.normal(0, sd, n), 0, 1)[rated]
            df = pd.DataFrame({"provider": name, "supplier_id": sup["supplier_id"].to_numpy()[rated], "date": date,
                               "higher_is_better": hib})
            if kind == "numeric":
                goodness = 1 - view if hib else view
                df["score"] = np.round(lo + (hi - lo) * goodness, 1)
                df["grade"], df["scale_min"], df["scale_max"] = None, lo, hi
            else:
                idx = np.minimum((view * len(GRADES)).astype(int), len(GRADES) - 1)
                df["grade"] = np.asarray(GRADES, dtype=object)[idx]
                df["score"], df["scale_min"], df["scale_max"] = np.nan, np.nan, np.nan
            rows.append(df)
    return pd.concat(rows, ignore_index=True).sort_values(["provider", "supplier_id", "date"]).reset_index(drop=True)


def _events(rng: np.random.Generator, sup: pd.DataFrame, n_events: int) -> pd.DataFrame:
    cats = list(ISSUES)
    p_cat = np.array([0.15, 0.15, 0.1, 0.15, 0.12, 0.33])
    w = 1 + 4 * sup["country"].map(COUNTRY_RISK).fillna(0.0).to_numpy()  # riskier places make more news
    rows = []
    for i in range(n_events):
        c = cats[rng.choice(len(cats), p=p_cat)]
        k = int(rng.integers(len(ISSUES[c])))
        issue, sev = ISSUES[c][k]
        frames = NEUTRAL_FRAMES if c == "none" else RISK_FRAMES
        fam, frame = frames[rng.integers(len(frames))]
        s = rng.choice(len(sup), p=w / w.sum())
        country_wide = c == "sanctions" and "region" in issue
        rows.append({
            "event_id": f"E{i:06d}",
            "supplier_id": None if country_wide else sup["supplier_id"].iat[s],
            "country": sup["country"].iat[s] if country_wide else None,
            "date": RUN_DATE - pd.Timedelta(days=int(rng.integers(0, 365))),
            "source": f"{OUTLETS[rng.integers(len(OUTLETS))]}#{fam}/{c[:3]}{k}",  # frame / issue phrase
            "text": frame.format(n=sup["name"].iat[s], c=sup["country"].iat[s], i=issue),
            "label_category": c if rng.random() < 0.9 else None,  # 10 % unlabelled, as in a real feed
            "label_severity": sev,
        })
    ev = pd.DataFrame(rows)
    ev["label_severity"] = ev["label_severity"].where(ev["label_category"].notna(), None)
    return ev


def _submissions(rng: np.random.Generator, sup: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    output = links.groupby("from_id")["annual_volume"].sum()
    s = sup.set_index("supplier_id").loc[output.index]
    submits = rng.random(len(s)) < 0.7
    s, output = s[submits], output[submits]
    n = len(s)
    base_int = np.array([TRUE_INTENSITY[c] for c in s["commodity"]]) * rng.lognormal(0, 0.15, n)
    unit = np.array([COMMODITY[c][2] for c in s["commodity"]], dtype=object)
    method_i = rng.choice(4, size=n, p=[0.6, 0.2, 0.15, 0.05])
    methods = np.array(["supplier_specific", "hybrid", "average_data", "spend_based"], dtype=object)[method_i]
    frames = []
    prev_t = None
    prev_q = None
    for y_i, year in enumerate(YEARS):
        growth = rng.lognormal(0.04 * y_i, 0.12, n)
        qty = output.to_numpy() * growth / np.exp(0.08)
        t = qty * base_int * (0.97 ** y_i) * rng.lognormal(0, 0.03, n)
        err = np.full(n, "", dtype=object)
        u = rng.random(n)
        if y_i > 0:
            cp = u < 0.02  # copy-paste of last year's total while activity changed
            t = np.where(cp, prev_t, t)
            err[cp] = "copy_paste"
        slip = (u >= 0.02) & (u < 0.035)
        t = np.where(slip, t * np.where(rng.random(n) < 0.5, 1000.0, 0.001), t)
        err[slip] = "unit_slip"
        off = (u >= 0.035) & (u < 0.05)
        t = np.where(off, t * rng.choice([0.2, 5.0], size=n), t)
        err[off] = "peer_outlier"
        frames.append(pd.DataFrame({
            "submission_id": [f"SUB_{sid}_{year}" for sid in s.index], "version": 1, "supplier_id": s.index,
            "year": year, "commodity": s["commodity"].to_numpy(), "plant_id": None, "product_id": None,
            "activity_qty": np.round(qty, 3), "activity_unit": unit, "tco2e": np.round(t, 3),
            "method": methods, "dq_tier": method_i + 1,
            "submitted_on": pd.Timestamp(year + 1, 4, 30), "_planted": err,
        }))
        prev_t, prev_q = t, qty
    del prev_q
    return pd.concat(frames, ignore_index=True)


def supply_tables(size: str, seed: int, plants: pd.DataFrame, products: pd.DataFrame,
                  production: pd.DataFrame, truth: bool = False) -> dict[str, pd.DataFrame]:
    """The five supply tables for the sample network (see the module docstring)."""
    cfg = SIZES[size]
    rng = np.random.default_rng([int(seed), list(SIZES).index(size), 16])
    last = production[production["week"] > production["week"].max() - pd.Timedelta(weeks=52)]
    pt = last["product_id"].map(products.set_index("product_id")["powertrain"])
    per_plant = last.assign(kwh=last["units"] * pt.map(PACK_KWH)).groupby("plant_id")[["units", "kwh"]].sum()
    per_plant = per_plant.reindex(sorted(plants["plant_id"])).fillna(0.0)
    needs = [pd.DataFrame({"to_id": per_plant.index, "commodity": "battery_pack", "need": per_plant["kwh"]})]
    for c, per in PER_VEHICLE.items():
        needs.append(pd.DataFrame({"to_id": per_plant.index, "commodity": c, "need": per_plant["units"] * per}))
    plant_need = pd.concat(needs, ignore_index=True)
    plant_need = plant_need[plant_need["need"] > 0].reset_index(drop=True)

    sup = _suppliers(rng, cfg["n_suppliers"])
    links = _links(rng, sup, plant_need, cfg["sellers"])
    links = links.sort_values(["commodity", "to_id", "from_id"]).reset_index(drop=True)
    links.insert(0, "link_id", [f"L{i:07d}" for i in range(len(links))])
    price = links["commodity"].map({c: v[3] for c, v in COMMODITY.items()}).to_numpy()
    links["annual_volume"] = np.round(links["annual_volume"], 4)
    links["volume_unit"] = links["commodity"].map({c: v[2] for c, v in COMMODITY.items()})
    links["annual_spend_eur"] = np.round(links["annual_volume"] * price * rng.lognormal(0, 0.1, len(links)), 2)
    links["spend_year"] = 2025
    key_input = links["commodity"].isin(["battery_pack", "cell"]).to_numpy()
    cap = links["annual_volume"].to_numpy() / 52.0 * rng.uniform(1.1, 1.5, len(links))
    links["capacity_per_week"] = np.where(key_input, np.round(cap, 2), np.nan)

    depth = _depth(links, set(plants["plant_id"]))
    sup["tier"] = sup["supplier_id"].map(depth).fillna(
        sup["commodity"].map({"battery_pack": 1, "parts": 1, "electronics": 1, "casting": 1, "steel": 1,
                              "aluminium": 1, "cell": 2, "cathode": 3, "lithium": 3, "nickel": 4, "cobalt": 4})
    ).clip(1, 5).astype(int)
    subs = _submissions(rng, sup, links)
    if not truth:
        subs = subs.drop(columns="_planted")
    n_events = 300 if size == "demo" else 3000
    return {
        "suppliers": sup.drop(columns="size"),
        "supply_links": links,
        "esg_scores": _esg(rng, sup),
        "supplier_events": _events(rng, sup, n_events),
        "supplier_submissions": subs,
    }


def planted_errors(size: str = "demo", seed: int = 7) -> pd.DataFrame:
    """submission_id -> the error planted in it (``unit_slip``, ``copy_paste``, ``peer_outlier`` or ""),
    for tests and benchmarks that score the cross-validation against the truth."""
    from features.sample import generate  # the submissions derive from the sample's production

    t = generate(size, seed)
    sub = supply_tables(size, seed, t["plants"], t["products"], t["production_history"], truth=True)
    return sub["supplier_submissions"][["submission_id", "_planted"]].rename(columns={"_planted": "planted"})
