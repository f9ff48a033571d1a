"""Reference factors for the supplier checks and Scope 3 category 1.

- ``material_factors()``: cradle-to-gate t CO2e per unit of each commodity (activity-based, average
  data). Sources, all *approximations* to be checked against the current editions before any
  disclosure: worldsteel Sustainability Indicators 2023 (~1.9 t CO2/t crude steel); International
  Aluminium Institute GHG data (~15-16 t CO2e/t primary aluminium, global average incl. power);
  IVL report C444 (2019), Emelia et al.: 61-106 kg CO2e/kWh of Li-ion cells; Nickel Institute LCA 2020
  (~13 t CO2e/t class-1 nickel); Cobalt Institute LCA 2022; Ecoinvent-style averages for cathode
  active material, lithium hydroxide/carbonate, aluminium die-castings and generic parts.
- ``spend_factors()``: US EPA Supply Chain GHG Emission Factors for US Commodities and Industries
  v1.2 (2023), NAICS-6 2017, kg CO2e per 2021 USD, purchaser price, with margins, AR4 GWPs,
  DOI 10.23719/1528686 (public domain). Only the NAICS codes the commodities map to are shipped here.
- ``usd2021_per_eur(year)``: EUR of a spend year -> 2021 USD: ECB euro reference rate (annual
  average) divided by the US GDP price deflator relative to 2021 (BEA NIPA table 1.1.9); rounded,
  approximations.
"""

from __future__ import annotations

import pandas as pd

FACTOR_VERSION = "supply-factors-2026.1"

# commodity -> (t CO2e per base unit, base unit, source)
MATERIAL = {
    "steel": (1.92, "t", "worldsteel sustainability indicators 2023, crude steel (approximation)"),
    "aluminium": (12.0, "t", "IAI GHG data, primary aluminium incl. some recycled content (approximation)"),
    "casting": (5.0, "t", "aluminium die-casting, mixed primary/secondary (approximation)"),
    "cell": (0.075, "kWh", "IVL C444 (2019), 61-106 kg CO2e/kWh Li-ion cells (approximation)"),
    "battery_pack": (0.085, "kWh", "IVL C444 (2019) cells + pack assembly (approximation)"),
    "cathode": (16.0, "t", "NMC cathode active material, literature average (approximation)"),
    "lithium": (8.5, "t", "lithium hydroxide/carbonate, literature average (approximation)"),
    "nickel": (14.0, "t", "Nickel Institute LCA 2020, class-1 nickel (approximation)"),
    "cobalt": (12.0, "t", "Cobalt Institute LCA 2022, refined cobalt (approximation)"),
    "parts": (0.35, "units", "generic body and chassis parts set per vehicle (approximation)"),
    "electronics": (0.15, "units", "vehicle electronics set per vehicle (approximation)"),
}

# commodity -> NAICS 2017 code, and the EPA SEF v1.2 rows used (code, title, without margins, margins, with margins)
COMMODITY_NAICS = {
    "steel": "331110", "aluminium": "331313", "casting": "331523", "cell": "335911", "battery_pack": "335911",
    "cathode": "325180", "lithium": "325180", "nickel": "212230", "cobalt": "212230", "parts": "336390",
    "electronics": "336320",
}
EPA_SEF_V12 = (
    ("212230", "Copper, Nickel, Lead, and Zinc Mining", 1.082, 0.084, 1.165),
    ("325180", "Other Basic Inorganic Chemical Manufacturing", 1.046, 0.071, 1.117),
    ("331110", "Iron and Steel Mills and Ferroalloy Manufacturing", 0.945, 0.033, 0.979),
    ("331313", "Alumina Refining and Primary Aluminum Production", 1.38, 0.03, 1.41),
    ("331523", "Nonferrous Metal Die-Casting Foundries", 0.584, 0.035, 0.619),
    ("335911", "Storage Battery Manufacturing", 0.264, 0.05, 0.314),
    ("336320", "Motor Vehicle Electrical and Electronic Equipment Manufacturing", 0.24, 0.045, 0.285),
    ("336390", "Other Motor Vehicle Parts Manufacturing", 0.352, 0.043, 0.395),
)
# EUR -> USD (ECB annual average) and the US GDP deflator relative to 2021
USD_PER_EUR = {2021: 1.183, 2022: 1.053, 2023: 1.081, 2024: 1.082, 2025: 1.13, 2026: 1.15}
DEFLATOR_VS_2021 = {2021: 1.0, 2022: 1.071, 2023: 1.108, 2024: 1.135, 2025: 1.16, 2026: 1.185}

# activity unit -> (base unit, multiplier to the base unit)
UNIT_TO_BASE = {"t": ("t", 1.0), "kg": ("t", 0.001), "kWh": ("kWh", 1.0), "MWh": ("kWh", 1000.0),
                "units": ("units", 1.0)}


def material_factors() -> pd.DataFrame:
    """commodity, factor_t_per_unit, unit, source, version (one row per commodity)."""
    return pd.DataFrame([{"commodity": c, "factor_t_per_unit": v, "unit": u, "source": s, "version": FACTOR_VERSION}
                         for c, (v, u, s) in sorted(MATERIAL.items())])


def spend_factors() -> pd.DataFrame:
    """commodity, naics, title, kg_co2e_per_usd2021 (with margins), margins, source, version."""
    rows = {code: (title, wo, m, w) for code, title, wo, m, w in EPA_SEF_V12}
    return pd.DataFrame([{
        "commodity": c, "classification": "NAICS2017", "naics": code, "title": rows[code][0],
        "kg_co2e_per_usd2021": rows[code][3], "margins": rows[code][2], "price_basis": "purchaser",
        "gwp_set": "AR4", "source": "US EPA Supply Chain GHG Emission Factors v1.2, DOI 10.23719/1528686",
        "version": "1.2",
    } for c, code in sorted(COMMODITY_NAICS.items())])


def usd2021_per_eur(year: int) -> float:
    """2021 US dollars per euro spent in ``year`` (nearest year in the table outside its range)."""
    y = min(max(int(year), min(USD_PER_EUR)), max(USD_PER_EUR))
    return USD_PER_EUR[y] / DEFLATOR_VS_2021[y]
