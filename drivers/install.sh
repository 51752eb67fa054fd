#!/bin/sh
# Installs the onedock driver scripts and their client into an OpenNebula remotes directory.
#   drivers/install.sh <remotes dir> <onedock-stub binary> [stub.conf to use]
set -eu
remotes=$1 stub=$2 conf=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
for d in vmm/onedock tm/onedock im/onedock.d datastore/onedock vnm/onedock; do
  mkdir -p "$remotes/$d"
  cp -P "$here/$d"/* "$remotes/$d/"
done
mkdir -p "$remotes/onedock" "$remotes/etc/onedock"
cp "$stub" "$remotes/onedock/onedock-stub"
cp "${conf:-$here/etc/onedock/stub.conf}" "$remotes/etc/onedock/stub.conf"
