#!/usr/bin/env bash
# The real test bed: one containerd, four dockerd engines playing OpenNebula hosts (mutual TLS on
# their own loopback addresses, own data-root, exec-root, containerd namespace and bridge), and
# Debian docker-registry instances (two private registries of front-ends, an "upstream" one holding
# the busybox-static test images and one that wants credentials). h1, h2 and the registry "private"
# serve the integration tier, the benchmarks and one e2e case at a time; h3, h4 and "private2" are a
# second set, so that two e2e cases run at once without sharing an engine or a registry (see
# tests/e2e/world.h). Everything listens on loopback; nothing is pulled from outside.
#
#   testbed.sh up       start what is not running yet (idempotent, fast when already up)
#   testbed.sh down     stop everything it started and remove bridges, data-roots and certificates
#   testbed.sh status   one line per component; exit 1 when something is down
#   testbed.sh env      print the environment the tests and benchmarks read (also in $LAB/bed.env)
#   testbed.sh engine-stop hN    stop one engine's dockerd; its containers keep running (live-restore)
#   testbed.sh engine-start hN   start it again
#
# A dockerd or containerd already running on the machine is never touched: ours use their own
# sockets, roots, namespaces and bridges.
set -euo pipefail

# `flock /tmp/onedock-bed.lock testbed.sh up` hands this script the lock's descriptor; the daemons
# started here would inherit it and hold the lock for as long as they run, locking every later
# user of the bed out. Every inherited descriptor above 2 but the script's own is closed first
# (flock itself keeps the lock until this script ends).
self=$(readlink -f "$0")
for fd in /proc/$$/fd/*; do
  n=${fd##*/}
  if ((n > 2)) && [[ $(readlink "$fd" 2>/dev/null) != "$self" ]]; then eval "exec $n>&-"; fi
done

LAB=${ONEDOCK_LAB:-/var/tmp/onedock-lab}
ENGINES=(h1 h2 h3 h4)
declare -A ENGINE_ADDR=([h1]=127.0.0.2 [h2]=127.0.0.3 [h3]=127.0.0.4 [h4]=127.0.0.5)
declare -A ENGINE_NET=([h1]=10.211.1 [h2]=10.211.2 [h3]=10.211.3 [h4]=10.211.4)
declare -A ENGINE_POOL=([h1]=10.221.0.0/16 [h2]=10.222.0.0/16 [h3]=10.223.0.0/16 [h4]=10.224.0.0/16)
# The OpenNebula host each engine plays, which its server certificate names: h3 and h4 play h1 and
# h2 in the second e2e slot.
declare -A ENGINE_PLAYS=([h1]=h1 [h2]=h2 [h3]=h1 [h4]=h2)
ENGINE_PORT=2376
PRIVATE_REGISTRY=${ONEDOCK_PRIVATE_REGISTRY:-127.0.0.1:5000}
PRIVATE2_REGISTRY=${ONEDOCK_PRIVATE2_REGISTRY:-127.0.0.1:5003}
UPSTREAM_REGISTRY=${ONEDOCK_UPSTREAM_REGISTRY:-127.0.0.1:5001}
# An upstream registry that requires credentials (htpasswd), for pulls with registry auth.
AUTH_REGISTRY=${ONEDOCK_AUTH_REGISTRY:-127.0.0.1:5002}
AUTH_USER=onedock
AUTH_PASSWORD=onedock-registry-secret
CERTS=$LAB/certs
CTRD_SOCK=$LAB/containerd/containerd.sock

