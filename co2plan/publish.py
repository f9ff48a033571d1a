"""The publish gate: checks a run's plan must pass before ``published/latest.json`` moves to it.

A plan can be solved and still be nonsense (a demand row of 1e12 that slipped through, a source that
lost a market). Before the pointer moves, :func:`gate_reasons` refuses when

- validation held the run for review (a plausibility rule with policy ``hold`` fired);
- the plan's service level is below ``min_service_level``;
- demand or CO2e per planned week moved by more than ``max_jump`` x (either way) against the plan
  ``latest.json`` points at now.

A refusal raises :class:`PublishRefused` naming each check, value and limit; nothing moves. An operator
who has looked at the run publishes it anyway with ``co2plan publish <run key> --force`` (recorded as
``forced`` in the manifest).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PublishRefused", "gate_reasons", "GATE_DEFAULTS"]

GATE_DEFAULTS = {"min_service_level": 0.8, "max_jump": 3.0}


class PublishRefused(ValueError):
    """The publish gate refused a run; ``reasons`` lists each failed check."""

    def __init__(self, key: str, reasons: list[str]):
        self.key, self.reasons = key, reasons
        super().__init__(f"publish refused for {key}: " + "; ".join(reasons)
                         + f". Review the run, then publish it with: co2plan publish {key} --force")


def _per_week(kpis: dict[str, Any], key: str, horizon: Any) -> float | None:
    v = kpis.get(key)
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return None
    return float(v) / float(horizon) if horizon else None


def gate_reasons(manifest: dict[str, Any], kpis: dict[str, Any], horizon_weeks: Any,
                 previous: dict[str, Any] | None, min_service_level: float = GATE_DEFAULTS["min_service_level"],
                 max_jump: float = GATE_DEFAULTS["max_jump"]) -> list[str]:
    """Every reason not to publish this plan (empty: publish). ``previous`` is the current latest.json."""
    reasons: list[str] = []
    plaus = manifest.get("validate", {}).get("plausibility") or {}
    if plaus.get("hold"):
        held = [f"{f['rule']} ({f['rows']} rows)" for f in plaus.get("findings", []) if f.get("policy") == "hold"]
        reasons.append("validation held the run for review: " + ", ".join(held))
    service = kpis.get("service_level")
    if isinstance(service, (int, float)) and service < min_service_level:
        reasons.append(f"service level {service:.1%} is below the publish floor {min_service_level:.0%}")
    if previous and previous.get("kpis"):
        for k, label in (("demand_units", "demand"), ("co2e_total_t", "CO2e")):
            new = _per_week(kpis, k, horizon_weeks)
            old = _per_week(previous["kpis"], k, previous.get("horizon_weeks"))
            if new is None or old is None or old <= 0 or new <= 0:
                if old and old > 0 and new is not None and new <= 0:
                    reasons.append(f"{label} per week fell to {new:,.0f} from {old:,.0f} in "
                                   f"{previous.get('run_key') or previous.get('run_id')}")
                continue
            ratio = new / old
            if ratio > max_jump or ratio < 1 / max_jump:
                reasons.append(f"{label} per week {new:,.0f} is {ratio:.3g} x the published "
                               f"{previous.get('run_key') or previous.get('run_id')} ({old:,.0f}); "
                               f"limit {max_jump:g} x either way")
    return reasons
