#!/usr/bin/env bash
# Runs every test: starts the local services (Kafka, Redis, PostgreSQL, schema registry), then the unit
# tests and the integration tests in one `node --test` run, one file at a time.
#
#   bash scripts/test.sh                    # everything
#   bash scripts/test.sh test/unit          # only files under these paths (services still started)
#   WEIR_SKIP_SERVICES=1 bash scripts/test.sh test/unit   # unit tests, no services
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Node 24 runs our .ts files; inside npm scripts `node` already is it, from a shell it may not be.
NODE=node
if [[ -x node_modules/.bin/node ]]; then NODE="$PWD/node_modules/.bin/node"; fi
major="$("$NODE" -p 'process.versions.node.split(".")[0]')"
if ((major < 24)); then
  echo "[test] Node $major found; Weir needs Node 24 (npm install brings it as a devDependency)" >&2
  exit 1
fi

if [[ -z "${WEIR_SKIP_SERVICES:-}" ]]; then
  if ! bash scripts/services.sh up; then
    echo "[test] WARNING: services did not all start; integration tests that need them will fail" >&2
  fi
fi

patterns=()
if [[ $# -gt 0 ]]; then
  for p in "$@"; do
    if [[ -d "$p" ]]; then patterns+=("${p%/}/**/*.test.ts"); else patterns+=("$p"); fi
  done
else
  patterns=('test/unit/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/conformance/**/*.test.ts')
fi

# In CI the schema registry is part of the suite: its tests fail (not skip) when it is not up.
if [[ -n "${CI:-}" ]]; then export WEIR_REQUIRE_REGISTRY="${WEIR_REQUIRE_REGISTRY:-1}"; fi

# test/exit-guard.mjs ends a file that still holds its event loop 10 s after its last test (instead of
# --test-force-exit, which can drop test verdicts: nodejs/node#64833); --test-timeout bounds each test.
# The slowest-files reporter prints the 15 slowest files at the end, on stderr.
exec "$NODE" --test --test-concurrency=1 --test-timeout=120000 --import ./test/exit-guard.mjs \
  --test-reporter=./scripts/slowest-files.mjs --test-reporter-destination=stderr \
  --test-reporter=spec --test-reporter-destination=stdout "${patterns[@]}"
