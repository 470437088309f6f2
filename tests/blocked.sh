#!/bin/bash
# md's Blocked flag (dev-NAME/state "blocked"): a write that goes to the
# member waits until "-blocked" (then it reaches every member) or until the
# member fails (then it completes on the others, the array degraded).
# Reads do not wait, and an unmount is not held up by the flag.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

cd "$T"
M=$T/mnt
for level in 1 5; do
	note "raid$level: writes wait while a member is blocked"
	rm -f a b c
	"$RAIDFS" create -l $level -n 3 -N r --assume-clean --member-size 8M a b c >/dev/null
	rf_mount "$M" a b c
	MD=$M/r.md IMG=$M/r
	# at 512 KiB: raid5's second chunk, whose data b holds
	at=$((512 * 1024))
	random_file "$T/d1" 65536
	random_file "$T/d2" 65536
	echo blocked >"$MD/dev-b/state"
	[[ $(cat "$MD/dev-b/state") =~ (^|,)blocked(,|$) ]] ||
		fail "dev-b/state: $(cat "$MD/dev-b/state")"
	dd if="$T/d1" of="$IMG" bs=64K seek=8 oflag=direct conv=notrunc,fsync status=none &
	writer=$!
	# the write cannot finish while b is blocked: give it every chance
	sleep 1
	kill -0 $writer 2>/dev/null || fail "the write finished with b blocked"
	dd if="$IMG" of=/dev/null bs=64K count=1 iflag=direct status=none ||
		fail "a read failed while b was blocked"
	echo -blocked >"$MD/dev-b/state"
	wait $writer || fail "the write failed after -blocked"
	same_range "$IMG" $at "$T/d1" || fail "the write held back is not on the image"
	expect_eq "degraded" "$(cat "$MD/degraded")" 0

	note "raid$level: a blocked member that fails lets the write through"
	echo blocked >"$MD/dev-b/state"
	dd if="$T/d2" of="$IMG" bs=64K seek=12 oflag=direct conv=notrunc,fsync status=none &
	writer=$!
	sleep 1
	kill -0 $writer 2>/dev/null || fail "the write finished with b blocked"
	echo faulty >"$MD/dev-b/state"
	wait $writer || fail "the write failed after b failed"
	expect_eq "degraded" "$(cat "$MD/degraded")" 1
	same_range "$IMG" $((at + 4 * 65536)) "$T/d2" || fail "the write is not on the degraded image"

	note "raid$level: an unmount with a member blocked stops cleanly"
	echo blocked >"$MD/dev-c/state"
	rf_umount "$M"
	rf_mount "$M" a c
	same_range "$IMG" $at "$T/d1" || fail "d1 lost after the remount"
	same_range "$IMG" $((at + 4 * 65536)) "$T/d2" || fail "d2 lost after the remount"
	rf_umount "$M"
done
echo PASS
