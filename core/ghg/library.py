"""The versioned reference emission-factor library, fuel-properties table and refrigerant screening rates.

``reference_factors()`` returns the ``emission_factors`` table (contract in ``core.tables``) that
the sample generator seeds the lake with and the accounting engine falls back to. Every row names its
public source and data year. Values marked **approximation** in ``source`` were not checked digit by
digit against the publication while this table was written (the order of magnitude and year are
right); replace them from the named publication before using the numbers in an external report.
Values without that mark were checked against the publication or a verbatim quotation of it.

Naming (see helpers/INTERFACES.md):

- ``electricity_grid``          location-based grid average, kg/kWh, region = ISO2 country or grid subregion
- ``electricity_residual_mix``  market-based residual mix, kg/kWh, region = ISO2 country
- ``natural_gas`` / ``diesel``  per gas (CO2, CH4_fossil, N2O) or CO2e where the source only gives CO2e
- ``freight_<mode>``            kg CO2e per tonne-km, basis TTW (tank-to-wheel) or WTW (well-to-wheel)
- other carriers                the ``location_activity`` of :data:`core.ghg.carriers.CARRIERS` (coal by grade,
                                fuel oil, LPG, propane, petrol, biomethane, wood, steam, district heat)

Every row has a ``status``: ``approximation`` when its source text says so, else ``checked``; the accounting
stage lists the status of every factor it used (the factor appendix).

Regions: a grid subregion (e.g. eGRID ``SRSO``), an ISO2 country, or ``GLOBAL`` (IPCC 2006 defaults,
used when no country factor exists). Fuel properties (HHV, carbon content) are a separate small table,
``fuel_properties()``, used by the HHV and carbon-content formulas of the GHG Protocol.

Bump ``FACTOR_VERSION`` whenever a value changes: the version travels with every ledger row.
"""

from __future__ import annotations

import pandas as pd

FACTOR_VERSION = "co2plan-ef-2025.2"
# rows as they were in earlier published versions, so that reference_factors(<old version>) reproduces old
# results exactly: version -> rows (same tuple shape as _ROWS) that replace the current rows of the same
# (activity, gas, region) and drop the current rows of the same (activity, gas, region) added since
_PREVIOUS_ROWS: dict[str, list[tuple]] = {}

LB_TO_KG = 0.45359237  # exact, by definition of the avoirdupois pound
MMBTU_TO_GJ = 1.055056  # 1 mmBtu = 1.055056 GJ (International Table Btu)
EPA_DIESEL_HHV_MMBTU_PER_GAL = 0.138  # US EPA GHG Emission Factors Hub, Table 1 (distillate fuel oil No. 2)

_EPA_HUB = "US EPA GHG Emission Factors Hub (2024), Table 1 stationary combustion"
_EPA_MOBILE = "US EPA GHG Emission Factors Hub (2024), Table 2 mobile combustion CO2"
_EGRID21 = "US EPA eGRID2021 (Jan 2023), CO2 total output emission rate"
_AIB23 = ("AIB European Residual Mixes 2023 (v1.0, 2024), residual mix emission factor (AIB publishes direct "
          "CO2; carried as CO2e); approximation (rounded, to be verified against the AIB table)")
_EMBER23 = ("Ember Yearly Electricity Data 2023 via Our World in Data, lifecycle gCO2e/kWh of generation "
            "(includes upstream emissions, so a little above a combustion-only grid factor)")
_DESNZ25 = "UK DESNZ GHG Conversion Factors for Company Reporting 2025"
_IPCC06 = "IPCC 2006 Guidelines Vol. 2 Ch. 2 Table 2.3 (manufacturing industries, stationary), NCV basis"
_IPCC06_ROAD = "IPCC 2006 Guidelines Vol. 2 Ch. 3 Table 3.2.1/3.2.2 (road transport), NCV basis"

_EPA_C1 = "US EPA 40 CFR 98 Subpart C Table C-1 / GHG Emission Factors Hub (2024) Table 1"
_EPA_C2 = "; CH4/N2O US EPA 40 CFR 98 Subpart C Table C-2"
_EPA_HUB7 = ("US EPA GHG Emission Factors Hub (2024), Table 7 steam and heat; approximation (to be verified "
             "against the Hub table)")
