#!/usr/bin/env bash
# Runs every test: the unit tests while the local services start (Kafka, Redis, PostgreSQL, schema
# registry), then the integration and conformance tests; two files at a time in both phases.
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

# In CI the schema registry is part of the suite: its tests fail (not skip) when it is not up.
if [[ -n "${CI:-}" ]]; then export WEIR_REQUIRE_REGISTRY="${WEIR_REQUIRE_REGISTRY:-1}"; fi

# test/exit-guard.mjs ends a file that still holds its event loop 10 s after its last test (instead of
# --test-force-exit, which can drop test verdicts: nodejs/node#64833); --test-timeout bounds each test.
# The slowest-files reporter prints the 15 slowest files at the end, on stderr.
run_tests() {
  local concurrency="$1"
  shift
  "$NODE" --test --test-concurrency="$concurrency" --test-timeout=120000 --import ./test/exit-guard.mjs \
    --test-reporter=./scripts/slowest-files.mjs --test-reporter-destination=stderr \
    --test-reporter=spec --test-reporter-destination=stdout "$@"
}

start_services() {
  if [[ -z "${WEIR_SKIP_SERVICES:-}" ]] && ! bash scripts/services.sh up; then
    echo "[test] WARNING: services did not all start; integration tests that need them will fail" >&2
  fi
}

if [[ $# -gt 0 ]]; then
  patterns=()
  for p in "$@"; do
    if [[ -d "$p" ]]; then patterns+=("${p%/}/**/*.test.ts"); else patterns+=("$p"); fi
  done
  start_services
  run_tests 1 "${patterns[@]}"
  exit $?
fi

# Everything: the unit tests need no service, so they run while the services start; then the tests
# against Kafka, Redis, PostgreSQL and the registry. Those spend most of their time waiting (session
# timeouts after a kill -9, checkpoints, restarts), so two files share the machine: each file has its
# own topics, groups, transactional ids, database schemas and redis-servers (a new file must too), and
# no test asserts a rate (benchmarks do, in bench/). One at a time took 7.9 min here, two 4.2 min.
services_log="$(mktemp)"
trap 'rm -f "$services_log"' EXIT
start_services >"$services_log" 2>&1 &
services_pid=$!
set +e
run_tests 2 'test/unit/**/*.test.ts'
unit_rc=$?
wait "$services_pid"
cat "$services_log" >&2
run_tests 2 'test/integration/**/*.test.ts' 'test/conformance/**/*.test.ts'
rc=$?
set -e
if ((unit_rc != 0)); then
  echo "[test] unit tests failed (exit $unit_rc)" >&2
  exit "$unit_rc"
fi
exit "$rc"
