#!/usr/bin/env bash
# The sandbox: the seed's workflow on a real OpenNebula 7.4 front-end, typed with the stock CLI.
# Sets up the machine, builds onedock, starts the test bed (two mTLS engines "h1" and "h2", the
# registries), a real oned (with monitord, the scheduler and the drivers) in $ONEDOCK_LAB/sandbox
# with onedock installed as the README's install section says, and onedockd. Then, as a user:
# a cluster with the onedock datastores, two hosts, an image registered from the bed's upstream
# registry (`oneimage create --path docker://…`), a data disk image, a vnet, two templates and
# four VMs placed by the scheduler. Shows them RUNNING with their OpenNebula IPs, fetches each
# one's web page over that IP and a file the first VM wrote into its data disk (a Docker volume).
# Leaves everything running; stop it with:  bash tests/demo.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LAB=${ONEDOCK_LAB:-/var/tmp/onedock-lab}
SANDBOX=$LAB/sandbox
INSTANCE=onedock-demo

stop_demo() {
  if [[ -f $SANDBOX/onedockd.pid ]] && kill -0 "$(cat "$SANDBOX/onedockd.pid")" 2>/dev/null; then
    kill "$(cat "$SANDBOX/onedockd.pid")"
  fi
  [[ -d $SANDBOX/one ]] && bash tests/bed/opennebula.sh stop "$SANDBOX/one"
  for e in h1 h2; do
    local sock=$LAB/$e/docker.sock ids vols
    [[ -S $sock ]] || continue
    ids=$(docker -H "unix://$sock" ps -aq --filter "label=one.instance=$INSTANCE")
    [[ -z $ids ]] || docker -H "unix://$sock" rm -f $ids >/dev/null
    vols=$(docker -H "unix://$sock" volume ls -q --filter "label=one.instance=$INSTANCE")
    [[ -z $vols ]] || docker -H "unix://$sock" volume rm $vols >/dev/null
  done
  rm -rf "$SANDBOX"
}

if [[ ${1:-} == stop ]]; then
  stop_demo
  echo "sandbox stopped (the test bed stays up; stop it with: bash tests/bed/testbed.sh down)"
  exit 0
fi

bash tests/bed/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
bash tests/bed/testbed.sh up
source "$LAB/bed.env"
stop_demo
mkdir -p "$SANDBOX"

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
# Waits (up to $1 half-seconds) until the command line $2 prints something.
wait_for() {
  local n
  for n in $(seq "$1"); do
    [[ -n $(eval "$2") ]] && return 0
    sleep 0.5
  done
  echo "gave up waiting for: $2" >&2
  return 1
}

step "OpenNebula 7.4 (oned, monitord, scheduler) on 127.0.0.1:2633 with onedock in oned.conf, monitord.conf and its remotes"
printf 'endpoint = http://127.0.0.1:2640/RPC2\ntoken_file = %s/stub_token\n' "$SANDBOX" > "$SANDBOX/stub.conf"
bash tests/bed/opennebula.sh new "$SANDBOX/one" "$SANDBOX/stub.conf"
bash tests/bed/opennebula.sh start "$SANDBOX/one"
source "$SANDBOX/one/one.env"
# No internet here: the default marketplaces would only fail to be monitored.
for m in $(onemarket list --no-header -l ID); do onemarket disable "$m"; done

step "onedockd on 127.0.0.1:2640"
cat > "$SANDBOX/onedockd.conf" <<EOF
[oned]
endpoint = $ONE_XMLRPC
auth_file = $ONE_AUTH
[stub]
listen = 127.0.0.1:2640
token_file = $SANDBOX/stub_token
[engines]
ca = $ONEDOCK_CERTS/ca.pem
cert = $ONEDOCK_CERTS/cert.pem
key = $ONEDOCK_CERTS/key.pem
[host h1]
url = https://$ONEDOCK_ENGINE_H1
[host h2]
url = https://$ONEDOCK_ENGINE_H2
[registry]
address = $ONEDOCK_PRIVATE_REGISTRY
storage = $LAB/registry-private/data
[images]
staging_host = h1
spool = $SANDBOX/spool
# the bed's upstream registry is on loopback, which image PATHs may not reach unless allowed
allow_destinations = 127.0.0.1/32
[journal]
path = $SANDBOX/journal.db
[containers]
instance = $INSTANCE
[log]
file = $SANDBOX/onedockd.log
EOF
setsid ./build/bridge/daemon/onedockd -c "$SANDBOX/onedockd.conf" </dev/null >"$SANDBOX/onedockd.stderr" 2>&1 &
echo $! > "$SANDBOX/onedockd.pid"
wait_for 100 "grep 'serving driver stubs' '$SANDBOX/onedockd.log' 2>/dev/null"
tail -1 "$SANDBOX/onedockd.log"

cd "$SANDBOX"
step "a cluster for the onedock hosts, with the onedock system and image datastores"
run onecluster create onedock
printf 'NAME = onedock_system\nTYPE = SYSTEM_DS\nTM_MAD = onedock\n' > system.ds
printf 'NAME = onedock_images\nDS_MAD = onedock\nTM_MAD = onedock\n' > images.ds
run onedatastore create system.ds -c onedock
run onedatastore create images.ds -c onedock

