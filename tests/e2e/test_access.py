"""Access proof in the browser: every page as nobody and as each role. Allowed pages render; the
others show the sign-in form or "无权访问" and none of their content, and personal data never
arrives where the role may not see it. Wrong passwords are refused and audited; signing out
ends the session; an idle session expires.
"""

from __future__ import annotations

import pytest

from dashboard.roles import may_open
from tests.e2e.conftest import GRID_AREAS
from tests.e2e.helpers import CREDENTIALS, login, session_cookie

pytestmark = pytest.mark.e2e

PAGES = [
    # page key, URL path, text only that page shows once it is allowed (None: the banner suffices)
    ("page_command", "", "现有中高风险区"),
    ("page_daily_report", "daily-report", "一键零报告"),
    ("page_followup", "followup", "下载任务清单（XLSX）"),  # the last element: the cards have arrived
    ("page_screening", "screening", "下载网格员清单"),  # below the lists: they have arrived
    ("page_planning", "planning", None),
    ("page_transfers", "transfers", "每车座位"),
    ("page_queue", "queue", "各检测点排队情况"),
    ("page_mass_testing", "mass-testing", "15 分钟采样圈"),
    ("page_resident", "resident", "我在哪里"),
    ("page_data", "data", "数据来源"),
    ("page_admin", "admin", "审计日志"),
]
NAV = {  # what the menu lists for each role (the pages check again themselves)
    None: ["便民查询", "登录"],
    "grid": ["指挥中心", "随访任务", "人员筛查", "便民查询"],
    "site": ["排队上报", "便民查询"],
    "planner": ["指挥中心", "区域划定", "集中隔离转运", "全员核酸", "便民查询"],
    "command": ["指挥中心", "日报告", "随访任务", "人员筛查", "区域划定", "集中隔离转运", "全员核酸", "排队上报", "便民查询",
                "数据管理"],
    "admin": ["便民查询", "账户管理"],
}
BANNER = "演示数据"  # shown by the page frame only after the role check passed
SIGN_IN = "需要登录"
DENIED = "无权访问"


@pytest.fixture(scope="module")
def arrivals(demo_store):
    """Traveller ids the screening lists show (red, yellow, pending), inside and outside the
    test grid worker's district, plus phones and names of people outside it."""
    from layers.screening_io import screen_store

    t = screen_store(demo_store, "2022-03-28").travellers
    t = t[t["code"].isin(["red", "yellow", "pending"])]
    mine = t[t["district_adcode"].isin(GRID_AREAS)]
    other = t[~t["district_adcode"].isin(GRID_AREAS) & t["district_adcode"].notna()]
    return {
        "mine": list(mine["id"].sample(30, random_state=1)),
        "other": list(other["id"].sample(60, random_state=1)),
        "other_phones": [p for p in other["phone"].sample(60, random_state=2) if isinstance(p, str)],
    }


def _audit(demo_store):
    from dashboard.accounts import Accounts, accounts_location

    return Accounts(accounts_location(str(demo_store))).audit_log(limit=None)


def _nav(page) -> list[str]:
    links = page.locator('[data-testid="stSidebarNav"] a')
    links.first.wait_for(timeout=30_000)
    return [t.strip().splitlines()[-1] for t in links.all_inner_texts()]  # the icon name comes first