# (fuel, label, kg CO2, kg CH4, kg N2O per mmBtu) from Tables C-1 / C-2
_EPA_FOSSIL = [
    ("coal_anthracite", "anthracite, 103.69 kg CO2/mmBtu", 103.69, 1.1e-2, 1.6e-3),
    ("coal_bituminous", "bituminous, 93.28 kg CO2/mmBtu", 93.28, 1.1e-2, 1.6e-3),
    ("coal_sub_bituminous", "sub-bituminous, 97.17 kg CO2/mmBtu", 97.17, 1.1e-2, 1.6e-3),
    ("coal_lignite", "lignite, 97.72 kg CO2/mmBtu", 97.72, 1.1e-2, 1.6e-3),
    ("fuel_oil_residual", "residual fuel oil No. 6, 75.10 kg CO2/mmBtu", 75.10, 3.0e-3, 6.0e-4),
    ("lpg", "liquefied petroleum gases, 61.71 kg CO2/mmBtu", 61.71, 3.0e-3, 6.0e-4),
    ("propane", "propane, 62.87 kg CO2/mmBtu", 62.87, 3.0e-3, 6.0e-4),
    ("petrol", "motor gasoline, 70.22 kg CO2/mmBtu", 70.22, 3.0e-3, 6.0e-4),
]
_UNVERIFIED = "; approximation (IPCC default quoted from memory of the table, to be verified)"
# (fuel, label, kg CO2, kg CH4, kg N2O per TJ, note) from IPCC 2006 Vol. 2 Table 2.3
_IPCC_FOSSIL = [
    ("coal_bituminous", "other bituminous coal", 94600.0, 10.0, 1.5, ""),
    ("coal_anthracite", "anthracite", 98300.0, 10.0, 1.5, _UNVERIFIED),
    ("coal_sub_bituminous", "sub-bituminous coal", 96100.0, 10.0, 1.5, _UNVERIFIED),
    ("coal_lignite", "lignite", 101000.0, 10.0, 1.5, _UNVERIFIED),
    ("lpg", "liquefied petroleum gases", 63100.0, 1.0, 0.1, _UNVERIFIED),
    ("petrol", "motor gasoline", 69300.0, 3.0, 0.6, _UNVERIFIED),
    ("fuel_oil_residual", "residual fuel oil", 77400.0, 3.0, 0.6, _UNVERIFIED),
]

