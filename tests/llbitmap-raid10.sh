#!/bin/bash
# llbitmap on raid10, whose syncs walk member rows while the bitmap covers
# the array: each virtual block asks the bitmap.  Created without
# --assume-clean, the array's first resync writes nothing never written
# (the members stay sparse); a check reads only what was; a recovery onto
# a new member copies only the chunks written, and holds their data.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

M=$T/mnt
D=$M/r.md
MiB=$((1 << 20))
"$RAIDFS" create -l 10 -n 4 -N r -b lockless --member-size 1G \
	"$T/a" "$T/b" "$T/c" "$T/d" >/dev/null
truncate -s 1G "$T/e"
rf_mount "$M" "$T/a" "$T/b" "$T/c" "$T/d"
wait_idle "$D"
for m in a b c d; do
	[ "$(kib "$T/$m")" -le 4096 ] ||
		fail "the first resync wrote $(kib "$T/$m") KiB of $m, never written"
done

random_file "$T/w" $((8 * MiB))
dd if="$T/w" of="$M/r" bs=1M seek=100 conv=notrunc,fsync status=none
echo check >"$D/sync_action"
wait_idle "$D"
expect_eq "mismatch_cnt" "$(cat "$D/mismatch_cnt")" 0

note "recovery onto a new member"
echo faulty >"$D/dev-d/state"
echo remove >"$D/dev-d/state"
echo "$T/e" >"$D/new_dev"
wait_whole "$D"
# 8 MiB written, 2 copies over 4 members; the reference's infection may
# round the run out to a bitmap block (512 chunks of the array).
[ "$(kib "$T/e")" -le $((64 * 1024)) ] ||
	fail "the recovery wrote $(kib "$T/e") KiB onto e for 8 MiB written"
# c out: e alone holds c's copies.
echo faulty >"$D/dev-c/state"
same_range "$M/r" $((100 * MiB)) "$T/w" || fail "the written run not on e"
rf_umount "$M"
exit 0
