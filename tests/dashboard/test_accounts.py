"""Accounts, sessions and audit (dashboard/accounts.py), the access policy (dashboard/roles.py),
the new settings and the ``riskmap user`` commands.

Storage tests run on SQLite (the file beside a GeoPackage store) and on PostgreSQL (the
``postgis_schema`` fixture in tests/conftest.py: each test gets its own schema), or skip
with the reason when no PostgreSQL server is available.
"""

from __future__ import annotations

import io
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from argon2 import PasswordHasher

from dashboard.accounts import (
    FREE_FAILURES,
    MIGRATIONS,
    AccountError,
    Accounts,
    LoginRefused,
    SchemaTooNew,
    account_for_identity,
    accounts_location,
    parse_areas,
    write_initial_accounts,
)
from dashboard.roles import (
    ACTION_ROLES,
    PAGE_ROLES,
    PUBLIC,
    ROLES,
    may_do,
    may_open,
    pages_for,
    screening_in_scope,
)

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # argon2id, cheap for tests
PW = "correct horse battery"
IDLE, ABSOLUTE = timedelta(minutes=30), timedelta(hours=12)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2022, 3, 28, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path) -> str:
    if request.param == "sqlite":
        return accounts_location(str(tmp_path / "riskmap.gpkg"))
    try:
        return request.getfixturevalue("postgis_schema")
    except pytest.FixtureLookupError:
        pytest.skip("PostgreSQL: the postgis_schema fixture (tests/conftest.py) is not available")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(location, clock) -> Accounts:
    return Accounts(location, clock=clock, hasher=FAST)


def _raw_rows(location: str, sql: str) -> list[tuple]:
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location) as con:
            return list(con.execute(sql).fetchall())
    with sqlite3.connect(location) as con:
        return list(con.execute(sql).fetchall())


# ------------------------------------------------------------------------------ where and schema


def test_location_beside_the_geopackage_or_the_same_database(tmp_path):
    assert accounts_location(str(tmp_path / "x.gpkg")) == str(tmp_path / "x.accounts.sqlite")
    assert accounts_location("var/riskmap.gpkg", root=Path("/srv/riskmap")) == "/srv/riskmap/var/riskmap.accounts.sqlite"
    url = "postgresql://u@127.0.0.1:5432/riskmap"
    assert accounts_location(url) == url


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path):
    loc = accounts_location(str(tmp_path / "s.gpkg"))
    Accounts(loc, hasher=FAST)
    assert stat.S_IMODE(os.stat(loc).st_mode) == 0o600
    with sqlite3.connect(loc) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not (tmp_path / "s.gpkg").exists()  # nothing written into (or instead of) the store


def test_fresh_database_gets_every_migration(db, location):
    assert db.schema_version() == MIGRATIONS[-1].version == 3
    versions = _raw_rows(
        location, "SELECT version, name FROM riskmap_migrations WHERE component = 'accounts' ORDER BY version"
    )
    assert [v for v, _ in versions] == [1, 2, 3]


def test_migrations_upgrade_an_older_database_and_keep_its_data(location, clock):
    old = Accounts(location, clock=clock, hasher=FAST, upgrade=False)
    assert old.migrate(to=1) == 1
    # a version-1 database: users without the lock-out columns, no sessions table
    _exec(location, "INSERT INTO riskmap_users (name, role, display_name, password_hash, disabled, areas, created_at, "
                    "changed_at) VALUES ('old', 'command', '', NULL, 0, '', '2022-01-01T00:00:00.000000Z', "
                    "'2022-01-01T00:00:00.000000Z')")
    db = Accounts(location, clock=clock, hasher=FAST)  # opening applies migrations 2 and 3
    assert db.schema_version() == 3
    assert db.get("old").role == "command"
    db.set_password("old", PW)
    assert db.authenticate("old", PW).name == "old"
    assert db.session_account(db.open_session(db.get("old")), idle=IDLE, absolute=ABSOLUTE).reason == "ok"


def test_opening_twice_applies_nothing_again(db, location, clock):
    Accounts(location, clock=clock, hasher=FAST)
    assert len(_raw_rows(location, "SELECT version FROM riskmap_migrations WHERE component = 'accounts'")) == 3


