#!/usr/bin/env bash
# Fails when a folder includes what its place in the layout forbids: bridge/ (the domain and its
# interfaces) includes none of docker/, rpc/, monitor/; monitor/ only bridge/; docker/ and rpc/
# only bridge/ and themselves. Only bridge/daemon/ brings them all together, and only it includes
# prometheus-cpp.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
forbid() {  # forbid FOLDER PATTERN: FOLDER's sources (not its sub-folders) must not include PATTERN
  local hits
  hits=$(grep -nE "#include \"($2)/" "$1"/*.h "$1"/*.cc 2>/dev/null || true)
  if [[ -n "$hits" ]]; then
    echo "check_layout: $1/ includes what it must not:"
    echo "$hits" | sed 's/^/  /'
    status=1
  fi
}
forbid bridge 'docker|rpc|monitor'
forbid monitor 'docker|rpc'
forbid docker 'rpc|monitor'
forbid rpc 'docker|monitor'
# prometheus-cpp is onedockd's alone: the domain and the monitor expose plain snapshots.
for folder in bridge monitor docker rpc; do
  if hits=$(grep -nE '#include <prometheus/' "$folder"/*.h "$folder"/*.cc 2>/dev/null); then
    echo "check_layout: $folder/ includes prometheus-cpp, which only bridge/daemon/ may use:"
    echo "$hits" | sed 's/^/  /'
    status=1
  fi
done
((status == 0)) && echo "check_layout: bridge/, monitor/, docker/ and rpc/ keep to their layers"
exit $status
