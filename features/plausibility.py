"""Plausibility at the door: values that parse and sit inside the contract's ranges but cannot be true.

``validate`` checks each value on its own (type, ``ge``/``le``, references); a demand row of 1e12 units
passes those. The rules here look at a value against its own series, its peers and the master data:

- ``demand_history.units:outlier``: per series (product x market), a robust z-score against the series'
  centred rolling median (``window`` weeks) and the series' median absolute deviation; a row is flagged
  when z > ``z`` *and* the value exceeds ``factor`` x the rolling median. Series with fewer than
  ``min_points`` rows are compared with their peers (the product's median over all markets) instead.
- ``demand_history.units:capacity``: one market's weekly demand above ``factor`` x the summed weekly
  capacity of every plant that can build the product (``plant_products`` x ``plants``). Catches an
  absurd value even when the series has no spread (MAD = 0).
- ``production_history.units:capacity``: a plant's output in a week (all products) above ``factor`` x
  its ``capacity_units_per_week``; every row of that plant-week is flagged (which product is wrong
  cannot be told).
- ``energy_use.quantity:intensity``: energy per unit produced, per (plant, carrier, unit) so no unit
  conversion is needed, outside [median / ``factor``, median x ``factor``] of that plant's own history.

Each rule has a policy: ``quarantine`` (the rows move to quarantine with the rule named, so
``rows_in == valid + quarantined`` still holds), ``hold`` (rows stay, the run is held: the publish step
refuses to move ``latest.json`` until someone publishes it by hand) or ``warn`` (reported only).
Everything is vectorised on whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RULES", "POLICIES", "PlausibilityResult", "check"]

POLICIES = ("quarantine", "hold", "warn")

#: rule key -> policy and thresholds (one place to tune them)
RULES: dict[str, dict[str, Any]] = {
    "demand_history.units:outlier": {"policy": "quarantine", "z": 10.0, "factor": 5.0, "window": 27,
                                     "min_points": 8, "peer_factor": 10.0},
    "demand_history.units:capacity": {"policy": "quarantine", "factor": 3.0},
    "production_history.units:capacity": {"policy": "quarantine", "factor": 1.5},
    "energy_use.quantity:intensity": {"policy": "warn", "factor": 5.0},
}

_EXAMPLES = 3


@dataclass
class PlausibilityResult:
    #: table -> (row positions in the valid frame, reason per row) to move to quarantine
    quarantine: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    hold: bool = False
    #: table -> {"<column>:plausibility_<rule>": rows} for the validate counts' ``by_reason``
    by_reason: dict[str, dict[str, int]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"hold": self.hold, "findings": self.findings,
                "quarantined": {t: len(idx) for t, (idx, _) in self.quarantine.items()}}


def _fmt(x: float) -> str:
    return f"{x:,.6g}"


def _demand_outlier(d: pd.DataFrame, cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    d = d.reset_index(drop=True)
    d["_pos"] = np.arange(len(d))
    d = d.sort_values(["product_id", "market_id", "week"], kind="stable")
    g = d.groupby(["product_id", "market_id"], sort=False)["units"]
    med = g.rolling(int(cfg["window"]), center=True, min_periods=1).median().reset_index(level=[0, 1], drop=True)
    med = med.reindex(d.index)
    mad = (d["units"] - med).abs().groupby([d["product_id"], d["market_id"]], sort=False).transform("median")
    n = g.transform("size")
    scale = 1.4826 * mad.where(mad > 0, np.nan)
    z = ((d["units"] - med) / scale).fillna(np.inf).to_numpy()  # MAD 0: any jump is extreme
    units, medv = d["units"].to_numpy(), med.to_numpy()
    long = (n >= int(cfg["min_points"])).to_numpy()
    flag_long = long & (z > float(cfg["z"])) & (units > float(cfg["factor"]) * np.maximum(medv, 1.0))
    peer = d.groupby("product_id")["units"].transform("median").to_numpy()
    flag_short = ~long & (units > float(cfg["peer_factor"]) * np.maximum(peer, 1.0))
    flag = flag_long | flag_short
    why = np.where(long, "rolling median " + pd.Series(medv).map(_fmt).to_numpy(dtype=object)
                   + f" of the series ({int(cfg['window'])} weeks), robust z "
                   + pd.Series(np.round(np.minimum(z, 1e12), 1)).astype(str).to_numpy(dtype=object),
                   "peer median " + pd.Series(peer).map(_fmt).to_numpy(dtype=object) + " (product, all markets)")
    msg = ("units: " + d["units"].map(_fmt).to_numpy(dtype=object) + " is implausible against its history ("
           + why + ")")
    pos = d["_pos"].to_numpy()
    return pos[flag], msg[flag]


def _capacity_by_product(valid: dict[str, pd.DataFrame]) -> pd.Series | None:
    if "plants" not in valid or "plant_products" not in valid:
        return None
    pp = valid["plant_products"][["plant_id", "product_id"]].merge(
        valid["plants"][["plant_id", "capacity_units_per_week"]], on="plant_id", how="inner")
    return pp.groupby("product_id")["capacity_units_per_week"].sum()


def _demand_capacity(d: pd.DataFrame, cap: pd.Series, cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    c = d["product_id"].map(cap).astype(float).to_numpy()
    units = d["units"].to_numpy(dtype=float)
    flag = np.isfinite(c) & (units > float(cfg["factor"]) * c)
    idx = np.flatnonzero(flag)
    msg = np.array([f"units: {_fmt(units[i])} exceeds {cfg['factor']:g} x the weekly capacity of every plant "
                    f"that can build {d['product_id'].iat[i]} ({_fmt(c[i])})" for i in idx], dtype=object)
    return idx, msg


def _production_capacity(p: pd.DataFrame, plants: pd.DataFrame, cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    total = p.groupby(["week", "plant_id"])["units"].transform("sum").to_numpy(dtype=float)
    cap = p["plant_id"].map(plants.set_index("plant_id")["capacity_units_per_week"]).astype(float).to_numpy()
    flag = np.isfinite(cap) & (total > float(cfg["factor"]) * cap)
    idx = np.flatnonzero(flag)
    msg = np.array([f"units: plant {p['plant_id'].iat[i]} built {_fmt(total[i])} units in the week of "
                    f"{pd.Timestamp(p['week'].iat[i]):%Y-%m-%d}, over {cfg['factor']:g} x its capacity "
                    f"({_fmt(cap[i])} per week)" for i in idx], dtype=object)
    return idx, msg


def _energy_intensity(e: pd.DataFrame, p: pd.DataFrame, cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    built = p.groupby(["week", "plant_id"])["units"].sum().rename("_built")
    x = e[["week", "plant_id", "carrier", "unit", "quantity"]].join(built, on=["week", "plant_id"])
    ratio = (x["quantity"] / x["_built"]).where(x["_built"] > 0)
    med = ratio.groupby([x["plant_id"], x["carrier"], x["unit"]]).transform("median")
    f = float(cfg["factor"])
    flag = (ratio.notna() & med.notna() & (med > 0) & ((ratio > med * f) | (ratio < med / f))).to_numpy()
    idx = np.flatnonzero(flag)
    msg = np.array([f"quantity: {_fmt(x['quantity'].iat[i])} {x['unit'].iat[i]} of {x['carrier'].iat[i]} is "
                    f"{_fmt(ratio.iat[i])} per unit built, outside [/{f:g}, x{f:g}] of plant "
                    f"{x['plant_id'].iat[i]}'s median {_fmt(med.iat[i])}" for i in idx], dtype=object)
    return idx, msg


def check(valid: dict[str, pd.DataFrame], policy: dict[str, str] | None = None) -> PlausibilityResult:
    """Run every rule on validated (typed) tables. ``policy`` overrides a rule's policy by rule key.

    Returns the rows to quarantine per table (positions in ``valid[table]``), the findings (rule,
    table, policy, rows, examples) and whether the run is held for review."""
    policy = policy or {}
    unknown = sorted(set(policy) - set(RULES))
    if unknown:
        raise ValueError(f"unknown plausibility rule(s) {', '.join(unknown)}; known: {', '.join(RULES)}")
    bad = {k: v for k, v in policy.items() if v not in POLICIES}
    if bad:
        raise ValueError(f"plausibility policy must be one of {', '.join(POLICIES)}: {bad}")
    hits: list[tuple[str, str, np.ndarray, np.ndarray]] = []
    cap = _capacity_by_product(valid)
    d = valid.get("demand_history")
    if d is not None and len(d):
        hits.append(("demand_history.units:outlier", "demand_history",
                     *_demand_outlier(d, RULES["demand_history.units:outlier"])))
        if cap is not None:
            hits.append(("demand_history.units:capacity", "demand_history",
                         *_demand_capacity(d, cap, RULES["demand_history.units:capacity"])))
    p = valid.get("production_history")
    if p is not None and len(p) and "plants" in valid:
        hits.append(("production_history.units:capacity", "production_history",
                     *_production_capacity(p, valid["plants"], RULES["production_history.units:capacity"])))
    e = valid.get("energy_use")
    if e is not None and len(e) and p is not None and len(p):
        hits.append(("energy_use.quantity:intensity", "energy_use",
                     *_energy_intensity(e, p, RULES["energy_use.quantity:intensity"])))

    out = PlausibilityResult()
    moved: dict[str, dict[int, str]] = {}
    for rule, table, idx, msg in hits:
        if not len(idx):
            continue
        pol = policy.get(rule, RULES[rule]["policy"])
        out.findings.append({"rule": rule, "table": table, "policy": pol, "rows": int(len(idx)),
                             "examples": [str(m) for m in msg[:_EXAMPLES]]})
        if pol == "hold":
            out.hold = True
        elif pol == "quarantine":
            rows = moved.setdefault(table, {})
            key = rule.split(".", 1)[1]  # "units:outlier"
            column, name = key.split(":")
            reasons = out.by_reason.setdefault(table, {})
            reasons[f"{column}:plausibility_{name}"] = int(len(idx))
            for i, m in zip(idx.tolist(), msg.tolist(), strict=True):
                text = f"{m} (plausibility {key})"
                rows[i] = f"{rows[i]}; {text}" if i in rows else text
    for table, rows in moved.items():
        order = np.array(sorted(rows), dtype=np.int64)
        out.quarantine[table] = (order, np.array([rows[i] for i in order], dtype=object))
    return out
