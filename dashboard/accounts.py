"""Accounts, browser sessions and the audit trail, kept beside the store. No Streamlit here.

Where
-----
* GeoPackage store ``X.gpkg`` → a SQLite file ``X.accounts.sqlite`` beside it (mode 0600, WAL
  journal, busy timeout, ``BEGIN IMMEDIATE`` for every write). Never inside the ``.gpkg``: the
  store is rewritten whole on each write, which would lose a login recorded meanwhile.
* ``postgresql://`` store → tables in that database (psycopg 3), one transaction per operation.

Both go through the one small SQL layer of :mod:`layers.store.sql` (shared with the PostGIS store and
versioned records).

Schema
------
The migrations are ``layers/store/migrations/accounts/NNNN_name.sql``, applied on open by the one
runner (:func:`layers.store.sql.apply_pending`) and recorded as component ``accounts`` in
``riskmap_migrations``. A database newer than this code is refused (:class:`SchemaTooNew`).

* ``riskmap_users`` — ``name`` (lower case, the login name), ``role`` (grid, planner, command,
  admin), ``display_name``, ``password_hash`` (argon2id, PHC string; NULL for single-sign-on-only
  accounts), ``disabled``, ``areas`` (grid workers: neighbourhood ids or 6-digit district adcodes,
  space separated), ``failed_logins``, ``locked_until``, ``created_at``, ``changed_at``,
  ``password_changed_at``.
* ``riskmap_sessions`` — browser sessions: ``token_hash`` (SHA-256 of the random cookie token;
  the token itself is never stored), ``name``, ``role`` at sign-in, ``created_at``, ``last_seen``.
* ``riskmap_audit`` — ``id``, ``at``, ``name`` (``-`` for nobody), ``role``, ``action``,
  ``target``, ``detail``.

Times are UTC text ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (sorts as it reads).

Rules
-----
* Passwords: at least :data:`MIN_PASSWORD` characters, not containing the account name, and not
  guessable (zxcvbn score at least :data:`MIN_STRENGTH`: no common passwords, repeats, sequences,
  keyboard rows or dates); hashed with argon2id
  (argon2-cffi's defaults, rehashed on sign-in when the parameters change); never stored or
  logged in clear.
* Failed sign-ins are throttled, never locked out: after :data:`FREE_FAILURES` failures the next
  attempt waits a delay that doubles with each failure, counted per (account, client address) and
  per client address across all names (:meth:`Accounts.authenticate`). Unknown names are counted
  too, and cost the same hashing time as known ones.
* Disabling an account, changing its role or areas, or setting its password ends its sessions.
  The last enabled administrator cannot be disabled or given another role.
* A session is valid while the account is enabled, has the role it signed in with, was seen within
  the idle limit and is younger than the absolute limit (both given by the caller, from settings).
* Audit details never hold personal data (traveller names, phones, ID numbers) nor passwords.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dashboard.roles import AREA_ROLES, ROLES
from layers.store.sql import (
    Migration,
    SchemaTooNew,
    Tx,
    apply_pending,
    component_migrations,
    open_db,
    schema_version,
)

__all__ = [
    "Account",
    "AccountError",
    "Accounts",
    "LoginRefused",
    "MIGRATIONS",
    "SchemaTooNew",
    "SessionCheck",
    "accounts_location",
    "account_for_identity",
    "write_initial_accounts",
]

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
#: Sign-in throttling: after FREE_FAILURES failed attempts the next one is accepted only after a
#: delay that doubles with every further failure (2 s, 4 s, … up to MAX_DELAY_SECONDS). Counted
#: per (account, client address) *and* per client address across all names, never per account
#: alone: an attacker elsewhere slows only themselves and cannot lock the real user out, and a
#: client spraying many names is slowed for all of them. A count is forgotten after
#: THROTTLE_WINDOW without a failure.
FREE_FAILURES = 3
MAX_DELAY_SECONDS = 900
THROTTLE_WINDOW = timedelta(hours=1)
TOUCH_SECONDS = 60  # a session's last_seen is written at most once a minute (less for short idle limits)
NOBODY = "-"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_AREA = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AccountError(ValueError):
    """A bad account name, role, area or password, or an account change that is not allowed."""


class LoginRefused(PermissionError):
    """Sign-in refused. ``reason``: unknown, wrong_password, disabled, no_password or throttled
    (``retry_after`` seconds to wait).

    Show people one message for the others (the reason is for the audit trail only)."""

    def __init__(self, reason: str, retry_after: int = 0):
        super().__init__(f"sign-in refused: {reason}")
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    display_name: str = ""
    disabled: bool = False
    areas: tuple[str, ...] = ()
    has_password: bool = True
    created_at: str = ""
    changed_at: str = ""

    @property
    def label(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True)
class SessionCheck:
    """What :meth:`Accounts.session_account` found: the account (``None`` unless ``reason`` is
    ``ok``) and the session's account name (empty when there was no such session)."""

    account: Account | None
    reason: str
    name: str


