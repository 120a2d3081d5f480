#!/bin/sh
# The image's HEALTHCHECK: GET /health on the app's ops port. /health answers 503 only when the app is
# unhealthy (degraded is 200), and wget fails on any error status, so degraded apps stay "healthy" for
# Docker while /health and the logs say what is down.
#
# The port: WEIR_HEALTH_PORT, else the app's own variable (HEALTH_PORT: traffic, traffic-windows;
# API_PORT: rideshare; WEB_PORT: millionx and its stages), else the app's default, from the command line of PID 1.
port="${WEIR_HEALTH_PORT:-${HEALTH_PORT:-${API_PORT:-${WEB_PORT:-}}}}"
if [ -z "$port" ]; then
  cmdline="$(tr '\000' ' ' <"${WEIR_HEALTH_CMDLINE:-/proc/1/cmdline}" 2>/dev/null)"
  case "$cmdline" in
  *traffic-windows*) port=3002 ;;
  *traffic*) port=3001 ;;
  *privacy-shield*) port=6066 ;;
  *context-enricher*) port=6067 ;;
  *embedding-service*) port=6068 ;;
  *millionx*) port=6069 ;;
  *streampulse*) port=9249 ;;
  *) port=8080 ;;
  esac
fi
exec wget -q -O /dev/null -T 5 "http://127.0.0.1:${port}/health"
