#!/bin/bash
# Silent corruption on one member, as check and repair meet it: check
# counts it in mismatch_cnt, repair puts it right so that a second check
# finds nothing and the image reads what was written.  raid1/raid10 copy
# the first in-sync copy over the others and raid5 rewrites parity, as md
# does; raid6 finds the one bad member of a stripe from P and Q, as mdadm's
# raid6check does, and restores its exact bytes (a data member, P or Q).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

CHUNK=$((64 * 1024))
DATA=$((4 * 1024 * 1024))

# corrupt NAME MEMBER SECTOR LENGTH: invert those sectors of MEMBER's
# data behind the running array's back (the fault tree's corrupt).
corrupt() {
	echo "$3 $4" >"$T/mnt/$1.md/dev-${2##*/}/fault/corrupt"
}

# member_range MEMBER SECTOR LENGTH: those sectors of MEMBER's data.
member_range() {
	local off
	off=$(( $(examine_field "$1" "Data Offset" | cut -d' ' -f1) + $2 ))
	dd if="$1" bs=512 skip="$off" count="$3" status=none
}

# sync_run MD ACTION: run a check or repair to its end.
sync_run() {
	echo "$2" >"$1/sync_action"
	wait_idle "$1"
	expect_eq "last_sync_action" "$(cat "$1/last_sync_action")" "$2"
}

# check_repair NAME MEMBER SECTOR LENGTH MEMBERS...: corrupt the range of
# MEMBER, check finds it, repair fixes it, a second check finds nothing;
# the image and MEMBER's range then hold what they held before.
check_repair() {
	local name=$1 m=$2 s=$3 l=$4 md="$T/mnt/$1.md"
	shift 4
	member_range "$m" "$s" "$l" >"$T/before"
	rf_mount "$T/mnt" "$@"
	corrupt "$name" "$m" "$s" "$l"
	member_range "$m" "$s" "$l" | cmp -s - "$T/before" &&
		fail "$name: the corruption of ${m##*/} changed nothing"
	sync_run "$md" check
	local n
	n=$(cat "$md/mismatch_cnt")
	[ "$n" -gt 0 ] || fail "$name: check missed ${m##*/} sectors $s+$l"
	sync_run "$md" repair
	sync_run "$md" check
	expect_eq "$name mismatch_cnt after repair" "$(cat "$md/mismatch_cnt")" 0
	rf_umount "$T/mnt"
	member_range "$m" "$s" "$l" | cmp -s - "$T/before" ||
		fail "$name: repair left ${m##*/} sectors $s+$l other than they were"
	rf_mount "$T/mnt" "$@"   # a fresh daemon: no cache of the old one
	same_range "$T/mnt/$name" 0 "$T/data" ||
		fail "$name: the image differs from what was written"
	rf_umount "$T/mnt"
	note "$name: ${m##*/} sectors $s+$l: mismatch_cnt $n, repaired"
}

# setup NAME LEVEL N [create options]: an array of N members holding
# $T/data; MEMBERS holds their paths.
setup() {
	local name=$1 level=$2 n=$3 i
	shift 3
	MEMBERS=()
	for i in $(seq "$n"); do MEMBERS+=("$T/$name$i"); done
	"$RAIDFS" create -l "$level" -n "$n" -N "$name" --assume-clean \
		--member-size 16M "$@" "${MEMBERS[@]}" >/dev/null
	rf_mount "$T/mnt" "${MEMBERS[@]}"
	dd if="$T/data" of="$T/mnt/$name" bs=1M conv=notrunc,fsync status=none
	sync_run "$T/mnt/$name.md" check
	expect_eq "$name mismatch_cnt as written" "$(cat "$T/mnt/$name.md/mismatch_cnt")" 0
	rf_umount "$T/mnt"
}

random_file "$T/data" "$DATA"

# Mirrors: a copy other than the first goes bad; the first is the truth.
setup r1 1 2
check_repair r1 "${MEMBERS[1]}" 13 40 "${MEMBERS[@]}"
setup r10 10 4 -c 64K
check_repair r10 "${MEMBERS[1]}" 200 300 "${MEMBERS[@]}"

# raid5 (left-symmetric, 3 members): stripe 0's parity is on the third.
setup r5 5 3 -c 64K
check_repair r5 "${MEMBERS[2]}" 13 40 "${MEMBERS[@]}"

# raid6 (left-symmetric, 4 members): stripe 0 has Q on the first, the
# array's first chunk on the second and P on the fourth.  md's repair would
# rewrite P and Q over the bad data; raidfs restores the data.
setup r6 6 4 -c 64K
member_range "${MEMBERS[1]}" 0 128 | cmp -s - <(head -c "$CHUNK" "$T/data") ||
	fail "r6: the array's first chunk is not on the second member"
member_range "${MEMBERS[1]}" 0 128 >"$T/d0"
member_range "${MEMBERS[2]}" 0 128 >"$T/d1"
member_range "${MEMBERS[3]}" 0 128 |
	cmp -s - <(perl -0777 -e 'open(A, $ARGV[0]); open(B, $ARGV[1]);
			       print scalar(<A>) ^ scalar(<B>)' "$T/d0" "$T/d1") ||
	fail "r6: stripe 0's P is not on the fourth member"
check_repair r6 "${MEMBERS[1]}" 13 40 "${MEMBERS[@]}"
check_repair r6 "${MEMBERS[1]}" 0 128 "${MEMBERS[@]}"
check_repair r6 "${MEMBERS[3]}" 13 40 "${MEMBERS[@]}"
check_repair r6 "${MEMBERS[0]}" 100 28 "${MEMBERS[@]}"
echo "PASS"
