#!/usr/bin/env bash
# Follows the README's "Install on an OpenNebula front-end" on this machine with the .deb, step by
# step as an operator types it, on a real OpenNebula 7.4 run as oneadmin:
#   tests/package/try_install.sh DEB
# 1. apt-get install the package (on a machine whose OpenNebula made the user oneadmin);
# 2. oned.conf and monitord.conf get /usr/share/onedock's entries; oned's remotes are the installed
#    ones (this machine's OpenNebula is a self-contained location, so its remotes' onedock
#    directories are links to /var/lib/one/remotes, where the package put them);
# 3. certificates with `onedock client-cert` and `onedock host-cert`, as oneadmin, in
#    /etc/one/onedock/certs; the test bed's engines already trust the bed's CA, so that CA is put
#    there first, as an operator whose engines trust a CA would (the commands then reuse it);
# 4. /etc/one/onedockd.conf filled in, `onedockd --check`, and onedockd started as the installed
#    unit says (its User= and ExecStart=; this machine has no systemd running to take
#    `systemctl enable --now`);
# 5. `onedock doctor` as oneadmin: every line ok or warn, exit 0, once the hosts exist;
# 6. the cluster, datastores, hosts and a vnet with the stock CLI;
# 7. an image registered from the bed's upstream registry and a VM that runs and answers on its IP.
# Everything it made is removed at the end (the package purged, the user removed when it made it).
# The test bed must be up (tests/bed/testbed.sh up).
set -euo pipefail
deb=$(realpath "${1:?usage: try_install.sh DEB}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB=${ONEDOCK_LAB:-/var/tmp/onedock-lab}
source "$LAB/bed.env"
export DEBIAN_FRONTEND=noninteractive
WORK=/var/tmp/onedock-try-install
ONE=$WORK/one
INSTANCE=onedock-try-install
PORT=2733  # oned; monitord 4224, hook manager 2201/2202: beside the sandbox's, not on them

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
die() { printf 'try_install: FAIL: %s\n' "$*" >&2; exit 1; }
as_oneadmin() { runuser -u oneadmin -- "$@"; }
wait_for() {  # wait_for HALF_SECONDS COMMAND_LINE: until it prints something
  local n
  for n in $(seq "$1"); do
    [[ -n $(eval "$2" 2>/dev/null) ]] && return 0
    sleep 0.5
  done
  die "gave up waiting for: $2"
}

remove_containers() {
  local e sock ids vols
  for e in h1 h2; do
    sock=$LAB/$e/docker.sock
    [[ -S $sock ]] || continue
    ids=$(docker -H "unix://$sock" ps -aq --filter "label=one.instance=$INSTANCE")
    [[ -z $ids ]] || docker -H "unix://$sock" rm -f $ids >/dev/null
    vols=$(docker -H "unix://$sock" volume ls -q --filter "label=one.instance=$INSTANCE")
    [[ -z $vols ]] || docker -H "unix://$sock" volume rm $vols >/dev/null
  done
}

made_user=
new_dirs=()
for d in /etc/one /var/lib/one /var/log/one; do [[ -e $d ]] || new_dirs+=("$d"); done
cleanup() {
  local rc=$?
  if ((rc != 0)); then
    echo "--- last lines of /var/log/one/onedockd.log and oned.log"
    tail -20 /var/log/one/onedockd.log 2>/dev/null || true
    tail -20 "$ONE/var/oned.log" 2>/dev/null || true
  fi
  [[ -f $WORK/onedockd.pid ]] && kill "$(cat "$WORK/onedockd.pid")" 2>/dev/null || true
  [[ -d $ONE ]] && bash "$ROOT/tests/bed/opennebula.sh" stop "$ONE" || true
  remove_containers || true
  dpkg --purge onedock >/dev/null 2>&1 || true
  if [[ -n $made_user ]]; then
    # Whatever still runs as the user this script made (a driver oned left) goes with it.
    local n
    for n in $(seq 20); do
      pkill -KILL -u oneadmin 2>/dev/null || break
      sleep 0.5
    done
    userdel oneadmin >/dev/null 2>&1 || echo "try_install: could not remove the user oneadmin" >&2
  fi
  rm -rf "$WORK" /var/lib/one/onedock /etc/one/onedock "${new_dirs[@]}"
  exit $rc
}
trap cleanup EXIT

if dpkg-query -W -f='${Status}' onedock 2>/dev/null | grep -q installed; then
  die "an onedock package is installed already; purge it first"
fi
for e in h1 h2; do
  docker -H "unix://$LAB/$e/docker.sock" ps -a --format '{{.Names}}' | grep -qx one-0 &&
    die "engine $e holds a container one-0 (the new oned's first VM would need that name)"
done
rm -rf "$WORK"
mkdir -p "$WORK"

step "0. OpenNebula's user, as its package makes it"
if ! getent passwd oneadmin >/dev/null; then
  mkdir -p /var/lib/one
  useradd --system --home-dir /var/lib/one --shell /bin/bash oneadmin
  chown oneadmin:oneadmin /var/lib/one
  made_user=yes
fi
id oneadmin

step "1. the package"
run apt-get install -y -qq "$deb" | tail -3

step "2. oned.conf and monitord.conf with /usr/share/onedock's entries; the installed remotes"
printf '# unused: the remotes are linked to the installed ones below\n' > "$WORK/stub.conf"
ONEDOCK_SNIPPETS=/usr/share/onedock ONEDOCK_STUB=/var/lib/one/remotes/onedock/onedock-stub \
  bash "$ROOT/tests/bed/opennebula.sh" new "$ONE" "$WORK/stub.conf" "$PORT" 4224 2201 2202
for d in vmm/onedock im/onedock.d datastore/onedock tm/onedock vnm/onedock onedock etc/onedock; do
  rm -rf "${ONE:?}/var/remotes/$d"
  ln -s "/var/lib/one/remotes/$d" "$ONE/var/remotes/$d"
done
chown -R oneadmin:oneadmin "$WORK"
# oned as oneadmin, as OpenNebula's own unit runs it; its pid (the session it leads) for the stop.
runuser -u oneadmin -- bash -c "source $ONE/one.env && cd $ONE/var || exit 1
  setsid oned -f </dev/null >oned.stdout 2>&1 &
  echo \$! > $ONE/var/oned.pid"
source "$ONE/one.env"
wait_for 120 "onezone list --no-header"
for m in $(onemarket list --no-header -l ID); do onemarket disable "$m"; done
ps -o user=,args= -p "$(cat "$ONE/var/oned.pid")"

step "3. certificates, as oneadmin"
install -d -o oneadmin -g oneadmin -m 0750 /etc/one/onedock/certs
install -o oneadmin -g oneadmin -m 0644 "$ONEDOCK_CERTS/ca.pem" /etc/one/onedock/certs/ca.pem
install -o oneadmin -g oneadmin -m 0600 "$ONEDOCK_CERTS/ca-key.pem" /etc/one/onedock/certs/ca-key.pem
run as_oneadmin onedock client-cert
for e in h1 h2; do
  addr_var=ONEDOCK_ENGINE_${e^^}
  run as_oneadmin onedock host-cert "$e" --ip "${!addr_var%:*}"
done
openssl verify -CAfile /etc/one/onedock/certs/ca.pem /etc/one/onedock/certs/cert.pem \
  /etc/one/onedock/certs/hosts/h1/cert.pem

step "4. /etc/one/onedockd.conf filled in, checked, and onedockd started as its unit says"
conf=/etc/one/onedockd.conf
set_key() {  # set_key SECTION KEY VALUE: in SECTION of $conf
  awk -v s="[$1]" -v k="$2" -v v="$3" '
    /^\[/ { in_s = ($0 == s) }
    in_s && $1 == k && $2 == "=" { print k " = " v; next }
    { print }' "$conf" > "$conf.new"
  grep -q "^$2 = $3\$" "$conf.new" || die "$conf has no key $2 in [$1]"
  cat "$conf.new" > "$conf" && rm "$conf.new"
}
set_key oned endpoint "http://127.0.0.1:$PORT/RPC2"
set_key oned auth_file "$ONE/var/.one/one_auth"
set_key registry address "$ONEDOCK_PRIVATE_REGISTRY"
set_key registry storage "$LAB/registry-private/data"
set_key images staging_host h1
set_key images allow_destinations "${ONEDOCK_UPSTREAM_REGISTRY%:*}/32"
set_key containers instance "$INSTANCE"
printf '\n[host h1]\nurl = https://%s\n\n[host h2]\nurl = https://%s\n' \
  "$ONEDOCK_ENGINE_H1" "$ONEDOCK_ENGINE_H2" >> "$conf"
run as_oneadmin onedockd --check -c "$conf"
unit=/lib/systemd/system/opennebula-onedock.service
user=$(sed -n 's/^User=//p' "$unit")
read -r -a exec_start <<< "$(sed -n 's/^ExecStart=//p' "$unit")"
echo "as $user: ${exec_start[*]}"
runuser -u "$user" -- setsid "${exec_start[@]}" </dev/null >"$WORK/onedockd.stderr" 2>&1 &
echo $! > "$WORK/onedockd.pid"
wait_for 60 "grep 'serving driver stubs' /var/log/one/onedockd.log"
tail -1 /var/log/one/onedockd.log

step "6. the cluster, the onedock datastores, the hosts and a vnet (stock CLI)"
cd "$WORK"
run onecluster create onedock
printf 'NAME = onedock_system\nTYPE = SYSTEM_DS\nTM_MAD = onedock\n' > system.ds
printf 'NAME = onedock_images\nDS_MAD = onedock\nTM_MAD = onedock\n' > images.ds
run onedatastore create system.ds -c onedock
run onedatastore create images.ds -c onedock
run onehost create h1 -i onedock -v onedock -c onedock
run onehost create h2 -i onedock -v onedock -c onedock
# A subnet of its own: the bed's engines keep the Docker networks other runs made.
cat > web.net <<EOF
NAME = web
VN_MAD = onedock
BRIDGE = onebr-try
NETWORK_ADDRESS = 10.239.77.0
NETWORK_MASK = 255.255.255.0
GATEWAY = 10.239.77.1
AR = [ TYPE = IP4, IP = 10.239.77.10, SIZE = 20 ]
EOF
run onevnet create web.net -c onedock
wait_for 60 "onehost list --no-header | awk '\$NF == \"on\"' | wc -l | grep -x 2"
run onehost list

step "5. onedock doctor, as oneadmin"
set +e
as_oneadmin onedock doctor | tee "$WORK/doctor.out"
doctor_rc=${PIPESTATUS[0]}
set -e
((doctor_rc == 0)) || die "onedock doctor exited $doctor_rc"
grep -q '^FAIL' "$WORK/doctor.out" && die "onedock doctor printed a FAIL line"
echo "onedock doctor: exit 0, $(grep -c '^ok' "$WORK/doctor.out") ok, $(grep -c '^warn' "$WORK/doctor.out") warn"

step "7. an image from the upstream registry, and a VM that answers on its IP"
wait_for 60 "onedatastore show onedock_images -x | grep '<TOTAL_MB>[1-9]'"
run oneimage create -d onedock_images --name httpd --path "docker://$ONEDOCK_TEST_IMAGE"
wait_for 120 "oneimage list --no-header | awk '\$(NF-1) == \"rdy\"'"
cat > web.tpl <<EOF
NAME = web
CPU = 0.25
MEMORY = 64
DISK = [ IMAGE = httpd ]
NIC = [ NETWORK = web ]
EOF
run onetemplate create web.tpl
run onetemplate instantiate web
wait_for 240 "onevm list --no-header | awk '\$5 == \"runn\" || \$5 == \"fail\"'"
onevm list --no-header | awk '$5 == "runn"' | grep -q . ||
  die "the VM did not run: $(onevm show 0 | grep -m1 -i 'error' || true)"
run onevm list -l ID,NAME,STAT,HOST,IP
ip=$(onevm show 0 -x | sed -n 's:.*<IP><!\[CDATA\[\([0-9.]*\)\]\]></IP>.*:\1:p' | head -1)
wait_for 20 "curl -sf -m 2 http://$ip/"
echo "http://$ip/: $(curl -s -m 5 "http://$ip/")"
run onevm terminate 0
wait_for 120 "onevm list --no-header | wc -l | grep -x 0"
run oneimage delete httpd
wait_for 60 "oneimage list --no-header | wc -l | grep -x 0"
echo
echo "try_install: the README's install steps worked with $(basename "$deb")"
