#!/usr/bin/env bash
# A real OpenNebula 7.4 front-end (oned, onemonitord, the scheduler, the Ruby drivers, the stock
# CLI) for the sandbox and the e2e tier, with onedock installed into it the way the README's
# "Install on an OpenNebula front-end" section tells an operator to:
#
#   opennebula.sh install
#       installs the OpenNebula build of ../shared/opennebula once, as a base that is never
#       configured or started itself ($ONEDOCK_OPENNEBULA, default /var/tmp/onedock-opennebula)
#   opennebula.sh new DIR STUB_CONF [PORT MONITORD_PORT HM_PORT HM_REPLY_PORT]
#       makes DIR an OpenNebula location of its own (ONE_LOCATION: etc/ and var/ of its own, the
#       base's programs by symbolic link) on those loopback ports (default: OpenNebula's own,
#       2633 4124 2101 2102), with etc/oned-onedock.conf and etc/monitord-onedock.conf added as
#       shipped (from $ONEDOCK_SNIPPETS, default the repository's etc/; the package's are in
#       /usr/share/onedock), the test intervals below, and the onedock driver scripts in its
#       remotes (their stub.conf: STUB_CONF; the stub binary: $ONEDOCK_STUB, default
#       build/drivers/onedock-stub)
#   opennebula.sh start DIR     starts its oned (which starts monitord, the scheduler and the
#                               drivers) and waits until XML-RPC answers; pid in DIR/var/oned.pid
#   opennebula.sh stop DIR      stops it and everything it started
#
# DIR/one.env holds the environment the CLI needs (ONE_LOCATION, PATH, RUBYLIB, ONE_XMLRPC,
# ONE_AUTH). The changes to OpenNebula's shipped configuration besides ports: no KVM, QEMU or LXC
# drivers (VM_MAD, IM_MAD), which onedock does not use and which slow oned's start; drivers at
# nice 0 instead of 19 (defaultrc PRIORITY); and these test intervals: monitord's PROBES_PERIOD
# (BEACON_HOST 5, SYSTEM_HOST 30, MONITOR_HOST 3, STATE_VM 2, MONITOR_VM 3, SYNC_STATE_VM 20
# instead of 30, 600, 120, 5, 30, 180 s) and the scheduler window
# (SCHED_MAX_WND_TIME 1 and SCHED_RETRY_TIME 5 instead of 10 and 60 s). oned's own 30 s guard on
# STATE_VM after a VM starts or stops running is compiled in and stays.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=${ONEDOCK_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
BASE=${ONEDOCK_OPENNEBULA:-/var/tmp/onedock-opennebula}

die() { printf 'opennebula.sh: %s\n' "$*" >&2; exit 1; }

cmd_install() {
  [[ -x $BASE/bin/oned && -f $BASE/one.env ]] && return 0
  [[ -f $SHARED/opennebula/install.sh ]] || die "no OpenNebula build in $SHARED/opennebula (set ONEDOCK_SHARED)"
  bash "$SHARED/opennebula/install.sh" "$BASE" >/dev/null
}

# oned.conf and monitord.conf as the README's install section edits them: onedock's sections
# appended as shipped, and "onedock" added to the driver lists of the existing TM_MAD and
# DATASTORE_MAD sections.
add_onedock_entries() {
  local etc=$1 snippets=${ONEDOCK_SNIPPETS:-$ROOT/etc}
  cat "$snippets/oned-onedock.conf" >> "$etc/oned.conf"
  sed -i -e '/^TM_MAD = \[/,/^\]/ s/\(ARGUMENTS *= *"[^"]*-d \)/\1onedock,/' \
         -e '/^DATASTORE_MAD = \[/,/^\]/ s/\(ARGUMENTS *= *"[^"]*-d \)/\1onedock,/' \
         "$etc/oned.conf"
  cat "$snippets/monitord-onedock.conf" >> "$etc/monitord.conf"
}

set_ports_and_intervals() {  # <etc> <port> <monitord port> <hm port> <hm reply port>
  local etc=$1
  sed -i -e "s/^PORT = 2633$/PORT = $2/" \
         -e "s/\"-p 2101 -l 2102 -b 127.0.0.1\"/\"-p $4 -l $5 -b 127.0.0.1\"/" \
         -e 's/^SCHED_MAX_WND_TIME *= *10$/SCHED_MAX_WND_TIME = 1/' \
         -e 's/^SCHED_RETRY_TIME *= *60$/SCHED_RETRY_TIME = 5/' "$etc/oned.conf"
  sed -i -e "/^NETWORK = \[/,/^\]/ s/^\( *PORT *= *\)4124,/\1$3,/" \
         -e '/^PROBES_PERIOD = \[/,/^\]/ {
               s/\(BEACON_HOST *= *\)30/\15/; s/\(SYSTEM_HOST *= *\)600/\130/
               s/\(MONITOR_HOST *= *\)120/\13/; s/\(STATE_VM *= *\)5,/\12,/
               s/\(MONITOR_VM *= *\)30/\13/; s/\(SYNC_STATE_VM *= *\)180/\120/ }' "$etc/monitord.conf"
  grep -q "^PORT = $2$" "$etc/oned.conf" || die "oned.conf: PORT not set to $2"
  grep -q -- "-p $4 -l $5 " "$etc/oned.conf" || die "oned.conf: HM_MAD ports not set"
  grep -q "PORT *= *$3," "$etc/monitord.conf" || die "monitord.conf: PORT not set to $3"
  grep -q "SYNC_STATE_VM *= *20" "$etc/monitord.conf" || die "monitord.conf: PROBES_PERIOD not shortened"
}

