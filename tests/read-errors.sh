#!/bin/bash
# md's answer to member read errors, mounted: the caller gets the data from
# the other copy or rebuilt from parity, the failed range is rewritten on
# the member (which remaps it: fault/read_errors empties) and read back, the
# member stays in sync and its dev-X/errors (and the superblock's corrected
# reads) grow; a check does the same for what it reads.  Past max_read_errors (raid1, raid10), or more read errors
# in a row than stripe_cache_size (raid456), the member is failed.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

cd "$T"
"$RAIDFS" create --assume-clean -l 1 -n 2 -N r1 --member-size 16M a1 b1 >/dev/null
"$RAIDFS" create --assume-clean -l 10 -n 4 -c 64K -N r10 --member-size 16M \
	a10 b10 c10 d10 >/dev/null
"$RAIDFS" create --assume-clean -l 5 -n 4 -c 64K -N r5 --member-size 16M \
	a5 b5 c5 d5 >/dev/null
"$RAIDFS" create --assume-clean -l 6 -n 5 -c 64K -N r6 --member-size 16M \
	a6 b6 c6 d6 e6 >/dev/null
MEMBERS=(a1 b1 a10 b10 c10 d10 a5 b5 c5 d5 a6 b6 c6 d6 e6)
M=$T/mnt
rf_mount "$M" "${MEMBERS[@]}"
random_file data 4M
for a in r1 r10 r5 r6; do
	dd if=data of="$M/$a" bs=1M oflag=direct conv=notrunc status=none ||
		fail "initial write of $a"
done

# read_back NAME: the image's first 4M, past any cache, is what was written.
read_back() {
	cmp -s <(dd if="$M/$1" bs=1M count=4 iflag=direct status=none) data
}

# bad NAME MEMBER SECTOR LENGTH: a read error range on the member.
bad() {
	echo "$3 $4" >"$M/$1.md/dev-$2/fault/read_errors"
}

# repaired NAME MEMBER ERRORS: the range was rewritten and the member is in
# sync with ERRORS sectors corrected.
repaired() {
	expect_eq "$1 $2 read_errors" "$(cat "$M/$1.md/dev-$2/fault/read_errors")" ""
	expect_eq "$1 $2 state" "$(cat "$M/$1.md/dev-$2/state")" in_sync
	expect_eq "$1 $2 errors" "$(cat "$M/$1.md/dev-$2/errors")" "$3"
	grep -qx "read_errors [1-9][0-9]*" "$M/$1.md/dev-$2/fault/injected" ||
		fail "$1 $2: no read error was delivered"
}

# Member sectors 8..23 are the image's 4K..12K on the member read first:
# raid1's and raid10's first copy, raid5's first data chunk (P is on d5),
# raid6's first two data chunks (P on e6, Q on a6) at the same offset.
note "raid1: from the other mirror, rewritten page by page"
bad r1 a1 8 16
read_back r1 || fail "r1 returned other data"
repaired r1 a1 16

note "raid10: from the other copy"
bad r10 a10 8 16
read_back r10 || fail "r10 returned other data"
repaired r10 a10 16

note "raid5: rebuilt from the stripe, a stripe_head of 8 at a time"
bad r5 a5 8 16
read_back r5 || fail "r5 returned other data"
repaired r5 a5 16

note "raid6: two members failing one stripe_head"
bad r6 b6 8 16
bad r6 c6 16 8
read_back r6 || fail "r6 returned other data"
repaired r6 b6 16
repaired r6 c6 8

note "raid10: a rewrite that fails goes to the bad-block log (md's r10_sync_page_io)"
echo "40 8" >"$M/r10.md/dev-a10/fault/write_errors"
bad r10 a10 40 8
read_back r10 || fail "r10 returned other data"
[ -n "$(cat "$M/r10.md/dev-a10/bad_blocks")" ] || fail "a10: the failed rewrite was not recorded"
case "$(cat "$M/r10.md/dev-a10/state")" in
	in_sync*) ;;
	*) fail "a10 after a failed rewrite: state $(cat "$M/r10.md/dev-a10/state")" ;;
esac
read_back r10 || fail "r10 returned other data with a10's bad block"
echo clear >"$M/r10.md/dev-a10/fault/write_errors"
echo clear >"$M/r10.md/dev-a10/fault/read_errors"

note "the array's and members' state after the repairs"
for a in r1 r10 r5 r6; do
	expect_eq "$a degraded" "$(cat "$M/$a.md/degraded")" 0
done
grep -q '(F)' "$M/mdstat" && fail "a member failed: $(cat "$M/mdstat")"

note "check rewrites what no read reached: raid1's second mirror, raid5's P"
bad r1 b1 0 64
bad r5 d5 0 64
for a in r1 r5; do
	echo check >"$M/$a.md/sync_action"
	wait_idle "$M/$a.md"
	expect_eq "$a mismatch_cnt" "$(cat "$M/$a.md/mismatch_cnt")" 0
done
repaired r1 b1 64
repaired r5 d5 64

note "raid1: past max_read_errors the mirror is failed, the data still read"
expect_eq "max_read_errors default" "$(cat "$M/r1.md/max_read_errors")" 20
echo 2 >"$M/r1.md/max_read_errors"
bad r1 a1 64 8                 # a1's second read error: within the limit
read_back r1 || fail "r1 returned other data"
repaired r1 a1 24
bad r1 a1 64 8                 # the third: past it
read_back r1 || fail "r1 returned other data after failing a mirror"
case "$(cat "$M/r1.md/dev-a1/state")" in
	*faulty*) ;;
	*) fail "a1 past max_read_errors: state $(cat "$M/r1.md/dev-a1/state")" ;;
esac
expect_eq "r1 degraded" "$(cat "$M/r1.md/degraded")" 1
expect_eq "a1 not rewritten" "$(cat "$M/r1.md/dev-a1/fault/read_errors")" "64 8"
grep -q 'a1\[0\](F)' "$M/mdstat" || fail "mdstat: $(cat "$M/mdstat")"

note "raid5: more read errors in a row than stripe_cache_size fail the member"
echo 17 >"$M/r5.md/stripe_cache_size"
bad r5 b5 0 $(($(cat "$M/r5.md/component_size") * 2))
read_back r5 || fail "r5 returned other data"
case "$(cat "$M/r5.md/dev-b5/state")" in
	*faulty*) ;;
	*) fail "b5 past the read errors in a row: state $(cat "$M/r5.md/dev-b5/state")" ;;
esac
expect_eq "r5 degraded" "$(cat "$M/r5.md/degraded")" 1

note "the corrected count goes to the superblock and comes back"
rf_umount "$M"
corrected() { od -An -tu4 -j $((4096 + 164)) -N4 "$1" | tr -d ' '; }
expect_eq "a10's cnt_corrected_read" "$(corrected a10)" 16
expect_eq "b6's cnt_corrected_read" "$(corrected b6)" 16
rf_mount "$M" a10 b10 c10 d10 b6 c6 d6 e6 a6
expect_eq "a10 errors after a restart" "$(cat "$M/r10.md/dev-a10/errors")" 16
expect_eq "c6 errors after a restart" "$(cat "$M/r6.md/dev-c6/errors")" 8
read_back r10 || fail "r10 after a restart"
read_back r6 || fail "r6 after a restart"
rf_umount "$M"
