#!/usr/bin/env bash
# The sandbox demo: sets up the machine, builds onedock, starts the real test bed (containerd, two
# mTLS engines, two registries) and tours it with onedock's Docker client: a container on each
# "host" built from the upstream test image, its web page fetched over its address, then the
# client benchmark. Leaves the test bed running; stop it with: bash tests/bed/testbed.sh down
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/bed/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
bash tests/bed/testbed.sh up
bash tests/bed/testbed.sh status
./build/tests/docker_tour
echo
./build/tests/docker_bench 10 1000
echo
echo "test bed left running; stop it with: bash tests/bed/testbed.sh down"
