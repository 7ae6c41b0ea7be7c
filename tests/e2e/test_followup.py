"""不漏一人 on a phone (390 × 844): a grid worker sees only their items, the most urgent first;
tapping call reveals a tel: link for their own item only; recording "reached" drops the overdue
figures (their page and the command centre's); a second browser saving the same item is refused."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.e2e.conftest import GRID_AREAS
from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def scope(demo_store):
    """Who the grid worker's list may hold, and what the command centre's figure counts."""
    from dashboard.roles import screening_in_scope
    from layers.screening_io import screen_store
    from layers.store.gpkg import GpkgStore

    today = GpkgStore(demo_store).meta()["scenario_today"]
    base = screen_store(str(demo_store), today, followup=False)
    mine = screening_in_scope(base, "grid", GRID_AREAS).travellers
    return {"names": set(mine["name"]), "phones": dict(zip(mine["name"], mine["phone"], strict=True)),
            "ids": dict(zip(mine["name"], mine["id"], strict=True)), "all": base}


def _context(browser):
    return browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True)


def _metric(page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]', has=page.get_by_text(label, exact=True)).first
    return m.locator('[data-testid="stMetricValue"]').inner_text()


def _overdue_items(page) -> int:
    text = page.locator(".st-key-fu_summary").inner_text()
    return int(re.search(r"逾期 ([\d,]+)", text).group(1).replace(",", ""))


def _cards(page):
    # the page has run to its end: its last element is there and nothing of an earlier run is left
    page.get_by_role("button", name="下载任务清单（XLSX）").last.wait_for(timeout=90_000)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=90_000)
    return page.locator('[class*="st-key-fu_card_"]')


def _card_name(card) -> str:
    return card.locator("strong").first.inner_text()


def _card_of(page, name: str):
    """The card of the person named ``name`` once the page has settled (found by name, not position)."""
    return _cards(page).filter(has=page.locator("strong", has_text=name)).first


def _pick(page, name: str, outcome: str):
    """Tap an outcome on a person's card and wait until its save button is there."""
    card = _card_of(page, name)
    card.get_by_role("radio", name=outcome).click()
    _cards(page)
    card = _card_of(page, name)
    card.get_by_role("button", name="保存").wait_for(timeout=60_000)
    return card


def test_the_grid_workers_day_on_a_phone(app_url, browser, scope, demo_store):
    from dashboard.accounts import Accounts, accounts_location

    cmd_ctx, a_ctx, b_ctx = _context(browser), _context(browser), _context(browser)
    try:
        cmd = cmd_ctx.new_page()
        login(cmd, app_url, "command")
        cmd.goto(f"{app_url}/?lang=zh", wait_until="domcontentloaded")
        before = _metric(cmd, "待排查 / 已逾期")
        overdue_people_before = int(before.split("/")[1].strip().replace(",", ""))

        a = a_ctx.new_page()
        login(a, app_url, "grid")
        a.goto(f"{app_url}/followup?lang=zh", wait_until="domcontentloaded")
        cards = _cards(a)
        names = [_card_name(cards.nth(i)) for i in range(cards.count())]
        assert names and set(names) <= scope["names"], "a card of someone outside the worker's areas"
        first = cards.first
        assert "已逾期" in first.inner_text()  # the most urgent first
        overdue_items = _overdue_items(a)
        a.screenshot(path="tests/artifacts/page-followup-phone.png")

        # a second browser picks the same item before the first saves
        b = b_ctx.new_page()
        login(b, app_url, "grid")
        b.goto(f"{app_url}/followup?lang=zh", wait_until="domcontentloaded")
        assert _card_name(_cards(b).first) == names[0]
        _pick(b, names[0], "已电话联系")

        # no full number anywhere until the call is tapped; then a tel: link for this person only
        who = names[0]
        full = scope["phones"][who]
        assert not a.locator('a[href^="tel:"]').count()
        _card_of(a, who).get_by_role("button", name=re.compile("^拨打")).click()
        link = a.locator('a[href^="tel:"]')
        link.first.wait_for(timeout=30_000)
        assert link.count() == 1 and link.first.get_attribute("href") == f"tel:{full}"
        audit = Accounts(accounts_location(str(demo_store))).audit_log(user="e2e_grid")
        reveal = audit[audit["action"] == "reveal_phone"]
        assert scope["ids"][who] in set(reveal["target"])
        assert not audit["detail"].astype(str).str.contains(full).any()  # never the number

        # record "reached" in two taps
        _pick(a, who, "已电话联系").get_by_role("button", name="保存").click()
        a.wait_for_function(
            "n => { const s = document.querySelector('.st-key-fu_summary'); const m = s && s.innerText.match(/逾期 ([\\d,]+)/);"
            " return m && m[1].replace(/,/g, '') == String(n); }",
            arg=overdue_items - 1, timeout=60_000,
        )
        _cards(a)
        assert _card_name(_cards(a).first) != who  # reached: no longer at the top

        # the second browser's save is refused with who and when
        _card_of(b, who).get_by_role("button", name="保存").click()
        b.get_by_text(re.compile("已被 e2e_grid 于 .* 记录，请重新加载")).wait_for(timeout=60_000)
        b.screenshot(path="tests/artifacts/page-followup-conflict.png")

        # the command centre's figure (people with an overdue item) drops by one
        ob = scope["all"].obligations
        single = int(ob[(ob["traveller_id"] == scope["ids"][who]) & ob["overdue"]].shape[0]) == 1
        now_overdue = int(scope["all"].travellers.set_index("id").loc[scope["ids"][who], "overdue"])
        cmd.goto(f"{app_url}/?lang=zh", wait_until="domcontentloaded")
        expect = overdue_people_before - (1 if single and now_overdue else 0)
        cmd.wait_for_function(
            "n => [...document.querySelectorAll('[data-testid=\"stMetric\"]')].some(m => m.innerText.startsWith('待排查 / 已逾期')"
            " && m.querySelector('[data-testid=\"stMetricValue\"]').innerText.split('/')[1].trim().replace(/,/g, '') == String(n))",
            arg=expect, timeout=90_000,
        )
    finally:
        for c in (cmd_ctx, a_ctx, b_ctx):
            c.close()


