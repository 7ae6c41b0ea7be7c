"""Versioned records: save with the version it was based on, who and why; history; restore.

A record is a small set of fields (JSON) under ``(kind, key)`` — a follow-up outcome state per
obligation (``kind="followup"``, key ``"<traveller id>|<obligation kind>"``), and so on. Every
save is a new version: the previous value stays in the history, nothing is overwritten or
deleted. Kept in the store's SQL side (:mod:`layers.store.sql`: ``<store>.accounts.sqlite`` beside a
GeoPackage, the same database for PostGIS), whose writes are transactions of a few rows — a
save takes milliseconds whatever the size of the map layers.

Optimistic concurrency: a save names the version it was based on (``0`` for a record that does
not exist yet). When someone saved the record since, the save is refused with
:class:`geo.errors.StaleWrite` — "已被 X 于 T 记录，请重新加载 / recorded by X at T — reload" —
with ``by`` and ``at`` on the exception. The check and the write are one transaction
(``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL), so of two people saving from
the same version exactly one wins, on either backend.

``scope`` is what lists are filtered by (for follow-up: the neighbourhood now responsible) and
is indexed, so a grid worker's list reads only their records. :meth:`Records.version` changes
with every save (cache keys).

Times are Asia/Shanghai local time with the offset (``2022-03-28T09:15:00+08:00``).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from geo.errors import StaleWrite
from layers.store.sql import PostgresDb, SqliteDb, Tx, apply_pending, component_migrations, open_db

__all__ = ["Record", "Records", "local_stamp", "records_for", "sql_location", "stale_write"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIGRATIONS = component_migrations("records")
_COLUMNS = "kind, record_key, version, scope, action, data, saved_by, saved_at"


@dataclass(frozen=True)
class Record:
    kind: str
    key: str
    version: int
    scope: str
    action: str
    data: Mapping[str, Any] = field(default_factory=dict)
    saved_by: str = ""
    saved_at: str = ""


def _record(row: tuple) -> Record:
    kind, key, version, scope, action, data, by, at = row
    return Record(str(kind), str(key), int(version), str(scope), str(action), json.loads(data), str(by), str(at))


def _text(data: Mapping[str, Any]) -> str:
    """A record's fields as stored: JSON, keys sorted, Chinese kept as is."""
    return json.dumps(dict(data), ensure_ascii=False, sort_keys=True, default=str)


def local_stamp(now: dt.datetime | None = None) -> str:
    """``now`` (default: the present) as Asia/Shanghai local time to the second, with its offset
    (``2022-03-28T09:15:00+08:00``); a naive time is taken as local. Every saved version is
    stamped this way (records and zone versions)."""
    t = now or dt.datetime.now(SHANGHAI)
    if t.tzinfo is None:
        t = t.replace(tzinfo=SHANGHAI)
    return t.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


def stale_write(current: Record) -> StaleWrite:
    """The refusal of a save based on an older version than ``current``."""
    t = current.saved_at.replace("T", " ")[:16]
    msg = f"已被 {current.saved_by} 于 {t} 记录，请重新加载 / recorded by {current.saved_by} at {t} — reload"
    exc = StaleWrite(msg)
    exc.by, exc.at = current.saved_by, current.saved_at  # type: ignore[attr-defined]
    return exc


