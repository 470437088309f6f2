#!/bin/bash
# Self-test of the kernel-interop harness, against the real md driver:
#  1. the VM creates a raid1 on two host files, writes a pattern, resyncs,
#     runs a check (0 mismatches) and stops it;
#  2. the host's mdadm --examine sees a clean 2-disk raid1 and finds the
#     pattern at the data offset of both member files;
#  3. the VM re-assembles it: same data, no resync; then it "crashes" with
#     the array dirty, which the host must see as State : active;
#  4. every md personality (linear, raid0/1/4/5/6/10) loads and works.
# Exit: 0 pass, 1 fail, 77 when no VM can be booted here at all.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VM=$HERE/vm.sh
TIMEOUT=${SELFTEST_TIMEOUT:-300}
# A deterministic, offset-unique pattern: "000000\n" .. "999999\n",
# 7,000,000 bytes.  Made on the host and passed in with -f, because busybox
# seq under TCG needs ~5s for it.
PATTERN_BYTES=7000000

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# Runs vm.sh, keeps its output in $WORK/$1.log; fails on a non-zero status.
boot() {
    local name=$1 start rc=0
    shift
    start=$(date +%s%N)
    "$VM" -t "$TIMEOUT" "$@" 2>&1 | tee "$WORK/$name.log" || rc=${PIPESTATUS[0]}
    echo "-- $name: status $rc, $(( ($(date +%s%N) - start) / 1000000 )) ms"
    [ "$rc" -eq 0 ] || fail "$name: vm.sh exited $rc"
}

preflight() {
    local t
    for t in qemu-system-x86_64 mdadm busybox cpio depmod; do
        command -v "$t" >/dev/null || PATH=$PATH:/sbin:/usr/sbin command -v "$t" >/dev/null ||
            skip "$t not installed (run tests/kernel/deps.sh)"
    done
    echo 'exit 0' >"$WORK/true.sh"
    local rc=0
    "$VM" -t "$TIMEOUT" "$WORK/true.sh" || rc=$?
    # 99: the harness could not even set up (e.g. no kernel to download).
    [ "$rc" -ne 99 ] || skip "vm.sh cannot set up a VM here"
    [ "$rc" -eq 0 ] || fail "an empty VM run exited $rc"
}

# ----------------------------------------------------------------- raid1 --

write_create_script() {
    cat >"$WORK/create.sh" <<EOF
set -e
mdadm --create /dev/md0 --run --level=1 --raid-devices=2 --metadata=1.2 /dev/vda /dev/vdb
dd if=/host/pattern of=/dev/md0 bs=1M conv=fsync 2>/dev/null
mdadm --wait /dev/md0 || true   # fails when there was nothing to wait for
echo check >/sys/block/md0/md/sync_action
mdadm --wait /dev/md0 || true
echo "sync_action=\$(cat /sys/block/md0/md/sync_action)"
echo "mismatch_cnt=\$(cat /sys/block/md0/md/mismatch_cnt)"
echo "sha=\$(head -c $PATTERN_BYTES /dev/md0 | sha256sum | cut -d' ' -f1)"
mdadm --stop /dev/md0
EOF
}

write_assemble_script() {
    cat >"$WORK/assemble.sh" <<EOF
set -e
mdadm --assemble /dev/md0 /dev/vda /dev/vdb
sleep 1   # give md a chance to start a resync it should not start
cat /proc/mdstat
if grep -Eq 'resync|recover|check' /proc/mdstat; then echo "unexpected sync"; exit 1; fi
echo "sync_action=\$(cat /sys/block/md0/md/sync_action)"
echo "array_state=\$(cat /sys/block/md0/md/array_state)"
sha=\$(head -c $PATTERN_BYTES /dev/md0 | sha256sum | cut -d' ' -f1)
[ "\$sha" = "\$(cat /host/expected.sha)" ] || { echo "data differs: \$sha"; exit 1; }
echo data ok
# Leave the array dirty: no safe-mode timer marks it clean, no stop.
echo 0 >/sys/block/md0/md/safe_mode_delay
echo tail | dd of=/dev/md0 bs=512 seek=20000 conv=fsync 2>/dev/null
touch /run/vm-crash
EOF
}

# "KEY : value" from mdadm --examine of member $1.
examine_field() {
    mdadm --examine "$1" | sed -n "s/^ *$2 : //p"
}

check_examine() {
    local f=$1 want_state=$2 v
    mdadm --examine "$f" >"$WORK/examine.out" || fail "mdadm --examine $f failed"
    [ "$(examine_field "$f" 'Raid Level')" = raid1 ] || fail "$f: not raid1"
    [ "$(examine_field "$f" 'Raid Devices')" = 2 ] || fail "$f: not 2 devices"
    v=$(examine_field "$f" State)
    [ "$v" = "$want_state" ] || fail "$f: State is '$v', want '$want_state'"
    v=$(examine_field "$f" 'Array State')
    [ "${v%% *}" = AA ] || fail "$f: Array State is '$v'"
    [ "$(examine_field "$f" Version)" = 1.2 ] || fail "$f: not metadata 1.2"
}

