#!/usr/bin/env bash
# Makes `CREATE EXTENSION vector` work in this machine's PostgreSQL (the MillionX embedding service's
# vector store). Debian bookworm has no pgvector binary package for PostgreSQL 15, so this builds
# Debian's own source package (trixie's pgvector) against postgresql-server-dev-<version>.
#
#   bash scripts/pgvector.sh          install if missing (idempotent: exits at once when installed)
#   bash scripts/pgvector.sh check    exit 0 when the extension files are installed, 1 otherwise
#
# The trixie source is fetched through a private apt configuration in a temporary directory: the
# system's apt sources, lists and caches are not touched. Needs root and apt-get (as the services
# script's PostgreSQL install does); ~20 s of compiling.
#
# Environment: PG_VERSION (default: the newest cluster under /etc/postgresql), PGVECTOR_SUITE (trixie),
# PGVECTOR_MIRROR (http://deb.debian.org/debian).
set -euo pipefail

PGVECTOR_SUITE="${PGVECTOR_SUITE:-trixie}"
PGVECTOR_MIRROR="${PGVECTOR_MIRROR:-http://deb.debian.org/debian}"

say() { printf '[pgvector] %s\n' "$*"; }
die() {
  printf '[pgvector] ERROR: %s\n' "$*" >&2
  exit 1
}

if [[ -z "${PG_VERSION:-}" ]]; then
  PG_VERSION="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)"
fi
[[ -n "$PG_VERSION" ]] || die "no PostgreSQL cluster under /etc/postgresql (install postgresql first, or set PG_VERSION)"

CONTROL="/usr/share/postgresql/$PG_VERSION/extension/vector.control"
MODULE="/usr/lib/postgresql/$PG_VERSION/lib/vector.so"
installed() { [[ -f "$CONTROL" && -f "$MODULE" ]]; }

if [[ "${1:-install}" == check ]]; then
  installed
  exit
fi

if installed; then
  say "pgvector is installed for PostgreSQL $PG_VERSION ($(sed -n "s/^default_version = '\(.*\)'/\1/p" "$CONTROL"))"
  exit 0
fi

[[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1 ||
  die "pgvector is missing for PostgreSQL $PG_VERSION and this is not root with apt-get; install pgvector (https://github.com/pgvector/pgvector#installation) or run this script as root"

started=$SECONDS
say "building pgvector for PostgreSQL $PG_VERSION from Debian $PGVECTOR_SUITE's source package"
if ! dpkg -s "postgresql-server-dev-$PG_VERSION" make gcc dpkg-dev >/dev/null 2>&1; then
  say "installing postgresql-server-dev-$PG_VERSION, make, gcc, dpkg-dev"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-server-dev-$PG_VERSION" make gcc dpkg-dev >/dev/null
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/lists/partial" "$TMP/cache/archives/partial" "$TMP/parts" "$TMP/build"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $PGVECTOR_MIRROR $PGVECTOR_SUITE main" >"$TMP/sources.list"
APT=(apt-get -q
  -o "Dir::Etc::SourceList=$TMP/sources.list"
  -o "Dir::Etc::SourceParts=$TMP/parts"
  -o "Dir::State::Lists=$TMP/lists"
  -o "Dir::Cache=$TMP/cache"
  -o "APT::Sandbox::User=root")
"${APT[@]}" update >"$TMP/apt.log" 2>&1 || {
  cat "$TMP/apt.log" >&2
  die "apt-get update for $PGVECTOR_SUITE's sources failed"
}
(cd "$TMP/build" && "${APT[@]}" source pgvector >>"$TMP/apt.log" 2>&1) || {
  cat "$TMP/apt.log" >&2
  die "apt-get source pgvector ($PGVECTOR_SUITE) failed"
}
SRC="$(find "$TMP/build" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)"
[[ -n "$SRC" ]] || die "no pgvector-* directory after apt-get source"

PG_CONFIG="/usr/lib/postgresql/$PG_VERSION/bin/pg_config"
[[ -x "$PG_CONFIG" ]] || die "$PG_CONFIG not found (postgresql-server-dev-$PG_VERSION)"
# OPTFLAGS="" : no -march=native, so the build runs on any x86-64 this image is copied to.
make -s -C "$SRC" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" -j"$(nproc)" >"$TMP/make.log" 2>&1 || {
  tail -n 40 "$TMP/make.log" >&2
  die "building pgvector failed"
}
make -s -C "$SRC" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" install >>"$TMP/make.log" 2>&1 || {
  tail -n 40 "$TMP/make.log" >&2
  die "installing pgvector failed"
}
installed || die "pgvector built but $CONTROL or $MODULE is missing"
say "pgvector $(basename "$SRC" | sed 's/^pgvector-//') installed for PostgreSQL $PG_VERSION in $((SECONDS - started)) s"