# (activity, gas, value, unit, source, year, region, basis)
_ROWS: list[tuple] = [
    # ---------------- location-based grid averages ----------------
    ("electricity_grid", "CO2e", 0.381, "kg/kWh", _EMBER23, 2023, "DE", None),
    ("electricity_grid", "CO2e", 0.056, "kg/kWh", _EMBER23, 2023, "FR", None),
    ("electricity_grid", "CO2e", 0.450, "kg/kWh", _EMBER23, 2023, "CZ", None),
    ("electricity_grid", "CO2e", 0.204, "kg/kWh", _EMBER23, 2023, "HU", None),
    ("electricity_grid", "CO2e", 0.662, "kg/kWh", _EMBER23, 2023, "PL", None),
    ("electricity_grid", "CO2e", 0.125, "kg/kWh", _EMBER23 + "; approximation (to be verified)", 2023, "ES", None),
    ("electricity_grid", "CO2e", 0.110, "kg/kWh", _EMBER23 + "; approximation (to be verified)", 2023, "SK", None),
    ("electricity_grid", "CO2e", 0.20705, "kg/kWh", "UK DESNZ GHG Conversion Factors 2024, UK electricity "
     "(generation)", 2024, "GB", None),
    ("electricity_grid", "CO2e", 0.17700, "kg/kWh", _DESNZ25 + ", UK electricity (generation)", 2025, "GB", None),
    ("electricity_grid", "CO2", 852.3 * LB_TO_KG / 1000.0, "kg/kWh",
     _EGRID21 + ", US total 852.3 lb/MWh converted to kg/kWh", 2021, "US", None),
    ("electricity_grid", "CO2", 885.2 * LB_TO_KG / 1000.0, "kg/kWh",
     _EGRID21 + ", subregion SRSO (SERC South) ~885 lb/MWh; approximation (to be verified)", 2021, "SRSO", None),
    ("electricity_grid", "CO2", 1025.0 * LB_TO_KG / 1000.0, "kg/kWh",
     _EGRID21 + ", subregion RFCW (RFC West) ~1025 lb/MWh; approximation (to be verified)", 2021, "RFCW", None),
    ("electricity_grid", "CO2e", 0.494, "kg/kWh", "SEMARNAT/CRE factor de emision del Sistema Electrico "
     "Nacional 2020 (0.494 tCO2e/MWh)", 2020, "MX", None),
    ("electricity_grid", "CO2e", 0.423, "kg/kWh", "SEMARNAT/CRE factor de emision del Sistema Electrico "
     "Nacional 2021 (aviso 28 Feb 2022, 0.423 tCO2e/MWh)", 2021, "MX", None),
    ("electricity_grid", "CO2e", 0.438, "kg/kWh", "SEMARNAT/CRE factor de emision del Sistema Electrico "
     "Nacional 2023; approximation (to be verified)", 2023, "MX", None),
    ("electricity_grid", "CO2", 0.5306, "kg/kWh", "China MEE national average grid emission factor 2023 "
     "(0.5306 kg CO2/kWh)", 2023, "CN", None),
    # ---------------- market-based residual mixes ----------------
    ("electricity_residual_mix", "CO2e", 0.660, "kg/kWh", _AIB23, 2023, "DE", None),
    ("electricity_residual_mix", "CO2e", 0.060, "kg/kWh", _AIB23, 2023, "FR", None),
    ("electricity_residual_mix", "CO2e", 0.270, "kg/kWh", _AIB23, 2023, "ES", None),
    ("electricity_residual_mix", "CO2e", 0.760, "kg/kWh", _AIB23, 2023, "PL", None),
    ("electricity_residual_mix", "CO2e", 0.640, "kg/kWh", _AIB23, 2023, "CZ", None),
    ("electricity_residual_mix", "CO2e", 0.350, "kg/kWh", _AIB23, 2023, "HU", None),
    ("electricity_residual_mix", "CO2e", 0.320, "kg/kWh", _AIB23, 2023, "SK", None),
    ("electricity_residual_mix", "CO2e", 0.330, "kg/kWh", _AIB23, 2023, "GB", None),
    # ---------------- natural gas ----------------
    ("natural_gas", "CO2", 53.06, "kg/mmBtu", _EPA_HUB, 2024, "US", None),
    ("natural_gas", "CH4_fossil", 1.0e-3, "kg/mmBtu", _EPA_HUB + " (1.0 g CH4/mmBtu)", 2024, "US", None),
    ("natural_gas", "N2O", 1.0e-4, "kg/mmBtu", _EPA_HUB + " (0.10 g N2O/mmBtu)", 2024, "US", None),
    ("natural_gas", "CO2e", 0.18296, "kg/kWh", _DESNZ25 + ", natural gas per kWh (gross CV); "
     "approximation (to be verified)", 2025, "GB", None),
    ("natural_gas", "CO2", 56.1, "kg/GJ", _IPCC06 + " (56,100 kg CO2/TJ)", 2006, "GLOBAL", None),
    ("natural_gas", "CH4_fossil", 1.0e-3, "kg/GJ", _IPCC06 + " (1 kg CH4/TJ)", 2006, "GLOBAL", None),
    ("natural_gas", "N2O", 1.0e-4, "kg/GJ", _IPCC06 + " (0.1 kg N2O/TJ)", 2006, "GLOBAL", None),
    # ---------------- diesel ----------------
    ("diesel", "CO2", 10.21, "kg/US_gallon", _EPA_MOBILE + " (diesel fuel, 10.21 kg CO2/gal)", 2024, "US", None),
    # CH4/N2O per gallon of diesel burnt at a plant (co2plan-ef-2025.2): US EPA GHG Emission Factors Hub (2024)
    # Table 1, distillate fuel oil No. 2, 0.138 mmBtu/gal x 3.0 g CH4 and 0.6 g N2O per mmBtu (40 CFR 98 Table C-2,
    # petroleum products) = 0.414 g CH4 and 0.0828 g N2O per gallon (the Hub prints 0.41 g and 0.08 g). Until
    # co2plan-ef-2025.1 these rows were an IPCC road passenger-car default (3.9 kg/TJ each) on the EPA HHV.
    ("diesel", "CH4_fossil", 3.0e-3 * EPA_DIESEL_HHV_MMBTU_PER_GAL, "kg/US_gallon",
     _EPA_HUB + " distillate fuel oil No. 2: 0.138 mmBtu/gal x 3.0 g CH4/mmBtu" + _EPA_C2, 2024, "US", None),
    ("diesel", "N2O", 0.6e-3 * EPA_DIESEL_HHV_MMBTU_PER_GAL, "kg/US_gallon",
     _EPA_HUB + " distillate fuel oil No. 2: 0.138 mmBtu/gal x 0.6 g N2O/mmBtu" + _EPA_C2, 2024, "US", None),
    ("diesel", "CO2e", 2.57082, "kg/litre", _DESNZ25 + ", diesel (100% mineral) per litre; approximation "
     "(to be verified)", 2025, "GB", None),
    ("diesel", "CO2", 74.1, "kg/GJ", _IPCC06 + " gas/diesel oil (74,100 kg CO2/TJ)", 2006, "GLOBAL", None),
    ("diesel", "CH4_fossil", 3.0e-3, "kg/GJ", _IPCC06 + " gas/diesel oil (3 kg CH4/TJ)", 2006, "GLOBAL", None),
    ("diesel", "N2O", 6.0e-4, "kg/GJ", _IPCC06 + " gas/diesel oil (0.6 kg N2O/TJ)", 2006, "GLOBAL", None),
    # ---------------- other fuels (issue 15): US EPA per mmBtu (HHV), IPCC 2006 per GJ (NCV) ----------------
    # coal and coke CH4/N2O: 40 CFR 98 Table C-2 (11 g CH4, 1.6 g N2O per mmBtu); petroleum products 3.0 g / 0.6 g
    *[(fuel, gas, v, "kg/mmBtu", f"{_EPA_C1} ({label}){extra}", 2024, "US", None)
      for fuel, label, co2, ch4, n2o in _EPA_FOSSIL
      for gas, v, extra in (("CO2", co2, ""), ("CH4_fossil", ch4, _EPA_C2), ("N2O", n2o, _EPA_C2))],
    *[(fuel, gas, v / 1000.0, "kg/GJ", f"{_IPCC06} {label} ({v:,g} kg {gas.split('_')[0]}/TJ){note}", 2006,
       "GLOBAL", None)
      for fuel, label, co2, ch4, n2o, note in _IPCC_FOSSIL
      for gas, v in (("CO2", co2), ("CH4_fossil", ch4), ("N2O", n2o))],
    # biogenic fuels: CO2 is reported outside the scopes (biogenic_co2), CH4 as CH4_biogenic
    ("biomethane", "CO2", 52.07, "kg/mmBtu", _EPA_HUB + " (other biomass gases, 52.07 kg CO2/mmBtu)", 2024, "US",
     None),
    ("biomethane", "CH4_biogenic", 3.2e-3, "kg/mmBtu", _EPA_C2 + " gaseous biomass (3.2 g CH4/mmBtu)", 2024, "US",
     None),
    ("biomethane", "N2O", 6.3e-4, "kg/mmBtu", _EPA_C2 + " gaseous biomass (0.63 g N2O/mmBtu)", 2024, "US", None),
    ("biomethane", "CO2", 54.6, "kg/GJ", _IPCC06 + " other biogas (54,600 kg CO2/TJ); approximation (to be "
     "verified)", 2006, "GLOBAL", None),
    ("biomethane", "CH4_biogenic", 1.0e-3, "kg/GJ", _IPCC06 + " other biogas (1 kg CH4/TJ); approximation (to be "
     "verified)", 2006, "GLOBAL", None),
    ("biomethane", "N2O", 1.0e-4, "kg/GJ", _IPCC06 + " other biogas (0.1 kg N2O/TJ); approximation (to be "
     "verified)", 2006, "GLOBAL", None),
    ("wood", "CO2", 93.80, "kg/mmBtu", _EPA_HUB + " (wood and wood residuals, 93.80 kg CO2/mmBtu)", 2024, "US",
     None),
    ("wood", "CH4_biogenic", 7.2e-3, "kg/mmBtu", _EPA_C2 + " wood and wood residuals (7.2 g CH4/mmBtu)", 2024,
     "US", None),
    ("wood", "N2O", 3.6e-3, "kg/mmBtu", _EPA_C2 + " wood and wood residuals (3.6 g N2O/mmBtu)", 2024, "US", None),
    # ---------------- purchased heat and steam (Scope 2) ----------------
    ("steam", "CO2", 66.33, "kg/mmBtu", _EPA_HUB7 + " (66.33 kg CO2/mmBtu)", 2024, "US", None),
    ("steam", "CH4_fossil", 1.25e-3, "kg/mmBtu", _EPA_HUB7 + " (1.250 g CH4/mmBtu)", 2024, "US", None),
    ("steam", "N2O", 1.25e-4, "kg/mmBtu", _EPA_HUB7 + " (0.125 g N2O/mmBtu)", 2024, "US", None),
    ("district_heat", "CO2e", 0.1796, "kg/kWh", "UK DESNZ GHG Conversion Factors 2024, heat and steam (district "
     "heat, onsite+offsite); approximation (read from a secondary copy, to be verified)", 2024, "GB", None),
    # ---------------- freight (Scope 3 category 4) ----------------
    ("freight_road", "CO2e", 0.10163, "kg/tonne_km", _DESNZ25 + ", HGV (all diesel) average laden, TTW", 2025,
     "GLOBAL", "TTW"),
    ("freight_rail", "CO2e", 0.02779, "kg/tonne_km", _DESNZ25 + ", freight train, TTW", 2025, "GLOBAL", "TTW"),
    ("freight_sea", "CO2e", 0.01612, "kg/tonne_km", _DESNZ25 + ", container ship average, TTW", 2025, "GLOBAL",
     "TTW"),
    ("freight_air", "CO2e", 0.5313, "kg/tonne_km", _DESNZ25 + ", long-haul air freight without RF, TTW", 2025,
     "GLOBAL", "TTW"),
    # WTW = TTW + DESNZ well-to-tank (WTT) freight factor; the WTT parts are approximations (about +24% road and
    # rail diesel, +19% marine fuel, +21% jet kerosene, the DESNZ 2025 WTT/TTW ratios of the fuels).
    ("freight_road", "CO2e", 0.10163 * 1.24, "kg/tonne_km", _DESNZ25 + ", HGV average laden TTW + WTT; "
     "approximation (WTT ~24% of TTW)", 2025, "GLOBAL", "WTW"),
    ("freight_rail", "CO2e", 0.02779 * 1.24, "kg/tonne_km", _DESNZ25 + ", freight train TTW + WTT; "
     "approximation (WTT ~24% of TTW)", 2025, "GLOBAL", "WTW"),
    ("freight_sea", "CO2e", 0.01612 * 1.19, "kg/tonne_km", _DESNZ25 + ", container ship average TTW + WTT; "
     "approximation (WTT ~19% of TTW)", 2025, "GLOBAL", "WTW"),
    ("freight_air", "CO2e", 0.5313 * 1.21, "kg/tonne_km", _DESNZ25 + ", long-haul air freight without RF TTW + "
     "WTT; approximation (WTT ~21% of TTW)", 2025, "GLOBAL", "WTW"),
]

