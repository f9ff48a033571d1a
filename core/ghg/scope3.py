"""The 15 Scope 3 categories of the GHG Protocol Corporate Value Chain (Scope 3) Standard, Table 5.3."""

from __future__ import annotations

SCOPE3_CATEGORIES: dict[int, str] = {
    1: "Purchased goods and services", 2: "Capital goods",
    3: "Fuel- and energy-related activities (not in scope 1 or 2)", 4: "Upstream transportation and distribution",
    5: "Waste generated in operations", 6: "Business travel", 7: "Employee commuting",
    8: "Upstream leased assets", 9: "Downstream transportation and distribution",
    10: "Processing of sold products", 11: "Use of sold products", 12: "End-of-life treatment of sold products",
    13: "Downstream leased assets", 14: "Franchises", 15: "Investments",
}
COVERAGE_STATUSES = ("measured", "estimated", "excluded", "not_applicable")
