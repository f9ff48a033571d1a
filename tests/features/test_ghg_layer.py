"""Issue 15: the GHG reference layer (core.ghg): GWP sets, blends, unit aliases, one vocabulary."""

from __future__ import annotations

import pytest

from core.ghg import gwp as g
from core.ghg import units as u


def test_gwp_values_and_fallback():
    """AR4 (40 CFR 98 Table A-1), AR5 (WG1 Table 8.A.1), AR6 (WG1 Table 7.SM.7 / 7.15)."""
    assert [g.gwp("HFC-134a", s)[0] for s in ("AR4", "AR5", "AR6")] == [1430.0, 1300.0, 1530.0]
    assert [g.gwp("HFC-32", s)[0] for s in ("AR4", "AR5", "AR6")] == [675.0, 677.0, 771.0]
    assert [g.gwp("HFC-125", s)[0] for s in ("AR4", "AR5", "AR6")] == [3500.0, 3170.0, 3740.0]
    assert g.gwp("CH4_fossil", "AR6") == (29.8, "AR6") and g.gwp("CH4_biogenic", "AR6") == (27.0, "AR6")
    assert g.gwp("HFO-1234yf", "AR4") == (0.501, "AR6")  # absent / "<1": the next newer report
    table, fb = g.gwp_table("AR5")
    assert fb == {"HFO-1234yf": "AR6"} and table["N2O"] == 265.0
    assert sum(g.BLENDS["R-410A"].values()) == 1.0


def test_unit_aliases_never_case_fold():
    assert u.canonical_unit("L") == "litre" and u.canonical_unit("kwh") == "kWh" and u.canonical_unit("m³") == "m3"
    assert u.canonical_unit("mWh") == "mWh"  # a milliwatt-hour stays itself (and is not an energy_use unit)
    with pytest.raises(u.UnitConversionError, match="ambiguous"):
        u.canonical_unit("gal")
    assert u.unit_multiplier("L", "US_gallon") == pytest.approx(1 / 3.785411784, rel=1e-12)
    assert u.unit_multiplier("short_ton", "tonne") == pytest.approx(0.90718474, rel=1e-12)
    assert u.unit_multiplier("mmBtu", "kWh") == pytest.approx(1055.056 / 3.6, rel=1e-9)


def test_one_vocabulary_for_tables_and_engine():
    from core.ghg.carriers import CARRIERS
    from core.tables import TABLES
    from features import accounting as acc

    assert set(acc.SCOPE1_CARRIERS) | set(acc.SCOPE2_CARRIERS) == set(CARRIERS)
    assert set(TABLES["emission_factors"].column("gas").isin) == set(g.SPECIES)
    assert set(TABLES["refrigerant_use"].column("refrigerant").isin) == set(g.BLENDS)
    for unit in TABLES["energy_use"].column("unit").isin:
        u.dimensionality(unit)  # every door unit is known to the engine's registry


# ---------------------------------------------------------------- issue 15c: planning reads core.ghg
KWH_PER_MMBTU = 1055.056 / 3.6  # the registry's Btu (1,055.056 J), the one accounting uses


def test_carrier_default_units_convert_through_the_layer():
    """Quantities of any carrier in its default unit (core.ghg.convert), as the forecaster uses them."""
    import pandas as pd

    from core.ghg import carrier_unit_multiplier, to_default_units
    from core.ghg.errors import UnitConversionError

    # pipeline gas: US EPA GHG Emission Factors Hub (2024) Table 1, 1,026 Btu/scf (HHV)
    assert carrier_unit_multiplier("natural_gas", "scf") == pytest.approx(1.026e-3 * KWH_PER_MMBTU, rel=1e-12)
    assert carrier_unit_multiplier("natural_gas", "m3") == pytest.approx(
        1.026e-3 * KWH_PER_MMBTU / 0.3048 ** 3, rel=1e-12)  # 1 ft = 0.3048 m exactly
    assert carrier_unit_multiplier("natural_gas", "therm") == pytest.approx(0.1 * KWH_PER_MMBTU, rel=1e-12)
    # biomethane: Hub Table 1 other biomass gases 0.000655 mmBtu/scf; default unit mmBtu
    assert carrier_unit_multiplier("biomethane", "scf") == pytest.approx(0.655e-3, rel=1e-12)
    assert carrier_unit_multiplier("coal_bituminous", "short_ton") == pytest.approx(0.90718474, rel=1e-12)
    assert carrier_unit_multiplier("lpg", "US_gallon") == pytest.approx(3.785411784, rel=1e-12)
    assert carrier_unit_multiplier("steam", "GJ") == pytest.approx(1e6 / 3600, rel=1e-12)
    eu = pd.DataFrame({"carrier": ["coal_bituminous", "lpg", "lpg", "steam"],
                       "unit": ["tonne", "L", "US_gallon", "MWh"], "quantity": [2.0, 100.0, 10.0, 1.5]})
    got = to_default_units(eu["carrier"], eu["unit"], eu["quantity"])
    assert got.tolist() == pytest.approx([2.0, 100.0, 37.85411784, 1500.0], rel=1e-12)
    with pytest.raises(UnitConversionError, match=r"\('electricity', 'litre'\)"):
        to_default_units(pd.Series(["electricity", "coal"]), pd.Series(["litre", "tonne"]), pd.Series([1.0, 1.0]))
    with pytest.raises(UnitConversionError, match=r"\('coal', 'tonne'\)"):  # not a carrier id
        to_default_units(pd.Series(["coal"]), pd.Series(["tonne"]), pd.Series([1.0]))


def test_latest_energy_factor_uses_the_layers_gwp_and_units():
    """The optimiser's stand-in look-up: US EPA Hub (2024) Table 1 natural gas 53.06 kg CO2, 1.0 g CH4,
    0.10 g N2O per mmBtu; AR5 28 / 265 -> (53.06 + 0.028 + 0.0265) / 293.0711 kg CO2e per kWh."""
    import pandas as pd

    from core.ghg import latest_energy_factor
    from core.ghg.errors import FactorConflictError
    from core.ghg.library import reference_factors

    ef = reference_factors()
    us = latest_energy_factor(ef, "natural_gas", ["XX", "US", "GLOBAL"])
    assert us == pytest.approx((53.06 + 1.0e-3 * 28 + 1.0e-4 * 265) / KWH_PER_MMBTU, rel=1e-12)
    ar6 = latest_energy_factor(ef, "natural_gas", ["US"], gwp_set="AR6")  # fossil CH4 29.8, N2O 273
    assert ar6 == pytest.approx((53.06 + 1.0e-3 * 29.8 + 1.0e-4 * 273) / KWH_PER_MMBTU, rel=1e-12)
    # IPCC 2006 Vol. 2 Table 2.3: 56.1 kg CO2, 1 g CH4, 0.1 g N2O per GJ -> per MWh x 3.6
    assert latest_energy_factor(ef, "natural_gas", ["FR", "GLOBAL"], "MWh") == pytest.approx(
        (56.1 + 1e-3 * 28 + 1e-4 * 265) * 3.6, rel=1e-12)
    assert latest_energy_factor(ef, "natural_gas", ["XX"]) is None
    cn = ef[(ef["activity"] == "electricity_grid") & (ef["region"] == "CN")]
    extra = cn.assign(factor_id="USER-CN-CO2e", gas="CO2e")
    with pytest.raises(FactorConflictError, match="USER-CN-CO2e"):
        latest_energy_factor(pd.concat([ef, extra]), "electricity_grid", ["CN"])