FACTOR_COLUMNS = ["factor_id", "activity", "gas", "value", "unit", "source", "year", "region", "version", "basis",
                  "status"]

# co2plan-ef-2025.1 (until 2026-12): US diesel CH4/N2O from an IPCC road passenger-car default
_PREVIOUS_ROWS["co2plan-ef-2025.1"] = [
    ("diesel", "CH4_fossil", 3.9e-3 * EPA_DIESEL_HHV_MMBTU_PER_GAL * MMBTU_TO_GJ, "kg/US_gallon",
     _IPCC06_ROAD + " diesel passenger car 3.9 kg CH4/TJ x EPA HHV 0.138 mmBtu/gal; approximation", 2006, "US",
     None),
    ("diesel", "N2O", 3.9e-3 * EPA_DIESEL_HHV_MMBTU_PER_GAL * MMBTU_TO_GJ, "kg/US_gallon",
     _IPCC06_ROAD + " diesel passenger car 3.9 kg N2O/TJ x EPA HHV 0.138 mmBtu/gal; approximation", 2006, "US",
     None),
]

_ACTIVITY_CODES = {
    "electricity_grid": "EG", "electricity_residual_mix": "RM", "natural_gas": "NG", "diesel": "DS",
    "freight_road": "FT_ROAD", "freight_rail": "FT_RAIL", "freight_sea": "FT_SEA", "freight_air": "FT_AIR",
}


