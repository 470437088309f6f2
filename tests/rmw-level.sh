#!/bin/bash
# md's rmw_level on raid5: how a 4K write to one data chunk updates
# parity.  Read-modify-write reads the old data and the old parity;
# reconstruct-write reads the other data chunks and not the parity.
# Whether the row's parity member was read shows as a read error injected
# on it (fault/injected).  With 5 members rmw reads 2, rcw 3: level 1
# does rmw, level 0 never does.  With 4 they tie at 2: level 2 (raidfs's
# default, as member files make rmw the cheaper) reads the parity, level 1
# (md's default) reconstructs.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

CHUNK_SECTORS=128   # -c 64K
M=$T/mnt
"$RAIDFS" create -l 5 -n 5 -N five -c 64K --assume-clean --member-size 32M \
	"$T"/f{0..4} >/dev/null
"$RAIDFS" create -l 5 -n 4 -N four -c 64K --assume-clean --member-size 32M \
	"$T"/g{0..3} >/dev/null
rf_mount "$M" "$T"/f{0..4} "$T"/g{0..3}
expect_eq "rmw_level by default" "$(cat "$M/five.md/rmw_level")" 2
echo 1 >"$M/five.md/rmw_level"
expect_eq "stripe_size" "$(cat "$M/five.md/stripe_size")" 4096

# parity_read ARRAY PREFIX N ROW: write 4K at the start of ROW (data chunk
# 0) and say whether its parity member was read (left-symmetric: row r's
# parity on member N-1-r%N).
parity_read() {
	local a=$1 p=$2 n=$3 row=$4
	local pd=$((n - 1 - row % n)) f
	f=$M/$a.md/dev-$p$pd/fault
	echo "$((row * CHUNK_SECTORS)) $CHUNK_SECTORS" >"$f/read_errors"
	dd if=/dev/urandom of="$M/$a" bs=4k count=1 oflag=direct conv=notrunc status=none \
		seek=$((row * (n - 1) * CHUNK_SECTORS / 8))
	local got
	got=$(sed -n 's/^read_errors //p' "$f/injected")
	echo clear >"$f/read_errors"
	[ "$got" -gt 0 ] && echo yes || echo no
}

expect_eq "5 members, level 1: rmw" "$(parity_read five f 5 1)" yes
echo 0 >"$M/five.md/rmw_level"
expect_eq "5 members, level 0: rcw" "$(parity_read five f 5 2)" no
expect_eq "4 members, level 2 (the default), a tie: rmw" "$(parity_read four g 4 1)" yes
echo 1 >"$M/four.md/rmw_level"
expect_eq "4 members, level 1, a tie: rcw" "$(parity_read four g 4 2)" no
echo 2 >"$M/four.md/rmw_level"

# A held-back write's write-back that another one finished while it waited
# for the stripe has no new data to fold into the parity: it must leave
# the parity right.  A blocked member holds fsync's write-back of a 64K
# partial-stripe write past raid5d's 20 ms, so both go for the stripe
# (row 3: parity on g0, data chunk 0 on g1).
echo blocked >"$M/four.md/dev-g1/state"
dd if=/dev/urandom of="$M/four" bs=64K count=1 seek=9 oflag=direct \
	conv=notrunc,fsync status=none &
writer=$!
sleep 0.5
echo -blocked >"$M/four.md/dev-g1/state"
wait $writer || fail "the write under a blocked member failed"

# Whatever the method, parity stays right.
for a in five four; do
	echo check >"$M/$a.md/sync_action"
	wait_idle "$M/$a.md"
	expect_eq "$a mismatch_cnt" "$(cat "$M/$a.md/mismatch_cnt")" 0
done
rf_umount "$M"
