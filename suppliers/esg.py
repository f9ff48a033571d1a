"""ESG ratings from several providers, normalised so they compare, with the disagreement kept.

Per provider the latest rating at or before the run date is turned into a risk on [0, 1] (numeric:
position on [scale_min, scale_max], flipped when higher is better; letter: rank on AAA..CCC), then
rank-normalised within the provider ((rank - 0.5) / n), so scales and provider biases compare. Per
supplier: each provider's value, median, min, max, spread (max - min), n_providers and ``disagree``
(spread > ``DISAGREE``). Risk propagation uses the median; alerts show the spread. Providers are known
to agree only partly (Berg, Koelbel & Rigobon 2022, "Aggregate Confusion"), so the spread is shown and
never averaged away.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.tables import ESG_GRADES

DISAGREE = 0.35


def provider_risk(esg: pd.DataFrame) -> np.ndarray:
    """Risk on [0, 1] of each rating row, on the provider's own scale (before rank normalisation)."""
    score = esg["score"].to_numpy(dtype=float)
    lo, hi = esg["scale_min"].to_numpy(dtype=float), esg["scale_max"].to_numpy(dtype=float)
    hib = esg["higher_is_better"].to_numpy(dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = np.clip((score - lo) / (hi - lo), 0, 1)
    grade_rank = pd.Categorical(esg["grade"], categories=list(ESG_GRADES)).codes.astype(float)
    grade_risk = np.where(grade_rank >= 0, grade_rank / (len(ESG_GRADES) - 1), np.nan)  # AAA 0 .. CCC 1
    numeric = np.where(hib, 1 - pos, pos)
    letter = np.where(hib, grade_risk, 1 - grade_risk)
    return np.where(np.isfinite(score), numeric, letter)


def normalise_esg(esg: pd.DataFrame, run_date: pd.Timestamp | None = None) -> pd.DataFrame:
    """supplier_id, esg_<provider>..., esg_median, esg_min, esg_max, esg_spread, n_providers, disagree."""
    df = esg if run_date is None else esg[esg["date"] <= pd.Timestamp(run_date)]
    df = df.sort_values(["provider", "supplier_id", "date"]).drop_duplicates(["provider", "supplier_id"], keep="last")
    df = df.assign(raw=provider_risk(df))
    df = df[np.isfinite(df["raw"])]
    df["risk"] = (df.groupby("provider")["raw"].rank(method="average") - 0.5) / df.groupby("provider")["raw"] \
        .transform("size")
    wide = df.pivot(index="supplier_id", columns="provider", values="risk").add_prefix("esg_")
    vals = wide.to_numpy()
    out = wide.reset_index()
    out.columns.name = None
    out["esg_median"] = np.nanmedian(vals, axis=1)
    out["esg_min"] = np.nanmin(vals, axis=1)
    out["esg_max"] = np.nanmax(vals, axis=1)
    out["esg_spread"] = out["esg_max"] - out["esg_min"]
    out["n_providers"] = np.isfinite(vals).sum(axis=1)
    out["disagree"] = out["esg_spread"] > DISAGREE
    return out.sort_values("supplier_id").reset_index(drop=True)
