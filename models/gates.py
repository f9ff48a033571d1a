"""Fair champion gates: the champion's spec is re-run on the challenger's rolling-origin folds.

``champion_gate`` (demand) and ``energy_gate`` (plant energy: the linear model whose coefficients the plan
uses; WAPE instead of MASE) apply the same rule.

The challenger replaces the champion only if its mean MASE over the same folds is lower AND it wins at least
half of the folds (ceil(W / 2)). When the champion's config cannot be re-run, the gate falls back to the
stored-metric rule and says so (``gate = stored_metric_fallback``); a champion pickled by the older weekly-only
forecaster cannot forecast with this code at all and is replaced (``gate = champion_incompatible``).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import pandas as pd

from models.backtest import backtest_demand
from models.demand import DemandConfig
from models.emissions import EnergyConfig, backtest_energy

REFRESH = ("same config as the champion: the challenger is the champion's recipe refit on this run's newer "
           "data, so it replaces it (a refresh; re-scoring the same recipe on the same folds can only tie)")


def _refresh(champion_cfg: dict, challenger_cfg: dict | None, ignore: tuple[str, ...] = ()) -> bool:
    """Same recipe: equal on every setting both configs have (a champion pickled before a setting was added
    lacks it; the new setting's default is what it ran with), and they share most of the settings."""
    if challenger_cfg is None:
        return False
    common = (set(champion_cfg) & set(challenger_cfg)) - set(ignore)
    if len(common) < 0.8 * len(set(challenger_cfg) - set(ignore)):
        return False
    return all(champion_cfg[k] == challenger_cfg[k] for k in common)


def _config_dict(champion: Any) -> dict:
    """The champion's settings as stored in its pickle ({} when it has none)."""
    try:
        return dict(vars(champion.config))
    except (AttributeError, TypeError):
        return {}


def _refresh_decision() -> tuple[dict[str, Any], pd.DataFrame]:
    return ({"passed": True, "gate": "same_config_refresh", "reason": REFRESH, "folds": 0},
            pd.DataFrame([{"gate": "same_config_refresh", "reason": REFRESH}]))


def champion_gate(panel: pd.DataFrame, report: dict, challenger_folds: pd.DataFrame, champion: Any,
                  horizon: int, n_folds: int, step: int, challenger_config: DemandConfig | None = None
                  ) -> tuple[dict[str, Any] | None, pd.DataFrame]:
    """(decision dict or None for the stored-metric fallback, per-fold table of both sides). A challenger with
    the champion's own config is a refresh on newer data and passes without re-scoring (``REFRESH``)."""
    if not hasattr(champion, "spec"):  # pickled by the weekly-only forecaster: it cannot forecast any more
        reason = "champion pickled by an older forecaster version cannot run with this code: replaced"
        return {"passed": True, "reason": reason, "folds": 0}, pd.DataFrame([{"gate": "champion_incompatible",
                                                                             "reason": reason}])
    if challenger_config is not None and _refresh(_config_dict(champion), asdict(challenger_config),
                                                  ("horizon",)):
        return _refresh_decision()
    try:
        cfg = DemandConfig.from_dict({**asdict(champion.config), "horizon": horizon})
    except (AttributeError, TypeError, ValueError) as e:
        return None, pd.DataFrame([{"gate": "stored_metric_fallback", "reason": str(e)[:200]}])
    missing = sorted(set(cfg.future_exog) - set(panel.columns))  # issue 14: champion with drivers, panel without
    if missing:
        return None, pd.DataFrame([{"gate": "stored_metric_fallback",
                                    "reason": f"champion uses drivers {missing} that this training panel lacks"}])
    champ = backtest_demand(panel, report, cfg, n_folds=n_folds, step=step)["folds"]
    a = challenger_folds[challenger_folds["model"] == "model"][["fold", "origin", "mase", "wape"]]
    b = champ[champ["model"] == "model"][["fold", "origin", "mase", "wape"]]
    t = a.merge(b, on=["fold", "origin"], suffixes=("_challenger", "_champion"))
    wins = int((t["mase_challenger"] < t["mase_champion"]).sum())
    need = math.ceil(len(t) / 2)
    passed = bool(len(t) and t["mase_challenger"].mean() < t["mase_champion"].mean() and wins >= need)
    t["gate"] = "same_folds"
    return {"passed": passed, "wins": wins, "folds": int(len(t)), "wins_needed": need,
            "challenger_mase": float(t["mase_challenger"].mean()),
            "champion_mase": float(t["mase_champion"].mean())}, t


def energy_gate(panel: pd.DataFrame, challenger_folds: pd.DataFrame, champion: Any, n_folds: int, step: int,
                challenger_config: EnergyConfig | None = None) -> tuple[dict[str, Any] | None, pd.DataFrame]:
    """The energy champion's config re-run on the challenger's folds (``models.emissions.backtest_energy``
    over this run's panel, the same origins): the challenger passes iff its linear model's mean WAPE is
    lower and it wins at least ceil(W / 2) folds (a tie keeps the champion); the champion's own config refit
    on newer data is a refresh and passes (``REFRESH``). (decision or None for the stored-metric fallback,
    per-fold table)."""
    from dataclasses import fields

    if challenger_config is not None and _refresh(_config_dict(champion),
                                                  {f.name: getattr(challenger_config, f.name)
                                                   for f in fields(EnergyConfig)}):
        return _refresh_decision()
    try:
        cfg = EnergyConfig(**{f.name: getattr(champion.config, f.name) for f in fields(EnergyConfig)})
    except (AttributeError, TypeError, ValueError) as e:
        return None, pd.DataFrame([{"gate": "stored_metric_fallback", "reason": str(e)[:200]}])
    champ = backtest_energy(panel, cfg, n_folds=n_folds, step=step, linear_only=True)["folds"]
    a = challenger_folds[challenger_folds["model"] == "linear"][["fold", "origin", "wape"]]
    b = champ[champ["model"] == "linear"][["fold", "origin", "wape"]]
    t = a.merge(b, on=["fold", "origin"], suffixes=("_challenger", "_champion"))
    wins = int((t["wape_challenger"] < t["wape_champion"]).sum())
    need = math.ceil(len(t) / 2)
    passed = bool(len(t) and t["wape_challenger"].mean() < t["wape_champion"].mean() and wins >= need)
    t["gate"] = "same_folds"
    return {"passed": passed, "gate": "same_folds", "wins": wins, "folds": int(len(t)), "wins_needed": need,
            "challenger_wape": float(t["wape_challenger"].mean()),
            "champion_wape": float(t["wape_champion"].mean())}, t
