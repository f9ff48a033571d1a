"""The report in a real browser (issue 11, items 6-9): what a reader sees states units, boundary and period,
and a scenario's page shows its parameters and the deltas against the baseline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_report import RUN, tiny_lake  # noqa: E402,F401 - the fixture builds the tiny lake

from co2plan.report import render_report  # noqa: E402
from co2plan.report_data import report_data  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.smoke]


def test_scenario_report_page(tiny_lake, tmp_path, browser, screenshots):  # noqa: F811
    html = render_report(report_data(RUN, "cut10", tiny_lake), tmp_path / "out")["html"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(Path(html).as_uri())
    text = " ".join(page.inner_text("body").split())
    assert "service level (demand met) 92.0%" in text
    assert "all targets met" not in text and "0.000" not in text
    assert "Scenario parameters" in text and "co2_reduction_pct 10.0" in text
    assert "Against the weekly baseline plan" in text and "+29 units" in text
    assert "the plan covers every plant at 100 % (gross); history is reported operational control" in text
    assert page.locator("img[alt=summary]").evaluate("i => i.naturalWidth") > 1000
    page.screenshot(path=str(screenshots / "i11-report-tiny.png"), full_page=True)
