#!/usr/bin/env bash
# Prometheus and promtool for the monitoring tests (deploy/prometheus, deploy/grafana): Debian's
# `prometheus` package, installed with apt-get when promtool is missing. Idempotent; CI runs it before
# the tests. The package's own service is stopped and disabled: the tests start private instances.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  $SUDO apt-get update -qq
fi
# policy-rc.d keeps the package from starting its own server (port 9090) during the install.
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=""
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  ADDED_POLICY=1
fi
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
if [ -n "$ADDED_POLICY" ]; then $SUDO rm -f "$POLICY"; fi
promtool --version | head -1