class Records:
    """The versioned records of one store (see the module docstring)."""

    def __init__(self, location: str | Path):
        self._db: SqliteDb | PostgresDb = open_db(location)
        with self._db.transaction(write=True) as tx:
            apply_pending(tx, "records", MIGRATIONS)

    @property
    def location(self) -> str:
        return self._db.location

    @staticmethod
    def _add_version(tx: Tx, r: Record, text: str) -> int:
        """Write one version of a record (``text``: its fields as stored); returns its sequence number."""
        tx.run(
            "INSERT INTO riskmap_record_versions (kind, record_key, version, scope, action, data, saved_by, saved_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (r.kind, r.key, r.version, r.scope, r.action, text, r.saved_by, r.saved_at),
        )
        seq = tx.one("SELECT MAX(seq) FROM riskmap_record_versions")
        return int(seq[0]) if seq else 0

    @staticmethod
    def _add_head(tx: Tx, r: Record, seq: int, text: str) -> None:
        """Make ``r`` the current version of a record that has none yet."""
        tx.run(
            f"INSERT INTO riskmap_records ({_COLUMNS}, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (r.kind, r.key, r.version, r.scope, r.action, text, r.saved_by, r.saved_at, seq),
        )

    @staticmethod
    def _has(tx: Tx, kind: str) -> bool:
        return tx.one("SELECT 1 FROM riskmap_records WHERE kind = ? LIMIT 1", (kind,)) is not None

    def has(self, kind: str) -> bool:
        """Whether any record of ``kind`` exists (one indexed look-up, no record read)."""
        with self._db.transaction(write=False) as tx:
            return self._has(tx, kind)

    @staticmethod
    def _head(tx: Tx, kind: str, key: str) -> Record | None:
        row = tx.one(f"SELECT {_COLUMNS} FROM riskmap_records WHERE kind = ? AND record_key = ?", (kind, key))
        return _record(row) if row else None

    def save(
        self,
        kind: str,
        key: str,
        data: Mapping[str, Any],
        *,
        based_on: int,
        user: str,
        action: str,
        scope: str = "",
        now: dt.datetime | None = None,
    ) -> Record:
        """Save ``data`` as the next version of ``(kind, key)`` and return it.

        ``based_on``: the version the caller read (0: the record must not exist yet).
        Raises :class:`StaleWrite` when the record was saved since; ``ValueError`` for a
        ``based_on`` newer than the stored version, a missing user or action.
        """
        return self.save_many([(kind, key, data, based_on, scope)], user=user, action=action, now=now)[0]

    def save_many(
        self,
        items: Iterable[tuple[str, str, Mapping[str, Any], int, str]],
        *,
        user: str,
        action: str,
        now: dt.datetime | None = None,
        check: Callable[[Callable[[str], list[Record]]], None] | None = None,
    ) -> list[Record]:
        """Save several records in one transaction: all or none (a bulk import).
        ``items``: ``(kind, key, data, based_on, scope)``.

        ``check``: a rule over all records as they would be after the save (e.g. no hotel holds
        more people than it has rooms), run inside the transaction after the writes with a
        function giving the current records of a kind; raising rolls everything back, so of two
        concurrent saves that each fit alone but not together, the second is refused."""
        if not user or not action:
            msg = "a save needs who saves it and what it is"
            raise ValueError(msg)
        at = local_stamp(now)
        out = []
        with self._db.transaction(write=True) as tx:
            for kind, key, data, based_on, scope in items:
                current = self._head(tx, kind, key)
                stored = current.version if current else 0
                if int(based_on) > stored:
                    msg = f"{kind} {key}: version {based_on} does not exist (stored: {stored})"
                    raise ValueError(msg)
                if int(based_on) < stored:
                    assert current is not None
                    raise stale_write(current)
                text = _text(data)
                rec = Record(kind, key, stored + 1, scope, action, json.loads(text), user, at)
                seq = self._add_version(tx, rec, text)
                if current is None:
                    self._add_head(tx, rec, seq, text)
                else:
                    tx.run(
                        "UPDATE riskmap_records SET version = ?, scope = ?, action = ?, data = ?, saved_by = ?,"
                        " saved_at = ?, seq = ? WHERE kind = ? AND record_key = ?",
                        (rec.version, scope, action, text, user, at, seq, kind, key),
                    )
                out.append(rec)
            if check is not None:
                check(lambda kind: [_record(r) for r in tx.rows(
                    f"SELECT {_COLUMNS} FROM riskmap_records WHERE kind = ? ORDER BY record_key", (kind,))])
        return out

    def get(self, kind: str, key: str) -> Record | None:
        with self._db.transaction(write=False) as tx:
            return self._head(tx, kind, key)

    def current(self, kind: str, *, scopes: Iterable[str] | None = None) -> list[Record]:
        """The newest version of every record of ``kind`` (only those in ``scopes`` when given)."""
        sql = f"SELECT {_COLUMNS} FROM riskmap_records WHERE kind = ?"
        params: list[object] = [kind]
        if scopes is not None:
            wanted = sorted(set(scopes))
            if not wanted:
                return []
            sql += f" AND scope IN ({', '.join('?' * len(wanted))})"
            params += wanted
        with self._db.transaction(write=False) as tx:
            return [_record(r) for r in tx.rows(sql + " ORDER BY record_key", params)]

    def history(self, kind: str, key: str) -> list[Record]:
        """Every version of a record, oldest first ([] when there is none)."""
        with self._db.transaction(write=False) as tx:
            rows = tx.rows(
                f"SELECT {_COLUMNS} FROM riskmap_record_versions WHERE kind = ? AND record_key = ? ORDER BY version",
                (kind, key),
            )
        return [_record(r) for r in rows]

    def histories(self, kind: str) -> list[Record]:
        """Every version of every record of ``kind``, by key then version."""
        with self._db.transaction(write=False) as tx:
            rows = tx.rows(
                f"SELECT {_COLUMNS} FROM riskmap_record_versions WHERE kind = ? ORDER BY record_key, version", (kind,)
            )
        return [_record(r) for r in rows]

    def adopt(self, kind: str, versions: Iterable[Record]) -> int:
        """Take in records of ``kind`` kept in a previous layout, versions as they were (who, when,
        action): in one transaction, and only while the store holds no record of ``kind`` — of two
        processes upgrading at once, one writes and the other finds them written. ``versions`` of
        one key must be numbered 1, 2, … in order. Returns how many versions were written (0 when
        the kind was there already)."""
        items = sorted(versions, key=lambda r: (r.key, r.version))
        with self._db.transaction(write=True) as tx:
            if self._has(tx, kind):
                return 0
            heads: dict[str, tuple[Record, int]] = {}
            for r in items:
                expected = heads[r.key][0].version + 1 if r.key in heads else 1
                if r.kind != kind or r.version != expected:
                    msg = f"{kind} {r.key}: version {r.version} out of order (expected {expected})"
                    raise ValueError(msg)
                heads[r.key] = (r, self._add_version(tx, r, _text(r.data)))
            for r, seq in heads.values():
                self._add_head(tx, r, seq, _text(r.data))
        return len(items)

    def restore(self, kind: str, key: str, version: int, *, based_on: int, user: str) -> Record:
        """Save an earlier version's fields again as the newest version (action ``restore vN``)."""
        old = [r for r in self.history(kind, key) if r.version == int(version)]
        if not old:
            msg = f"{kind} {key} has no version {version}"
            raise ValueError(msg)
        return self.save(kind, key, old[0].data, based_on=based_on, user=user, action=f"restore v{int(version)}",
                         scope=old[0].scope)

    def version(self) -> int:
        """A number that grows with every save (for cache keys)."""
        with self._db.transaction(write=False) as tx:
            row = tx.one("SELECT MAX(seq) FROM riskmap_record_versions")
        return int(row[0] or 0) if row else 0


def sql_location(store: str, *, root: Path | None = None) -> str:
    """Where a store keeps its SQL side: the same ``postgresql://`` URL, or
    ``<store stem>.accounts.sqlite`` beside a GeoPackage store."""
    from layers.store.locations import is_url

    if is_url(store):
        return store
    p = Path(store)
    if not p.is_absolute() and root is not None:
        p = root / p
    return str(p.with_name(p.stem + ".accounts.sqlite"))


_open: dict[str, Records] = {}
_lock = threading.Lock()


def records_for(store: str, *, root: Path | None = None) -> Records:
    """The :class:`Records` of a store location, opened (and migrated) once per process."""
    location = sql_location(str(store), root=root)
    with _lock:
        if location not in _open:
            _open[location] = Records(location)
        return _open[location]
