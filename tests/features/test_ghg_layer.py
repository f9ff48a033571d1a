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
