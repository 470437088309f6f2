#!/bin/bash
# md's fail_last_dev on raid1 and raid10: an error on the member holding
# the last copy of the data breaks the array (writes fail from then on,
# reads go on).  At 0, the default, the member stays in sync and serves
# the reads; at 1 it fails too and so do the reads.  Either way
# state_store's "faulty" on it says EBUSY, as md's does.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

M=$T/mnt
"$RAIDFS" create -l 1 -n 2 -N r1 --assume-clean --member-size 16M "$T"/a{0,1} >/dev/null
"$RAIDFS" create -l 10 -n 4 -N r10 -c 64K --assume-clean --member-size 16M \
	"$T"/b{0..3} >/dev/null
# The member of each array whose failure leaves one copy, and the one
# that then holds the last copy (raid10 near 2: members 0 and 1 mirror).
declare -A FIRST=([r1]=a1 [r10]=b1) LAST=([r1]=a0 [r10]=b0)
members() { echo "$T"/a{0,1} "$T"/b{0..3}; }

write_ok() { dd if="$T/data" of="$M/$1" bs=64K count=16 oflag=direct conv=notrunc status=none; }
read_ok() { dd if="$M/$1" of=/dev/null bs=64K count=16 iflag=direct status=none; }
faulty() { echo faulty 2>/dev/null >"$M/$1.md/dev-$2/state"; }

random_file "$T/data" 1M
rf_mount "$M" $(members)
for a in r1 r10; do
	md=$M/$a.md
	note "$a, fail_last_dev 0"
	expect_eq "$a fail_last_dev by default" "$(cat "$md/fail_last_dev")" 0
	faulty "$a" "${FIRST[$a]}" || fail "$a: the first failure was refused"
	write_ok "$a" || fail "$a: a degraded write failed"
	! faulty "$a" "${LAST[$a]}" || fail "$a: the last copy failed without EBUSY"
	expect_eq "$a last copy's state" "$(cat "$md/dev-${LAST[$a]}/state")" in_sync
	expect_eq "$a array_state" "$(cat "$md/array_state")" broken
	! write_ok "$a" 2>/dev/null || fail "$a: a write went on in a broken array"
	read_ok "$a" || fail "$a: reads stopped with the last copy kept"
	same_range "$M/$a" 0 "$T/data" || fail "$a: the data read back differs"
done
rf_umount "$M"

note "bad values change nothing"
rf_mount "$M" $(members)
for v in maybe "" 2 ox; do
	echo "$v" 2>/dev/null >"$M/r1.md/fail_last_dev" && fail "fail_last_dev took '$v'"
done
expect_eq "fail_last_dev after bad values" "$(cat "$M/r1.md/fail_last_dev")" 0
for v in y on 1 n off 0 Y; do
	echo "$v" >"$M/r1.md/fail_last_dev" || fail "fail_last_dev refused '$v'"
done
expect_eq "fail_last_dev after Y" "$(cat "$M/r1.md/fail_last_dev")" 1

for a in r1 r10; do
	md=$M/$a.md
	note "$a, fail_last_dev 1"
	echo 1 >"$md/fail_last_dev"
	# Assembled again: the first member is still out, the array is
	# degraded and writable, the breakage of the last mount forgotten.
	expect_eq "$a array_state after the remount" "$(cat "$md/array_state")" clean
	write_ok "$a" || fail "$a: a degraded write failed after the remount"
	! faulty "$a" "${LAST[$a]}" || fail "$a: the last copy failed without EBUSY"
	expect_eq "$a last copy's state" "$(cat "$md/dev-${LAST[$a]}/state")" faulty
	! write_ok "$a" 2>/dev/null || fail "$a: a write went on with no copy left"
	! read_ok "$a" 2>/dev/null || fail "$a: a read went on with no copy left"
done
rf_umount "$M"
echo PASS