def test_a_database_of_the_previous_layout_is_adopted_in_place(location, clock):
    """Before the one migrations table, accounts kept their own (riskmap_auth_schema): such a
    database upgrades in place, keeps its rows and runs no migration twice."""
    from layers.store.sql import SqliteDb, Tx, component_migrations

    if location.startswith("postgresql://"):
        import psycopg

        con = psycopg.connect(location, autocommit=True)
        cur, dialect = con.cursor(), "postgresql"
    else:
        SqliteDb(location)
        con = sqlite3.connect(location, isolation_level=None)
        cur, dialect = con.cursor(), "sqlite"
    tx = Tx(cur, dialect)
    tx.run("CREATE TABLE riskmap_auth_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for m in component_migrations("accounts")[:2]:  # a version-2 database of the old layout
        tx.script(m.sql)
        tx.run("INSERT INTO riskmap_auth_schema VALUES (?, ?, ?)", (m.version, m.name, "2022-01-01T00:00:00Z"))
    tx.run("INSERT INTO riskmap_users (name, role, created_at, changed_at) VALUES ('old', 'grid', 'x', 'x')")
    con.close()
    db = Accounts(location, clock=clock, hasher=FAST)
    assert db.schema_version() == 3
    assert db.get("old").role == "grid"
    rows = _raw_rows(location, "SELECT version FROM riskmap_migrations WHERE component = 'accounts' ORDER BY version")
    assert [r[0] for r in rows] == [1, 2, 3]
    tables = {r[0] for r in _raw_rows(location, _TABLES_SQL[location.startswith("postgresql://")])}
    assert "riskmap_auth_schema" not in tables


_TABLES_SQL = {
    False: "SELECT name FROM sqlite_master WHERE type = 'table'",
    True: "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
}


def test_a_newer_schema_is_refused(db, location, clock):
    _exec(location, "INSERT INTO riskmap_migrations (component, version, name, applied_at) "
                    "VALUES ('accounts', 99, 'future', 'x')")
    with pytest.raises(SchemaTooNew, match="schema 99 is newer"):
        Accounts(location, clock=clock, hasher=FAST)


def _exec(location: str, sql: str) -> None:
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as con:
            con.execute(sql)
        return
    with sqlite3.connect(location) as con:
        con.execute(sql)


# ------------------------------------------------------------------------------ accounts and passwords


def test_password_is_stored_as_a_salted_argon2id_hash(db, location):
    db.add("a1", "command", PW)
    db.add("a2", "command", PW)
    hashes = [h for (h,) in _raw_rows(location, "SELECT password_hash FROM riskmap_users ORDER BY name")]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert hashes[0] != hashes[1]  # salted
    assert all(PW not in h for h in hashes)


def test_default_hasher_is_argon2id_with_real_cost(tmp_path):
    db = Accounts(accounts_location(str(tmp_path / "s.gpkg")))
    db.add("slow", "admin", PW)
    (h,) = _raw_rows(db.location, "SELECT password_hash FROM riskmap_users")[0]
    assert h.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_password_never_reaches_the_database_file_or_audit(tmp_path):
    loc = accounts_location(str(tmp_path / "s.gpkg"))
    db = Accounts(loc, hasher=FAST)
    secret = "Zebra-Quartz-9931-unique"
    db.add("writer", "command", secret)
    with pytest.raises(LoginRefused):
        db.authenticate("writer", secret + "x")
    db.record(None, "login_failed", "writer", "reason=wrong_password")
    db.set_password("writer", secret[::-1])
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in blob and secret[::-1].encode() not in blob


@pytest.mark.parametrize(
    ("name", "role", "password", "areas", "match"),
    [
        ("x", "command", PW, None, "account name"),
        ("bad name", "command", PW, None, "account name"),
        ("ok", "boss", PW, None, "role 'boss'"),
        ("ok", "command", "short", None, "at least 10"),
        ("longername", "command", "LongerName", None, "must not be the account name"),
        ("ok", "command", PW, "N0001", "areas are for grid workers and site staff only"),
        ("ok", "grid", PW, "N0001; <script>", "area '<script>'"),
    ],
)
def test_bad_accounts_are_refused_with_the_reason(db, name, role, password, areas, match):
    with pytest.raises(AccountError, match=match):
        db.add(name, role, password, areas=areas)
    assert db.is_empty()


def test_names_are_case_insensitive_and_unique(db):
    acc = db.add("Li.Wei@Example.CN", "grid", PW, areas="N0001，140105 N0001", display_name="李伟")
    assert acc.name == "li.wei@example.cn"
    assert acc.areas == ("N0001", "140105")
    assert acc.display_name == "李伟" and acc.label == "李伟"
    assert db.authenticate("LI.WEI@example.cn", PW).name == acc.name
    with pytest.raises(AccountError, match="exists already"):
        db.add("li.wei@example.cn", "command", PW)


def test_parse_areas_accepts_chinese_and_ascii_separators():
    assert parse_areas("N0001, N0002，140105、N0003 ;N0004") == ("N0001", "N0002", "140105", "N0003", "N0004")
    assert parse_areas(None) == ()
    assert parse_areas(["140105", "140105"]) == ("140105",)


def test_authenticate(db):
    db.add("cmd", "command", PW)
    assert db.authenticate("cmd", PW).role == "command"
    for name, password, reason in [("cmd", PW + "!", "wrong_password"), ("nobody", PW, "unknown"), ("cmd", "", "wrong_password")]:
        with pytest.raises(LoginRefused) as exc:
            db.authenticate(name, password)
        assert exc.value.reason == reason


def test_disabled_account_cannot_sign_in_and_loses_its_sessions(db):
    acc = db.add("cmd", "command", PW)
    token = db.open_session(acc)
    db.set_disabled("cmd", True, by="boss")
    assert db.session_account(token, idle=IDLE, absolute=ABSOLUTE).account is None
    with pytest.raises(LoginRefused) as exc:
        db.authenticate("cmd", PW)
    assert exc.value.reason == "disabled"
    with pytest.raises(LoginRefused) as exc:  # a wrong password says nothing about the state
        db.authenticate("cmd", "wrong password!")
    assert exc.value.reason == "wrong_password"
    db.set_disabled("cmd", False)
    assert db.authenticate("cmd", PW).name == "cmd"


def _fail(db, name: str, client: str, times: int = 1) -> list[str]:
    reasons = []
    for _ in range(times):
        with pytest.raises(LoginRefused) as exc:
            db.authenticate(name, "not the password", client=client)
        reasons.append(exc.value.reason)
    return reasons


def test_an_attacker_cannot_lock_out_the_real_user(db, clock):
    """Attack: wrong passwords for `planner` from the public sign-in page used to lock the account
    for 15 minutes, repeatably. Now the attacker's address is slowed, the real user is not."""
    db.add("planner", "planner", PW)
    reasons = _fail(db, "planner", "203.0.113.9", FREE_FAILURES)
    assert reasons == ["wrong_password"] * FREE_FAILURES
    with pytest.raises(LoginRefused) as exc:  # the attacker now waits, even with the right password
        db.authenticate("planner", PW, client="203.0.113.9")
    assert (exc.value.reason, exc.value.retry_after) == ("throttled", 2)
    assert db.authenticate("planner", PW, client="10.1.2.3").name == "planner"  # the real user, elsewhere


def test_delays_grow_and_a_success_clears_the_pair(db, clock):
    db.add("cmd", "command", PW)
    _fail(db, "cmd", "c1", FREE_FAILURES)
    waits = []
    for _ in range(4):
        with pytest.raises(LoginRefused) as exc:
            db.authenticate("cmd", "x", client="c1")
        waits.append(exc.value.retry_after)
        clock.advance(seconds=exc.value.retry_after)
        _fail(db, "cmd", "c1")
    assert waits == [2, 4, 8, 16]
    clock.advance(seconds=32)
    assert db.authenticate("cmd", PW, client="c1").name == "cmd"
    clock.advance(hours=1, seconds=1)  # the client's own count is forgotten after an hour
    assert db.authenticate("cmd", PW, client="c1").name == "cmd"


def test_password_spraying_is_slowed_across_names(db, clock):
    """Attack: unknown names were never throttled (unlimited spraying). A client failing on many
    names is slowed for every name, unknown ones included."""
    db.add("cmd", "command", PW)
    for i in range(FREE_FAILURES):
        assert _fail(db, f"nobody{i}", "198.51.100.7") == ["unknown"]
    with pytest.raises(LoginRefused) as exc:
        db.authenticate("someone-else", "guess", client="198.51.100.7")
    assert exc.value.reason == "throttled"
    with pytest.raises(LoginRefused) as exc:
        db.authenticate("cmd", PW, client="198.51.100.7")
    assert exc.value.reason == "throttled"
    assert db.authenticate("cmd", PW, client="192.0.2.1").name == "cmd"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaa", "重复字符"),
        (" " * 10, "重复字符"),
        ("1234567890", "常用密码"),
        ("password123", "常用密码"),
        ("admin-control-2022", "包含账户名"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(db, password: str, why: str):
    with pytest.raises(AccountError, match=why):
        db.add("admin", "admin", password)
    db.add("admin", "admin", PW)
    with pytest.raises(AccountError, match=why):
        db.set_password("admin", password)


def test_an_active_session_is_not_ended_early_by_a_short_idle_limit(db, clock):
    """Defect: last_seen was written at most once a minute, so a 1-minute idle limit ended a
    session used every 20 s."""
    acc = db.add("cmd", "command", PW)
    token = db.open_session(acc)
    idle = timedelta(minutes=1)
    for _ in range(12):  # four minutes of use, a page run every 20 s
        clock.advance(seconds=20)
        assert db.session_account(token, idle=idle, absolute=ABSOLUTE).account is not None
    clock.advance(seconds=61)
    assert db.session_account(token, idle=idle, absolute=ABSOLUTE).reason == "idle"


def test_password_reset_ends_sessions(db):
    acc = db.add("cmd", "command", PW)
    token = db.open_session(acc)
    db.set_password("cmd", "a new long password")
    assert db.session_account(token, idle=IDLE, absolute=ABSOLUTE).account is None
    assert db.authenticate("cmd", "a new long password").name == "cmd"
    with pytest.raises(LoginRefused):
        db.authenticate("cmd", PW)


def test_sign_on_only_account_has_no_password_sign_in(db):
    acc = db.add("wang@corp.example", "planner", None)
    assert not acc.has_password
    with pytest.raises(LoginRefused) as exc:
        db.authenticate("wang@corp.example", "")
    assert exc.value.reason == "no_password"


def test_rehash_when_parameters_change(location, clock):
    old = Accounts(location, clock=clock, hasher=FAST)
    old.add("cmd", "command", PW)
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    Accounts(location, clock=clock, hasher=stronger).authenticate("cmd", PW)
    (h,) = _raw_rows(location, "SELECT password_hash FROM riskmap_users")[0]
    assert "m=2048,t=2,p=1" in h


def test_last_enabled_admin_stays(db):
    db.add("root", "admin", PW)
    with pytest.raises(AccountError, match="last enabled administrator"):
        db.set_disabled("root", True)
    with pytest.raises(AccountError, match="last enabled administrator"):
        db.update("root", role="command")
    db.add("root2", "admin", PW)
    db.set_disabled("root", True)
    assert db.get("root").disabled


def test_update_role_and_areas_ends_sessions(db):
    acc = db.add("gw", "grid", PW, areas="N0001")
    token = db.open_session(acc)
    db.update("gw", display_name="网格员小王")  # a name change keeps the session
    assert db.session_account(token, idle=IDLE, absolute=ABSOLUTE).reason == "ok"
    db.update("gw", areas="N0001 N0002")
    assert db.session_account(token, idle=IDLE, absolute=ABSOLUTE).account is None
    changed = db.update("gw", role="planner", areas="")
    assert changed.role == "planner" and changed.areas == ()
    with pytest.raises(AccountError, match="grid workers and site staff only"):
        db.update("gw", areas="N0001")


# ------------------------------------------------------------------------------ sessions


def test_session_idle_and_absolute_expiry(db, clock):
    acc = db.add("cmd", "command", PW)
    token = db.open_session(acc)
    check = db.session_account(token, idle=IDLE, absolute=ABSOLUTE)
    assert check.account == acc and check.reason == "ok"
    # active every 20 minutes: never idle, until the absolute limit
    for _ in range(int(ABSOLUTE / timedelta(minutes=20)) + 1):
        clock.advance(minutes=20)
        check = db.session_account(token, idle=IDLE, absolute=ABSOLUTE)
        if check.account is None:
            break
    assert check.reason == "absolute" and check.name == "cmd"
    assert db.session_account(token, idle=IDLE, absolute=ABSOLUTE).reason == "none"  # deleted
    token = db.open_session(acc)
    clock.advance(minutes=31)
    assert db.session_account(token, idle=IDLE, absolute=ABSOLUTE).reason == "idle"


def test_session_ends_when_the_role_changes(db):
    acc = db.add("pl", "planner", PW)
    token = db.open_session(acc)
    _exec(db.location, "UPDATE riskmap_users SET role = 'command' WHERE name = 'pl'")  # changed behind our back
    check = db.session_account(token, idle=IDLE, absolute=ABSOLUTE)
    assert check.account is None and check.reason == "role_changed"


def test_session_tokens_are_random_and_stored_hashed(db, location):
    acc = db.add("cmd", "command", PW)
    tokens = {db.open_session(acc) for _ in range(5)}
    assert len(tokens) == 5 and all(len(t) >= 40 for t in tokens)
    stored = {h for (h,) in _raw_rows(location, "SELECT token_hash FROM riskmap_sessions")}
    assert not stored & tokens
    for token in tokens:
        db.close_session(token)
        assert db.session_account(token, idle=IDLE, absolute=ABSOLUTE).reason == "none"
    assert db.session_account(None, idle=IDLE, absolute=ABSOLUTE).reason == "none"
    assert db.session_account("forged", idle=IDLE, absolute=ABSOLUTE).reason == "none"


def test_purge_old_sessions(db, clock):
    acc = db.add("cmd", "command", PW)
    db.open_session(acc)
    clock.advance(hours=13)
    db.open_session(acc)
    assert db.purge_sessions(absolute=ABSOLUTE) == 1


# ------------------------------------------------------------------------------ audit


def test_audit_records_who_when_what_and_filters(db, clock):
    db.add("cmd", "command", PW, by="boss")
    clock.advance(minutes=1)
    db.record("cmd", "import", "testing_sites", "csv; written=3")
    clock.advance(days=2)
    db.record(None, "login_failed", "cmd", "reason=wrong_password", role="")
    db.record("cmd", "export", "zones", ".kml")
    log = db.audit_log()
    assert list(log["action"]) == ["export", "login_failed", "import", "account_add"]  # newest first
    first = log.iloc[-1]
    assert (first["name"], first["target"]) == ("boss", "cmd")
    imp = log[log["action"] == "import"].iloc[0]
    assert imp["role"] == "command"  # looked up from the account
    assert imp["at"] == pd.Timestamp("2022-03-28 08:01", tz="UTC")
    assert log[log["action"] == "login_failed"].iloc[0]["name"] == "-"
    assert list(db.audit_log(user="cmd")["action"]) == ["export", "import"]
    assert list(db.audit_log(actions=["import", "export"])["action"]) == ["export", "import"]
    since = datetime(2022, 3, 29, tzinfo=UTC)
    assert list(db.audit_log(since=since)["action"]) == ["export", "login_failed"]
    assert list(db.audit_log(until=since)["action"]) == ["import", "account_add"]
    assert db.audit_actions() == ["account_add", "export", "import", "login_failed"]


def test_account_changes_are_audited(db):
    db.add("root", "admin", PW, by="riskmap")
    db.add("gw", "grid", PW, areas="N1", by="root")
    db.set_disabled("gw", True, by="root")
    db.set_disabled("gw", False, by="root")
    db.set_password("gw", "another long password", by="root")
    db.update("gw", areas="N1 N2", by="root")
    log = db.audit_log(user="root")
    assert list(log["action"])[::-1] == [
        "account_add", "account_disable", "account_enable", "account_passwd", "account_change",
    ]
    assert set(log["target"]) == {"gw"}
    assert "another long password" not in " ".join(log["detail"])


def test_audit_text_is_one_bounded_line(db):
    db.record("cmd", "import", "a\nb", "x" * 5000)
    row = db.audit_log().iloc[0]
    assert row["target"] == "a b" and len(row["detail"]) == 1000


def test_audit_module_writes_beside_the_configured_store(tmp_path, monkeypatch):
    from dashboard import audit

    store = tmp_path / "st.gpkg"
    monkeypatch.setenv("RISKMAP_STORE", str(store))
    audit.record("cmd", "export", "zones", ".kml", role="command")
    audit.record("cmd", "import", "zones", "x", store=str(store))
    log = Accounts(accounts_location(str(store))).audit_log()
    assert list(log["action"]) == ["import", "export"]


# ------------------------------------------------------------------------------ first run, identities


def test_bootstrap_creates_admin_once_and_demo_roles(db, tmp_path):
    created = db.bootstrap(demo=True, grid_areas=("140105",), site_areas=("S0001", "S0002"))
    assert [(n, r) for n, r, _ in created] == [
        ("admin", "admin"), ("command", "command"), ("planner", "planner"), ("grid", "grid"), ("site", "site")]
    for name, _role, password in created:
        assert len(password) >= 16
        assert db.authenticate(name, password).name == name
    assert db.get("grid").areas == ("140105",)
    assert db.get("site").areas == ("S0001", "S0002")
    assert db.bootstrap(demo=True) == []  # only when empty
    out = write_initial_accounts(tmp_path / "var" / "initial-accounts.txt", created)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert all(f"{n}\t{r}\t{p}" in out.read_text(encoding="utf-8") for n, r, p in created)


def test_bootstrap_for_a_real_store_creates_only_admin(db):
    assert [n for n, _, _ in db.bootstrap(demo=False)] == ["admin"]


@pytest.mark.parametrize(
    ("claims", "claim", "expected"),
    [
        ({"email": "Wang@Corp.example", "sub": "123"}, "email", ("wang@corp.example", "ok")),
        ({"preferred_username": "wang@corp.example"}, "preferred_username", ("wang@corp.example", "ok")),
        ({"sub": "123"}, "email", (None, "no_claim")),
        ({"email": "  "}, "email", (None, "no_claim")),
        ({"email": "stranger@corp.example"}, "email", (None, "unknown")),
        ({"email": "not a name!"}, "email", (None, "unknown")),
        ({"email": "off@corp.example"}, "email", (None, "disabled")),
    ],
)
def test_single_sign_on_identity_maps_to_an_enabled_account(db, claims, claim, expected):
    db.add("wang@corp.example", "command", None)
    db.add("root", "admin", PW)
    db.add("off@corp.example", "planner", None)
    db.set_disabled("off@corp.example", True)
    acc, reason = account_for_identity(db, claims, claim=claim)
    assert ((acc.name if acc else None), reason) == expected


# ------------------------------------------------------------------------------ the access policy

EXPECTED_PAGES = {  # role → pages it may open (the table in the README)
    None: {"page_resident", "page_login"},
    "grid": {"page_command", "page_followup", "page_screening", "page_resident", "page_login"},
    "site": {"page_queue", "page_resident", "page_login"},
    "planner": {"page_command", "page_planning", "page_transfers", "page_mass_testing", "page_resident", "page_login"},
    "command": {"page_command", "page_daily_report", "page_followup", "page_screening", "page_planning", "page_transfers",
                "page_mass_testing", "page_queue", "page_resident", "page_data", "page_login"},
    "admin": {"page_admin", "page_resident", "page_login"},
}
EXPECTED_ACTIONS = {
    None: set(),
    "grid": {"view_personal", "export_personal", "record_outcome", "reveal_phone"},
    "site": {"report_queue"},
    "planner": {"zone_change", "transfer_plan"},
    "command": {"daily_report", "import", "export", "view_personal", "export_personal", "zone_change", "record_outcome",
                "reveal_phone", "transfer_plan", "report_queue"},
    "admin": {"accounts", "audit_read"},
}


@pytest.mark.parametrize("role", [None, *ROLES])
def test_pages_and_actions_per_role(role):
    assert set(pages_for(role)) == EXPECTED_PAGES[role]
    assert {p for p in PAGE_ROLES if may_open(role, p)} == EXPECTED_PAGES[role]
    assert {a for a in ACTION_ROLES if may_do(role, a)} == EXPECTED_ACTIONS[role]


def test_unknown_pages_roles_and_actions_are_refused():
    assert not may_open("command", "page_secret")
    assert not may_do("command", "launch")
    assert not may_do("root", "import")
    assert not may_do(PUBLIC, "view_personal")


def _screening():
    from geo.screening import Screening

    travellers = pd.DataFrame(
        {"id": ["T1", "T2", "T3", "T4"], "neighbourhood_id": ["N1", "N2", None, "N9"],
         "district_adcode": ["140105", "140105", "140106", "140107"], "code": ["red"] * 4}
    )
    nbh = pd.DataFrame({"id": ["N1", "N2", "N9"], "district_adcode": ["140105", "140105", "140107"], "screening": ["none"] * 3})
    return Screening(as_of=pd.Timestamp("2022-03-28"), rule_set=None, travellers=travellers, neighbourhoods=nbh)


@pytest.mark.parametrize(
    ("areas", "people", "places"),
    [
        (("N1",), ["T1"], ["N1"]),
        (("140105",), ["T1", "T2"], ["N1", "N2"]),
        (("N9", "140106"), ["T3", "T4"], ["N9"]),
        ((), [], []),
    ],
)
def test_grid_workers_see_only_their_areas(areas, people, places):
    full = _screening()
    mine = screening_in_scope(full, "grid", areas)
    assert list(mine.travellers["id"]) == people
    assert list(mine.neighbourhoods["id"]) == places
    assert len(full.travellers) == 4  # the caller's result is not changed
    assert screening_in_scope(full, "command", ()) is full
    with pytest.raises(PermissionError):
        screening_in_scope(full, "planner", areas)


# ------------------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("toml", "match"),
    [
        ('auth = "ldap"\n', "'auth'"),
        ('auth = "oidc"\noidc_claim = ""\n', "'oidc_claim'"),
        ("session_idle_minutes = 0\n", "'session_idle_minutes'"),
        ("session_max_hours = 10000\n", "'session_max_hours'"),
        ('session_idle_minutes = "soon"\n', "'session_idle_minutes'"),
    ],
)
def test_bad_auth_settings_name_the_key(tmp_path, toml, match):
    from dashboard.settings import load_settings
    from geo.errors import SettingsError

    p = tmp_path / "riskmap.toml"
    p.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError, match=match):
        load_settings(toml_path=p, environ={})


