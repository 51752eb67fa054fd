#!/usr/bin/env bash
# The sandbox demo: the seed's workflow through OpenNebula. Sets up the machine, builds onedock,
# starts the test bed (two mTLS engines "h1" and "h2", the registries), the OpenNebula emulator
# with the onedock driver scripts installed in its remotes, and onedockd. Then, through oned's
# XML-RPC API (the onemu command line): a onedock datastore, an image, a data disk image, a vnet,
# two hosts, four VMs. Shows them RUNNING with their OpenNebula IPs and fetches each one's web page
# over that IP, and a file the first VM wrote into its data disk (a Docker volume).
# Leaves everything running; stop it with:  bash tests/demo.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LAB=${ONEDOCK_LAB:-/var/tmp/onedock-lab}
DEMO=$LAB/demo

stop_demo() {
  for p in onedockd one_emulator; do
    if [[ -f $DEMO/$p.pid ]] && kill -0 "$(cat "$DEMO/$p.pid")" 2>/dev/null; then
      kill "$(cat "$DEMO/$p.pid")"
    fi
  done
  for e in h1 h2; do
    local sock=$LAB/$e/docker.sock
    [[ -S $sock ]] || continue
    ids=$(docker -H "unix://$sock" ps -aq --filter label=one.instance=onedock-demo)
    [[ -z $ids ]] || docker -H "unix://$sock" rm -f $ids >/dev/null
    vols=$(docker -H "unix://$sock" volume ls -q --filter label=one.instance=onedock-demo)
    [[ -z $vols ]] || docker -H "unix://$sock" volume rm $vols >/dev/null
  done
  rm -rf "$DEMO"
}

if [[ ${1:-} == stop ]]; then
  stop_demo
  echo "demo stopped (the test bed stays up; stop it with: bash tests/bed/testbed.sh down)"
  exit 0
fi

bash tests/bed/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
bash tests/bed/testbed.sh up
source "$LAB/bed.env"
stop_demo
mkdir -p "$DEMO"/{remotes,vms,datastores}

step() { printf '\n== %s\n' "$*"; }

step "OpenNebula (emulator) on :2633 with the onedock drivers in its remotes"
cat > "$DEMO/oned.conf" <<EOF
PORT = 2633
MONITOR_PORT = 4124
ONEADMIN_PASSWORD = "demo-password"
REMOTES_DIR = "$DEMO/remotes"
VMS_LOCATION = "$DEMO/vms"
DATASTORE_LOCATION = "$DEMO/datastores"
$(cat etc/oned-onedock.conf)
$(cat etc/monitord-onedock.conf)
EOF
printf 'endpoint = http://127.0.0.1:2640/RPC2\ntoken_file = %s/stub_token\n' "$DEMO" > "$DEMO/stub.conf"
bash drivers/install.sh "$DEMO/remotes" build/drivers/onedock-stub "$DEMO/stub.conf"
setsid ./build/tests/one_emulator --config "$DEMO/oned.conf" </dev/null >"$DEMO/oned.log" 2>&1 &
echo $! > "$DEMO/one_emulator.pid"
echo "oneadmin:demo-password" > "$DEMO/one_auth"
export ONE_AUTH=$DEMO/one_auth ONE_XMLRPC=http://127.0.0.1:2633/RPC2

step "onedockd on 127.0.0.1:2640"
cat > "$DEMO/onedockd.conf" <<EOF
[oned]
endpoint = $ONE_XMLRPC
auth_file = $DEMO/one_auth
[stub]
listen = 127.0.0.1:2640
token_file = $DEMO/stub_token
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
spool = $DEMO/spool
[journal]
path = $DEMO/journal.db
[containers]
instance = onedock-demo
EOF
setsid ./build/bridge/onedockd -c "$DEMO/onedockd.conf" </dev/null >"$DEMO/onedockd.log" 2>&1 &
echo $! > "$DEMO/onedockd.pid"
for _ in $(seq 100); do
  grep -q "serving driver stubs" "$DEMO/onedockd.log" 2>/dev/null && break
  sleep 0.1
done
tail -1 "$DEMO/onedockd.log"

