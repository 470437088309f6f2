#!/bin/bash
# The fault tree itself (dev-X/fault/): each file delivers its fault to the
# member's IO and reads back what it holds.  raid0 has no redundancy, so
# every injected error reaches the caller as EIO; md's answer on the levels
# with redundancy has its own tests.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

cd "$T"
# 64K chunks: image [0, 64K) is a0's sectors [0, 128), [64K, 128K) b0's.
# An error makes raid0 broken (writes fail from then on, as in md), so
# writes are tried on w0 before any error there.
"$RAIDFS" create -l 0 -n 2 -c 64K -N r0 --member-size 16M a0 b0 >/dev/null
"$RAIDFS" create -l 0 -n 2 -c 64K -N w0 --member-size 16M c0 d0 >/dev/null
"$RAIDFS" create --assume-clean -l 1 -n 2 -N r1 --member-size 16M a1 b1 >/dev/null
M=$T/mnt
rf_mount "$M" a0 b0 c0 d0 a1 b1
F=$M/r0.md/dev-a0/fault
W=$M/w0.md/dev-c0/fault

# read_image OFFSET_K: one direct 4K read of r0; fails on EIO.
read_image() {
	dd if="$M/r0" of=/dev/null bs=4K count=1 skip="$(($1 / 4))" iflag=direct 2>/dev/null
}
# write_image OFFSET_K: the 4K of data there to w0.
write_image() {
	dd if="$T/data" of="$M/w0" bs=4K count=1 seek="$(($1 / 4))" skip="$(($1 / 4))" \
		oflag=direct conv=notrunc 2>/dev/null
}
random_file data 128K
for a in r0 w0; do
	dd if=data of="$M/$a" bs=128K oflag=direct conv=notrunc 2>/dev/null || fail "initial write"
done
# Safe mode's clean superblocks are IOs too: let them be written before
# anything counts IOs.
for i in $(seq 100); do
	[ "$(cat "$M/r0.md/array_state")" = clean ] && break
	sleep 0.1
done
expect_eq "r0 after safe_mode_delay" "$(cat "$M/r0.md/array_state")" clean

note "an untouched member's fault files"
for f in read_errors write_errors latency_us pull fail_after corrupt injected; do
	[ -e "$F/$f" ] || fail "no $F/$f"
done
expect_eq read_errors "$(cat "$F/read_errors")" ""
expect_eq latency_us "$(cat "$F/latency_us")" 0
expect_eq pull "$(cat "$F/pull")" 0
expect_eq fail_after "$(cat "$F/fail_after")" off
expect_eq injected "$(cat "$F/injected")" "$(printf 'read_errors 0\nwrite_errors 0\npulled_ios 0')"

note "read_errors: ranges merge and split"
echo "0 100" >"$F/read_errors"
echo "-10 20" >"$F/read_errors"
expect_eq "after a removal" "$(cat "$F/read_errors")" "$(printf '0 10\n30 70')"
echo "100 5" >"$F/read_errors"
echo "5 30" >"$F/read_errors"
expect_eq "after merges" "$(cat "$F/read_errors")" "0 105"
echo clear >"$F/read_errors"
expect_eq "after clear" "$(cat "$F/read_errors")" ""

note "a write remaps the read_errors it covers"
echo "6 12" >"$W/read_errors"
write_image 4 || fail "a write over a read_errors range failed"
expect_eq "read_errors after the write" "$(cat "$W/read_errors")" "$(printf '6 2\n16 2')"
echo clear >"$W/read_errors"
same_range "$M/w0" 0 "$T/data" || fail "w0's data changed"

note "read_errors fail the reads they cover"
echo "8 8" >"$F/read_errors"
read_image 0 || fail "a read before the bad range failed"
read_image 4 && fail "a read of a read_errors range succeeded"
read_image 64 || fail "a read of the other member failed"
grep -qx "read_errors [1-9][0-9]*" "$F/injected" || fail "injected: $(cat "$F/injected")"
expect_eq "read_errors after reads" "$(cat "$F/read_errors")" "8 8"
echo clear >"$F/read_errors"
read_image 4 || fail "a cleared range still fails"
same_range "$M/r0" 0 "$T/data" || fail "r0's data changed"

note "latency_us slows, and changes nothing else"
echo 20000 >"$F/latency_us"
expect_eq latency_us "$(cat "$F/latency_us")" 20000
read_image 0 || fail "a read with latency failed"
echo 0 >"$F/latency_us"

note "fail_after counts down, then the member is pulled"
echo 3 >"$F/fail_after"
expect_eq fail_after "$(cat "$F/fail_after")" 3
read_image 0 || fail "IO 1 of 3 failed"
expect_eq "fail_after after one IO" "$(cat "$F/fail_after")" 2
read_image 0 && read_image 0 || fail "IOs 2 and 3 failed"
read_image 0 && fail "IO 4 succeeded after fail_after 3"
expect_eq pull "$(cat "$F/pull")" 1
grep -qx "pulled_ios [1-9][0-9]*" "$F/injected" || fail "injected: $(cat "$F/injected")"
read_image 64 || fail "the other member failed with this one"
echo 0 >"$F/pull"
expect_eq "fail_after after pull 0" "$(cat "$F/fail_after")" off
read_image 0 || fail "pull 0 did not bring the file back"

note "write_errors fail the writes they cover, writing nothing"
doff=$(examine_field c0 'Data Offset' | cut -d' ' -f1)
before=$(dd if=c0 bs=512 skip=$((doff + 16)) count=8 2>/dev/null | sha256sum)
echo "16 8" >"$W/write_errors"
expect_eq write_errors "$(cat "$W/write_errors")" "16 8"
dd if=/dev/zero of="$M/w0" bs=4K count=1 seek=2 oflag=direct conv=notrunc 2>/dev/null &&
	fail "a write over a write_errors range succeeded"
grep -qx "write_errors [1-9][0-9]*" "$W/injected" || fail "injected: $(cat "$W/injected")"
after=$(dd if=c0 bs=512 skip=$((doff + 16)) count=8 2>/dev/null | sha256sum)
expect_eq "the member's bytes under a failed write" "$after" "$before"

note "corrupt inverts the member's bytes at once"
doff=$(examine_field a1 'Data Offset' | cut -d' ' -f1)
dd if="$T/data" of="$M/r1" bs=64K count=1 oflag=direct conv=notrunc,fsync 2>/dev/null
dd if=b1 bs=512 skip="$doff" count=8 2>/dev/null >good
echo "0 8" >"$M/r1.md/dev-b1/fault/corrupt"
dd if=b1 bs=512 skip="$doff" count=8 2>/dev/null >bad
cmp -s good bad && fail "corrupt changed nothing"
python3 -c '
import sys
g, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
sys.exit(0 if len(g) == len(b) == 4096 and all(x ^ y == 0xff for x, y in zip(g, b)) else 1)
' good bad || fail "corrupt did not invert every byte"
grep -q "in_sync" "$M/r1.md/dev-b1/state" || fail "corrupt was not silent"