def _factor_id(activity: str, gas: str, region: str, year: int, basis: str | None) -> str:
    code = _ACTIVITY_CODES.get(activity, activity.upper())
    return "-".join(p for p in (code, region, str(year), gas, basis or "") if p)


def _rows_of(version: str) -> list[tuple]:
    """The library rows of ``version``: the current rows, or those of an earlier published version (any other
    label gets the current rows)."""
    old = _PREVIOUS_ROWS.get(version)
    if old is None:
        return list(_ROWS)
    by_key = {(r[0], r[1], r[6]): r for r in old}  # (activity, gas, region) -> the old row, in place
    return [by_key.get((r[0], r[1], r[6]), r) for r in _ROWS]


def reference_factors(version: str = FACTOR_VERSION) -> pd.DataFrame:
    """The reference factor library in the ``emission_factors`` contract (one row per factor and gas).
    ``version`` = an earlier published version (e.g. ``co2plan-ef-2025.1``) returns that version's values, so
    old results can be reproduced; the version travels with every ledger row."""
    rows = [
        {
            "factor_id": _factor_id(act, gas, region, year, basis),
            "activity": act, "gas": gas, "value": float(value), "unit": unit, "source": source,
            "year": int(year), "region": region, "version": version, "basis": basis,
            "status": "approximation" if "approximation" in source else "checked",
        }
        for act, gas, value, unit, source, year, region, basis in _rows_of(version)
    ]
    df = pd.DataFrame(rows, columns=FACTOR_COLUMNS)
    dup = df["factor_id"][df["factor_id"].duplicated()]
    if not dup.empty:  # pragma: no cover - guards edits to _ROWS
        raise ValueError(f"emission_factors: duplicate factor_id {sorted(set(dup))}")
    df["year"] = df["year"].astype("int64")
    return df


