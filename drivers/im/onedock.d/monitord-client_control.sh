#!/bin/sh
# oned's START_MONITOR / STOP_MONITOR of a onedock host, handed to onedockd, which monitors the
# host's engine from the front-end and pushes the results to monitord. Nothing runs on the host.
#   start: <im_mad> <host id> <host name>        (stdin: base64 <MONITOR_CONFIGURATION>)
#   stop:  stop <im_mad> <host id> <host name>
stub="$(dirname "$0")/../../onedock/onedock-stub"
if [ "${1:-}" = stop ]; then
  shift
  exec "$stub" im stop "$@"
fi
exec "$stub" im start "$@"
