"""Deterministic, seeded generator of a realistic automotive network (the embedded sample data).

``generate(size, seed)`` returns one DataFrame for every table of ``core.tables.TABLES``, with
exactly the contract's columns and dtypes; ``write_sample`` writes them as ``<table>.parquet`` (or
``.csv``) into a folder, atomically. Same size and seed -> identical frames and identical files.

How the data hang together (everything is derived, so the tables are mutually consistent):

- plants are real automotive towns (``features.sample_catalog``); markets are national/regional hubs;
  products are vehicle families x powertrain (BEV / PHEV / ICE), each with a home region (EU, NA, CN);
- demand per product x market x week = level x smooth trend (BEV growing, ICE declining) x a stable
  yearly seasonal shape per market region (spring and September peaks, August and Christmas dips; UK
  plate-change months; Chinese New Year) x independent lognormal noise (sigma 0.17): learnable, no
  random walk;
- each product is built at 2-4 eligible plants with fixed shares; production = demand split by those
  shares (+3% noise); plant capacity = peak weekly production x 1.12-1.35;
- shipments = demand split by plant share and lane mode share, dated by departure week
  (arrival week - transit weeks; goods departing in the last weeks arrive after the history); tonnes = units x weight_t; lane capacity covers the history peak;
- energy per plant x week: electricity and natural gas = sum(units x per-unit kWh of plant_products)
  + base load (gas with winter heating) + 3% noise; diesel from ICE/PHEV first fill and yard logistics;
  each in the plant's meter unit (kWh/MWh, m3/kWh/GJ/mmBtu/therm, litre/US_gallon);
- energy_contracts: yearly instruments for about 60% of plants, sized on their electricity use; one
  certificate belongs to another country's market (accounting must not count it);
- supplier_emissions: steel, aluminium, battery and logistics submissions per plant per year;
- emission_factors: ``features.factors.reference_factors()`` (real public factors).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from core.tables import TABLE_ORDER, TABLES
from features import sample_catalog as cat
from features import sample_drivers, sample_levers
from features.sample_suppliers import supply_tables

END_WEEK = pd.Timestamp("2026-11-16")  # a Monday; fixed so that output never depends on today's date
N_WEEKS = 156
LEAD_WEEKS = 12  # demand simulated past the history so that long lanes carry goods in the last weeks
SIZES: dict[str, dict] = {
    "demo": {"n_products": 26, "markets_per_product": (3, 8), "units_per_plant_week": 2600.0},
    "large": {"n_products": 300, "markets_per_product": (4, 15), "units_per_plant_week": 2600.0},
}
NOISE_SIGMA = 0.17  # lognormal demand noise
PERIOD = 365.2425 / 7.0  # weeks in a year
EARTH_RADIUS_KM = 6371.0

# lane modes: detour factor over the great-circle distance, cost EUR/t = a + b*km, days = c + km/speed
MODE_DETOUR = {"road": 1.25, "rail": 1.30, "sea": 1.60, "air": 1.10}
MODE_COST = {"road": (20.0, 0.15), "rail": (40.0, 0.08), "sea": (60.0, 0.045), "air": (300.0, 0.60)}
MODE_DAYS = {"road": (1.0, 650.0), "rail": (2.0, 450.0), "sea": (5.0, 600.0), "air": (2.0, 9000.0)}
SEA_WITHIN_GROUP_KM = 1800.0  # short-sea lanes inside a land group only for pairs farther than this

# energy per vehicle built (kWh/unit, before plant efficiency and vehicle size)
ELEC_KWH_PER_UNIT = {"BEV": 850.0, "PHEV": 760.0, "ICE": 640.0}
GAS_KWH_PER_UNIT = {"BEV": 480.0, "PHEV": 640.0, "ICE": 720.0}
DIESEL_L_PER_UNIT = {"BEV": 0.4, "PHEV": 4.0, "ICE": 6.0}  # yard logistics + first fill of diesel variants
KWH_PER_M3_GAS = 1.026e6 / 1000 * 35.3146667 / 3412.14163  # EPA HHV 1,026 Btu/scf -> 10.62 kWh/m3
KWH_PER = {"kWh": 1.0, "MWh": 1000.0, "GJ": 1 / 0.0036, "mmBtu": 293.07107, "therm": 29.307107,
           "m3": KWH_PER_M3_GAS}
LITRE_PER = {"litre": 1.0, "US_gallon": 3.785411784}
PLANT_GAS_UNIT = {"US_TOL": "therm"}  # a plant whose utility bills in therms

SEGMENT_POPULARITY = {"A": 0.8, "B": 1.2, "C": 1.4, "D": 0.8, "E": 0.45, "C-SUV": 1.6, "D-SUV": 1.0,
                      "E-SUV": 0.4, "LCV": 0.6, "Pickup": 0.7}
POWERTRAIN_POPULARITY = {"BEV": 0.55, "PHEV": 0.45, "ICE": 1.0}
HOME_REGION_P = {"EU": 0.5, "NA": 0.25, "CN": 0.25}
# yearly growth of demand (log rate) by powertrain and home region of the market
GROWTH = {("BEV", "EU"): 0.22, ("BEV", "NA"): 0.15, ("BEV", "CN"): 0.30, ("BEV", "ROW"): 0.20,
          ("PHEV", "EU"): 0.06, ("PHEV", "NA"): 0.05, ("PHEV", "CN"): 0.10, ("PHEV", "ROW"): 0.05,
          ("ICE", "EU"): -0.10, ("ICE", "NA"): -0.05, ("ICE", "CN"): -0.15, ("ICE", "ROW"): -0.06}
TRIMS = ["", "L", "S", "GT", "X", "Pro", "Sport", "LWB", "Max", "Eco", "R", "Plus"]


def weeks_index() -> pd.DatetimeIndex:
    """The 156 Mondays of the history, ending on END_WEEK."""
    return pd.date_range(end=END_WEEK, periods=N_WEEKS, freq="7D").astype("datetime64[ns]")


# ------------------------------------------------------------------------------------------ helpers
def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance in km (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _bump(phase: np.ndarray, centre: float, width: float) -> np.ndarray:
    d = np.abs(phase - centre) % PERIOD
    d = np.minimum(d, PERIOD - d)
    return np.exp(-0.5 * (d / width) ** 2)


def seasonal_profile(profile: str, weeks: pd.DatetimeIndex) -> np.ndarray:
    """Stable multiplicative yearly shape (mean ~1) for a market profile: EU, GB, NA, CN or ROW."""
    w = ((weeks + pd.Timedelta(days=3)).dayofyear.to_numpy() - 1) / 7.0  # Thursday: ISO-week phase
    b = lambda c, s: _bump(w, c, s)  # noqa: E731
    if profile == "GB":  # March and September plate changes dominate UK registrations
        s = 1 + 0.45 * b(10, 1.5) + 0.40 * b(36.5, 1.5) - 0.30 * b(32.5, 1.8) - 0.45 * b(52, 1.0)
    elif profile == "EU":
        s = 1 + 0.14 * b(12, 3.5) + 0.05 * b(24, 4) + 0.18 * b(38, 2.5) - 0.35 * b(32.5, 1.8) - 0.45 * b(52, 1.0)
    elif profile == "NA":  # spring/summer selling season, year-end deals, slow January
        s = 1 + 0.15 * b(22, 6) + 0.10 * b(49, 2) - 0.25 * b(1.5, 1.5) - 0.12 * b(52, 0.8)
    elif profile == "CN":  # pre-Chinese-New-Year buying, CNY holiday, Golden Week, Q4 push
        s = 1 + 0.20 * b(2, 1.5) - 0.40 * b(6, 1.2) - 0.20 * b(40, 0.8) + 0.15 * b(46, 4)
    else:
        s = 1 + 0.10 * b(12, 4) + 0.10 * b(38, 4) - 0.25 * b(52, 1.0)
    return s / s.mean()


def _profile_of(country: str) -> str:
    return "GB" if country == "GB" else {"EU": "EU", "NA": "NA", "CN": "CN"}.get(cat.REGION[country], "ROW")


def _lognormal(rng: np.random.Generator, sigma: float, size) -> np.ndarray:
    """Mean-one multiplicative noise."""
    return np.exp(sigma * rng.standard_normal(size) - 0.5 * sigma**2)


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Select and order the contract columns of table ``name`` and cast them to the contract dtypes."""
    spec = TABLES[name]
    missing = [c for c in spec.required if c not in df.columns]
    if missing:
        raise ValueError(f"sample table {name}: missing contract columns {missing}")
    df = df.assign(**{c: None for c in spec.column_names if c not in df.columns})  # nullable, not given
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for col in spec.columns:
        s = df[col.name].reset_index(drop=True)
        if col.dtype == "str":
            s = s.astype(object).where(s.notna(), None)
        elif col.dtype == "float":
            s = s.astype("float64")
        elif col.dtype == "int":
            s = s.astype("Int64" if col.nullable else "int64")
        elif col.dtype == "bool":
            s = s.astype(bool)
        elif col.dtype == "date":
            s = pd.to_datetime(s).astype("datetime64[ns]")
        else:  # pragma: no cover - guards contract edits
            raise ValueError(f"sample table {name}: unknown dtype {col.dtype!r} of column {col.name}")
        out[col.name] = s
    return out.sort_values(list(spec.key), kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------ master data
def _plants(size: str) -> pd.DataFrame:
    cols = ["code", "town", "country", "grid_region", "lat", "lon", "equity_share", "operational_control",
            "in_demo", "bev_only"]
    df = pd.DataFrame(cat.PLANTS, columns=cols)
    if size == "demo":
        df = df[df["in_demo"]].reset_index(drop=True)
    df["plant_id"] = "P_" + df["code"]
    df["name"] = df["town"] + " assembly"
    df["region"] = df["country"].map(cat.REGION)
    return df


def _markets(size: str) -> pd.DataFrame:
    df = pd.DataFrame(cat.MARKETS, columns=["code", "name", "country", "lat", "lon", "size", "in_demo"])
    if size == "demo":
        df = df[df["in_demo"]].reset_index(drop=True)
    df["market_id"] = "M_" + df["code"]
    df["region"] = df["country"].map(cat.REGION)
    df["profile"] = df["country"].map(_profile_of)
    return df


def _products(n: int, rng: np.random.Generator) -> pd.DataFrame:
    combos = [(fam, pt) for fam in cat.FAMILIES for pt in fam[4]]
    rows = []
    for i in range(n):
        (model, segment, w_ice, p_ice, _), pt = combos[i % len(combos)]
        gen = i // len(combos)
        trim = TRIMS[gen % len(TRIMS)] + (str(gen // len(TRIMS) + 1) if gen >= len(TRIMS) else "")
        jitter_w = 1.0 if gen == 0 else rng.uniform(0.94, 1.08)
        jitter_p = 1.0 if gen == 0 else rng.uniform(0.92, 1.20)
        rows.append({
            "product_id": f"K{i + 1:03d}",
            "name": " ".join(x for x in (model, trim, pt) if x),
            "powertrain": pt,
            "segment": segment,
            "weight_t": round(w_ice * cat.WEIGHT_FACTOR[pt] * jitter_w, 3),
            "price_eur": round(p_ice * cat.PRICE_FACTOR[pt] * jitter_p, -2),
            "home": "NA" if segment == "Pickup" else rng.choice(list(HOME_REGION_P), p=list(HOME_REGION_P.values())),
            "pop": SEGMENT_POPULARITY[segment] * POWERTRAIN_POPULARITY[pt] * rng.lognormal(0.0, 0.45),
        })
    return pd.DataFrame(rows)


def _series(products: pd.DataFrame, markets: pd.DataFrame, cfg: dict, total_units: float,
            rng: np.random.Generator) -> pd.DataFrame:
    """Which product sells in which market, with its mid-history weekly level and yearly growth."""
    lo, hi = cfg["markets_per_product"]
    hi = min(hi, len(markets))
    rows = []
    for k in products.itertuples():
        home = (markets["region"] == k.home).to_numpy()
        w = markets["size"].to_numpy() * np.where(home, 6.0, 1.0)
        n = int(rng.integers(lo, hi + 1))
        idx = rng.choice(len(markets), size=n, replace=False, p=w / w.sum())
        for j in idx:
            m = markets.iloc[j]
            aff = 1.0 if m["region"] == k.home else 0.35
            g = GROWTH[(k.powertrain, m["region"])] + rng.normal(0, 0.03)
            rows.append({"product_id": k.product_id, "market_id": m["market_id"], "raw": k.pop * m["size"] * aff,
                         "growth": g, "profile": m["profile"]})
    s = pd.DataFrame(rows)
    s["level"] = np.maximum(s["raw"] / s["raw"].sum() * total_units, 12.0)
    return s.sort_values(["product_id", "market_id"]).reset_index(drop=True)


def _eligibility(products: pd.DataFrame, plants: pd.DataFrame, volume: pd.Series,
                 rng: np.random.Generator) -> pd.DataFrame:
    """2-4 plants per product (home region first, BEV-only plants build BEVs only), greedily balanced so
    that plants end up with similar loads; every plant gets at least three products."""
    n_p = len(plants)
    target = volume.sum() / n_p
    load = np.zeros(n_p)
    region = plants["region"].to_numpy()
    bev_only = plants["bev_only"].to_numpy()
    chosen: dict[str, list[int]] = {}
    order = rng.permutation(len(products))
    for i in order:
        k = products.iloc[i]
        w = np.where(region == k["home"], 6.0, 0.5)
        w = w * np.where(bev_only, 2.0 if k["powertrain"] == "BEV" else 0.0, 1.0)
        w = w / (0.2 + load / target) ** 2
        n = min(int(rng.choice([2, 3, 4], p=[0.45, 0.4, 0.15])), int((w > 0).sum()))
        idx = list(rng.choice(n_p, size=n, replace=False, p=w / w.sum()))
        chosen[k["product_id"]] = idx
        load[idx] += volume[k["product_id"]] / n
    # every plant builds several products
    for p in range(n_p):
        while sum(p in v for v in chosen.values()) < 3:
            ok = [pid for pid, v in chosen.items() if p not in v and len(v) < 4
                  and (not bev_only[p] or products.set_index("product_id").at[pid, "powertrain"] == "BEV")]
            homes = products.set_index("product_id")["home"]
            ok.sort(key=lambda pid: (homes[pid] != region[p], -volume[pid]))
            chosen[ok[0]].append(p)
    rows = []
    for pid, idx in chosen.items():
        share = rng.dirichlet(np.full(len(idx), 3.0))
        for p, sh in zip(idx, share, strict=True):
            rows.append({"plant_id": plants.at[p, "plant_id"], "product_id": pid, "share": sh})
    return pd.DataFrame(rows).sort_values(["plant_id", "product_id"]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------ lanes
def _lanes(plants: pd.DataFrame, markets: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    pairs = plants[["plant_id", "code", "country", "lat", "lon"]].merge(
        markets[["market_id", "code", "country", "lat", "lon"]], how="cross", suffixes=("_p", "_m"))
    gc = great_circle_km(pairs["lat_p"], pairs["lon_p"], pairs["lat_m"], pairs["lon_m"])
    same = pairs["country_p"].map(cat.LAND_GROUP).to_numpy() == pairs["country_m"].map(cat.LAND_GROUP).to_numpy()
    frames = []
    for mode in ("road", "rail", "sea", "air"):
        if mode in ("road", "rail"):
            ok = same
        elif mode == "sea":
            ok = ~same | (gc > SEA_WITHIN_GROUP_KM)
        else:
            ok = np.ones(len(pairs), bool)
        f = pairs.loc[ok, ["plant_id", "market_id", "code_p", "code_m"]].copy()
        f["mode"] = mode
        f["gc_km"] = gc[ok]
        f["distance_km"] = np.round(np.maximum(gc[ok], 12.0) * MODE_DETOUR[mode], 1)
        frames.append(f)
    lanes = pd.concat(frames, ignore_index=True)
    lanes["lane_id"] = "L_" + lanes["code_p"] + "_" + lanes["code_m"] + "_" + lanes["mode"].str.upper()
    a, b = zip(*lanes["mode"].map(MODE_COST), strict=True)
    lanes["cost_eur_per_t"] = np.round((np.array(a) + np.array(b) * lanes["distance_km"])
                                       * rng.uniform(0.9, 1.1, len(lanes)), 2)
    c, v = zip(*lanes["mode"].map(MODE_DAYS), strict=True)
    lanes["transit_days"] = np.round((np.array(c) + lanes["distance_km"] / np.array(v)) * 2) / 2
    lanes = lanes.sort_values(["plant_id", "market_id", "mode"]).reset_index(drop=True)
    lanes["mode_share"] = _mode_shares(lanes, rng)
    return lanes


def _mode_shares(lanes: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Historical split of each plant->market flow over its lanes (sums to 1 per pair)."""
    share = np.zeros(len(lanes))
    for _, g in lanes.groupby(["plant_id", "market_id"], sort=False):
        modes = dict(zip(g["mode"], g.index, strict=True))
        gc = float(g["gc_km"].iloc[0])
        s: dict[str, float] = {}
        if "road" in modes:
            s["rail"] = rng.uniform(0.15, 0.5) if gc > 500 else rng.uniform(0.0, 0.1)
            s["sea"] = rng.uniform(0.2, 0.5) if "sea" in modes else 0.0
            s["road"] = 1.0 - s["rail"] - s["sea"]
        else:
            s["sea"] = 1.0
        if rng.random() < 0.2:  # some pairs see occasional expedited air freight
            a = rng.uniform(0.003, 0.02)
            top = max(s, key=s.get)
            s[top] -= a
            s["air"] = a
        for mode, i in modes.items():
            share[i] = s.get(mode, 0.0)
    return share


# ------------------------------------------------------------------------------------------ generate
def generate(size: str = "demo", seed: int = 7) -> dict[str, pd.DataFrame]:
    """All tables of the contract for a sample network of ``size`` ("demo" or "large")."""
    if size not in SIZES:
        raise ValueError(f"sample size must be one of {sorted(SIZES)}, got {size!r}")
    cfg = SIZES[size]
    rng = np.random.default_rng([int(seed), list(SIZES).index(size)])
    weeks = weeks_index()
    T = len(weeks)

    plants = _plants(size)
    markets = _markets(size)
    products = _products(cfg["n_products"], rng)
    total_units = cfg["units_per_plant_week"] * len(plants)
    series = _series(products, markets, cfg, total_units, rng)

    # ---- demand (S x (T + LEAD)): level x trend x season x noise. The LEAD weeks after the history are
    # never published; they only feed the shipments that depart inside the history and arrive after it.
    weeks_x = pd.date_range(start=weeks[0], periods=T + LEAD_WEEKS, freq="7D")
    t_x = np.arange(T + LEAD_WEEKS)
    prof = {p: seasonal_profile(p, weeks_x) for p in sorted(series["profile"].unique())}
    season = np.stack([prof[p] for p in series["profile"]])
    trend = np.exp(series["growth"].to_numpy()[:, None] * (t_x[None, :] - (T - 1) / 2) / PERIOD)
    mean = series["level"].to_numpy()[:, None] * trend * season
    mean, driver_tables = sample_drivers.apply(mean, series, products, markets, weeks_x, T, seed, size)  # issue 14
    demand_x = np.rint(mean * _lognormal(rng, NOISE_SIGMA, mean.shape))
    demand_mat = demand_x[:, :T]
    demand = pd.DataFrame({
        "week": np.tile(weeks.to_numpy(), len(series)),
        "product_id": np.repeat(series["product_id"].to_numpy(), T),
        "market_id": np.repeat(series["market_id"].to_numpy(), T),
        "units": demand_mat.ravel(),
    })

    # ---- eligibility and production (Q pairs x T)
    prod_ids = products["product_id"].to_numpy()
    k_of_series = pd.Index(prod_ids).get_indexer(series["product_id"])
    total_k = np.zeros((len(products), T))
    np.add.at(total_k, k_of_series, demand_mat)
    volume = pd.Series(total_k.mean(axis=1), index=prod_ids)
    elig = _eligibility(products, plants, volume, rng)
    k_of_pair = pd.Index(prod_ids).get_indexer(elig["product_id"])
    p_of_pair = pd.Index(plants["plant_id"]).get_indexer(elig["plant_id"])
    prod_mat = np.rint(total_k[k_of_pair] * elig["share"].to_numpy()[:, None] * _lognormal(rng, 0.03, (len(elig), T)))
    production = pd.DataFrame({
        "week": np.tile(weeks.to_numpy(), len(elig)),
        "plant_id": np.repeat(elig["plant_id"].to_numpy(), T),
        "product_id": np.repeat(elig["product_id"].to_numpy(), T),
        "units": prod_mat.ravel(),
    })
    plant_units = np.zeros((len(plants), T))
    np.add.at(plant_units, p_of_pair, prod_mat)
    plants["capacity_units_per_week"] = np.ceil(plant_units.max(axis=1) * rng.uniform(1.12, 1.35, len(plants))
                                                / 10) * 10

    # ---- plant_products: cost and energy per unit
    prodx = products.set_index("product_id")
    pt = prodx.loc[elig["product_id"], "powertrain"].to_numpy()
    weight = prodx.loc[elig["product_id"], "weight_t"].to_numpy()
    price = prodx.loc[elig["product_id"], "price_eur"].to_numpy()
    plant_country = plants["country"].to_numpy()[p_of_pair]
    eff = rng.uniform(0.85, 1.2, len(plants))[p_of_pair]
    size_f = np.sqrt(weight / 1.6)
    elig["production_cost_eur_per_unit"] = np.round(
        price * 0.68 * np.array([cat.COST_INDEX[c] for c in plant_country]) * rng.uniform(0.97, 1.03, len(elig)), 0)
    elig["electricity_kwh_per_unit"] = np.round(
        np.array([ELEC_KWH_PER_UNIT[x] for x in pt]) * eff * size_f * rng.uniform(0.95, 1.05, len(elig)), 1)
    elig["natural_gas_kwh_per_unit"] = np.round(
        np.array([GAS_KWH_PER_UNIT[x] for x in pt]) * eff * size_f * rng.uniform(0.95, 1.05, len(elig)), 1)

    # ---- lanes and shipments (F flows x T, dated by departure week)
    lanes = _lanes(plants, markets, rng)
    flows = (series[["product_id", "market_id"]].reset_index(names="s")
             .merge(elig[["plant_id", "product_id", "share"]], on="product_id")
             .merge(lanes.loc[lanes["mode_share"] > 0, ["lane_id", "plant_id", "market_id", "mode_share",
                                                         "transit_days"]], on=["plant_id", "market_id"]))
    flows = flows.sort_values(["lane_id", "product_id"]).reset_index(drop=True)
    frac = (flows["share"] * flows["mode_share"]).to_numpy()
    ship_mat = np.rint(demand_x[flows["s"].to_numpy()] * frac[:, None])  # by arrival week
    lag = np.rint(flows["transit_days"].to_numpy() / 7).astype(int)
    if lag.max(initial=0) > LEAD_WEEKS:  # pragma: no cover - guards edits of the lane constants
        raise ValueError(f"sample lanes: transit of {lag.max()} weeks exceeds LEAD_WEEKS={LEAD_WEEKS}")
    dep = t_x[None, :] - lag[:, None]  # departure week index of each arrival week
    keep = (dep >= 0) & (dep < T) & (ship_mat > 0)
    fi, ti = np.nonzero(keep)
    w_of_flow = prodx.loc[flows["product_id"], "weight_t"].to_numpy()
    shipments = pd.DataFrame({
        "week": weeks.to_numpy()[dep[fi, ti]],
        "lane_id": flows["lane_id"].to_numpy()[fi],
        "product_id": flows["product_id"].to_numpy()[fi],
        "units": ship_mat[fi, ti],
    })
    shipments["tonnes"] = shipments["units"] * w_of_flow[fi]

    # lane capacity: history peak with headroom, floored at a share of the plant's weekly tonnage
    peak = shipments.groupby(["lane_id", "week"])["tonnes"].sum().groupby("lane_id").max()
    hist = lanes["lane_id"].map(peak).fillna(0.0).to_numpy()
    mean_w = elig.assign(w=weight).groupby("plant_id")["w"].mean()
    plant_t = (plants.set_index("plant_id")["capacity_units_per_week"] * mean_w).reindex(lanes["plant_id"]).to_numpy()
    floor = np.where(lanes["mode"] == "air", 40.0,
                     lanes["mode"].map({"road": 0.15, "rail": 0.2, "sea": 0.3, "air": 0.0}).to_numpy() * plant_t)
    lanes["capacity_t_per_week"] = np.ceil(np.maximum(hist * rng.uniform(1.3, 1.8, len(lanes)), floor) / 10) * 10

    # ---- energy use (plant x week x carrier)
    energy, elec_kwh = _energy(plants, elig, prod_mat, p_of_pair, pt, weeks, rng)

    tables = {
        "plants": plants,
        "products": products,
        "markets": markets,
        "plant_products": elig,
        "lanes": lanes,
        "demand_history": demand,
        "production_history": production,
        "energy_use": energy,
        "shipments": shipments,
        "emission_factors": _factors(),
        "energy_contracts": _contracts(plants, elec_kwh, weeks, rng),
        "supplier_emissions": _suppliers(plants, elig, prod_mat, p_of_pair, pt, weeks, rng),
    }
    tables.update(sample_levers.lever_tables(plants, elig, production))  # issue 13: operating rules, levers
    from features.sample_ghg import extra_energy, ghg_tables  # issue 15: refrigerants, process, carriers
    tables.update(ghg_tables(plants, production, seed))
    tables["energy_use"] = pd.concat([energy, extra_energy(plants, production, seed)], ignore_index=True)  # i15
    tables.update(supply_tables(size, seed, plants, products, production))  # issue 16: own random stream
    tables.update(driver_tables)  # issue 14: EV incentives, prices/promotions/life cycle, working days
    return {name: conform(name, tables[name]) for name in TABLE_ORDER}


def _energy(plants, elig, prod_mat, p_of_pair, pt, weeks, rng):
    """Weekly energy by carrier in each plant's meter unit; returns (energy_use frame, electricity kWh P x T)."""
    P, T = len(plants), prod_mat.shape[1]
    doy = (weeks + pd.Timedelta(days=3)).dayofyear.to_numpy()
    heat = 0.5 * (1 + np.cos(2 * np.pi * (doy - 20) / 365.25))  # 1 in mid-January, 0 in July
    summer = 1 - heat
    var_e, var_g, var_d = (np.zeros((P, T)) for _ in range(3))
    np.add.at(var_e, p_of_pair, prod_mat * elig["electricity_kwh_per_unit"].to_numpy()[:, None])
    np.add.at(var_g, p_of_pair, prod_mat * elig["natural_gas_kwh_per_unit"].to_numpy()[:, None])
    np.add.at(var_d, p_of_pair, prod_mat * np.array([DIESEL_L_PER_UNIT[x] for x in pt])[:, None])
    lat = plants["lat"].to_numpy()
    cooling = np.where(lat < 42, 0.12, 0.03)[:, None]  # air conditioning in warm sites
    heat_amp = np.clip((lat - 15) / 25, 0.2, 1.6)[:, None]
    elec = (var_e + 0.25 * var_e.mean(axis=1, keepdims=True) * (1 + cooling * summer)) * _lognormal(rng, 0.03, (P, T))
    gas = (var_g + 0.35 * var_g.mean(axis=1, keepdims=True) * (0.4 + heat_amp * heat)) * _lognormal(rng, 0.03, (P, T))
    diesel = (var_d + 1500.0) * _lognormal(rng, 0.05, (P, T))
    frames = []
    codes, countries = plants["code"].to_numpy(), plants["country"].to_numpy()
    for carrier, mat in (("electricity", elec), ("natural_gas", gas), ("diesel", diesel)):
        if carrier == "electricity":
            units = [cat.ELECTRICITY_UNIT.get(c, "kWh") for c in countries]
            qty = mat / np.array([KWH_PER[u] for u in units])[:, None]
        elif carrier == "natural_gas":
            units = [PLANT_GAS_UNIT.get(code, cat.GAS_UNIT.get(c, "kWh")) for code, c in zip(codes, countries,
                                                                                             strict=True)]
            qty = mat / np.array([KWH_PER[u] for u in units])[:, None]
        else:
            units = [cat.DIESEL_UNIT.get(c, "litre") for c in countries]
            qty = mat / np.array([LITRE_PER[u] for u in units])[:, None]
        frames.append(pd.DataFrame({
            "week": np.tile(weeks.to_numpy(), P),
            "plant_id": np.repeat(plants["plant_id"].to_numpy(), T),
            "carrier": carrier,
            "quantity": np.round(qty, 3).ravel(),
            "unit": np.repeat(units, T),
        }))
    return pd.concat(frames, ignore_index=True), elec


def _factors() -> pd.DataFrame:
    from features.factors import reference_factors

    return reference_factors()


def _contracts(plants: pd.DataFrame, elec_kwh: np.ndarray, weeks: pd.DatetimeIndex,
               rng: np.random.Generator) -> pd.DataFrame:
    """Yearly electricity instruments for ~60% of plants (all four kinds), sized on their use; one EAC
    belongs to another country's market, so market-based accounting must not count it."""
    annual_mwh = elec_kwh.mean(axis=1) * PERIOD / 1000.0
    n = max(4, int(round(0.6 * len(plants))))
    picked = sorted(rng.choice(len(plants), size=n, replace=False))
    kinds = ("PPA", "EAC", "green_tariff", "supplier_rate")
    rows = []
    for j, p in enumerate(picked):
        kind = kinds[j % len(kinds)]
        plant = plants.iloc[p]
        for year in (2024, 2025, 2026):
            cover = {"PPA": rng.uniform(0.3, 0.6), "EAC": rng.uniform(0.5, 1.0), "green_tariff": rng.uniform(0.9, 1.0),
                     "supplier_rate": 1.0}[kind]
            rows.append({
                "contract_id": f"C_{plant['code']}_{kind.upper()}_{year}",
                "plant_id": plant["plant_id"], "instrument": kind, "market": plant["country"],
                "start": pd.Timestamp(year, 1, 1), "end": pd.Timestamp(year, 12, 31),
                "mwh": round(float(annual_mwh[p] * cover), 1),
                "factor_kg_per_kwh": round(float(rng.uniform(0.08, 0.25)), 4) if kind == "supplier_rate" else 0.0,
            })
    # the cross-border certificate: a Mexican plant holding US RECs (not valid in Mexico's market)
    mx = plants.index[plants["country"] == "MX"]
    p = int(mx[0]) if len(mx) else 0
    plant = plants.iloc[p]
    foreign = "US" if plant["country"] != "US" else "DE"
    rows.append({
        "contract_id": f"C_{plant['code']}_EAC_{foreign}_2025", "plant_id": plant["plant_id"], "instrument": "EAC",
        "market": foreign, "start": pd.Timestamp(2025, 1, 1), "end": pd.Timestamp(2025, 12, 31),
        "mwh": round(float(annual_mwh[p] * 0.5), 1), "factor_kg_per_kwh": 0.0,
    })
    return pd.DataFrame(rows)


def _suppliers(plants, elig, prod_mat, p_of_pair, pt, weeks, rng) -> pd.DataFrame:
    """Annual supplier submissions (t CO2e) per plant: steel, aluminium, battery cells, logistics."""
    years = weeks.year.to_numpy()
    is_bev = (pt == "BEV")[:, None]
    is_phev = (pt == "PHEV")[:, None]
    rows = []
    for year in (2024, 2025):  # complete calendar years of the history; 2026 is not submitted yet
        cols = years == year
        scale = PERIOD / cols.sum()
        units = np.zeros(len(plants))
        cells = np.zeros(len(plants))
        np.add.at(units, p_of_pair, prod_mat[:, cols].sum(axis=1) * scale)
        np.add.at(cells, p_of_pair, (prod_mat[:, cols] * (4.5 * is_bev + 1.2 * is_phev)).sum(axis=1) * scale)
        improve = 0.96 ** (year - 2023)
        for p, plant in plants.iterrows():
            reg = plant["region"]
            subs = [(f"SUP_{reg}_STEEL", "purchased_goods", "supplier_specific", 1.6 * units[p]),
                    (f"SUP_{reg}_ALU", "purchased_goods", "hybrid", 1.1 * units[p]),
                    (f"SUP_{reg}_LOGI", "upstream_transport", "distance_based", 0.25 * units[p])]
            if cells[p] > 0:
                subs.append((f"SUP_{reg}_CELLS", "purchased_goods", "supplier_specific", cells[p]))
            for sid, category, method, t in subs:
                rows.append({"supplier_id": sid, "plant_id": plant["plant_id"], "year": year, "category": category,
                             "tco2e": round(float(t * improve * rng.lognormal(0, 0.08)), 1), "method": method})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ writing
def write_sample(out: str | Path | None = None, size: str = "demo", seed: int = 7, fmt: str = "parquet") -> Path:
    """Generate the sample and write ``<table>.<fmt>`` for every table into ``out`` (default
    ``core.settings.sample_dir(size)``). Each file is written to a temporary name and renamed, so a
    reader never sees half a table. A file of the same table in the other format is removed so that the
    folder holds exactly one version of each table. Returns the folder."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"sample format must be 'parquet' or 'csv', got {fmt!r}")
    if out is None:
        from core.settings import sample_dir

        out = sample_dir(size)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    tables = generate(size=size, seed=seed)
    other = "csv" if fmt == "parquet" else "parquet"
    for name, df in tables.items():
        target = folder / f"{name}.{fmt}"
        tmp = folder / f".tmp-{uuid.uuid4().hex}-{name}.{fmt}"
        try:
            if fmt == "parquet":
                from core.lake import frame_to_parquet_bytes

                tmp.write_bytes(frame_to_parquet_bytes(df))
            else:
                df.to_csv(tmp, index=False, date_format="%Y-%m-%d", lineterminator="\n")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        (folder / f"{name}.{other}").unlink(missing_ok=True)
    (folder / STAMP).write_text(json.dumps({"generator": generator_version(), "size": size, "seed": seed}))
    return folder


STAMP = "_generator.json"


def generator_version() -> str:
    """A digest of the generator's source (every ``features/sample*.py`` module and the table contracts): a
    sample folder stamped with another digest was made by another generator and is regenerated on use."""
    here = Path(__file__).resolve().parent
    files = sorted(here.glob("sample*.py")) + [here.parent / "core" / "tables.py"]
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def sample_is_current(folder: str | Path, size: str, seed: int) -> bool:
    """True when ``folder`` holds a sample written by this generator with this size and seed."""
    try:
        stamp = json.loads((Path(folder) / STAMP).read_text())
    except (OSError, ValueError):
        return False
    return stamp == {"generator": generator_version(), "size": size, "seed": seed}
