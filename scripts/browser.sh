#!/usr/bin/env bash
# Chromium for the dashboard's browser tests (test/browser/), from Debian's package: playwright-core drives
# it with executablePath /usr/bin/chromium (Playwright cannot download its own browser here).
# Idempotent: does nothing when /usr/bin/chromium runs. Needs root (or sudo) for apt-get.
#
#   bash scripts/browser.sh          install when missing, then print the version
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ] && "$CHROMIUM" --version >/dev/null 2>&1; then
  "$CHROMIUM" --version
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "browser.sh: $CHROMIUM is missing and installing it needs root (apt-get install chromium)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# A fresh image has no package lists; another apt-get (a parallel job) holds the lock for a while.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
"$CHROMIUM" --version