def test_a_missed_check_in_is_recorded_from_the_phone(app_url, browser, scope, demo_store):
    """A missed day is an open item: the worker records the person's temperature for it (a fever),
    is told it is abnormal, and the missed figure drops by one."""
    from dashboard.roles import screening_in_scope
    from geo.followup import _home_spans
    from layers.followup import record_outcome
    from layers.store.records import records_for

    # someone at home in the worker's areas was reached two days ago: two days without a check-in
    base = scope["all"]
    mine = screening_in_scope(base, "grid", GRID_AREAS).obligations
    day = pd.Timestamp(base.as_of)
    home = mine[mine["kind"].isin(set(_home_spans(base.rule_set)["kind"])) & (mine["status"] == "open")
                & (pd.to_datetime(mine["start"]) <= day - pd.Timedelta(days=3))]
    records = records_for(str(demo_store))
    ob = next(o for o in home.to_dict("records") if records.get("followup", f"{o['traveller_id']}|{o['kind']}") is None)
    record_outcome(records, {**ob, "version": 0}, "reached_phone", based_on=0, user="e2e_grid",
                   at=(day - pd.Timedelta(days=2, hours=-10)).to_pydatetime(), scope=str(ob.get("neighbourhood_id") or ""))
    ctx = _context(browser)
    try:
        page = ctx.new_page()
        login(page, app_url, "grid")
        page.goto(f"{app_url}/followup?lang=zh", wait_until="domcontentloaded")
        _cards(page)
        page.locator(".st-key-fu_filter_kind").get_by_text("健康打卡", exact=True).click()

        def missed() -> int:
            text = page.locator(".st-key-fu_summary").inner_text()
            return int(re.search(r"漏打卡 ([\d,]+)", text).group(1).replace(",", ""))

        cards = _cards(page)
        before = missed()
        assert before > 0, "the demo has missed check-ins in the worker's areas"
        card = cards.filter(has_text="每日健康打卡").first
        card.scroll_into_view_if_needed()
        assert "已逾期" in card.inner_text()
        key = next(c for c in card.get_attribute("class").split() if c.startswith("st-key-fu_card_"))
        card.get_by_role("radio", name="已打卡").click()
        card = page.locator(f".{key}")
        box = card.get_by_role("spinbutton")
        box.wait_for(timeout=60_000)
        box.fill("38.2")
        box.press("Enter")
        card.get_by_text("咳嗽", exact=True).click()
        _cards(page)
        page.screenshot(path="tests/artifacts/page-followup-checkin.png")
        page.locator(f".{key}").get_by_role("button", name="保存").click()
        page.get_by_text(re.compile("体温或症状异常，请按规定报告")).wait_for(timeout=60_000)
        page.wait_for_function(
            "n => { const s = document.querySelector('.st-key-fu_summary'); const m = s && s.innerText.match(/漏打卡 ([\\d,]+)/);"
            " return m && m[1].replace(/,/g, '') == String(n); }",
            arg=before - 1, timeout=60_000,
        )
    finally:
        ctx.close()


