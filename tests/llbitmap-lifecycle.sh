#!/bin/bash
# llbitmap across a member's life, on a 16 GiB sparse raid1 with about 1%
# of it written: a re-added member recovers only what was written while it
# was out (NeedSync), a replacement copies only what was ever written
# (Unwritten is skipped), and a discard of the image turns the chunks it
# covers whole back to Unwritten and punches them out of the members.
# Counted by the daemon's "by the bitmap" line and by the blocks the member
# files hold; the reference's infection rounds a run of written chunks out
# to its 512-chunk bitmap blocks, so "about 1%" allows up to twice that.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

M=$T/mnt
D=$M/r.md
GiB=$((1 << 30))
"$RAIDFS" create -l 1 -n 2 -N r -b lockless --member-size 16G \
	"$T/a" "$T/b" >/dev/null
truncate -s 16G "$T/c"
rf_mount_fg "$M" "$T/a" "$T/b"
echo 1 >"$D/llbitmap/daemon_sleep"
echo 1 >"$D/llbitmap/barrier_idle"
chunk=$(($(sed -n 's/^chunksize //p' "$D/llbitmap/metadata") << 9))
chunks=$(sed -n 's/^chunks //p' "$D/llbitmap/metadata")
bits() { sed -n "s/^$1 //p" "$D/llbitmap/bits"; }
# The written runs: 1% of the array each, chunk-aligned.
run=$(((16 * GiB / 100 / chunk) * chunk))
random_file "$T/w1" "$run"
random_file "$T/w2" "$run"
at1=$((3 * GiB)) at2=$((9 * GiB))

dd if="$T/w1" of="$M/r" bs=1M seek=$((at1 >> 20)) conv=notrunc,fsync status=none
for i in $(seq 100); do [ "$(bits dirty)" = 0 ] && break; sleep 0.1; done
expect_eq "dirty after the daemon" "$(bits dirty)" 0

note "re-add: only what was written while the member was out"
echo faulty >"$D/dev-b/state"
dd if="$T/w2" of="$M/r" bs=1M seek=$((at2 >> 20)) conv=notrunc,fsync status=none
echo re-add >"$D/dev-b/state"
wait_whole "$D"
synced=$(sed -n 's/.*recover by the bitmap: \([0-9]*\) of.*/\1/p' "$T/daemon.err" | tail -n1)
[ -n "$synced" ] || fail "no bitmap-bounded recovery: $(grep -i recover "$T/daemon.err")"
note "re-add recovered $((synced << 9)) bytes for $run written"
[ $((synced << 9)) -ge "$run" ] && [ $((synced << 9)) -le $((2 * run)) ] ||
	fail "re-add recovered $((synced << 9)) bytes, not about $run"

note "replace: only what was ever written"
replaced "$D" a "$T/c"
got=$(kib "$T/c")
note "the replacement holds $got KiB for $((2 * run >> 10)) KiB written"
[ "$got" -ge $((2 * run >> 10)) ] && [ "$got" -le $((4 * run >> 10)) ] ||
	fail "the replacement holds $got KiB, not about $((2 * run >> 10))"
# b out: c alone serves both runs.
echo faulty >"$D/dev-b/state"
same_range "$M/r" "$at1" "$T/w1" || fail "run 1 not on the replacement"
same_range "$M/r" "$at2" "$T/w2" || fail "run 2 not on the replacement"
echo remove >"$D/dev-b/state"
echo "$T/b" >"$D/new_dev"
wait_whole "$D"

note "discard: back to Unwritten, and out of the members"
unwritten=$(bits unwritten) before=$(kib "$T/c")
fallocate -p -o "$at1" -l "$run" "$M/r"
expect_eq "unwritten after the discard" "$(bits unwritten)" $((unwritten + run / chunk))
after=$(kib "$T/c")
[ $((before - after)) -ge $((run >> 10)) ] ||
	fail "the discard freed $((before - after)) KiB of c, not $((run >> 10))"
cmp -s -n "$run" -i "$at1:0" "$M/r" /dev/zero || fail "the discarded run does not read zeros"
expect_eq "chunks" "$chunks" "$(sed -n 's/^chunks //p' "$D/llbitmap/metadata")"
rf_umount "$M"
exit 0