# The mirror's data must sit verbatim at the data offset of each member.
check_member_data() {
    local f=$1 off sha
    off=$(examine_field "$f" 'Data Offset' | awk '{ print $1 }')
    sha=$(dd if="$f" iflag=skip_bytes,count_bytes skip=$((off * 512)) \
        count="$PATTERN_BYTES" bs=1M status=none | sha256sum | cut -d' ' -f1)
    [ "$sha" = "$EXPECTED_SHA" ] || fail "$f: data at offset $off sectors differs"
}

test_raid1() {
    truncate -s 64M "$WORK/m0" "$WORK/m1"
    seq -w 0 999999 >"$WORK/pattern"
    EXPECTED_SHA=$(sha256sum <"$WORK/pattern" | cut -d' ' -f1)
    echo "$EXPECTED_SHA" >"$WORK/expected.sha"

    write_create_script
    boot create -f "$WORK/pattern" "$WORK/create.sh" "$WORK/m0" "$WORK/m1"
    grep -qx 'mismatch_cnt=0' "$WORK/create.log" || fail "check found mismatches"
    grep -qx "sha=$EXPECTED_SHA" "$WORK/create.log" || fail "data read back in the VM differs"

    local f uuid0
    for f in "$WORK/m0" "$WORK/m1"; do
        check_examine "$f" clean
        check_member_data "$f"
    done
    uuid0=$(examine_field "$WORK/m0" 'Array UUID')
    [ "$uuid0" = "$(examine_field "$WORK/m1" 'Array UUID')" ] || fail "members disagree on the array UUID"
    echo "host: mdadm --examine sees a clean raid1, data in place on both members"

    write_assemble_script
    boot assemble -f "$WORK/expected.sha" "$WORK/assemble.sh" "$WORK/m0" "$WORK/m1"
    grep -qx 'data ok' "$WORK/assemble.log" || fail "re-assembled data not verified"
    grep -qx 'array_state=clean' "$WORK/assemble.log" || fail "re-assembled array not clean"
    for f in "$WORK/m0" "$WORK/m1"; do check_examine "$f" active; done
    echo "host: after the simulated crash the members say State : active"
}

# ----------------------------------------------------------- personalities --

write_levels_script() {
    cat >"$WORK/levels.sh" <<'EOF'
set -e
grep Personalities /proc/mdstat
echo "release $(uname -r)"
for spec in "linear 2 linear" "0 2 raid0" "1 2 raid1" "10 4 raid10" \
            "4 3 raid4" "5 3 raid5" "6 4 raid6"; do
    set -- $spec
    if ! grep -q "\[$3\]" /proc/mdstat; then echo "$3 unavailable"; continue; fi
    devs=$(echo $VM_DISKS | cut -d' ' -f1-$2)
    chunk=--chunk=64
    [ "$1" != 1 ] || chunk=
    # --assume-clean: no initial resync, this only proves the module works.
    mdadm --create /dev/md1 --run --quiet --level=$1 --raid-devices=$2 \
        --metadata=1.2 --assume-clean $chunk $devs
    level=$(cat /sys/block/md1/md/level)
    [ "$level" = "$3" ] || { echo "level $1 came up as $level"; exit 1; }
    dd if=/host/small of=/dev/md1 bs=64k conv=fsync 2>/dev/null
    a=$(sha256sum </host/small)
    b=$(head -c $(wc -c </host/small) /dev/md1 | sha256sum)
    [ "$a" = "$b" ] || { echo "$3: read back differs"; exit 1; }
    mdadm --stop /dev/md1 >/dev/null 2>&1
    mdadm --zero-superblock $devs
    echo "$3 ok"
done
EOF
}

# May kernel release $1 lack md-linear?  It was removed in 6.8 and came
# back (6.14, and 6.12.16 stable) as CONFIG_MD_LINEAR, which distributions
# may leave off (Debian 12's 6.12 does); before 6.8 it must be there.
linear_removed() {
    local major minor
    IFS=. read -r major minor _ <<<"$1"
    [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 8 ]; }
}

test_levels() {
    local l
    truncate -s 32M "$WORK"/p0 "$WORK"/p1 "$WORK"/p2 "$WORK"/p3
    write_levels_script
    seq 1 200000 >"$WORK/small"
    boot levels -f "$WORK/small" "$WORK/levels.sh" "$WORK"/p0 "$WORK"/p1 "$WORK"/p2 "$WORK"/p3
    for l in linear raid0 raid1 raid10 raid4 raid5 raid6; do
        if [ "$l" = linear ] && grep -qx 'linear unavailable' "$WORK/levels.log" &&
            linear_removed "$(sed -n 's/^release //p' "$WORK/levels.log")"; then
            echo "note: this kernel is built without md linear"
            continue
        fi
        grep -qx "$l ok" "$WORK/levels.log" || fail "$l did not work"
    done
}

main() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/raidfs-kvm-selftest.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
    preflight
    test_raid1
    test_levels
    echo "PASS"
}

main "$@"
