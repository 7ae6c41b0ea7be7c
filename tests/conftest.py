"""Shared fixtures. The project root is importable without installation.

PostGIS fixtures
----------------
``postgis_url`` (session) and ``postgis_db`` (per test) give tests a PostgreSQL database with the
PostGIS extension, on a throw-away cluster this test run starts and stops itself:

* the cluster is created (``initdb``) in a new temporary directory, listens on 127.0.0.1 on a free
  port only (its unix socket also lives in that directory), trusts local connections, and runs
  with ``fsync=off`` (durability of the server is not what the tests check; a crashed client is);
* as root the server runs as the ``postgres`` OS user (``runuser``), which owns the directory;
* the server binaries are Debian's newest ``/usr/lib/postgresql/<major>/bin``, or the directory
  named by ``RISKMAP_TEST_PG_BIN``;
* it is started only when a test asks for it, stopped (fast, else immediate) and its directory
  deleted at the end of the session; a watchdog process stops it too if the test run dies
  without cleaning up (or after ``RISKMAP_TEST_PG_MAX_SECONDS``, default 3 hours).

Without PostgreSQL server binaries or the PostGIS extension files, the tests that use these
fixtures are *skipped* with the reason (listed in the summary: pytest runs with ``-ra``); with
``REQUIRE_POSTGIS=1`` (set by ``make test``, which installs both) they fail instead, so
a broken setup is never mistaken for a pass.
"""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------------------------
# PostGIS: a throw-away cluster on loopback

_SUPERUSER = "postgres"
_TEMPLATE = "riskmap_template"  # PostGIS installed; per-test databases are copies of it


