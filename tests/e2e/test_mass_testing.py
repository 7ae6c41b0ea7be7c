"""全员核酸 in the browser: a planner plans mass testing for a district and sees the verdict, the
figures and the map with neighbourhoods and temporary points; the 15-minute circle tab shows the
city's coverage, by district, on a map; nothing is requested from outside the machine."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import login, map_state

pytestmark = pytest.mark.e2e


def _metric(page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]', has=page.get_by_text(label, exact=True)).first
    return m.locator('[data-testid="stMetricValue"]').inner_text()


def test_a_planner_plans_mass_testing_and_sees_the_circle(app_url, page_and_traffic):
    page, traffic = page_and_traffic
    login(page, app_url, "planner")
    page.goto(f"{app_url}/mass-testing?lang=zh", wait_until="domcontentloaded")
    page.get_by_role("radio", name="区县", exact=True).click()
    page.get_by_text("区域人口").first.wait_for(timeout=90_000)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=90_000)
    people = int(_metric(page, "区域人口").replace(",", ""))
    assert people > 0
    verdict = page.get_by_text(re.compile("现有检测点可在|现有检测点无法在")).first
    verdict.wait_for(timeout=30_000)
    state = map_state(page)
    assert "社区采样安排" in state["control"] and "方案区域" in state["control"]
    page.screenshot(path=str(ARTIFACTS / "mass-testing-plan.png"), full_page=True)

    page.get_by_role("radio", name="15 分钟采样圈").click()
    page.get_by_text("各区县覆盖率").wait_for(timeout=60_000)
    share = _metric(page, "全市覆盖率")
    assert re.fullmatch(r"\d+\.\d%", share)
    assert map_state(page)["polygons"] > 0
    page.screenshot(path=str(ARTIFACTS / "mass-testing-circle.png"), full_page=True)
    assert traffic.foreign(app_url) == []