def test_auth_settings_defaults_and_environment(tmp_path):
    from dashboard.settings import load_settings

    s = load_settings(toml_path=tmp_path / "none.toml", environ={})
    assert (s.auth, s.session_idle_minutes, s.session_max_hours, s.oidc_claim) == ("builtin", 30, 12, "email")
    s = load_settings(toml_path=tmp_path / "none.toml", environ={"RISKMAP_AUTH": "oidc", "RISKMAP_SESSION_IDLE_MINUTES": "5"})
    assert (s.auth, s.session_idle_minutes) == ("oidc", 5)


# ------------------------------------------------------------------------------ the command line


def _cli(monkeypatch, capsys, args: list[str], stdin: str = "") -> tuple[int, str, str]:
    from dashboard.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_user_add_list_disable_enable_passwd(tmp_path, monkeypatch, capsys):
    store = str(tmp_path / "s.gpkg")
    s = ["--store", store]
    code, out, _ = _cli(monkeypatch, capsys, ["user", "add", "Zhang", "--role", "grid", "--areas", "N0001,140105",
                                               "--display-name", "张网格", "--password-stdin", *s], PW + "\n")
    assert code == 0 and "zhang (grid)" in out
    code, out, _ = _cli(monkeypatch, capsys, ["user", "add", "boss", "--role", "admin", "--password-stdin", *s], PW + "\n")
    assert code == 0
    code, out, _ = _cli(monkeypatch, capsys, ["user", "list", *s])
    assert code == 0 and "zhang" in out and "areas=N0001,140105" in out and PW not in out
    code, out, _ = _cli(monkeypatch, capsys, ["user", "disable", "zhang", *s])
    assert code == 0 and "disabled" in out
    db = Accounts(accounts_location(store))
    assert db.get("zhang").disabled
    code, out, _ = _cli(monkeypatch, capsys, ["user", "enable", "zhang", *s])
    assert code == 0 and not db.get("zhang").disabled
    code, out, _ = _cli(monkeypatch, capsys, ["user", "passwd", "zhang", "--password-stdin", *s], "a brand new password\n")
    assert code == 0
    assert db.authenticate("zhang", "a brand new password").name == "zhang"
    actions = list(db.audit_log(user="cli:" + __import__("getpass").getuser())["action"])[::-1]
    assert actions == ["account_add", "account_add", "account_disable", "account_enable", "account_passwd"]