# ---------------------------------------------------------------------------------------------
# Migrations: layers/store/migrations/accounts/NNNN_name.sql, applied by the one runner (layers/store/sql.py).
# Append only; never edit one that has shipped.

MIGRATIONS: tuple[Migration, ...] = component_migrations("accounts")


def accounts_location(store: str, *, root: Path | None = None) -> str:
    """Where accounts and audit live for the store setting ``store``: the store's SQL side
    (:func:`layers.store.records.sql_location`: the same ``postgresql://`` URL, or
    ``<store stem>.accounts.sqlite`` beside a GeoPackage store)."""
    from layers.store.records import sql_location

    return sql_location(store, root=root)


def _utc(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _clean(text: object, limit: int) -> str:
    """Audit text on one line, bounded."""
    return _CONTROL.sub(" ", str(text or ""))[:limit]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_name(name: str) -> str:
    return str(name or "").strip().lower()


def check_name(name: str) -> str:
    n = normalise_name(name)
    if not _NAME.match(n):
        msg = (
            f"账户名 {name!r} 须为 2–64 个字母、数字或 . _ @ -（以字母或数字开头） / "
            f"account name {name!r}: 2–64 letters, digits or . _ @ - (starting with a letter or digit)"
        )
        raise AccountError(msg)
    return n


def check_role(role: str) -> str:
    if role not in ROLES:
        msg = f"角色须为 {'、'.join(ROLES)} 之一 / role {role!r}: one of {', '.join(ROLES)}"
        raise AccountError(msg)
    return role


def parse_areas(areas: str | Iterable[str] | None) -> tuple[str, ...]:
    """Neighbourhood ids / district adcodes from a list or from text separated by commas,
    spaces or Chinese commas; order kept, duplicates dropped."""
    if areas is None:
        return ()
    items = re.split(r"[\s,，、;；]+", areas) if isinstance(areas, str) else [str(a) for a in areas]
    out: list[str] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        if not _AREA.match(item):
            msg = f"负责区域 {item!r} 须为社区编号或 6 位区县代码 / area {item!r}: a neighbourhood id or a 6-digit district code"
            raise AccountError(msg)
        if item not in out:
            out.append(item)
    return tuple(out)


def check_password(password: str, name: str = "") -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        msg = f"密码至少 {MIN_PASSWORD} 个字符 / password: at least {MIN_PASSWORD} characters"
        raise AccountError(msg)
    if len(password) > MAX_PASSWORD:
        msg = f"密码至多 {MAX_PASSWORD} 个字符 / password: at most {MAX_PASSWORD} characters"
        raise AccountError(msg)
    if name and password.strip().lower() == normalise_name(name):
        msg = "密码不能与账户名相同 / password: must not be the account name"
        raise AccountError(msg)
    n = normalise_name(name) if name else ""
    if len(n) >= 3 and n in password.lower():
        msg = "密码不能包含账户名 / password: must not contain the account name"
        raise AccountError(msg)
    strength = _strength(password, n)
    if strength["score"] < MIN_STRENGTH:
        warning = strength["feedback"].get("warning") or "easy to guess"
        zh = _STRENGTH_ZH.get(warning, "容易被猜出")
        msg = (
            f"密码太容易被猜出（{zh}）：请用更长、不常见的词组，或让系统生成 / "
            f"password: too easy to guess ({warning}); use a longer, uncommon phrase, or a generated one"
        )
        raise AccountError(msg)


#: zxcvbn score a password needs (0 … 4; 3 = "safely unguessable", about 10^8 guesses or more).
MIN_STRENGTH = 3
_STRENGTH_ZH = {
    'Repeats like "aaa" are easy to guess.': "重复字符",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': "重复的字符组",
    "Sequences like abc or 6543 are easy to guess.": "连续字符",
    "This is a top-10 common password.": "最常用的密码之一",
    "This is a top-100 common password.": "常用密码",
    "This is a very common password.": "常用密码",
    "This is similar to a commonly used password.": "与常用密码相似",
    "Recent years are easy to guess.": "年份",
    "Dates are often easy to guess.": "日期",
    "Straight rows of keys are easy to guess.": "键盘上连续的键",
    "Short keyboard patterns are easy to guess.": "键盘图案",
    "A word by itself is easy to guess.": "单个常见单词",
    "Names and surnames by themselves are easy to guess.": "姓名",
    "Common names and surnames are easy to guess.": "常见姓名",
    "easy to guess": "容易被猜出",
}


def _strength(password: str, name: str) -> dict:
    """zxcvbn's estimate (a well-kept strength estimator: dictionaries of common passwords, names,
    keyboard patterns, dates, repeats), with the account name as a word it knows."""
    from zxcvbn import zxcvbn

    return zxcvbn(password[:100], user_inputs=[name, "riskmap", "taiyuan", "太原"] if name else ["riskmap", "taiyuan", "太原"])


def throttle_delay(failures: int) -> float:
    """Seconds an attempt must wait after ``failures`` failures in a row (0 for the first few)."""
    if failures < FREE_FAILURES:
        return 0.0
    return float(min(2 ** (failures - FREE_FAILURES + 1), MAX_DELAY_SECONDS))


def new_password() -> str:
    """A random password for a new or reset account (16 characters, URL-safe)."""
    return secrets.token_urlsafe(12)


_USER_COLUMNS = "name, role, display_name, disabled, areas, password_hash IS NOT NULL, created_at, changed_at"


def _account(row: tuple) -> Account:
    name, role, display, disabled, areas, has_pw, created, changed = row
    return Account(
        name=name,
        role=role,
        display_name=display or "",
        disabled=bool(disabled),
        areas=tuple(a for a in (areas or "").split(" ") if a),
        has_password=bool(has_pw),
        created_at=created,
        changed_at=changed,
    )


def store_areas(store: str, role: str, *, root: Path | None = None, city_adcode: str | None = None) -> set[str] | None:
    """The codes a ``role``'s areas may name in ``store``: for grid workers the neighbourhood ids
    and the 6-digit codes of the city's districts, for site staff the testing-site ids; ``None``
    while the store does not exist yet (accounts may be set up first: nothing to check against)."""
    from layers.store import open_store

    s = open_store(store, root=root)
    if not s.exists():
        return None
    present = set(s.layers())
    if role == "site":
        return set(s.read("testing_sites", public=True)["id"].astype(str)) if "testing_sites" in present else set()
    from dashboard.settings import load_settings
    from layers.boundaries import city_counties

    ids = set(s.read("neighbourhoods", public=True)["id"].astype(str)) if "neighbourhoods" in present else set()
    return ids | set(city_counties(city_adcode or load_settings().city_adcode)["adcode"].astype(str))


class Accounts:
    """Accounts, sessions and audit for one store. Cheap to keep; opens a connection per operation.

    ``location``: a ``postgresql://`` URL or the path of the SQLite file (see
    :func:`accounts_location`). ``clock`` returns an aware ``datetime`` (tests move time);
    ``hasher`` an argon2 ``PasswordHasher`` (tests use cheap parameters). ``areas_known(role)``:
    the codes that role's areas may name (:func:`store_areas`; ``None``: nothing to check
    against yet) — areas given that are not among them are refused on every write.
    """

    def __init__(
        self,
        location: str | Path,
        *,
        clock: Callable[[], datetime] | None = None,
        hasher: PasswordHasher | None = None,
        upgrade: bool = True,
        areas_known: Callable[[str], set[str] | None] | None = None,
    ):
        loc = str(location)
        self.location = loc
        self._areas_known = areas_known
        self._db = open_db(loc)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._hasher = hasher or PasswordHasher()  # argon2id
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()
        if upgrade:
            self.migrate()

    @property
    def dialect(self) -> str:
        return self._db.dialect

    # -------------------------------------------------------------------------- schema

    def schema_version(self) -> int:
        with self._db.transaction(write=False) as tx:
            return schema_version(tx, "accounts")

    def migrate(self, *, to: int | None = None) -> int:
        """Apply the migrations newer than the database, in order (up to ``to``); return the version."""
        with self._db.transaction(write=True) as tx:
            apply_pending(tx, "accounts", MIGRATIONS, to=to)
        return self.schema_version()

    # -------------------------------------------------------------------------- helpers

    def _now(self) -> str:
        return _utc(self._clock())

    def _hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def _dummy_hash(self) -> str:
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self._hasher.hash(secrets.token_hex(16))
            return self._dummy

    def _get(self, tx: Tx, name: str) -> Account | None:
        row = tx.one(f"SELECT {_USER_COLUMNS} FROM riskmap_users WHERE name = ?", (normalise_name(name),))
        return _account(row) if row else None

    def _require(self, tx: Tx, name: str) -> Account:
        acc = self._get(tx, name)
        if acc is None:
            msg = f"没有账户 {normalise_name(name)!r} / no account named {normalise_name(name)!r}"
            raise AccountError(msg)
        return acc

    def _audit(self, tx: Tx, user: str | None, action: str, target: str = "", detail: str = "",
               role: str | None = None) -> None:
        who = normalise_name(user) if user else NOBODY
        if role is None:
            found = self._get(tx, who) if who != NOBODY else None
            role = found.role if found else ""
        tx.run(
            "INSERT INTO riskmap_audit (at, name, role, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (self._now(), _clean(who, 64) or NOBODY, _clean(role, 16), _clean(action, 40),
             _clean(target, 200), _clean(detail, 1000)),
        )

    def _end_sessions(self, tx: Tx, name: str) -> None:
        tx.run("DELETE FROM riskmap_sessions WHERE name = ?", (name,))

    def _other_enabled_admins(self, tx: Tx, name: str) -> int:
        row = tx.one(
            "SELECT COUNT(*) FROM riskmap_users WHERE role = 'admin' AND disabled = 0 AND name <> ?", (name,)
        )
        return int(row[0]) if row else 0

    # -------------------------------------------------------------------------- accounts

    def is_empty(self) -> bool:
        with self._db.transaction(write=False) as tx:
            row = tx.one("SELECT COUNT(*) FROM riskmap_users")
            return not row or int(row[0]) == 0

    def get(self, name: str) -> Account | None:
        with self._db.transaction(write=False) as tx:
            return self._get(tx, name)

    def _unknown(self, role: str, areas: Iterable[str], known: dict[str, set[str] | None]) -> list[str]:
        """The ``areas`` the store does not have for ``role``; ``known`` keeps what was read, by role."""
        if not areas or self._areas_known is None or role not in AREA_ROLES:
            return []
        if role not in known:
            known[role] = self._areas_known(role)
        have = known[role]
        return [] if have is None else [c for c in areas if c not in have]

    def unknown_areas(self, accounts: Iterable[Account]) -> dict[str, list[str]]:
        """Account name → the areas it names that the store does not have (a neighbourhood or site
        removed since it was given): the check every write of areas makes, with the store read
        once per role. Empty while there is nothing to check against."""
        known: dict[str, set[str] | None] = {}
        return {a.name: missing for a in accounts if (missing := self._unknown(a.role, a.areas, known))}

    def _check_known(self, role: str, areas: tuple[str, ...]) -> None:
        """Refuse areas the store does not know for ``role`` (each named; nothing written)."""
        unknown = self._unknown(role, areas, {})
        if unknown:
            shown = "、".join(unknown[:10]) + ("…" if len(unknown) > 10 else "")
            what = ("社区编号或本市 6 位区县代码", "neighbourhood ids or 6-digit district codes of the city") if role == "grid" \
                else ("采样点编号", "testing-site ids")
            msg = (f"未知的负责范围：{shown}（应为{what[0]}）/ unknown areas: {', '.join(unknown[:10])}"
                   f"{' …' if len(unknown) > 10 else ''} (expected {what[1]})")
            raise AccountError(msg)

    def list(self) -> list[Account]:
        with self._db.transaction(write=False) as tx:
            return [_account(r) for r in tx.rows(f"SELECT {_USER_COLUMNS} FROM riskmap_users ORDER BY name")]

    def add(
        self,
        name: str,
        role: str,
        password: str | None,
        *,
        display_name: str = "",
        areas: str | Iterable[str] | None = None,
        by: str | None = None,
    ) -> Account:
        """Create an account. ``password=None`` makes a single-sign-on-only account (no password
        sign-in). Grid workers need their areas; other roles take none. Audited as ``account_add``."""
        n = check_name(name)
        check_role(role)
        area_t = parse_areas(areas)
        if role not in AREA_ROLES and area_t:
            msg = f"只有网格员和采样点人员有负责范围 / areas are for grid workers and site staff only, not for role {role!r}"
            raise AccountError(msg)
        self._check_known(role, area_t)
        if password is not None:
            check_password(password, n)
        pw_hash = self._hash(password) if password is not None else None
        now = self._now()
        with self._db.transaction(write=True) as tx:
            if self._get(tx, n) is not None:
                msg = f"账户 {n!r} 已存在 / account {n!r} exists already"
                raise AccountError(msg)
            tx.run(
                "INSERT INTO riskmap_users (name, role, display_name, password_hash, disabled, areas, "
                "created_at, changed_at, password_changed_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)",
                (n, role, _clean(display_name, 80), pw_hash, " ".join(area_t), now, now,
                 now if pw_hash else None),
            )
            self._audit(tx, by, "account_add", n, f"role={role}; areas={len(area_t)}; password={'yes' if pw_hash else 'no (sign-on only)'}")
            return self._require(tx, n)

    def set_disabled(self, name: str, disabled: bool, *, by: str | None = None) -> Account:
        """Disable (ends its sessions) or enable an account. Audited."""
        with self._db.transaction(write=True) as tx:
            acc = self._require(tx, name)
            if disabled and acc.role == "admin" and not acc.disabled and self._other_enabled_admins(tx, acc.name) == 0:
                msg = "不能停用最后一个启用的管理员 / the last enabled administrator cannot be disabled"
                raise AccountError(msg)
            tx.run(
                "UPDATE riskmap_users SET disabled = ?, changed_at = ?, failed_logins = 0, locked_until = NULL "
                "WHERE name = ?",
                (1 if disabled else 0, self._now(), acc.name),
            )
            # Disabling ends its sessions at once: every lookup checks the account, sees it disabled,
            # tells the person so ("your account was disabled or changed") and deletes the session.
            # Enabling deletes whatever is left, so no session from before outlives the pause.
            if not disabled:
                self._end_sessions(tx, acc.name)
            self._audit(tx, by, "account_disable" if disabled else "account_enable", acc.name)
            return self._require(tx, acc.name)

    def set_password(self, name: str, password: str, *, by: str | None = None) -> None:
        """Set a new password (ends the account's sessions, clears a lock). Audited."""
        n = normalise_name(name)
        check_password(password, n)
        pw_hash = self._hash(password)
        with self._db.transaction(write=True) as tx:
            acc = self._require(tx, n)
            now = self._now()
            tx.run(
                "UPDATE riskmap_users SET password_hash = ?, password_changed_at = ?, changed_at = ?, "
                "failed_logins = 0, locked_until = NULL WHERE name = ?",
                (pw_hash, now, now, acc.name),
            )
            self._end_sessions(tx, acc.name)
            self._audit(tx, by, "account_passwd", acc.name)

    def update(
        self,
        name: str,
        *,
        role: str | None = None,
        areas: str | Iterable[str] | None = None,
        display_name: str | None = None,
        by: str | None = None,
    ) -> Account:
        """Change role, areas or display name. A role or area change ends the account's sessions."""
        with self._db.transaction(write=True) as tx:
            acc = self._require(tx, name)
            new_role = check_role(role) if role is not None else acc.role
            new_areas = parse_areas(areas) if areas is not None else (acc.areas if new_role in AREA_ROLES else ())
            if new_role not in AREA_ROLES and new_areas:
                msg = f"只有网格员和采样点人员有负责范围 / areas are for grid workers and site staff only, not for role {new_role!r}"
                raise AccountError(msg)
            # areas kept from before are not checked again (a neighbourhood since removed stays listed)
            self._check_known(new_role, tuple(a for a in new_areas if new_role != acc.role or a not in acc.areas))
            if acc.role == "admin" and new_role != "admin" and not acc.disabled and self._other_enabled_admins(tx, acc.name) == 0:
                msg = "最后一个启用的管理员必须保留管理员角色 / the last enabled administrator must stay an administrator"
                raise AccountError(msg)
            new_display = _clean(display_name, 80) if display_name is not None else acc.display_name
            tx.run(
                "UPDATE riskmap_users SET role = ?, areas = ?, display_name = ?, changed_at = ? WHERE name = ?",
                (new_role, " ".join(new_areas), new_display, self._now(), acc.name),
            )
            if new_role != acc.role or new_areas != acc.areas:
                self._end_sessions(tx, acc.name)
            changes = []
            if new_role != acc.role:
                changes.append(f"role {acc.role}→{new_role}")
            if new_areas != acc.areas:
                changes.append(f"areas {len(acc.areas)}→{len(new_areas)}")
            if new_display != acc.display_name:
                changes.append("display name")
            self._audit(tx, by, "account_change", acc.name, "; ".join(changes) or "no change")
            return self._require(tx, acc.name)

    # -------------------------------------------------------------------------- sign-in

    def authenticate(self, name: str, password: str, *, client: str = "local") -> Account:
        """The account for a name and password, or :class:`LoginRefused` (the reason is audited by
        the caller). ``client`` is the address the attempt comes from: failures are throttled per
        (account, client) and per client, see :data:`FREE_FAILURES`."""
        n = normalise_name(name)
        keys = (f"acct\x1f{n}\x1f{client}", f"client\x1f{client}")
        now = self._clock()
        wait = self._throttle_wait(keys, now)
        if wait > 0:
            raise LoginRefused("throttled", retry_after=wait)
        with self._db.transaction(write=False) as tx:
            row = tx.one("SELECT password_hash, disabled FROM riskmap_users WHERE name = ?", (n,))
        if row is None:
            self._verify(self._dummy_hash(), password)  # the same cost as a real account
            self._count_failure(keys, now)
            raise LoginRefused("unknown")
        pw_hash, disabled = row
        if pw_hash is None:
            self._verify(self._dummy_hash(), password)
            self._count_failure(keys, now)
            raise LoginRefused("no_password")
        if not self._verify(pw_hash, password):
            self._count_failure(keys, now)  # committed before the refusal is raised
            raise LoginRefused("wrong_password")
        if disabled:
            raise LoginRefused("disabled")
        rehash = self._hash(password) if self._hasher.check_needs_rehash(pw_hash) else None
        with self._db.transaction(write=True) as tx:
            tx.run("DELETE FROM riskmap_login_throttle WHERE key = ?", (keys[0],))
            if rehash:
                tx.run("UPDATE riskmap_users SET password_hash = ? WHERE name = ? AND password_hash = ?", (rehash, n, pw_hash))
            return self._require(tx, n)

    def _throttle_wait(self, keys: Sequence[str], now: datetime) -> int:
        """Seconds until another attempt is accepted for these keys (0: now)."""
        wait = 0.0
        with self._db.transaction(write=False) as tx:
            for key in keys:
                row = tx.one("SELECT failures, last_at FROM riskmap_login_throttle WHERE key = ?", (key,))
                if row is None:
                    continue
                last = _parse(row[1])
                if last is None or now - last > THROTTLE_WINDOW:
                    continue
                delay = throttle_delay(int(row[0]))
                wait = max(wait, delay - (now - last).total_seconds())
        return int(math.ceil(wait)) if wait > 0 else 0

    def _count_failure(self, keys: Sequence[str], now: datetime) -> None:
        stamp = _utc(now)
        with self._db.transaction(write=True) as tx:
            for key in keys:
                row = tx.one("SELECT failures, last_at FROM riskmap_login_throttle WHERE key = ?", (key,))
                last = _parse(row[1]) if row else None
                count = 1 if row is None or last is None or now - last > THROTTLE_WINDOW else int(row[0]) + 1
                if row is None:
                    tx.run("INSERT INTO riskmap_login_throttle (key, failures, last_at) VALUES (?, ?, ?)", (key, count, stamp))
                else:
                    tx.run("UPDATE riskmap_login_throttle SET failures = ?, last_at = ? WHERE key = ?", (count, stamp, key))

    def _verify(self, pw_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(pw_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    # -------------------------------------------------------------------------- sessions

    def open_session(self, account: Account) -> str:
        """Start a browser session for a signed-in account; return its random token (for the cookie)."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self._db.transaction(write=True) as tx:
            tx.run(
                "INSERT INTO riskmap_sessions (token_hash, name, role, created_at, last_seen) VALUES (?, ?, ?, ?, ?)",
                (_token_hash(token), account.name, account.role, now, now),
            )
        return token

    def session_account(self, token: str | None, *, idle: timedelta, absolute: timedelta) -> SessionCheck:
        """Check a session token against the database: the account, or no account and the reason
        ``none`` (no such session), ``idle``/``absolute`` (expired), ``disabled``, ``role_changed``
        or ``gone`` (account removed); the session is deleted for all but ``none``. Marks the
        session as seen (at most once a minute)."""
        if not token:
            return SessionCheck(None, "none", "")
        h = _token_hash(token)
        now = self._clock()
        with self._db.transaction(write=False) as tx:
            row = tx.one("SELECT name, role, created_at, last_seen FROM riskmap_sessions WHERE token_hash = ?", (h,))
            if row is None:
                return SessionCheck(None, "none", "")
            name, role, created, seen = row
            acc = self._get(tx, name)
        created_t, seen_t = _parse(created), _parse(seen)
        reason = "ok"
        if acc is None:
            reason = "gone"
        elif acc.disabled:
            reason = "disabled"
        elif acc.role != role:
            reason = "role_changed"
        elif created_t is None or now - created_t > absolute:
            reason = "absolute"
        elif seen_t is None or now - seen_t > idle:
            reason = "idle"
        if reason != "ok":
            with self._db.transaction(write=True) as tx:
                tx.run("DELETE FROM riskmap_sessions WHERE token_hash = ?", (h,))
            return SessionCheck(None, reason, name)
        # written at most once a minute, and at most every 1/60 of the idle limit, so that a
        # session in use is never ended early by a last_seen that lags behind its use
        if seen_t is None or (now - seen_t).total_seconds() >= min(TOUCH_SECONDS, idle.total_seconds() / 60):
            with self._db.transaction(write=True) as tx:
                tx.run("UPDATE riskmap_sessions SET last_seen = ? WHERE token_hash = ?", (_utc(now), h))
        return SessionCheck(acc, "ok", name)

    def close_session(self, token: str | None) -> None:
        if not token:
            return
        with self._db.transaction(write=True) as tx:
            tx.run("DELETE FROM riskmap_sessions WHERE token_hash = ?", (_token_hash(token),))

    def purge_sessions(self, *, absolute: timedelta) -> int:
        """Delete sessions older than ``absolute``; return how many."""
        cutoff = _utc(self._clock() - absolute)
        with self._db.transaction(write=True) as tx:
            return tx.run("DELETE FROM riskmap_sessions WHERE created_at < ?", (cutoff,))

    # -------------------------------------------------------------------------- audit

    def record(self, user: str | None, action: str, target: str = "", detail: str = "", *, role: str | None = None) -> None:
        """Append one audit entry (``role`` looked up from the account when not given)."""
        with self._db.transaction(write=True) as tx:
            self._audit(tx, user, action, target, detail, role)

    def audit_log(
        self,
        *,
        user: str | None = None,
        actions: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 10_000,
    ) -> pd.DataFrame:
        """Audit entries, newest first, filtered by account name, actions and an aware time range
        ``[since, until)``. Columns: id, at (UTC, aware), name, role, action, target, detail."""
        where, params = [], []
        if user:
            where.append("name = ?")
            params.append(normalise_name(user))
        if actions:
            where.append("action IN (" + ", ".join("?" for _ in actions) + ")")
            params.extend(actions)
        if since is not None:
            where.append("at >= ?")
            params.append(_utc(since))
        if until is not None:
            where.append("at < ?")
            params.append(_utc(until))
        sql = "SELECT id, at, name, role, action, target, detail FROM riskmap_audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._db.transaction(write=False) as tx:
            rows = tx.rows(sql, params)
        frame = pd.DataFrame(rows, columns=["id", "at", "name", "role", "action", "target", "detail"])
        frame["id"] = frame["id"].astype("int64")
        frame["at"] = pd.to_datetime(frame["at"], format="%Y-%m-%dT%H:%M:%S.%fZ", utc=True)
        return frame

    def audit_actions(self) -> list[str]:
        with self._db.transaction(write=False) as tx:
            return [r[0] for r in tx.rows("SELECT DISTINCT action FROM riskmap_audit ORDER BY action")]

    # -------------------------------------------------------------------------- first run

    def bootstrap(self, *, demo: bool, grid_areas: Sequence[str] = (), site_areas: Sequence[str] = ()) -> list[tuple[str, str, str]]:
        """When there is no account yet: create ``admin`` (and, for a demo store, ``command``,
        ``planner``, ``grid`` and — given ``site_areas`` — ``site``) with random passwords.
        Returns ``(name, role, password)`` for each account created — show them once; they are
        stored only as hashes."""
        if not self.is_empty():
            return []
        wanted = [("admin", "admin", "管理员 Administrator", ())]
        if demo:
            wanted += [
                ("command", "command", "指挥中心（演示） Command (demo)", ()),
                ("planner", "planner", "规划人员（演示） Planner (demo)", ()),
                ("grid", "grid", "网格员（演示） Grid worker (demo)", tuple(grid_areas)),
            ]
            if site_areas:
                wanted.append(("site", "site", "采样点人员（演示） Sampling-site staff (demo)", tuple(site_areas)))
        created = []
        for name, role, display, areas in wanted:
            password = new_password()
            try:
                self.add(name, role, password, display_name=display, areas=areas, by="riskmap")
            except AccountError:
                if self.get(name) is None:  # not a concurrent bootstrap: a real problem
                    raise
                continue
            created.append((name, role, password))
        return created


def write_initial_accounts(path: Path, created: Sequence[tuple[str, str, str]], *, note: str = "") -> Path:
    """Write the first accounts and their passwords to ``path`` (mode 0600, replaced if present)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# riskmap 初始账户 / initial accounts — 请登录后修改密码，并删除本文件",
        "# sign in, change these passwords (riskmap user passwd NAME), then delete this file",
    ]
    if note:
        lines.append(f"# {note}")
    lines += [f"{name}\t{role}\t{password}" for name, role, password in created]
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def account_for_identity(accounts: Accounts, claims: Mapping[str, object], *, claim: str = "email") -> tuple[Account | None, str]:
    """Map a single-sign-on identity (the ID token's claims, as ``st.user`` gives them) to an
    account: the account named by the claim ``claim`` (lower-cased). Returns ``(account, "ok")``
    or ``(None, reason)`` with reason ``no_claim``, ``unknown`` or ``disabled``."""
    value = claims.get(claim) if hasattr(claims, "get") else None
    if value is None or not str(value).strip():
        return None, "no_claim"
    name = normalise_name(str(value))
    if not _NAME.match(name):
        return None, "unknown"
    acc = accounts.get(name)
    if acc is None:
        return None, "unknown"
    if acc.disabled:
        return None, "disabled"
    return acc, "ok"