@pytest.mark.parametrize("role", [None, "grid", "site", "planner", "command", "admin"])
def test_every_page_as_each_role(app_url, page_and_traffic, role, arrivals, demo_store):
    page, traffic = page_and_traffic
    if role is not None:
        login(page, app_url, role)
    for key, path, marker in PAGES:
        page.goto(f"{app_url}/{path}?lang=zh", wait_until="domcontentloaded")
        if may_open(role, key):
            page.get_by_text(BANNER).first.wait_for(timeout=60_000)
            if marker:
                page.get_by_text(marker).first.wait_for(timeout=60_000)
            assert page.get_by_text(SIGN_IN).count() == 0 and page.get_by_text(DENIED).count() == 0, key
        else:
            page.get_by_text(SIGN_IN if role is None else DENIED).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)  # the script has stopped; nothing more may arrive
            assert page.get_by_text(BANNER).count() == 0, f"{key} rendered content for {role}"
            if marker:
                assert page.get_by_text(marker).count() == 0, f"{key} rendered content for {role}"
            if role is None:  # a link to the server's sign-in form, back to this page afterwards
                link = page.locator("a[href^='signin?next=']")
                assert link.count() == 1 and link.inner_text() == "登录"
        assert _nav(page) == NAV[role], key
    received = traffic.contains
    if role == "command":
        assert all(received(i) for i in arrivals["mine"][:5] + arrivals["other"][:5])
    elif role == "grid":  # only their district's people reach the browser
        assert [i for i in arrivals["mine"] if received(i)] == arrivals["mine"]
        assert [i for i in arrivals["other"] if received(i)] == []
    else:
        assert [i for i in arrivals["mine"] + arrivals["other"] if received(i)] == []
    assert [p for p in arrivals["other_phones"] if received(p)] == []  # never unmasked, for anyone
    assert traffic.foreign(app_url) == []
    if role is not None:
        name = CREDENTIALS[role][0]
        log = _audit(demo_store)
        mine = log[log["name"] == name]
        assert "login" in set(mine["action"])
        denied = {t for t, a in zip(mine["target"], mine["action"], strict=True) if a == "access_denied"}
        assert denied == {k for k, _, _ in PAGES if not may_open(role, k)}
        if may_open(role, "page_screening"):
            assert "view_personal" in set(mine["action"])


def test_grid_worker_downloads_only_their_district_and_it_is_audited(app_url, page_and_traffic, demo_store, tmp_path):
    import openpyxl

    page, _ = page_and_traffic
    login(page, app_url, "grid")
    page.goto(f"{app_url}/screening?lang=zh", wait_until="domcontentloaded")
    page.get_by_text(f"仅显示您负责的区域：{GRID_AREAS[0]}").wait_for(timeout=60_000)
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="下载网格员清单").click()
    path = tmp_path / "lists.xlsx"
    info.value.save_as(path)
    assert openpyxl.load_workbook(path, read_only=True).sheetnames == ["小店区", "社区 Neighbourhoods"]
    log = _audit(demo_store)
    mine = log[(log["name"] == CREDENTIALS["grid"][0]) & (log["action"] == "export_personal")]
    assert len(mine) >= 1 and mine.iloc[0]["target"] == "screening_xlsx"


def test_wrong_password_is_refused_and_audited(app_url, page_and_traffic, demo_store):
    page, _ = page_and_traffic
    name = CREDENTIALS["command"][0]
    wrong = "Not-The-Password-7731"
    page.goto(f"{app_url}/signin?lang=zh", wait_until="domcontentloaded")
    page.get_by_label("用户名", exact=True).fill(name)
    page.get_by_label("密码", exact=True).fill(wrong)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("用户名或密码错误").wait_for(timeout=60_000)
    assert session_cookie(page) is None
    page.goto(f"{app_url}/data?lang=zh", wait_until="domcontentloaded")
    page.get_by_text(SIGN_IN).first.wait_for(timeout=60_000)
    log = _audit(demo_store)
    failed = log[(log["action"] == "login_failed") & (log["target"] == name)]
    assert len(failed) >= 1 and failed.iloc[0]["detail"].startswith("reason=wrong_password")
    files = demo_store.parent.glob(demo_store.stem + ".accounts.sqlite*")
    assert all(wrong.encode() not in f.read_bytes() for f in files)  # incl. the WAL file


def test_sign_out_ends_the_session(app_url, page_and_traffic, demo_store):
    page, _ = page_and_traffic
    login(page, app_url, "command")
    page.goto(f"{app_url}/data?lang=zh", wait_until="domcontentloaded")
    page.get_by_text("数据来源").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="退出登录").click()
    page.get_by_text("已退出登录").first.wait_for(timeout=60_000)  # the sign-in page says so
    assert session_cookie(page) is None  # cleared by the server
    page.goto(f"{app_url}/data?lang=zh", wait_until="domcontentloaded")
    page.get_by_text(SIGN_IN).first.wait_for(timeout=60_000)
    assert page.get_by_text("数据来源").count() == 0
    log = _audit(demo_store)
    assert log[log["name"] == CREDENTIALS["command"][0]].iloc[0]["action"] == "logout"