# ---------------------------------------------------------------- fuel properties
FUEL_PROPERTY_COLUMNS = ["property_id", "fuel", "property", "value", "unit", "region", "basis", "source", "year"]

# (fuel, property, value, unit, region, basis, source, year)
# property "heating_value": energy per physical unit (HHV for the US EPA rows, NCV for the IPCC rows so that
# it matches the NCV basis of the IPCC emission factors); "carbon_content": kg carbon per unit.
_FUEL_ROWS: list[tuple] = [
    ("natural_gas", "heating_value", 1.026e-3, "mmBtu/scf", "US", "HHV", _EPA_HUB + " (1,026 Btu/scf)", 2024),
    ("diesel", "heating_value", EPA_DIESEL_HHV_MMBTU_PER_GAL, "mmBtu/US_gallon", "US", "HHV",
     _EPA_HUB + " (distillate fuel oil No. 2, 0.138 mmBtu/gal)", 2024),
    ("natural_gas", "heating_value", 48.0 * 0.75e-3, "GJ/m3", "GLOBAL", "NCV",
     "IPCC 2006 Vol. 2 Ch. 1 Table 1.2 NCV 48.0 TJ/Gg x density 0.75 kg/m3; approximation (density assumed)",
     2006),
    ("diesel", "heating_value", 43.0 * 0.84e-3, "GJ/litre", "GLOBAL", "NCV",
     "IPCC 2006 Vol. 2 Ch. 1 Table 1.2 gas/diesel oil NCV 43.0 TJ/Gg x density 0.84 kg/l; approximation "
     "(density assumed)", 2006),
    # issue 15: heating values of the other fuels (US: 40 CFR 98 Table C-1 HHV; GLOBAL: IPCC 2006 Vol. 2
    # Table 1.2 NCV, in GJ per tonne)
    *[(fuel, "heating_value", hv, unit, "US", "HHV", f"{_EPA_C1} ({hv} {unit})", 2024) for fuel, hv, unit in (
        ("coal_anthracite", 25.09, "mmBtu/short_ton"), ("coal_bituminous", 24.93, "mmBtu/short_ton"),
        ("coal_sub_bituminous", 17.25, "mmBtu/short_ton"), ("coal_lignite", 14.21, "mmBtu/short_ton"),
        ("fuel_oil_residual", 0.150, "mmBtu/US_gallon"), ("lpg", 0.092, "mmBtu/US_gallon"),
        ("propane", 0.091, "mmBtu/US_gallon"), ("petrol", 0.125, "mmBtu/US_gallon"),
        ("wood", 17.48, "mmBtu/short_ton"), ("biomethane", 0.655e-3, "mmBtu/scf"))],
    ("coal_bituminous", "heating_value", 25.8, "GJ/tonne", "GLOBAL", "NCV",
     "IPCC 2006 Vol. 2 Ch. 1 Table 1.2 other bituminous coal NCV 25.8 TJ/Gg", 2006),
    *[(fuel, "heating_value", hv, "GJ/tonne", "GLOBAL", "NCV",
       f"IPCC 2006 Vol. 2 Ch. 1 Table 1.2 {label} NCV {hv} TJ/Gg{_UNVERIFIED}", 2006) for fuel, label, hv in (
        ("coal_anthracite", "anthracite", 26.7), ("coal_sub_bituminous", "sub-bituminous coal", 18.9),
        ("coal_lignite", "lignite", 11.9), ("lpg", "liquefied petroleum gases", 47.3),
        ("petrol", "motor gasoline", 44.3), ("fuel_oil_residual", "residual fuel oil", 40.4))],
    # process emissions: carbon fraction of the solvent an RTO oxidises (xylene C8H10 from standard atomic
    # weights C 12.011, H 1.008: 96.088 / 106.168)
    ("rto_solvent_oxidation", "carbon_fraction", 96.088 / 106.168, "kg/kg", "GLOBAL", None,
     "xylene C8H10 carbon mass fraction from IUPAC standard atomic weights (C 12.011, H 1.008)", 2021),
    ("natural_gas", "carbon_content", 15.3, "kg/GJ", "GLOBAL", "NCV",
     "IPCC 2006 Vol. 2 Ch. 1 Table 1.3 default carbon content natural gas (15.3 kg C/GJ)", 2006),
    ("diesel", "carbon_content", 20.2, "kg/GJ", "GLOBAL", "NCV",
     "IPCC 2006 Vol. 2 Ch. 1 Table 1.3 default carbon content gas/diesel oil (20.2 kg C/GJ)", 2006),
    ("natural_gas", "carbon_content", 14.47, "kg/mmBtu", "US", "HHV",
     "US EPA 40 CFR 98 Subpart C Table C-1 basis: 53.06 kg CO2/mmBtu x 12/44 = 14.47 kg C/mmBtu", 2024),
    ("diesel", "carbon_content", 20.17, "kg/mmBtu", "US", "HHV",
     "US EPA 40 CFR 98 Subpart C Table C-1 basis: 73.96 kg CO2/mmBtu x 12/44 = 20.17 kg C/mmBtu", 2024),
]