step "two hosts, monitored by onedockd through their engines' API"
run onehost create h1 -i onedock -v onedock -c onedock
run onehost create h2 -i onedock -v onedock -c onedock
wait_for 60 "onehost list --no-header | awk '\$NF == \"on\"' | wc -l | grep -x 2"
run onehost list

step "an image copied from the upstream registry into the private one, and a data disk"
wait_for 60 "onedatastore show onedock_images -x | grep '<TOTAL_MB>[1-9]'"  # monitored: oned refuses images until then
run oneimage create -d onedock_images --name httpd --path "docker://$ONEDOCK_TEST_IMAGE"
printf 'NAME = notes\nTYPE = DATABLOCK\nSIZE = 16\nPERSISTENT = YES\nDOCKER_MOUNT = /www/notes\n' > notes.img
run oneimage create notes.img -d onedock_images
wait_for 120 "oneimage list --no-header | awk '\$(NF-1) != \"rdy\" {bad = 1} END {if (!bad && NR == 2) print NR}'"
run oneimage list
oneimage show httpd | grep -E '^(SOURCE|PATH)'

step "a vnet (VN_MAD onedock: a Docker network on each host that runs one of its NICs)"
cat > web.net <<EOF
NAME = web
VN_MAD = onedock
BRIDGE = onebr-demo
NETWORK_ADDRESS = 10.230.0.0
NETWORK_MASK = 255.255.255.0
GATEWAY = 10.230.0.1
AR = [ TYPE = IP4, IP = 10.230.0.10, SIZE = 100 ]
EOF
run onevnet create web.net -c onedock

step "two templates and four VMs, placed by the scheduler; web-notes has the data disk at /www/notes"
cat > web.tpl <<EOF
NAME = web
CPU = 0.25
MEMORY = 64
DISK = [ IMAGE = httpd ]
NIC = [ NETWORK = web ]
CONTEXT = [ NETWORK = YES, SET_HOSTNAME = "\$NAME" ]
EOF
NOTE=$(printf '#!/bin/sh\necho "written by web-notes into its data disk at $(date -u +%%FT%%TZ)" > /www/notes/note.txt\n' | base64 -w0)
cat > web-notes.tpl <<EOF
NAME = web-notes
CPU = 0.25
MEMORY = 64
DISK = [ IMAGE = httpd ]
DISK = [ IMAGE = notes ]
NIC = [ NETWORK = web ]
CONTEXT = [ NETWORK = YES, SET_HOSTNAME = "\$NAME", START_SCRIPT_BASE64 = "$NOTE" ]
EOF
run onetemplate create web.tpl
run onetemplate create web-notes.tpl
run onetemplate instantiate web --multiple 3
echo '$ onetemplate instantiate web-notes'
NOTES_VM=$(onetemplate instantiate web-notes | awk '{print $NF}')
echo "VM ID: $NOTES_VM"
wait_for 240 "onevm list --no-header | awk '\$5 != \"runn\" {bad = 1} END {if (!bad && NR == 4) print NR}'"
run onevm list -l ID,NAME,STAT,HOST,IP

step "each VM's web page, fetched from the front-end over its OpenNebula IP"
for id in $(onevm list --no-header -l ID); do
  ip=$(onevm show "$id" -x | sed -n 's:.*<IP><!\[CDATA\[\([0-9.]*\)\]\]></IP>.*:\1:p' | head -1)
  printf '%-12s %-12s %s\n' "$(onevm show "$id" -x | sed -n 's:^  <NAME>\(.*\)</NAME>:\1:p' | head -1)" "$ip" \
    "$(curl -s -m 5 "http://$ip/" || echo 'NO ANSWER')"
done
NOTES_IP=$(onevm show "$NOTES_VM" -x | sed -n 's:.*<IP><!\[CDATA\[\([0-9.]*\)\]\]></IP>.*:\1:p' | head -1)
step "web-notes (VM $NOTES_VM) note, served from its data disk: http://$NOTES_IP/notes/note.txt"
wait_for 20 "curl -sf -m 2 http://$NOTES_IP/notes/note.txt"
curl -s -m 5 "http://$NOTES_IP/notes/note.txt" || echo 'NO ANSWER'

step "the containers and volumes on the engines"
for e in h1 h2; do
  docker -H "unix://$LAB/$e/docker.sock" ps --filter "label=one.instance=$INSTANCE" \
    --format "$e  {{.Names}}  {{.Status}}  vm {{.Label \"one.vmid\"}}"
  docker -H "unix://$LAB/$e/docker.sock" volume ls --filter "label=one.instance=$INSTANCE" \
    --format "$e  volume {{.Name}}  image {{.Label \"one.image_id\"}}  {{.Label \"one.size_mb\"}} MB"
done

echo
echo "left running; to use the OpenNebula CLI on it:  source $SANDBOX/one/one.env"
echo "stop it with:  bash tests/demo.sh stop"
