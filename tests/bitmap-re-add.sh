#!/bin/bash
# md's re-add with a bitmap: the chunks written while a raid1 member was
# out stay set (NEEDED while degraded); re-added to its role (dev-X/state
# re-add, or removed and added back through new_dev, its events not older
# than the bitmap's events_cleared) it recovers only those chunks, and
# holds their data.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

M=$T/mnt
"$RAIDFS" create -l 1 -n 2 -N r -b internal --bitmap-chunk 1M --assume-clean \
	--member-size 64M "$T/a" "$T/b" >/dev/null
# The daemon says how much each bitmap-bounded pass synced.
rf_mount_fg "$M" "$T/a" "$T/b"
D=$M/r.md
expect_eq "bitmap/chunksize" "$(cat "$D/bitmap/chunksize")" $((1 << 20))
echo 0.1 >"$D/bitmap/time_base"
wait_bits "$T/a" ""

echo faulty >"$D/dev-b/state"
expect_eq "degraded" "$(cat "$D/degraded")" 1
random_file "$T/d5" $((1 << 20))
random_file "$T/d40" $((300 << 10))
dd if="$T/d5" of="$M/r" bs=1M seek=5 conv=notrunc,fsync status=none
dd if="$T/d40" of="$M/r" bs=1K seek=$((40 * 1024 + 100)) conv=notrunc,fsync status=none
wait_bits "$T/a" "5 40 "
# Idle for many daemon periods, the bits stay: b has not got those writes.
sleep 1
expect_eq "bits while degraded" "$(bitmap_bits "$T/a" | tr '\n' ' ')" "5 40 "

echo re-add >"$D/dev-b/state"
# recovered WHAT SECTORS: the recovery ends whole, having synced SECTORS.
recovered() {
	local i
	for i in $(seq 600); do
		[ "$(cat "$D/degraded")" = 0 ] && break
		sleep 0.1
	done
	expect_eq "$1: degraded after the recovery" "$(cat "$D/degraded")" 0
	wait_idle "$D"
	grep -q "recover by the bitmap: $2 of [0-9]* sectors synced" "$T/daemon.err" ||
		fail "$1: the recovery was not $2 sectors: $(grep 'by the bitmap' "$T/daemon.err")"
}
recovered "re-add" 4096

note "removed, written to, added back: md's re-add by its events"
echo faulty >"$D/dev-b/state"
echo remove >"$D/dev-b/state"
random_file "$T/d20" $((1 << 20))
dd if="$T/d20" of="$M/r" bs=1M seek=20 conv=notrunc,fsync status=none
echo "$T/b" >"$D/new_dev"
recovered "add back" 2048

# b alone must hold what was written while it was out.
echo faulty >"$D/dev-a/state"
same_range "$M/r" $((5 << 20)) "$T/d5" || fail "chunk 5 not recovered onto b"
same_range "$M/r" $(((40 << 20) + (100 << 10))) "$T/d40" || fail "chunk 40 not recovered onto b"
same_range "$M/r" $((20 << 20)) "$T/d20" || fail "chunk 20 not recovered onto b"
rf_umount "$M"
exit 0
