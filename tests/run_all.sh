#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (packages, test bed), builds onedock and its tests as Release
# (warnings as errors), makes and checks its Debian package from that build, and runs every test
# tier through CTest.
# Exits non-zero when any step fails. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/bed/setup.sh
failed=0
echo "=== format"
bash tests/check_format.sh || failed=1
bash tests/check_layout.sh || failed=1
# One Release build of everything, the tests too (on 2 CPUs a second build of the product alone
# cost about 3 minutes); the package holds what the install rules name, the product alone (no
# tests, emulator or benchmarks), which tests/package/check_package.sh checks.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DONEDOCK_WERROR=ON -DONEDOCK_TESTS=ON
cmake --build build -j "$(nproc)"
rm -f build/onedock_*.deb
cmake --build build -j "$(nproc)" --target package
bash tests/bed/testbed.sh up
# The demo's VMs (one-0, one-1, …) would take the names the e2e VMs need on the same engines.
bash tests/demo.sh stop

echo "=== package"
bash tests/package/check_package.sh build/onedock_*_amd64.deb build || failed=1
echo "=== the README's install steps with the package, on a real oned"
bash tests/package/try_install.sh build/onedock_*_amd64.deb || failed=1

for tier in unit integration; do
  echo "=== ctest -L $tier"
  (cd build && ctest -L "$tier" --output-on-failure) || failed=1
done
# Two at a time, one in each of the bed's two slots (tests/e2e/world.h).
echo "=== ctest -L e2e -j 2"
(cd build && ctest -L e2e -j 2 --output-on-failure) || failed=1
exit $failed
