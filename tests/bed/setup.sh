#!/usr/bin/env bash
# Installs every Debian 12 package onedock builds, tests and demos with. Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates openssl curl iproute2 procps python3
  libxmlrpc-c++8-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libsqlite3-dev sqlite3
  libspdlog-dev doctest-dev zlib1g-dev clang-format
  docker.io containerd runc docker-registry busybox-static
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The packaged dockerd/containerd/registry services must not start: the test bed runs its own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The real OpenNebula 7.4 front-end the sandbox and the e2e tier run on (its own run-time packages
# come with it).
bash "$(dirname "$0")/opennebula.sh" install