# The KVM, QEMU and LXC drivers onedock never uses are dropped from oned.conf (VM_MAD) and
# monitord.conf (IM_MAD): each is a Ruby process that oned or monitord starts and waits for, six
# in all, which made up about a third of oned's start on a loaded machine.
drop_unused_hypervisors() {  # <etc>
  local f
  for f in "$1/oned.conf" "$1/monitord.conf"; do
    sed -i -E '/^(VM|IM)_MAD = \[$/{N;/NAME *= *"(kvm|qemu|lxc)"/{:a;/\n\]$/!{N;ba};d}}' "$f"
    ! grep -qE '^ *NAME *= *"(kvm|qemu|lxc)"' "$f" || die "$f: kvm, qemu or lxc driver left"
  done
  grep -q '^ *NAME *= *"onedock"' "$1/oned.conf" || die "oned.conf: VM_MAD onedock lost"
  grep -q '^ *NAME *= *"onedock"' "$1/monitord.conf" || die "monitord.conf: IM_MAD onedock lost"
}

cmd_new() {
  local dir=${1:?usage: new DIR STUB_CONF [ports]} stub_conf=${2:?usage: new DIR STUB_CONF [ports]}
  local port=${3:-2633} monitord=${4:-4124} hm=${5:-2101} hm_reply=${6:-2102}
  local stub=${ONEDOCK_STUB:-$ROOT/build/drivers/onedock-stub}
  [[ $dir == /* ]] || die "DIR must be absolute"
  [[ -x $stub ]] || die "no onedock-stub at $stub (build first)"
  cmd_install
  rm -rf "$dir"
  mkdir -p "$dir/var"/{vms,run,lock,.one,datastores}
  local d
  for d in bin sbin lib share include; do ln -s "$BASE/$d" "$dir/$d"; done
  cp -r "$BASE/etc" "$dir/etc"
  cp -r "$BASE/var/remotes" "$dir/var/remotes"
  add_onedock_entries "$dir/etc"
  set_ports_and_intervals "$dir/etc" "$port" "$monitord" "$hm" "$hm_reply"
  drop_unused_hypervisors "$dir/etc"
  # OpenNebula starts its drivers (and so every driver action) at nice 19, which on a busy test
  # machine starves each driver's start and every action behind anything else running.
  sed -i 's/^PRIORITY=19$/PRIORITY=0/' "$dir/etc/defaultrc"
  grep -q '^PRIORITY=0$' "$dir/etc/defaultrc" || die "defaultrc: PRIORITY not set to 0"
  bash "$ROOT/drivers/install.sh" "$dir/var/remotes" "$stub" "$stub_conf"
  # oned creates oneadmin from this file at its first start.
  echo "oneadmin:$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$dir/var/.one/one_auth"
  chmod 600 "$dir/var/.one/one_auth"
  cat > "$dir/one.env" <<EOF
export ONE_LOCATION=$dir
export RUBYLIB=$dir/lib/ruby:$dir/lib/ruby/vendors:$dir/lib/ruby/cli
export PATH=$dir/bin:\$PATH
export ONE_XMLRPC=http://127.0.0.1:$port/RPC2
export ONE_AUTH=$dir/var/.one/one_auth
EOF
}

# A killed process whose parent does not reap it lingers as a zombie, which kill -0 still finds.
alive() {
  [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

# answers <dir>: oned's XML-RPC is up and takes oneadmin's session. One XML-RPC call by curl, not
# the Ruby CLI: a CLI start costs more than half a second of CPU, taken from oned's own start on
# every poll.
answers() {
  local url session
  url=$(source "$1/one.env" && echo "$ONE_XMLRPC")
  session=$(cat "$1/var/.one/one_auth")
  curl -sf --max-time 5 -H 'Content-Type: text/xml' --data-binary \
    "<?xml version=\"1.0\"?><methodCall><methodName>one.zonepool.info</methodName><params><param><value><string>$session</string></value></param></params></methodCall>" \
    "$url" 2>/dev/null | grep -q '<boolean>1</boolean>'
}

cmd_start() {
  local dir=${1:?usage: start DIR}
  [[ -f $dir/one.env ]] || die "$dir is not an OpenNebula location made by '$0 new'"
  cmd_stop "$dir"
  (
    source "$dir/one.env"
    cd "$dir/var"
    setsid oned -f </dev/null >oned.stdout 2>&1 &
    echo $! > oned.pid
  )
  local n
  for n in $(seq 300); do
    answers "$dir" && return 0
    alive "$(cat "$dir/var/oned.pid")" || break
    sleep 0.1
  done
  # What oned said last, so that a run on another machine shows why without its files.
  grep -F '][E]: ' "$dir/var/oned.log" 2>/dev/null | grep -v 'db_versioning' | tail -n 5 >&2 || true
  tail -n 5 "$dir/var/oned.stdout" >&2 2>/dev/null || true
  die "oned did not answer; see $dir/var/oned.log and $dir/var/oned.stdout"
}

# SIGTERM takes oned about 7 s; nothing needs to survive a test, so its whole session is killed.
cmd_stop() {
  local dir=${1:?usage: stop DIR} pid
  if [[ -f $dir/var/oned.pid ]]; then
    pid=$(cat "$dir/var/oned.pid")
    kill -KILL -- "-$pid" 2>/dev/null || true
    local n
    for n in $(seq 100); do alive "$pid" || break; sleep 0.05; done
    rm -f "$dir/var/oned.pid"
  fi
  rm -f "$dir/var/lock/.lock"  # left by a killed oned, which would refuse to start again
}

case ${1:-} in
  install) cmd_install ;;
  new) shift; cmd_new "$@" ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  *) echo "usage: $0 install | new DIR STUB_CONF [PORT MONITORD_PORT HM_PORT HM_REPLY_PORT] | start DIR | stop DIR" >&2; exit 2 ;;
esac
