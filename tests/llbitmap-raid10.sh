#!/bin/bash
# llbitmap on raid10, whose syncs walk member rows while the bitmap covers
# the array: each virtual block asks the bitmap.  Created without
# --assume-clean, the array's first resync writes nothing never written
# (the members stay sparse); a check reads only what was; a recovery onto
# a new member or a replacement copies only the chunks written, and holds
# their data; a re-added one only those written while it was out.
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

note "re-add: only the chunks written while the member was out"
# d holds the odd 512 KiB chunks at member row c / 2: the 4 MiB of its
# rows from 50 MiB are its copies of what was written at 100 MiB, Clean
# once the daemon ran.  Spoilt while d is out, they stay so: the re-add
# copies only NeedSync, the 4 MiB written at 300 MiB meanwhile.
echo 1 >"$D/llbitmap/daemon_sleep"
echo 1 >"$D/llbitmap/barrier_idle"
bits() { sed -n "s/^$1 //p" "$D/llbitmap/bits"; }
for i in $(seq 100); do [ "$(bits dirty)" = 0 ] && break; sleep 0.1; done
expect_eq "dirty after the daemon" "$(bits dirty)" 0
echo faulty >"$D/dev-d/state"
random_file "$T/w2" $((4 * MiB))
dd if="$T/w2" of="$M/r" bs=1M seek=300 conv=notrunc,fsync status=none
doff=$(examine_field "$T/d" "Data Offset" | cut -d' ' -f1)
dd if=/dev/urandom of="$T/d" bs=1M count=4 conv=notrunc status=none \
   oflag=seek_bytes seek=$((doff * 512 + 50 * MiB))
echo re-add >"$D/dev-d/state"
wait_whole "$D"
same_range "$M/r" $((300 * MiB)) "$T/w2" || fail "the run written while d was out"
echo check >"$D/sync_action"
wait_idle "$D"
expect_eq "mismatch_cnt: d's spoilt Clean copies, not recovered" \
	"$(cat "$D/mismatch_cnt")" $((4 * MiB / 512))
echo repair >"$D/sync_action"
wait_idle "$D"

note "replace: only the chunks ever written"
truncate -s 1G "$T/f"
replaced "$D" b "$T/f"
note "the replacement holds $(kib "$T/f") KiB"
# 12 MiB written, rounded out as for the recovery below.
[ "$(kib "$T/f")" -le $((64 * 1024)) ] ||
	fail "the replacement holds $(kib "$T/f") KiB for 12 MiB written"
echo remove >"$D/dev-b/state"
echo faulty >"$D/dev-a/state"      # f alone holds a's and b's copies
same_range "$M/r" $((100 * MiB)) "$T/w" || fail "the first run not on f"
same_range "$M/r" $((300 * MiB)) "$T/w2" || fail "the second run not on f"
echo remove >"$D/dev-a/state"
truncate -s 0 "$T/a"
truncate -s 1G "$T/a"
echo "$T/a" >"$D/new_dev"
wait_whole "$D"

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
