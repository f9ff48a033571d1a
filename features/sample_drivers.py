"""Known-in-advance demand drivers of the sample network (issue 14), with their own random stream.

``apply(mean, series, products, markets, weeks_x, seed, size)`` returns the demand mean multiplied by the
drivers' effect and the three driver tables (``ev_incentives``, ``product_drivers``, ``working_days``), which
run ``FUTURE_WEEKS`` past the history (schedules, price lists and campaigns are known ahead). The rest of the
sample keeps its random stream: only demand and what is derived from it (production, shipments, energy)
change.

Effect on the mean demand of product k in market m in week t (the forecaster's features, ``features.drivers``,
are the same quantities):

    availability(lifecycle) x (net price / reference price) ** -PRICE_ELASTICITY x (working days / 5) ** WD_POWER
    net price = list price x (1 - promotion) - incentive for the product's powertrain in m (floor 30 % of list)

so BEV demand rises with a subsidy and falls when it ends, promotions lift, price rises lower demand, a
run-out ends a product and a launch ramps one up.

EV purchase incentives (representative EUR per new vehicle; the schemes are capped by price and, in places,
by income; converted at 1 USD = 0.92 EUR, 1 CNY = 0.13 EUR, 1 GBP = 1.17 EUR):

- DE  Umweltbonus (BAFA): federal share 4,500 EUR for BEVs up to 40,000 EUR net list price in 2023 (PHEVs
  excluded since 1 Jan 2023); ended at short notice on 17 Dec 2023 (BMWK press release 16 Dec 2023,
  https://www.bafa.de/DE/Energie/Energieeffizienz/Elektromobilitaet/elektromobilitaet_node.html). New
  income-tested programme for private buyers for registrations from 1 Jan 2026 (announced Jan 2026, 1,500-6,000
  EUR by income and household; the sample uses 3,000 EUR BEV / 1,500 EUR PHEV: an approximation).
- FR  bonus écologique (https://www.service-public.fr/particuliers/vosdroits/F36848): 5,000 EUR for BEVs until
  13 Feb 2024, 4,000 EUR from 14 Feb 2024 (décret 2024-75), 2,000 EUR (standard income band) from 2 Dec 2024
  (décret 2024-1089); from 1 Jul 2025 replaced by the CEE-funded "coup de pouce véhicules particuliers
  électriques" (3,100-4,200 EUR; sample 3,100 EUR). PHEVs get nothing.
- US  IRA clean vehicle credit 26 U.S.C. 30D (https://www.irs.gov/credits-deductions/credits-for-new-clean-vehicles-purchased-in-2023-or-after):
  up to 7,500 USD (6,900 EUR; sample PHEV 3,750 USD = 3,450 EUR), ended for vehicles acquired after
  30 Sep 2025 (Public Law 119-21, sec. 70502).
- CN  NEV vehicle purchase tax exemption (MOF/STA/MIIT announcement 2023 No. 10,
  https://www.gov.cn/zhengce/zhengceku/202306/content_6887415.htm): 10 % purchase tax waived up to 30,000 CNY
  per vehicle for 2024-2025, halved (5 %, cap 15,000 CNY) for 2026-2027; sample 3,000 EUR / 1,500 EUR for
  BEV and PHEV.
- GB  Electric Car Grant (https://www.gov.uk/guidance/electric-car-grant), from 16 Jul 2025: 1,500 GBP
  (band 2) or 3,750 GBP (band 1) for cars up to 37,000 GBP; sample 1,750 EUR for BEVs.
- ES  MOVES III (IDAE, https://www.idae.es/ayudas-y-financiacion/para-movilidad-y-vehiculos/programa-moves-iii):
  4,500 EUR BEV / 2,500 EUR PHEV for private buyers without scrapping, extended through 31 Dec 2025
  (Real Decreto-ley 3/2025), none after.
- other demo markets (IT, PL, SE, NL, MX): no national purchase incentive modelled (0).

List prices rise on the first Monday of each year (0-3.5 %); about 40 % of BEVs get one price cut of 5-10 %
(price war); promotions run 2-4 weeks, about two per year and series, 4-12 % off. Working days: Monday to
Friday minus public holidays (fixed dates, Easter-based days, US/MX floating Mondays, Chinese New Year,
Golden Week; a list per country below). Life cycle: some ICE products ran out and ended inside the history,
some ICE/PHEV products run out and end inside the forecast horizon, some BEVs launched inside the history.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from dateutil.easter import easter

FUTURE_WEEKS = 52  # driver rows past the history (the forecast horizon is at most this)
PRICE_ELASTICITY = 2.0
WD_POWER = 0.6
NET_FLOOR = 0.3
LAUNCH_WEEKS = 13  # same as features.drivers
RUN_OUT_WEEKS = 13

D = dt.date
# country -> [(powertrain, first day, last day or None, EUR per vehicle, scheme, source)]
INCENTIVES: dict[str, list[tuple[str, dt.date, dt.date | None, float, str, str]]] = {
    "DE": [("BEV", D(2023, 1, 1), D(2023, 12, 17), 4500.0, "Umweltbonus", "BAFA / BMWK 16 Dec 2023"),
           ("BEV", D(2026, 1, 1), None, 3000.0, "E-Auto-Foerderung 2026 (approx.)", "BMUKN, Jan 2026 (approx.)"),
           ("PHEV", D(2026, 1, 1), None, 1500.0, "E-Auto-Foerderung 2026 (approx.)", "BMUKN, Jan 2026 (approx.)")],
    "FR": [("BEV", D(2023, 1, 1), D(2024, 2, 13), 5000.0, "bonus ecologique", "decret 2022-1761"),
           ("BEV", D(2024, 2, 14), D(2024, 12, 1), 4000.0, "bonus ecologique", "decret 2024-75"),
           ("BEV", D(2024, 12, 2), D(2025, 6, 30), 2000.0, "bonus ecologique", "decret 2024-1089"),
           ("BEV", D(2025, 7, 1), None, 3100.0, "coup de pouce VP electriques (CEE)", "arrete 2025 CEE")],
    "US": [("BEV", D(2023, 1, 1), D(2025, 9, 30), 6900.0, "IRA 30D clean vehicle credit", "IRS 30D; P.L. 119-21"),
           ("PHEV", D(2023, 1, 1), D(2025, 9, 30), 3450.0, "IRA 30D clean vehicle credit", "IRS 30D; P.L. 119-21")],
    "CN": [("BEV", D(2023, 1, 1), D(2025, 12, 31), 3000.0, "NEV purchase tax exemption", "MOF/STA/MIIT 2023 No. 10"),
           ("PHEV", D(2023, 1, 1), D(2025, 12, 31), 3000.0, "NEV purchase tax exemption", "MOF/STA/MIIT 2023 No. 10"),
           ("BEV", D(2026, 1, 1), None, 1500.0, "NEV purchase tax halved", "MOF/STA/MIIT 2023 No. 10"),
           ("PHEV", D(2026, 1, 1), None, 1500.0, "NEV purchase tax halved", "MOF/STA/MIIT 2023 No. 10")],
    "GB": [("BEV", D(2025, 7, 16), None, 1750.0, "Electric Car Grant", "gov.uk Electric Car Grant")],
    "ES": [("BEV", D(2023, 1, 1), D(2025, 12, 31), 4500.0, "MOVES III", "IDAE MOVES III; RDL 3/2025"),
           ("PHEV", D(2023, 1, 1), D(2025, 12, 31), 2500.0, "MOVES III", "IDAE MOVES III; RDL 3/2025")],
}

_CNY = {2023: D(2023, 1, 22), 2024: D(2024, 2, 10), 2025: D(2025, 1, 29), 2026: D(2026, 2, 17),
        2027: D(2027, 2, 6), 2028: D(2028, 1, 26)}


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """n-th (1-based; -1 = last) weekday (Mon = 0) of a month."""
    if n > 0:
        d = dt.date(year, month, 1)
        d += dt.timedelta(days=(weekday - d.weekday()) % 7)
        return d + dt.timedelta(weeks=n - 1)
    d = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
    return d - dt.timedelta(days=(d.weekday() - weekday) % 7)


def holidays(country: str, year: int) -> set[dt.date]:
    """National public holidays of a country in a year (the main ones; regional days are left out)."""
    e = easter(year)
    td = dt.timedelta
    fixed = {
        "DE": [(1, 1), (5, 1), (10, 3), (12, 25), (12, 26)], "FR": [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15),
        (11, 1), (11, 11), (12, 25)], "GB": [(1, 1), (12, 25), (12, 26)], "IT": [(1, 1), (1, 6), (4, 25), (5, 1),
        (6, 2), (8, 15), (11, 1), (12, 8), (12, 25), (12, 26)], "ES": [(1, 1), (1, 6), (5, 1), (8, 15), (10, 12),
        (11, 1), (12, 6), (12, 8), (12, 25)], "PL": [(1, 1), (1, 6), (5, 1), (5, 3), (8, 15), (11, 1), (11, 11),
        (12, 25), (12, 26)], "SE": [(1, 1), (1, 6), (5, 1), (6, 6), (12, 24), (12, 25), (12, 26), (12, 31)],
        "NL": [(1, 1), (4, 27), (12, 25), (12, 26)], "US": [(1, 1), (6, 19), (7, 4), (12, 25)],
        "MX": [(1, 1), (5, 1), (9, 16), (12, 25)], "CN": [(1, 1)],
    }.get(country, [(1, 1), (12, 25)])
    out = {dt.date(year, m, d) for m, d in fixed}
    easter_days = {"DE": [-2, 1, 39, 50], "FR": [1, 39, 50], "GB": [-2, 1], "IT": [1], "ES": [-2],
                   "PL": [1, 60], "SE": [-2, 1, 39], "NL": [-2, 1, 39, 50], "MX": [-3, -2]}.get(country, [])
    out |= {e + td(days=k) for k in easter_days}
    if country == "GB":
        out |= {_nth_weekday(year, 5, 0, 1), _nth_weekday(year, 5, 0, -1), _nth_weekday(year, 8, 0, -1)}
    elif country == "US":
        out |= {_nth_weekday(year, 1, 0, 3), _nth_weekday(year, 2, 0, 3), _nth_weekday(year, 5, 0, -1),
                _nth_weekday(year, 9, 0, 1), _nth_weekday(year, 11, 3, 4)}
    elif country == "MX":
        out |= {_nth_weekday(year, 2, 0, 1), _nth_weekday(year, 3, 0, 3), _nth_weekday(year, 11, 0, 3)}
    elif country == "SE":  # midsummer eve: the Friday between 19 and 25 June
        out.add(next(dt.date(year, 6, d) for d in range(19, 26) if dt.date(year, 6, d).weekday() == 4))
    elif country == "CN":
        cny = _CNY.get(year)
        if cny:
            out |= {cny + td(days=k) for k in range(-1, 6)}
        out |= {dt.date(year, 10, d) for d in range(1, 8)} | {dt.date(year, 5, d) for d in range(1, 4)}
        out.add(dt.date(year, 4, 4))
    return out


def working_days(country: str, weeks: pd.DatetimeIndex) -> np.ndarray:
    """Monday-to-Friday days that are not public holidays, per week."""
    years = sorted({w.year for w in weeks} | {w.year + 1 for w in weeks})
    hol = set().union(*(holidays(country, y) for y in years))
    return np.array([sum((w + pd.Timedelta(days=k)).date() not in hol for k in range(5)) for w in weeks], float)


def _incentive(country: str, powertrain: str, weeks: pd.DatetimeIndex) -> tuple[np.ndarray, list, list]:
    eur = np.zeros(len(weeks))
    scheme: list[str | None] = [None] * len(weeks)
    source: list[str | None] = [None] * len(weeks)
    days = weeks.date
    for pt, first, last, value, name, src in INCENTIVES.get(country, []):
        if pt != powertrain:
            continue
        for i, d in enumerate(days):  # in effect on the week's Monday
            if d >= first and (last is None or d <= last):
                eur[i], scheme[i], source[i] = value, name, src
    return eur, scheme, source


def _lifecycle(products: pd.DataFrame, T: int, W: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Phase per product and week (W weeks from the first history week): a few ICE products ended inside the
    history, a few ICE/PHEV products end inside the forecast horizon, a few BEVs launched inside the history."""
    n = len(products)
    pt = products["powertrain"].to_numpy()
    ids = products["product_id"].to_numpy()
    phases = {k: np.full(W, "active", dtype=object) for k in ids}
    ice = [i for i in rng.permutation(n) if pt[i] == "ICE"]
    mid = [i for i in rng.permutation(n) if pt[i] in ("ICE", "PHEV")]
    bev = [i for i in rng.permutation(n) if pt[i] == "BEV"]
    n_hist, n_fut, n_launch = max(1, round(0.06 * n)), max(1, round(0.05 * n)), max(1, round(0.05 * n))
    used: set[int] = set()
    for i in ice[:n_hist]:
        start = int(rng.integers(T - 40, T - 25))
        phases[ids[i]][start:start + RUN_OUT_WEEKS] = "run_out"
        phases[ids[i]][start + RUN_OUT_WEEKS:] = "ended"
        used.add(i)
    for i in [j for j in mid if j not in used][:n_fut]:
        start = T - 4 + int(rng.integers(0, 4))  # the run-out starts at the end of the history
        phases[ids[i]][start:start + RUN_OUT_WEEKS] = "run_out"
        phases[ids[i]][start + RUN_OUT_WEEKS:] = "ended"
        used.add(i)
    for i in [j for j in bev if j not in used][:n_launch]:
        start = int(rng.integers(26, 53))
        phases[ids[i]][:start] = "pre_launch"
        phases[ids[i]][start:start + LAUNCH_WEEKS] = "launch"
    return phases