def fuel_properties() -> pd.DataFrame:
    """Fuel properties for the HHV and carbon-content formulas, one row per (fuel, property, region)."""
    df = pd.DataFrame(_FUEL_ROWS, columns=FUEL_PROPERTY_COLUMNS[1:])
    df.insert(0, "property_id", "FP-" + df["fuel"] + "-" + df["property"] + "-" + df["region"])
    df["value"] = df["value"].astype(float)
    df["year"] = df["year"].astype("int64")
    return df


# ---------------------------------------------------------------- refrigerant screening rates
# IPCC 2006 Guidelines Vol. 3 Ch. 7 Table 7.9 ranges; the screening method takes the upper end (conservative).
_IPCC_T79 = "IPCC 2006 Guidelines Vol. 3 Ch. 7 Table 7.9"
# equipment -> (stage, rate, source): stage "fill" = fraction of the charge lost when filling (k, one-off);
# "operation" = fraction of the charge lost per year of operation (x)
REFRIGERANT_SCREENING: dict[str, tuple[str, float, str]] = {
    "vehicle_ac_fill": ("fill", 0.005, _IPCC_T79 + " mobile air conditioning, initial emission 0.2-0.5% "
                        "of charge (upper end)"),
    "chiller": ("operation", 0.15, _IPCC_T79 + " chillers, operation emission 2-15% of charge per year "
                "(upper end)"),
    "other_rac": ("operation", 0.10, _IPCC_T79 + " residential and commercial A/C incl. heat pumps, operation "
                  "1-10% of charge per year (upper end)"),
}
