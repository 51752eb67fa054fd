#!/usr/bin/env bash
# Installs the onedock .deb on this machine (root, Debian 12) and checks it as an operator meets it:
#   tests/package/check_package.sh DEB BUILD_DIR
# 1. install on a machine without the user oneadmin: it succeeds and says what to do;
# 2. the package's files against the layout the README gives (every path there, nothing outside
#    the allowed roots, the not_supported links still links, the conffiles declared);
# 3. `onedockd --check` on the installed onedockd.conf: refused as shipped (its certificates do not
#    exist here), accepted once the test bed's files fill it in;
# 4. `systemd-analyze verify` on the installed unit (and, in 6, once oneadmin exists, `logrotate
#    -d` on the installed rotation, which runs as oneadmin);
# 5. the integration case "installed package: …" of BUILD_DIR (the emulator deploys and
#    terminates a VM through the installed remotes), which fails when the remotes are missing;
# 6. an upgrade (the same package with a higher version) keeps an edited onedockd.conf, and with
#    oneadmin present creates onedockd's directories owned by it;
# 7. remove keeps every file onedockd made; purge removes onedock's log, spool and token, keeps
#    the journal, and leaves OpenNebula's files as they were;
# 8. purge does not delete through a link planted in place of /var/lib/one/onedock.
# The test bed must be up (tests/bed/testbed.sh up). What the script adds to the machine (the user
# oneadmin, stand-ins for OpenNebula's files) is removed at the end, and so is the package.
set -euo pipefail
deb=$(realpath "${1:?usage: check_package.sh DEB BUILD_DIR}")
build=$(realpath "${2:?usage: check_package.sh DEB BUILD_DIR}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export DEBIAN_FRONTEND=noninteractive

failed=0
pass() { echo "  ok    $*"; }
fail() { echo "  FAIL  $*"; failed=1; }
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

work=$(mktemp -d /tmp/onedock-pkgcheck-XXXXXX)
made_user=
made_files=()  # stand-ins for OpenNebula's files, removed at the end
# OpenNebula's directories that this machine did not have: removed at the end with what the
# package and this script put there.
new_dirs=()
for d in /etc/one /var/lib/one /var/log/one; do [[ -e $d ]] || new_dirs+=("$d"); done
cleanup() {
  dpkg --purge onedock >/dev/null 2>&1 || true
  if [[ -n $made_user ]]; then userdel oneadmin >/dev/null 2>&1 || true; fi
  rm -rf /var/lib/one/onedock
  rm -f "${made_files[@]}"
  rm -rf "${new_dirs[@]}" "$work"
}
trap cleanup EXIT

# Paths where the package may put files, and the parents of those roots.
allowed_roots=(/usr/bin/onedockd /usr/bin/onedock /usr/share/onedock /usr/share/doc/onedock
  /var/lib/one/remotes/vmm/onedock /var/lib/one/remotes/im/onedock.d
  /var/lib/one/remotes/datastore/onedock /var/lib/one/remotes/tm/onedock
  /var/lib/one/remotes/vnm/onedock /var/lib/one/remotes/onedock /var/lib/one/remotes/etc/onedock
  /etc/one/onedockd.conf /etc/logrotate.d/onedock /lib/systemd/system/opennebula-onedock.service)
conffiles=(/etc/one/onedockd.conf /etc/logrotate.d/onedock /var/lib/one/remotes/etc/onedock/stub.conf)

expected_paths() {  # every file the README says the package installs
  printf '%s\n' /usr/bin/onedockd /usr/bin/onedock /usr/share/onedock/oned-onedock.conf \
    /usr/share/onedock/monitord-onedock.conf /etc/one/onedockd.conf /etc/logrotate.d/onedock \
    /lib/systemd/system/opennebula-onedock.service /var/lib/one/remotes/onedock/onedock-stub
  local d f
  for d in vmm/onedock im/onedock.d datastore/onedock tm/onedock vnm/onedock etc/onedock; do
    for f in "$ROOT/drivers/$d"/*; do echo "/var/lib/one/remotes/$d/$(basename "$f")"; done
  done
}

under_allowed_root() {  # a path dpkg -L lists: one of the roots, inside one, or a parent of one
  local p=$1 r
  [[ $p == /. ]] && return 0
  for r in "${allowed_roots[@]}"; do
    [[ $p == "$r" || $p == "$r"/* || $r == "$p"/* ]] && return 0
  done
  return 1
}

if dpkg-query -W -f='${Status}' onedock 2>/dev/null | grep -q installed; then
  echo "check_package: removing an onedock package left installed"
  dpkg --purge onedock >/dev/null
fi
if getent passwd oneadmin >/dev/null; then
  echo "check_package: this machine has a user oneadmin; step 1 needs a machine without it" >&2
  exit 1
fi

echo "=== 1. install without oneadmin"
if apt-get install -y -qq "$deb" >"$work/install.log" 2>&1; then
  pass "apt-get install $(basename "$deb")"
else
  fail "apt-get install $(basename "$deb")"
  cat "$work/install.log"
  exit 1
fi
check "postinst says oneadmin is missing and what to do" grep -q "no user oneadmin" "$work/install.log"
check "postinst prints the next steps" grep -q "systemctl enable --now opennebula-onedock" "$work/install.log"
check "no state directory made without oneadmin" test ! -e /var/lib/one/onedock -a ! -e /var/lib/one/.onedock -a ! -e /etc/one/onedock

echo "=== 2. the package's files"
dpkg -L onedock | sort >"$work/listed"
missing=0
while read -r p; do
  grep -qxF "$p" "$work/listed" && [[ -e $p || -L $p ]] || { echo "    missing: $p"; missing=1; }
done < <(expected_paths)
check "every path of the layout installed ($(expected_paths | wc -l) files)" test $missing = 0
outside=$(while read -r p; do under_allowed_root "$p" || echo "$p"; done <"$work/listed")
[[ -z $outside ]] || echo "$outside" | sed 's/^/    outside the allowed roots: /'
check "nothing outside the allowed roots" test -z "$outside"
links=0
for f in "$ROOT"/drivers/vmm/onedock/*; do
  [[ -L $f ]] || continue
  installed=/var/lib/one/remotes/vmm/onedock/$(basename "$f")
  [[ -L $installed && $(readlink "$installed") == "$(readlink "$f")" ]] || {
    echo "    not a link to $(readlink "$f"): $installed"
    links=1
  }
done
check "the not_supported links are links" test $links = 0
check "onedockd, onedock and onedock-stub are executable" test -x /usr/bin/onedockd -a -x /usr/bin/onedock -a -x /var/lib/one/remotes/onedock/onedock-stub
dpkg-query -W -f='${Conffiles}\n' onedock | awk 'NF {print $1}' | sort >"$work/conffiles"
check "conffiles: ${conffiles[*]}" diff <(printf '%s\n' "${conffiles[@]}" | sort) "$work/conffiles"
check "the installed onedockd.conf logs to /var/log/one/onedockd.log" grep -qx "file = /var/log/one/onedockd.log" /etc/one/onedockd.conf
check "the release: onedockd --version is the package's" test "$(onedockd --version | awk '{print $NF}')" = "$(dpkg-query -W -f='${Version}' onedock)"

echo "=== 3. onedockd --check"
if onedockd --check -c /etc/one/onedockd.conf >"$work/check-shipped" 2>&1; then
  fail "the shipped file is refused while its certificates are missing"
else
  check "the shipped file is refused while its certificates are missing (exit 2)" test $? = 2
  grep -q "/etc/one/onedock/certs/ca.pem" "$work/check-shipped" || fail "the refusal names the CA file"
fi
# shellcheck disable=SC1090
source <(bash "$ROOT/tests/bed/testbed.sh" env)
mkdir -p "$work/journal"
echo "oneadmin:secret" >"$work/one_auth"
sed -e "s|^ca = .*|ca = $ONEDOCK_CERTS/ca.pem|" -e "s|^cert = .*|cert = $ONEDOCK_CERTS/cert.pem|" \
  -e "s|^key = .*|key = $ONEDOCK_CERTS/key.pem|" -e "s|^path = .*|path = $work/journal/journal.db|" \
  -e "s|^auth_file =.*|auth_file = $work/one_auth|" /etc/one/onedockd.conf >"$work/onedockd.conf"
if onedockd --check -c "$work/onedockd.conf" >"$work/check-filled" 2>&1; then
  pass "onedockd --check accepts it with the bed's certificates, a session file and a journal dir"
else
  fail "onedockd --check on the filled-in copy"
  cat "$work/check-filled"
fi
check "the filled-in copy differs from the installed file in those 5 keys only" \
  test "$(diff /etc/one/onedockd.conf "$work/onedockd.conf" | grep -c '^>')" = 5

echo "=== 4. the unit and the log rotation"
unit=/lib/systemd/system/opennebula-onedock.service
if systemd-analyze verify "$unit" >"$work/verify" 2>&1; then
  pass "systemd-analyze verify $unit"
else
  fail "systemd-analyze verify $unit"
fi
sed 's/^/    /' "$work/verify"
exposure=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -1 || true)
echo "    systemd-analyze security: ${exposure:-not available}"
check "unit: User=oneadmin, After=opennebula.service, Restart=on-failure, no PrivateTmp" \
  bash -c "grep -qx User=oneadmin $unit && grep -q '^After=.*opennebula.service' $unit &&
           grep -qx Restart=on-failure $unit && ! grep -q '^PrivateTmp' $unit"

echo "=== 5. the emulator runs the installed remotes"
if ONEDOCK_EXPECT_PACKAGE=1 "$build/tests/integration_tests" -tc='installed package:*' \
  >"$work/integration" 2>&1; then
  pass "integration 'installed package: …': $(grep -o '[0-9]* passed' "$work/integration" | tail -1) assertions"
else
  fail "integration case 'installed package: …'"
  cat "$work/integration"
fi

echo "=== 6. an upgrade keeps the operator's edits"
useradd --system --home-dir /var/lib/one --no-create-home --shell /usr/sbin/nologin \
  --user-group oneadmin
made_user=yes
sed -i 's/^level = info$/level = debug/' /etc/one/onedockd.conf
echo "# edited by the operator" >>/etc/one/onedockd.conf
cp /etc/one/onedockd.conf "$work/edited.conf"
dpkg-deb -R "$deb" "$work/next"
version=$(dpkg-deb -f "$deb" Version)
sed -i "s/^Version: .*/Version: $version.1/" "$work/next/DEBIAN/control"
dpkg-deb -b "$work/next" "$work/onedock_${version}.1_amd64.deb" >/dev/null
if apt-get install -y -qq "$work/onedock_${version}.1_amd64.deb" >"$work/upgrade.log" 2>&1; then
  pass "apt-get install of $version.1 over $version"
else
  fail "upgrade to $version.1"
  cat "$work/upgrade.log"
fi
check "the installed version is $version.1" test "$(dpkg-query -W -f='${Version}' onedock)" = "$version.1"
check "the edited /etc/one/onedockd.conf is kept" cmp -s /etc/one/onedockd.conf "$work/edited.conf"
check "no .dpkg-new or .dpkg-dist beside it" test ! -e /etc/one/onedockd.conf.dpkg-new -a ! -e /etc/one/onedockd.conf.dpkg-dist
for entry in /var/lib/one/onedock:750 /var/lib/one/onedock/spool:750 /var/lib/one/.onedock:700 \
  /var/log/one:750 /etc/one/onedock:750; do
  dir=${entry%:*}
  check "postinst made $dir oneadmin's, mode ${entry#*:}" \
    test "$(stat -c '%U:%G %a' "$dir" 2>/dev/null)" = "oneadmin:oneadmin ${entry#*:}"
done
# The rotation runs as oneadmin (su oneadmin oneadmin), so it is checked once that user exists.
if logrotate -d /etc/logrotate.d/onedock >"$work/logrotate" 2>&1; then
  pass "logrotate -d /etc/logrotate.d/onedock"
else
  fail "logrotate -d /etc/logrotate.d/onedock"
  cat "$work/logrotate"
fi

echo "=== 7. remove and purge"
# What a running onedockd leaves, and stand-ins for OpenNebula's own files.
touch /var/lib/one/onedock/journal.db /var/lib/one/onedock/spool/image-1.tar \
  /var/lib/one/.onedock/stub_token /var/log/one/onedockd.log /var/log/one/onedockd.log-20261201.gz
for f in /etc/one/oned.conf /etc/one/monitord.conf /var/log/one/oned.log \
  /var/lib/one/remotes/vmm/kvm/deploy; do
  [[ -e $f ]] && continue
  mkdir -p "$(dirname "$f")"
  echo "OpenNebula's own $f" >"$f"
  made_files+=("$f")
done
sha256sum /etc/one/oned.conf /etc/one/monitord.conf /var/log/one/oned.log \
  /var/lib/one/remotes/vmm/kvm/deploy >"$work/oned-files.sha256"
apt-get remove -y -qq onedock >/dev/null 2>&1 || fail "apt-get remove onedock"
check "remove: the binaries and remotes are gone" test ! -e /usr/bin/onedockd -a ! -e /var/lib/one/remotes/vmm/onedock/deploy
for p in /etc/one/onedockd.conf /var/lib/one/onedock/journal.db /var/lib/one/onedock/spool/image-1.tar \
  /var/lib/one/.onedock/stub_token /var/log/one/onedockd.log; do
  check "remove keeps $p" test -e "$p"
done
dpkg --purge onedock >/dev/null 2>&1 || fail "dpkg --purge onedock"
check "purge: dpkg no longer knows onedock" bash -c '! dpkg-query -W onedock >/dev/null 2>&1'
check "purge keeps the journal" test -e /var/lib/one/onedock/journal.db
left=$(
  for p in "${allowed_roots[@]}" /var/lib/one/onedock/spool /var/lib/one/.onedock \
    /var/log/one/onedockd.log /var/log/one/onedockd.log-20261201.gz /etc/one/onedockd.conf.dpkg-old \
    /etc/one/onedock; do
    if [[ -e $p || -L $p ]]; then echo "$p"; fi
  done
)
[[ -z $left ]] || echo "$left" | sed 's/^/    left by purge: /'
check "purge leaves nothing of onedock's but the journal" test -z "$left"
check "purge leaves OpenNebula's files as they were" sha256sum --quiet -c "$work/oned-files.sha256"

echo "=== 8. purge does not follow a link oneadmin planted"
# oneadmin owns /var/lib/one: a /var/lib/one/onedock replaced by a link elsewhere must not make
# root's purge delete that place's spool/ (a link to /var would take /var/spool).
apt-get install -y -qq "$deb" >/dev/null 2>&1 || fail "reinstall for the link case"
mkdir -p "$work/elsewhere/spool"
touch "$work/elsewhere/spool/not-onedocks"
mv /var/lib/one/onedock "$work/real-onedock"
ln -s "$work/elsewhere" /var/lib/one/onedock
dpkg --purge onedock >"$work/purge-link.log" 2>&1 || fail "dpkg --purge onedock with a linked directory"
check "purge leaves the spool/ of where the link points" test -e "$work/elsewhere/spool/not-onedocks"
check "purge says it left the link alone" grep -q 'is a symbolic link: left alone' "$work/purge-link.log"
rm -f /var/lib/one/onedock
mv "$work/real-onedock" /var/lib/one/onedock

if ((failed)); then echo "check_package: FAILED"; else echo "check_package: all checks passed"; fi
exit $failed
