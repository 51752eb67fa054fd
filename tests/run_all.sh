#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (packages, test bed), builds onedock, and runs every test tier
# through CTest. Exits non-zero when any tier fails. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/bed/setup.sh
failed=0
echo "=== format"
bash tests/check_format.sh || failed=1
bash tests/check_layout.sh || failed=1
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)"
bash tests/bed/testbed.sh up
# The demo's VMs (one-0, one-1, …) would take the names the e2e VMs need on the same engines.
bash tests/demo.sh stop

for tier in unit integration e2e; do
  echo "=== ctest -L $tier"
  (cd build && ctest -L "$tier" --output-on-failure) || failed=1
done
exit $failed
