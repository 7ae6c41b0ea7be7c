#!/usr/bin/env bash
# Installs what the PostGIS store tests need from Debian's packages when it is absent:
# the PostgreSQL server binaries and the PostGIS extension for that server's major version.
#
# Idempotent and quick when everything is present. It never leaves a server running: the tests
# start their own throw-away cluster on a free loopback port (tests/conftest.py), and if
# installing the packages started Debian's default cluster, that cluster is stopped again.
set -euo pipefail

server_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
major_of() { basename "$(dirname "$1")"; }
online_clusters() { pg_lsclusters -h 2>/dev/null | awk '$4 == "online" {print $1 "/" $2}' || true; }

bin="$(server_bin)"
postgis_present() {
  [ -n "$bin" ] && [ -x "$bin/initdb" ] && [ -f "/usr/share/postgresql/$(major_of "$bin")/extension/postgis.control" ]
}
postgis_present && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "error: need root (or sudo) to install PostgreSQL and PostGIS — run:" >&2
  echo "  apt-get install -y --no-install-recommends postgresql postgresql-15-postgis-3" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
before="$(online_clusters)"
updated=""
apt_install() {
  echo "installing system packages: $*"
  if [ -z "$updated" ]; then $SUDO apt-get update -qq; updated=1; fi
  $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  apt_install postgresql
  bin="$(server_bin)"
fi
major="$(major_of "$bin")"
if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
  apt_install "postgresql-$major-postgis-3"
fi

# Debian's postinst may have started its default cluster: stop what was not running before.
for c in $(online_clusters); do
  if ! grep -qx "$c" <<<"$before"; then
    echo "stopping the cluster the package started: $c (the tests use their own)"
    $SUDO pg_ctlcluster "${c%/*}" "${c#*/}" stop || true
  fi
done
postgis_present || { echo "error: PostGIS is still not available for PostgreSQL $major" >&2; exit 1; }