def test_a_community_daily_report_reaches_the_command_centres_roll_up(app_url, browser):
    """A grid worker files their neighbourhood's daily report from the phone; the command centre's
    roll-up counts it, and the community's own words show as text."""
    words = "3号楼一户拒绝入户<b>x</b>"
    grid_ctx, cmd_ctx = _context(browser), browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        cmd = cmd_ctx.new_page()
        login(cmd, app_url, "command")
        cmd.goto(f"{app_url}/followup?lang=zh", wait_until="domcontentloaded")
        cmd.get_by_role("tab", name="社区日报").click()
        received = cmd.locator('[data-testid="stMetric"]', has=cmd.get_by_text("已上报社区", exact=True)).first
        received.wait_for(timeout=90_000)
        before = int(received.locator('[data-testid="stMetricValue"]').inner_text().split("/")[0].strip().replace(",", ""))

        page = grid_ctx.new_page()
        login(page, app_url, "grid")
        page.goto(f"{app_url}/followup?lang=zh", wait_until="domcontentloaded")
        _cards(page)
        page.get_by_role("tab", name="社区日报").click()
        card = page.locator('[class*="st-key-cr_card_"]').first
        card.wait_for(timeout=60_000)
        name = card.locator("strong").first.inner_text()
        assert "尚未上报" in card.inner_text() or "未上报" in card.inner_text()
        tests_box = card.get_by_label("当日核酸采样人次")
        if not tests_box.is_visible():  # folded when there is nothing to report
            card.get_by_text("填写日报告").click()
        tests_box.fill("25")
        card.get_by_label("异常情况（无则不填）").fill(words)
        card.get_by_role("button", name="提交日报告").click()
        page.get_by_text("已提交日报告").first.wait_for(timeout=60_000)
        page.locator('[class*="st-key-cr_card_"]', has_text=name).get_by_text("已报日报告").first.wait_for(timeout=60_000)
        page.screenshot(path="tests/artifacts/page-community-report-phone.png")

        cmd.reload(wait_until="domcontentloaded")
        cmd.get_by_role("tab", name="社区日报").click()
        cmd.wait_for_function(
            "n => [...document.querySelectorAll('[data-testid=\"stMetric\"]')].some(m => m.innerText.startsWith('已上报社区')"
            " && m.querySelector('[data-testid=\"stMetricValue\"]').innerText.split('/')[0].trim().replace(/,/g, '') == String(n))",
            arg=before + 1, timeout=90_000,
        )
        cmd.get_by_text(words).first.wait_for(timeout=30_000)  # shown as typed: the tags are text, not markup
        assert cmd.locator("b", has_text="x").count() == 0
        cmd.screenshot(path="tests/artifacts/page-community-rollup.png", full_page=True)
    finally:
        grid_ctx.close()
        cmd_ctx.close()


def test_the_export_lists_the_same_items_in_the_same_order(scope):
    from geo.followup import apply_followup, states_frame, task_list
    from layers.screening_io import TASK_COLUMNS, task_frame, tasks_xlsx_bytes

    base = scope["all"]
    now = pd.Timestamp(base.as_of) + pd.Timedelta(hours=10)
    tasks = task_list(apply_followup(base, states_frame([]), now=now), now=now)
    frame = task_frame(tasks)
    assert list(frame.columns) == [h for _, h in TASK_COLUMNS]
    assert frame["编号 ID"].tolist() == tasks["traveller_id"].tolist()
    import io

    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(tasks_xlsx_bytes(tasks.head(200)))).active
    rows = list(ws.iter_rows(values_only=True))
    assert [r[3] for r in rows[1:]] == tasks.head(200)["traveller_id"].tolist()
    assert all(not (isinstance(c, str) and c.startswith("=")) for r in rows for c in r)
    assert all(re.fullmatch(r"\d{3}\*+\d{4}", str(r[5])) for r in rows[1:] if r[5])  # masked
