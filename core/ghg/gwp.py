"""GWP-100 sets (AR4, AR5, AR6) per species, refrigerant blends, and the fallback rule for missing values.

Sources (checked against the publications):

- AR4: IPCC AR4 WG1 Table 2.14, as tabulated in US EPA 40 CFR 98 Subpart A Table A-1 (CH4 25, N2O 298,
  HFC-32 675, HFC-125 3,500, HFC-134a 1,430). HFO-1234yf is not in AR4.
- AR5: IPCC AR5 WG1 Table 8.A.1, without climate-carbon feedback (CH4 28, N2O 265, HFC-32 677, HFC-125 3,170,
  HFC-134a 1,300; HFO-1234yf "<1", carried as absent).
- AR6: IPCC AR6 WG1 Table 7.15 (CH4 fossil 29.8, non-fossil 27.0) and Table 7.SM.7 (CH4 27.9, N2O 273,
  HFC-32 771, HFC-125 3,740, HFC-134a 1,530, HFO-1234yf 0.501).

AR4/AR5 give one value for fossil and biogenic methane (as the GHG Protocol and US EPA apply them).
A species without a value in the chosen set takes the value of the next newer report (the rule of The
Climate Registry's General Reporting Protocol); :func:`gwp_table` reports each such fallback, and the
accounting engine turns them into ``gwp_fallback`` findings.
"""

from __future__ import annotations

from core.ghg.errors import GHGError

_ORDER = ("AR4", "AR5", "AR6")
_BASE: dict[str, dict[str, float]] = {
    "AR4": {"CO2": 1.0, "CH4": 25.0, "CH4_fossil": 25.0, "CH4_biogenic": 25.0, "N2O": 298.0, "CO2e": 1.0,
            "HFC-32": 675.0, "HFC-125": 3500.0, "HFC-134a": 1430.0},
    "AR5": {"CO2": 1.0, "CH4": 28.0, "CH4_fossil": 28.0, "CH4_biogenic": 28.0, "N2O": 265.0, "CO2e": 1.0,
            "HFC-32": 677.0, "HFC-125": 3170.0, "HFC-134a": 1300.0},
    "AR6": {"CO2": 1.0, "CH4": 27.9, "CH4_fossil": 29.8, "CH4_biogenic": 27.0, "N2O": 273.0, "CO2e": 1.0,
            "HFC-32": 771.0, "HFC-125": 3740.0, "HFC-134a": 1530.0, "HFO-1234yf": 0.501},
}
SPECIES: tuple[str, ...] = tuple(dict.fromkeys(s for d in _BASE.values() for s in d))

# refrigerant -> mass fractions of its species (ASHRAE 34 designations; R-410A is HFC-32/HFC-125 50/50 by mass)
BLENDS: dict[str, dict[str, float]] = {
    "R-134a": {"HFC-134a": 1.0},
    "R-1234yf": {"HFO-1234yf": 1.0},
    "R-410A": {"HFC-32": 0.5, "HFC-125": 0.5},
    "R-744": {"CO2": 1.0},
}
REFRIGERANTS: tuple[str, ...] = tuple(BLENDS)


def gwp(species: str, gwp_set: str) -> tuple[float, str]:
    """(GWP-100 of ``species`` in ``gwp_set``, the set the value came from)."""
    if gwp_set not in _BASE:
        raise GHGError(f"gwp_set {gwp_set!r} not in {sorted(_BASE)}")
    for s in _ORDER[_ORDER.index(gwp_set):]:
        if species in _BASE[s]:
            return _BASE[s][species], s
    raise GHGError(f"no GWP for {species!r} in {gwp_set} or a newer report")


def gwp_table(gwp_set: str) -> tuple[dict[str, float], dict[str, str]]:
    """(species -> GWP in ``gwp_set`` with fallbacks applied, species -> set used where it fell back)."""
    table, fallbacks = {}, {}
    for sp in SPECIES:
        v, used = gwp(sp, gwp_set)
        table[sp] = v
        if used != gwp_set:
            fallbacks[sp] = used
    return table, fallbacks


GWP_SETS: dict[str, dict[str, float]] = {s: gwp_table(s)[0] for s in _ORDER}


# publisher (as named in a factor's source text) -> GWP set of its CO2e factors: the UK DESNZ conversion factors
# state CO2e with AR5 GWP-100 values (DESNZ methodology paper, 2023 onwards)
CO2E_PUBLISHER_GWP: dict[str, str] = {"DESNZ": "AR5"}


def publisher_gwp_set(source: str) -> str | None:
    """The GWP set a CO2e factor was published under, from its source text (None when not known)."""
    return next((v for k, v in CO2E_PUBLISHER_GWP.items() if k in str(source)), None)