ONEMU=./build/tests/onemu
step "datastores, an image copied from the upstream registry into the private one, vnet and hosts"
$ONEMU datastore create $'NAME = onedock_system\nTYPE = SYSTEM_DS\nTM_MAD = onedock'
IMG_DS=$($ONEMU datastore create $'NAME = onedock_images\nDS_MAD = onedock\nTM_MAD = onedock' | awk '{print $2}')
IMG=$($ONEMU image create "$IMG_DS" "NAME = httpd
PATH = docker://$ONEDOCK_TEST_IMAGE" | awk '{print $2}')
# Waits ($3 half-seconds at most) for image $2 to be READY and prints "$1 <id> READY, SOURCE …".
image_ready() {
  for _ in $(seq "$3"); do
    $ONEMU show image "$2" | grep -q '<STATE>1</STATE>' && break
    sleep 0.5
  done
  echo "$1 $2 READY, SOURCE $($ONEMU show image "$2" | grep -o '<SOURCE>.*</SOURCE>' | sed 's/<SOURCE>\(<!\[CDATA\[\)\{0,1\}//; s/\(\]\]>\)\{0,1\}<\/SOURCE>//')"
}
image_ready image "$IMG" 120
DATA=$($ONEMU image create "$IMG_DS" "NAME = notes
TYPE = DATABLOCK
SIZE = 16
PERSISTENT = YES
DOCKER_MOUNT = /www/notes" | awk '{print $2}')
image_ready "data disk image" "$DATA" 60
VNET=$($ONEMU vnet create $'NAME = demo\nBRIDGE = onebr-demo\nVN_MAD = bridge\nNETWORK_ADDRESS = 10.230.0.0\nNETWORK_MASK = 255.255.255.0\nGATEWAY = 10.230.0.1\nAR = [ TYPE = IP4, IP = 10.230.0.10, SIZE = 100 ]' | awk '{print $2}')
$ONEMU host create h1 onedock onedock
$ONEMU host create h2 onedock onedock

step "both hosts MONITORED by onedockd (capacity from their engines)"
for _ in $(seq 60); do
  [[ $($ONEMU list host | grep -c ' MONITORED ') == 2 ]] && break
  sleep 0.5
done
$ONEMU list host

step "four VMs, placed by the scheduler; web1 also has the data disk, mounted at /www/notes"
NOTE=$(printf '#!/bin/sh\necho "written by web1 into its data disk at $(date -u +%%FT%%TZ)" > /www/notes/note.txt\n' | base64 -w0)
for n in 1 2 3 4; do
  data="" context=""
  if [[ $n == 1 ]]; then
    data="DISK = [ IMAGE_ID = $DATA ]"
    context=", START_SCRIPT_BASE64 = \"$NOTE\""
  fi
  $ONEMU vm create "NAME = web$n
CPU = 0.25
MEMORY = 64
DISK = [ IMAGE_ID = $IMG ]
$data
NIC = [ NETWORK_ID = $VNET ]
CONTEXT = [ NETWORK = YES, SET_HOSTNAME = web$n$context ]" >/dev/null
done
for _ in $(seq 120); do
  [[ $($ONEMU list vm | grep -c ' RUNNING ') == 4 ]] && break
  sleep 0.5
done
$ONEMU list vm

step "each VM's web page, fetched from the front-end over its OpenNebula IP"
for ip in $($ONEMU list vm | awk 'NR > 1 {print $NF}'); do
  printf '%-12s %s\n' "$ip" "$(curl -s -m 5 "http://$ip/" || echo 'NO ANSWER')"
done

WEB1=$($ONEMU list vm | awk '$0 ~ / web1 / {print $NF}')
step "web1's note, served from its data disk: http://$WEB1/notes/note.txt"
curl -s -m 5 "http://$WEB1/notes/note.txt" || echo 'NO ANSWER'

step "the containers and volumes on the engines"
for e in h1 h2; do
  docker -H "unix://$LAB/$e/docker.sock" ps --filter label=one.instance=onedock-demo \
    --format "$e  {{.Names}}  {{.Status}}  {{.Label \"one.vmid\"}}"
  docker -H "unix://$LAB/$e/docker.sock" volume ls --filter label=one.instance=onedock-demo \
    --format "$e  volume {{.Name}}  image {{.Label \"one.image_id\"}}  {{.Label \"one.size_mb\"}} MB"
done

echo
echo "left running: ONE_XMLRPC=$ONE_XMLRPC ONE_AUTH=$ONE_AUTH $ROOT/build/tests/onemu list vm"
echo "stop it with: bash tests/demo.sh stop"