def test_idle_session_expires(app_url, page_and_traffic, demo_store):
    import sqlite3

    from dashboard.accounts import accounts_location

    page, _ = page_and_traffic
    login(page, app_url, "planner")
    page.goto(f"{app_url}/planning?lang=zh", wait_until="domcontentloaded")
    page.get_by_text(BANNER).first.wait_for(timeout=60_000)
    with sqlite3.connect(accounts_location(str(demo_store))) as con:  # as if the last page run was long ago
        con.execute(
            "UPDATE riskmap_sessions SET last_seen = '2000-01-01T00:00:00.000000Z' WHERE name = ?",
            (CREDENTIALS["planner"][0],),
        )
    page.goto(f"{app_url}/planning?lang=zh", wait_until="domcontentloaded")
    page.get_by_text("登录已过期").wait_for(timeout=60_000)
    assert page.get_by_text(BANNER).count() == 0


# ---------------------------------------------------------------- hardening (attacks that used to work)


def test_server_metrics_are_not_served(app_url):
    """Attack: /_stcore/metrics answered anyone with the server's session and memory figures."""
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{app_url}/_stcore/metrics", timeout=10)
    assert exc.value.code == 404


def test_audit_download_url_dies_with_the_session(app_url, page_and_traffic):
    """Attack: the audit CSV's download URL answered 200 with no cookie after sign-out."""
    page, _ = page_and_traffic
    login(page, app_url, "admin")
    page.goto(f"{app_url}/admin?lang=zh", wait_until="domcontentloaded")
    button = page.get_by_role("button", name="下载审计日志（CSV）")
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    url = info.value.url
    assert "/media/" in url
    assert page.request.get(url).status == 200  # while signed in
    page.get_by_role("button", name="退出登录").click()
    page.get_by_text("已退出登录").first.wait_for(timeout=60_000)
    assert page.request.get(url).status == 403
    anonymous = page.context.browser.new_context()
    try:
        assert anonymous.request.get(url).status == 403
    finally:
        anonymous.close()


def test_personal_and_audited_tables_have_no_builtin_download(app_url, page_and_traffic):
    """Attack: the table toolbar's "Download as CSV" exported the audit log and the traveller list
    with no audit entry and no neutralisation. The app's own (audited) downloads remain."""
    page, _ = page_and_traffic
    login(page, app_url, "admin")
    for path, own in (("admin", "下载审计日志（CSV）"),):
        page.goto(f"{app_url}/{path}?lang=zh", wait_until="domcontentloaded")
        page.get_by_role("button", name=own).wait_for(timeout=60_000)
        grid = page.locator("[data-testid='stDataFrame']").first
        grid.hover()
        page.wait_for_timeout(500)
        assert page.locator("[data-testid='stElementToolbar'] button[aria-label*='Download']").count() == 0
        assert page.get_by_role("button", name="Download as CSV").count() == 0
    other = page.context.browser.new_context(viewport={"width": 1600, "height": 1000})
    try:
        cmd = other.new_page()
        login(cmd, app_url, "command")
        cmd.goto(f"{app_url}/screening?lang=zh", wait_until="domcontentloaded")
        cmd.get_by_role("button", name="下载网格员清单").wait_for(timeout=60_000)
        cmd.locator("[data-testid='stDataFrame']").first.hover()
        cmd.wait_for_timeout(500)
        assert cmd.locator("[data-testid='stElementToolbar'] button[aria-label*='Download']").count() == 0
    finally:
        other.close()


def test_the_session_cookie_is_not_readable_by_page_scripts(app_url, page_and_traffic):
    """Attack: the session cookie was set from page script, so any script on the page could read it."""
    page, _ = page_and_traffic
    login(page, app_url, "command")
    page.goto(f"{app_url}/screening?lang=zh", wait_until="domcontentloaded")
    page.get_by_text("人员清单").wait_for(timeout=60_000)
    assert "riskmap_session" not in page.evaluate("document.cookie")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "riskmap_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"


def test_a_sign_in_form_posted_from_elsewhere_is_refused(app_url):
    """CSRF: a form posted without the form's own token (as another site would) signs nobody in."""
    import urllib.error
    import urllib.parse
    import urllib.request

    name, password = CREDENTIALS["command"]
    body = urllib.parse.urlencode({"name": name, "password": password, "csrf": "guess", "next": "login"}).encode()
    req = urllib.request.Request(f"{app_url}/signin", data=body, headers={"Origin": "http://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=30)
    assert exc.value.code == 403
    assert "riskmap_session" not in (exc.value.headers.get("Set-Cookie") or "")