def _availability(phase: np.ndarray) -> np.ndarray:
    from features.drivers import RUN_OUT_FLOOR

    out = np.ones(len(phase))
    pos = np.zeros(len(phase), int)
    for t in range(len(phase)):
        pos[t] = pos[t - 1] + 1 if t and phase[t] == phase[t - 1] else 1
    out[(phase == "pre_launch") | (phase == "ended")] = 0.0
    la, ro = phase == "launch", phase == "run_out"
    out[la] = np.minimum(1.0, pos[la] / LAUNCH_WEEKS)
    out[ro] = np.maximum(RUN_OUT_FLOOR, 1.0 - (1.0 - RUN_OUT_FLOOR) * pos[ro] / RUN_OUT_WEEKS)
    return out


def apply(mean: np.ndarray, series: pd.DataFrame, products: pd.DataFrame, markets: pd.DataFrame,
          weeks_x: pd.DatetimeIndex, n_history: int, seed: int, size: str
          ) -> tuple[np.ndarray, dict[str, pd.DataFrame]]:
    """(mean x driver effect, driver tables). ``mean`` is S x len(weeks_x) (series of ``series`` in order)."""
    rng = np.random.default_rng([int(seed), 14, 0 if size == "demo" else 1])
    T, W = n_history, n_history + FUTURE_WEEKS
    weeks = pd.date_range(start=weeks_x[0], periods=W, freq="7D").astype("datetime64[ns]")
    mk = markets.set_index("market_id")
    pr = products.set_index("product_id")

    # ---- working days and incentives per market
    wd = {m: working_days(mk.at[m, "country"], weeks) for m in mk.index}
    inc_rows, inc = [], {}
    for m in mk.index:
        for p in ("BEV", "PHEV", "ICE"):
            eur, scheme, source = _incentive(mk.at[m, "country"], p, weeks)
            inc[(m, p)] = eur
            inc_rows.append(pd.DataFrame({"week": weeks, "market_id": m, "powertrain": p, "incentive_eur": eur,
                                          "scheme": scheme, "source": source}))
    # ---- list prices per product (same index in every market), promotions per series, life cycle
    years = weeks.year.to_numpy()
    price_idx = {}
    for k in pr.index:
        step = np.ones(W)
        for y in sorted(set(years))[1:]:
            first = int(np.argmax(years == y))
            step[first:] *= 1 + round(float(rng.uniform(0.0, 3.5)), 1) / 100
        if pr.at[k, "powertrain"] == "BEV" and rng.random() < 0.4:
            at = int(rng.integers(13, W - 13))
            step[at:] *= 1 - round(float(rng.uniform(5.0, 10.0)), 1) / 100
        price_idx[k] = step
    phases = _lifecycle(products, T, W, rng)
    avail = {k: _availability(v) for k, v in phases.items()}
    S = len(series)
    effect = np.ones((S, W))
    pd_rows = []
    for s, (k, m) in enumerate(series[["product_id", "market_id"]].itertuples(index=False)):
        promo = np.zeros(W)
        for _ in range(int(rng.poisson(W / 26))):
            a, dur = int(rng.integers(0, W - 2)), int(rng.integers(2, 5))
            promo[a:a + dur] = round(float(rng.uniform(4.0, 12.0)) * 2) / 2
        base = float(pr.at[k, "price_eur"])
        lst = np.round(base * price_idx[k], -1)
        net = np.maximum(lst * (1 - promo / 100) - inc[(m, pr.at[k, "powertrain"])], NET_FLOOR * lst)
        effect[s] = avail[k] * (net / base) ** -PRICE_ELASTICITY * (wd[m] / 5.0) ** WD_POWER
        pd_rows.append(pd.DataFrame({"week": weeks, "product_id": k, "market_id": m, "list_price_eur": lst,
                                     "promo_discount_pct": promo, "lifecycle": phases[k]}))
    tables = {
        "ev_incentives": pd.concat(inc_rows, ignore_index=True),
        "product_drivers": pd.concat(pd_rows, ignore_index=True),
        "working_days": pd.DataFrame({"week": np.tile(weeks.to_numpy(), len(mk)),
                                      "market_id": np.repeat(mk.index.to_numpy(), W),
                                      "working_days": np.concatenate([wd[m] for m in mk.index])}),
    }
    return mean * effect[:, :mean.shape[1]], tables