def _server_bin() -> Path | None:
    """The PostgreSQL server ``bin`` directory: ``RISKMAP_TEST_PG_BIN`` if set (another layout),
    else the newest Debian one with ``initdb``, if any."""
    if os.environ.get("RISKMAP_TEST_PG_BIN"):
        given = Path(os.environ["RISKMAP_TEST_PG_BIN"])
        return given if (given / "initdb").is_file() else None
    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").is_file()]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _postgis_unavailable(bin_dir: Path | None) -> str | None:
    """Why PostGIS tests cannot run here, or None when they can."""
    if bin_dir is None:
        return "no PostgreSQL server binaries (initdb); run `bash scripts/ensure-postgis.sh`"
    try:
        share = subprocess.run(
            [str(bin_dir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        share = f"/usr/share/postgresql/{bin_dir.parent.name}"
    if not (Path(share) / "extension" / "postgis.control").is_file():
        major = bin_dir.parent.name
        package = f"postgresql-{major}-postgis-3" if major.isdigit() else "postgresql-<major>-postgis-3"
        return (
            f"the PostGIS extension is not installed for the PostgreSQL server in {bin_dir} "
            f"(Debian: package {package}; run `bash scripts/ensure-postgis.sh`)"
        )
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' OS user to run the server"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Cluster:
    """One throw-away PostgreSQL cluster in ``base`` (see the module docstring)."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.base = Path(tempfile.mkdtemp(prefix="riskmap-pg-"))
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.log = self.base / "server.log"
        self.port = 0
        self.watchdog: subprocess.Popen | None = None
        self.as_user: list[str] = []
        self.sock.mkdir()
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam("postgres")
            for p in (self.base, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        os.chmod(self.base, 0o700)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=timeout, cwd=self.base, check=False
        )

    def _pg_ctl(self, *args: str) -> list[str]:
        return [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), *args]

    def start(self) -> None:
        r = self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", _SUPERUSER, "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )
        if r.returncode != 0:
            msg = f"initdb failed: {r.stderr.strip()[-2000:]}"
            raise RuntimeError(msg)
        self._start_watchdog()
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={shlex.quote(str(self.sock))}",
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "-c max_connections=60",
            ]
        )
        for _attempt in range(3):  # a free port may be taken between the probe and the start
            self.port = _free_port()
            r = subprocess.run(
                [*self._pg_ctl("-l", str(self.log), "-w", "-t", "60", "-o", f"{options} -c port={self.port}"), "start"],
                capture_output=True, text=True, timeout=90, check=False,
            )
            if r.returncode == 0:
                return
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else r.stderr
        msg = f"the test PostgreSQL server did not start: {tail.strip()}"
        raise RuntimeError(msg)

    def _start_watchdog(self) -> None:
        """A separate process that stops the server and deletes the directory if this test run
        ends without doing so (killed), or after the time limit."""
        limit = int(os.environ.get("RISKMAP_TEST_PG_MAX_SECONDS", str(3 * 3600)))
        script = (
            'parent=$1; limit=$2; base=$3; shift 3; end=$(( $(date +%s) + limit )); '
            'while [ -d "/proc/$parent" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 1; done; '
            '"$@" >/dev/null 2>&1; rm -rf "$base"'
        )
        self.watchdog = subprocess.Popen(
            ["sh", "-c", script, "watchdog", str(os.getpid()), str(limit), str(self.base),
             *self._pg_ctl("-m", "immediate", "-w", "-t", "30", "stop")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.watchdog is not None and self.watchdog.poll() is None:
            self.watchdog.kill()
            self.watchdog.wait()
        if (self.data / "postmaster.pid").exists():
            r = subprocess.run([*self._pg_ctl("-m", "fast", "-w", "-t", "20"), "stop"], capture_output=True, timeout=60, check=False)
            if r.returncode != 0:
                subprocess.run([*self._pg_ctl("-m", "immediate", "-w", "-t", "20"), "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def execute(self, statement: str, *, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=10) as con:
            con.execute(statement)


_db_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def _postgis_cluster() -> Iterator[_Cluster]:
    bin_dir = _server_bin()
    reason = _postgis_unavailable(bin_dir)
    if reason is not None:
        if os.environ.get("REQUIRE_POSTGIS") == "1":
            pytest.fail(f"PostGIS required (REQUIRE_POSTGIS=1) but not available: {reason}")
        pytest.skip(f"PostGIS not available: {reason}")
    assert bin_dir is not None
    cluster = _Cluster(bin_dir)
    try:
        cluster.start()
        cluster.execute(f"CREATE DATABASE {_TEMPLATE}")
        cluster.execute("CREATE EXTENSION postgis", database=_TEMPLATE)
        cluster.execute(f"ALTER DATABASE {_TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgis_url(_postgis_cluster: _Cluster) -> str:
    """URL of a PostgreSQL database with PostGIS, shared by the whole test session.

    ``postgresql://postgres@127.0.0.1:<port>/riskmap_test`` on the throw-away cluster described in
    this module's docstring; the connecting role is the cluster's superuser (trust auth, loopback
    only). State written by one test is seen by the next: use :func:`postgis_db` when a test
    needs an empty database. Skips (with the reason) when PostGIS is not available.
    """
    _postgis_cluster.execute(f"CREATE DATABASE riskmap_test TEMPLATE {_TEMPLATE}")
    return _postgis_cluster.url("riskmap_test")


@pytest.fixture
def postgis_db(_postgis_cluster: _Cluster) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database with PostGIS for this test only.

    A copy of a template database that holds nothing but the PostGIS extension (no riskmap
    tables: the store's migrations run when the store is first opened). Dropped after the test,
    even if connections are still open. Skips (with the reason) when PostGIS is not available.
    """
    name = f"riskmap_t{next(_db_numbers)}_{os.getpid()}"
    _postgis_cluster.execute(f"CREATE DATABASE {name} TEMPLATE {_TEMPLATE}")
    try:
        yield _postgis_cluster.url(name)
    finally:
        _postgis_cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")



_schema_numbers = itertools.count(1)


@pytest.fixture
def postgis_schema(postgis_url: str) -> str:
    """URL of the shared test database with the search path set to a new, empty schema of this
    test's own (for the SQL side — accounts, records — which needs no PostGIS tables)."""
    import psycopg

    schema = f"t{next(_schema_numbers)}_{os.getpid()}"
    with psycopg.connect(postgis_url, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    return f"{postgis_url}?options=-csearch_path%3D{schema}"
