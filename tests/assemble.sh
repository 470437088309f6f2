#!/bin/bash
# Assembly as mdadm does it: the freshest superblock wins, a stale member is
# reported and never written, a degraded start needs -o run, and -o ro
# writes nothing at all.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

sums() { md5sum "$@" | cut -d' ' -f1 | tr '\n' ' '; }

"$RAIDFS" create -l 1 -n 2 -N m --assume-clean --member-size 32M "$T/a" "$T/b" >/dev/null
rf_mount "$T/mnt" "$T/a" "$T/b"
dd if=/dev/urandom of="$T/mnt/m" bs=1M count=2 conv=notrunc,fsync status=none
rf_umount "$T/mnt"
cp --sparse=always "$T/a" "$T/a.old"

# Newer writes make a.old stale.
rf_mount "$T/mnt" "$T/a" "$T/b"
random_file "$T/new" $((1 << 20))
dd if="$T/new" of="$T/mnt/m" bs=1M conv=notrunc,fsync status=none
rf_umount "$T/mnt"

# Freshest wins even when the stale copy is offered first.
before=$(sums "$T/a.old")
rf_mount "$T/mnt" "$T/a.old" "$T/a" "$T/b"
grep -q "a.old: stale" "$T/daemon.err" || fail "stale member not reported: $(cat "$T/daemon.err")"
same_range "$T/mnt/m" 0 "$T/new" || fail "data is not the freshest"
rf_umount "$T/mnt"
expect_eq "stale member untouched" "$(sums "$T/a.old")" "$before"

# Only the stale copy and b: b is fresh but alone; a degraded start needs -o run.
rc=0; "$RAIDFS" mount -f "$T/a.old" "$T/b" "$T/mnt" 2>"$T/err" || rc=$?
expect_eq "degraded start without -o run" "$rc" 2
grep -q "use -o run" "$T/err" || fail "no hint to use -o run: $(cat "$T/err")"
rf_mount "$T/mnt" -o run "$T/b"
expect_eq "degraded" "$(cat "$T/mnt/m.md/degraded")" 1
same_range "$T/mnt/m" 0 "$T/new" || fail "degraded read differs"
rf_umount "$T/mnt"

# -o ro: readable, not writable, and the members stay byte for byte.
before=$(sums "$T/a" "$T/b")
rf_mount "$T/mnt" -o ro "$T/a" "$T/b"
same_range "$T/mnt/m" 0 "$T/new" || fail "read-only read differs"
expect_eq "array_state" "$(cat "$T/mnt/m.md/array_state")" readonly
dd if=/dev/zero of="$T/mnt/m" bs=4K count=1 conv=notrunc status=none 2>/dev/null &&
	fail "a write through -o ro succeeded"
grep -q "active (read-only) raid1" "$T/mnt/mdstat" || fail "mdstat: $(cat "$T/mnt/mdstat")"
rf_umount "$T/mnt"
expect_eq "members after -o ro" "$(sums "$T/a" "$T/b")" "$before"
echo "PASS"
