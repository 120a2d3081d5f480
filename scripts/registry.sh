#!/usr/bin/env bash
# A real Confluent-compatible schema registry for Weir's tests: Apicurio Registry, assembled from
# Maven Central (see scripts/registry/README.md for why this version and how), in-memory storage.
#
#   scripts/registry.sh up       build on first use, start, wait until the ccompat API answers (idempotent)
#   scripts/registry.sh down     stop it (idempotent)
#   scripts/registry.sh status   exit 0 and print the URL when it answers, exit 1 otherwise
#   scripts/registry.sh build    only assemble the server into .cache/registry/build
#
# Environment: REGISTRY_PORT (8081), REGISTRY_HOST (127.0.0.1), REGISTRY_START_TIMEOUT seconds (120),
# REGISTRY_HEAP (512m), JAVA (java on PATH, or $JAVA_HOME/bin/java). Each port has its own pid and
# log file under .cache/registry/, so a test can run a second registry on another port.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/scripts/registry"
DIR="$ROOT/.cache/registry"
HOST="${REGISTRY_HOST:-127.0.0.1}"
PORT="${REGISTRY_PORT:-8081}"
TIMEOUT="${REGISTRY_START_TIMEOUT:-120}"
HEAP="${REGISTRY_HEAP:-512m}"
RUNNER="$DIR/build/weir-apicurio-registry-0.0.0-runner.jar"
STAMP="$DIR/build/.inputs.sha1"
PIDFILE="$DIR/registry-$PORT.pid"
LOG="$DIR/registry-$PORT.log"
URL="http://$HOST:$PORT"
READY_PATH="/apis/ccompat/v7/subjects"

if [[ -n "${JAVA:-}" ]]; then :
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA=java
fi

log() { echo "registry: $*" >&2; }

inputs_hash() { cat "$SRC/pom.xml" "$SRC/settings.xml" "$SRC/src/main/resources/application.properties" | sha1sum | cut -d' ' -f1; }

build() {
  mkdir -p "$DIR"
  if [[ -f "$RUNNER" && -f "$STAMP" && "$(cat "$STAMP")" == "$(inputs_hash)" ]]; then return 0; fi
  log "assembling Apicurio Registry with Maven (first run downloads ~150 MB into ~/.m2) ..."
  local started=$SECONDS
  if ! mvn -B -q -s "$SRC/settings.xml" -f "$SRC/pom.xml" -Dweir.registry.dir="$DIR" package -DskipTests >"$DIR/build.log" 2>&1; then
    log "Maven build failed; last lines of $DIR/build.log:"
    tail -n 40 "$DIR/build.log" >&2
    exit 1
  fi
  inputs_hash >"$STAMP"
  log "assembled in $((SECONDS - started))s: $RUNNER"
}

answers() { curl -fsS -o /dev/null --max-time 2 "$URL$READY_PATH" 2>/dev/null; }

# The pid in the pid file, if that process is alive and is our registry (not a recycled pid).
live_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "weir-apicurio-registry" || return 1
  echo "$pid"
}

up() {
  if answers; then
    log "already up at $URL"
    echo "$URL"
    return 0
  fi
  local pid
  if ! pid="$(live_pid)"; then
    build
    # A port held by something else would make the JVM fail at bind: say so plainly.
    if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
      log "port $PORT on $HOST is taken by another process that is not a registry; set REGISTRY_PORT"
      exit 1
    fi
    : >"$LOG"
    setsid nohup "$JAVA" -Xmx"$HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Dquarkus.http.host="$HOST" -Dquarkus.http.port="$PORT" \
      -Dquarkus.log.category.\"io.sentry\".level=ERROR \
      -jar "$RUNNER" >>"$LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PIDFILE"
    log "starting (pid $pid, log $LOG)"
  fi
  local started=$SECONDS
  until answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "process $pid exited before it was ready; last lines of $LOG:"
      tail -n 40 "$LOG" >&2
      rm -f "$PIDFILE"
      exit 1
    fi
    if ((SECONDS - started >= TIMEOUT)); then
      log "not ready after ${TIMEOUT}s; stopping it. Last lines of $LOG:"
      tail -n 40 "$LOG" >&2
      down
      exit 1
    fi
    sleep 0.25
  done
  log "up at $URL after $((SECONDS - started))s"
  echo "$URL"
}

down() {
  local pid
  if ! pid="$(live_pid)"; then
    rm -f "$PIDFILE"
    log "not running on port $PORT"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM for 15s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  log "stopped (pid $pid)"
}

status() {
  if answers; then
    local pid
    pid="$(live_pid || echo '?')"
    echo "up $URL pid=$pid"
    return 0
  fi
  if live_pid >/dev/null; then echo "starting $URL pid=$(live_pid)"; else echo "down $URL"; fi
  return 1
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  build) build ;;
  *) echo "usage: $0 up|down|status|build" >&2; exit 2 ;;
esac