def test_cli_user_errors(tmp_path, monkeypatch, capsys):
    s = ["--store", str(tmp_path / "s.gpkg")]
    code, _, err = _cli(monkeypatch, capsys, ["user", "add", "z1", "--role", "grid", "--password-stdin", *s], "short\n")
    assert code == 1 and "at least 10" in err
    code, _, err = _cli(monkeypatch, capsys, ["user", "passwd", "ghost", "--password-stdin", *s], PW + "\n")
    assert code == 1 and "no account named 'ghost'" in err
    code, _, err = _cli(monkeypatch, capsys, ["user", "add", "z2", "--role", "king", *s])
    assert code == 2
    code, _, err = _cli(monkeypatch, capsys, ["user", "add", "sso@corp.example", "--role", "planner", "--no-password", *s])
    assert code == 0
    assert not Accounts(accounts_location(s[1])).get("sso@corp.example").has_password


def test_cli_prompts_for_the_password_twice(tmp_path, monkeypatch, capsys):
    answers = iter([PW, PW + "typo"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = _cli(monkeypatch, capsys, ["user", "add", "p1", "--role", "planner", "--store", str(tmp_path / "s.gpkg")])
    assert code == 1 and "differ" in err
    answers = iter([PW, PW])
    code, _, _ = _cli(monkeypatch, capsys, ["user", "add", "p1", "--role", "planner", "--store", str(tmp_path / "s.gpkg")])
    assert code == 0


def test_first_run_creates_accounts_once_and_writes_them_privately(tmp_path, monkeypatch, capsys):
    from dashboard.cli import _first_accounts
    from data.demo import demo_meta
    from layers.store.gpkg import write_new_store

    store = tmp_path / "var" / "riskmap.gpkg"
    # the demo store's neighbourhoods decide the grid worker's district (the one with most)
    nbh = gpd.GeoDataFrame(
        {"id": ["N1", "N2", "N3"], "name": ["甲", "乙", "丙"], "district_adcode": ["140105", "140106", "140106"],
         "population": [1, 2, 3]},
        geometry=[shapely.box(112.5, 37.8, 112.51, 37.81)] * 3, crs="EPSG:4326",
    )
    write_new_store(store, {"neighbourhoods": nbh}, meta=demo_meta(1))
    _first_accounts(str(store), demo=None)
    out = capsys.readouterr().out
    listing = tmp_path / "var" / "riskmap.initial-accounts.txt"
    assert stat.S_IMODE(listing.stat().st_mode) == 0o600
    db = Accounts(accounts_location(str(store)))
    assert [a.name for a in db.list()] == ["admin", "command", "grid", "planner"]
    assert db.get("grid").areas == ("140106",)
    for line in listing.read_text(encoding="utf-8").splitlines()[2:]:
        name, role, password = line.split("\t")
        assert password in out  # printed once
        assert db.authenticate(name, password).role == role
    assert "accounts_bootstrap" in set(db.audit_log()["action"])
    _first_accounts(str(store), demo=None)  # second run: nothing new, nothing printed
    assert capsys.readouterr().out == ""


def test_each_store_keeps_its_own_first_accounts_file(tmp_path):
    """Defect: `riskmap demo --store postgresql://…` truncated the GeoPackage demo's
    var/initial-accounts.txt; each store now has its own file, named after it."""
    from dashboard.cli import initial_accounts_path

    a = initial_accounts_path(str(tmp_path / "var" / "riskmap.gpkg"))
    b = initial_accounts_path(str(tmp_path / "var" / "other.gpkg"))
    c = initial_accounts_path("postgresql://riskmap:secret@127.0.0.1:5432/riskmap")
    d = initial_accounts_path("postgresql://riskmap:secret@db.intranet:5433/city")
    assert a.name == "riskmap.initial-accounts.txt" and b.name == "other.initial-accounts.txt"
    assert (c.name, d.name) == ("initial-accounts-127.0.0.1_5432_riskmap.txt", "initial-accounts-db.intranet_5433_city.txt")
    assert len({a, b, c, d}) == 4 and "secret" not in str(c)