log() { printf 'testbed: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# True when the pid file names a live process (a killed one may linger as a zombie for a moment).
pid_alive() {
  [[ -f $1 ]] || return 1
  local pid; pid=$(cat "$1")
  [[ -r /proc/$pid/stat ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}

wait_for() {  # wait_for <seconds> <command...>
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

engine_curl() {  # engine_curl <engine> <curl args...>
  curl -sf --max-time 10 --cacert "$CERTS/ca.pem" --cert "$CERTS/cert.pem" --key "$CERTS/key.pem" \
    "https://${ENGINE_ADDR[$1]}:$ENGINE_PORT$2" "${@:3}"
}

engine_docker() {  # the docker CLI against one of our engines, over its private unix socket
  local e=$1; shift
  DOCKER_CONFIG=$LAB/docker-cli docker -H "unix://$LAB/$e/docker.sock" "$@"
}

# --- certificates -------------------------------------------------------------------------------

# Made with onedock's own commands, as an operator makes them: one CA, a server certificate per
# engine naming its host and address, onedockd's client certificate; and a second CA with its own
# client certificate, which our engines must refuse (and a client trusting it must refuse them).
ONEDOCK_ADMIN=${ONEDOCK_ADMIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bridge/admin/onedock}
CERTS_CHANGED=0

# The directory `onedock host-cert` issues an engine's server certificate in: the second slot's,
# naming h1 and h2 at their own addresses, are issued by the same CA in a directory of their own.
engine_cert_base() {
  case $1 in
    h1|h2) echo "$CERTS" ;;
    *) echo "$CERTS/slot1" ;;
  esac
}
engine_cert_dir() { echo "$(engine_cert_base "$1")/hosts/${ENGINE_PLAYS[$1]}"; }

make_certs() {
  local done=1 e
  for e in "${ENGINES[@]}"; do [[ -f $(engine_cert_dir "$e")/cert.pem ]] || done=0; done
  [[ $done == 1 && -f $CERTS/cert.pem && -f $CERTS/foreign/cert.pem ]] && return 0
  [[ -x $ONEDOCK_ADMIN ]] || die "no $ONEDOCK_ADMIN: build onedock first (cmake --build build --target onedock), or set ONEDOCK_ADMIN"
  log "making the CA, the engines' and the client's certificates in $CERTS with onedock"
  rm -rf "$CERTS"
  "$ONEDOCK_ADMIN" client-cert --dir "$CERTS" --name oneadmin-client --days 3650 >/dev/null
  mkdir -p "$CERTS/slot1"
  cp "$CERTS/ca.pem" "$CERTS/ca-key.pem" "$CERTS/slot1/"
  for e in "${ENGINES[@]}"; do
    "$ONEDOCK_ADMIN" host-cert "${ENGINE_PLAYS[$e]}" --ip "${ENGINE_ADDR[$e]}" \
      --dir "$(engine_cert_base "$e")" --days 3650 >/dev/null
  done
  "$ONEDOCK_ADMIN" client-cert --dir "$CERTS/foreign" --name foreign-client --days 3650 >/dev/null
  CERTS_CHANGED=1
}

# --- containerd ---------------------------------------------------------------------------------

containerd_up() {
  local dir=$LAB/containerd
  if pid_alive "$dir/pid" && [[ -S $CTRD_SOCK ]]; then return 0; fi
  mkdir -p "$dir"
  cat > "$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = "$dir/debug.sock"
[metrics]
  address = ""
EOF
  rm -f "$CTRD_SOCK" "$CTRD_SOCK.ttrpc" "$dir/debug.sock"  # left by a containerd that was killed
  log "starting containerd"
  setsid containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 < /dev/null &
  echo $! > "$dir/pid"
  wait_for 20 test -S "$CTRD_SOCK" || die "containerd did not start; see $dir/containerd.log"
}

# --- engines ------------------------------------------------------------------------------------

bridge_up() {  # bridge_up <name> <gateway/prefix>
  if ! ip link show "$1" >/dev/null 2>&1; then
    ip link add name "$1" type bridge
    ip addr add "$2" dev "$1"
  fi
  ip link set "$1" up
}

engine_up() {
  local e=$1 dir=$LAB/$1
  # An engine still serving certificates from before make_certs replaced them is started again.
  if ((CERTS_CHANGED)) && pid_alive "$dir/docker.pid"; then engine_down "$e"; fi
  if pid_alive "$dir/docker.pid" && engine_curl "$e" /_ping >/dev/null 2>&1; then return 0; fi
  mkdir -p "$dir"
  rm -f "$dir/docker.pid" "$dir/docker.sock"  # left by a dockerd that was killed
  bridge_up "odk-$e" "${ENGINE_NET[$e]}.1/24"
  log "starting dockerd $e on ${ENGINE_ADDR[$e]}:$ENGINE_PORT"
  setsid dockerd \
    --data-root "$dir/root" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    -H "tcp://${ENGINE_ADDR[$e]}:$ENGINE_PORT" -H "unix://$dir/docker.sock" \
    --tlsverify --tlscacert "$CERTS/ca.pem" \
    --tlscert "$(engine_cert_dir "$e")/cert.pem" --tlskey "$(engine_cert_dir "$e")/key.pem" \
    --bridge "odk-$e" --iptables=false --ip-masq=false \
    --default-address-pool "base=${ENGINE_POOL[$e]},size=24" \
    --live-restore \
    --containerd "$CTRD_SOCK" \
    --containerd-namespace "onedock-$e" --containerd-plugins-namespace "onedock-$e-plugins" \
    >"$dir/dockerd.log" 2>&1 < /dev/null &
  wait_for 30 engine_curl "$e" /_ping || die "dockerd $e did not answer; see $dir/dockerd.log"
}

engine_down() {
  local e=$1 dir=$LAB/$1
  if pid_alive "$dir/docker.pid"; then
    # live-restore would keep containers running past the daemon: remove them first.
    local ids
    ids=$(engine_docker "$e" ps -aq 2>/dev/null || true)
    [[ -n $ids ]] && engine_docker "$e" rm -f $ids >/dev/null 2>&1 || true
    engine_docker "$e" network prune -f >/dev/null 2>&1 || true
    engine_docker "$e" volume prune -f >/dev/null 2>&1 || true
    local pid; pid=$(cat "$dir/docker.pid")
    kill "$pid" 2>/dev/null || true
    wait_for 20 sh -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
  fi
  ip link del "odk-$e" 2>/dev/null || true
}

# --- registries ---------------------------------------------------------------------------------

registry_answers() {  # registry_answers <addr>: 200, or 401 from one that wants credentials
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$1/v2/" 2>/dev/null || true)
  [[ $code == 200 || $code == 401 ]]
}

registry_up() {  # registry_up <name> <addr> [auth]
  local name=$1 addr=$2 dir=$LAB/registry-$1 auth=
  if pid_alive "$dir/pid" && registry_answers "$addr"; then return 0; fi
  mkdir -p "$dir/data"
  if [[ ${3:-} == auth ]]; then
    # bcrypt, as the registry's htpasswd backend requires.
    python3 -c 'import crypt,sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
      "$AUTH_USER" "$AUTH_PASSWORD" 2>/dev/null > "$dir/htpasswd"
    auth="auth: {htpasswd: {realm: onedock-test, path: $dir/htpasswd}}"
  fi
  cat > "$dir/config.yml" <<EOF
version: 0.1
log: {level: warn, fields: {service: registry-$name}}
storage:
  cache: {blobdescriptor: inmemory}
  filesystem: {rootdirectory: $dir/data}
  delete: {enabled: true}
http:
  addr: $addr
  headers: {X-Content-Type-Options: [nosniff]}
$auth
EOF
  log "starting registry $name on $addr"
  setsid docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 < /dev/null &
  echo $! > "$dir/pid"
  wait_for 20 registry_answers "$addr" || die "registry $name did not start; see $dir/registry.log"
}

# --- test images --------------------------------------------------------------------------------

# The test images' root file system: busybox-static with its applets, a web page and a passwd.
build_rootfs() {
  local root=$LAB/image/rootfs
  rm -rf "$LAB/image"; mkdir -p "$root/bin" "$root/www" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
  done
  echo '<html><body>onedock test page</body></html>' > "$root/www/index.html"
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  tar -C "$root" -cf "$LAB/image/rootfs.tar" .
}

# onedock/shell:1.0 is the same file system with a shell as its command, as the official busybox,
# alpine, debian and ubuntu images have.
seed_shell_image() {
  local repo=$UPSTREAM_REGISTRY/onedock/shell
  curl -sf "http://$UPSTREAM_REGISTRY/v2/onedock/shell/tags/list" | grep -q '"1.0"' && return 0
  log "building the shell test image and pushing it to $UPSTREAM_REGISTRY"
  [[ -f $LAB/image/rootfs.tar ]] || build_rootfs
  engine_docker h1 import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' \
    "$LAB/image/rootfs.tar" "$repo:1.0" >/dev/null
  engine_docker h1 push -q "$repo:1.0" >/dev/null
  engine_docker h1 rmi "$repo:1.0" >/dev/null
}

# onedock/httpd:1.0 is busybox-static with a web page, started as `httpd -f -p 80`; the same image is
# also published as library/busybox:latest.
seed_images() {
  local repo=$UPSTREAM_REGISTRY/onedock/httpd
  if curl -sf "http://$UPSTREAM_REGISTRY/v2/onedock/httpd/tags/list" | grep -q '"1.0"' &&
     curl -sf -u "$AUTH_USER:$AUTH_PASSWORD" "http://$AUTH_REGISTRY/v2/onedock/httpd/tags/list" | grep -q '"1.0"'; then
    return 0
  fi
  log "building the busybox-static test image and pushing it to $UPSTREAM_REGISTRY"
  build_rootfs
  engine_docker h1 import \
    -c 'CMD ["/bin/httpd","-f","-p","80","-h","/www"]' -c 'ENV PATH=/bin' -c 'EXPOSE 80' \
    "$LAB/image/rootfs.tar" "$repo:1.0" >/dev/null
  engine_docker h1 tag "$repo:1.0" "$UPSTREAM_REGISTRY/library/busybox:latest"
  engine_docker h1 push -q "$repo:1.0" >/dev/null
  engine_docker h1 push -q "$UPSTREAM_REGISTRY/library/busybox:latest" >/dev/null
  engine_docker h1 tag "$repo:1.0" "$AUTH_REGISTRY/onedock/httpd:1.0"
  echo "$AUTH_PASSWORD" | engine_docker h1 login -u "$AUTH_USER" --password-stdin "$AUTH_REGISTRY" >/dev/null 2>&1
  engine_docker h1 push -q "$AUTH_REGISTRY/onedock/httpd:1.0" >/dev/null
  engine_docker h1 logout "$AUTH_REGISTRY" >/dev/null
  engine_docker h1 rmi "$AUTH_REGISTRY/onedock/httpd:1.0" >/dev/null
  # Engines start without the images, so tests exercise real pulls.
  engine_docker h1 rmi "$repo:1.0" "$UPSTREAM_REGISTRY/library/busybox:latest" >/dev/null
}

# --- commands -----------------------------------------------------------------------------------

write_env() {
  {
    echo "ONEDOCK_LAB=$LAB"
    echo "ONEDOCK_CERTS=$CERTS"
    echo "ONEDOCK_ENGINES=\"${ENGINES[*]}\""
    for e in "${ENGINES[@]}"; do
      local up=${e^^}
      echo "ONEDOCK_ENGINE_${up}=${ENGINE_ADDR[$e]}:$ENGINE_PORT"
      echo "ONEDOCK_ENGINE_${up}_SOCKET=$LAB/$e/docker.sock"
      echo "ONEDOCK_ENGINE_${up}_BRIDGE=odk-$e"
      echo "ONEDOCK_ENGINE_${up}_DATA_ROOT=$LAB/$e/root"
    done
    echo "ONEDOCK_PRIVATE_REGISTRY=$PRIVATE_REGISTRY"
    echo "ONEDOCK_PRIVATE2_REGISTRY=$PRIVATE2_REGISTRY"
    echo "ONEDOCK_UPSTREAM_REGISTRY=$UPSTREAM_REGISTRY"
    echo "ONEDOCK_TEST_IMAGE=$UPSTREAM_REGISTRY/onedock/httpd:1.0"
    echo "ONEDOCK_AUTH_REGISTRY=$AUTH_REGISTRY"
    echo "ONEDOCK_AUTH_USER=$AUTH_USER"
    echo "ONEDOCK_AUTH_PASSWORD=$AUTH_PASSWORD"
    echo "ONEDOCK_OPENNEBULA=${ONEDOCK_OPENNEBULA:-/var/tmp/onedock-opennebula}"
  } > "$LAB/bed.env"
}

cmd_up() {
  mkdir -p "$LAB"
  make_certs
  containerd_up
  for e in "${ENGINES[@]}"; do engine_up "$e"; done
  registry_up private "$PRIVATE_REGISTRY"
  registry_up private2 "$PRIVATE2_REGISTRY"
  registry_up upstream "$UPSTREAM_REGISTRY"
  registry_up auth "$AUTH_REGISTRY" auth
  seed_images
  seed_shell_image
  bash "$(dirname "$0")/opennebula.sh" install
  write_env
  log "up"
}

cmd_down() {
  for e in "${ENGINES[@]}"; do engine_down "$e"; done
  for r in private private2 upstream auth; do
    if pid_alive "$LAB/registry-$r/pid"; then kill "$(cat "$LAB/registry-$r/pid")" 2>/dev/null || true; fi
  done
  if pid_alive "$LAB/containerd/pid"; then
    local pid; pid=$(cat "$LAB/containerd/pid")
    kill "$pid" 2>/dev/null || true
    wait_for 20 sh -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
  fi
  # Shims of our containerd outlive it; they carry its socket path on their command line.
  pkill -f "containerd-shim.*-address $CTRD_SOCK" 2>/dev/null || true
  if [[ -d $LAB ]]; then
    local m
    for m in $(awk -v lab="$LAB" 'index($2, lab) == 1 {print $2}' /proc/mounts | sort -r); do
      umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$LAB"
  fi
  log "down"
}

cmd_status() {
  local ok=0
  report() { printf '%-20s %s\n' "$1" "$2"; [[ $2 == up* ]] || ok=1; }
  if pid_alive "$LAB/containerd/pid"; then report containerd up; else report containerd down; fi
  for e in "${ENGINES[@]}"; do
    if [[ -f $CERTS/cert.pem ]] && engine_curl "$e" /_ping >/dev/null 2>&1; then
      report "engine $e" "up ${ENGINE_ADDR[$e]}:$ENGINE_PORT"
    else
      report "engine $e" down
    fi
  done
  local r addr
  for r in private private2 upstream auth; do
    case $r in private) addr=$PRIVATE_REGISTRY ;; private2) addr=$PRIVATE2_REGISTRY ;; upstream) addr=$UPSTREAM_REGISTRY ;; auth) addr=$AUTH_REGISTRY ;; esac
    if registry_answers "$addr"; then report "registry $r" "up $addr"
    else report "registry $r" down; fi
  done
  return $ok
}

# An engine that goes away and comes back, as a host's dockerd does on an upgrade or a crash.
cmd_engine_stop() {
  local e=$1 dir=$LAB/$1
  [[ -v ENGINE_ADDR[$e] ]] || die "no engine $e"
  if pid_alive "$dir/docker.pid"; then
    local pid; pid=$(cat "$dir/docker.pid")
    kill "$pid" 2>/dev/null || true
    wait_for 20 sh -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
  fi
  log "engine $e stopped"
}

case ${1:-} in
  up) cmd_up ;;
  engine-stop) cmd_engine_stop "${2:?engine name}" ;;
  engine-start) [[ -v ENGINE_ADDR[${2:?engine name}] ]] || die "no engine $2"; engine_up "$2"; log "engine $2 up" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) [[ -f $LAB/bed.env ]] || die "not up: run '$0 up'"; cat "$LAB/bed.env" ;;
  *) echo "usage: $0 up|down|status|env|engine-stop hN|engine-start hN" >&2; exit 2 ;;
esac
