#!/bin/bash
# md's replace across a stop, and with the replaced member failing:
#  - want_replacement with a spare: the spare copies the member as its
#    replacement (mdstat (R)); its superblock says so as md writes it
#    (MD_FEATURE_REPLACEMENT, the role it copies, recovery_offset), and
#    every member's Array State shows the role 'R'.
#  - a stop (unmount, or SIGKILL) half-way: the next mount takes both
#    members of the role and the copy goes on from the checkpoint.
#  - at the end the old member is faulty and the replacement holds the
#    role in sync, the data intact, a check clean.
#  - the member being replaced fails: its replacement becomes the role's
#    recovering member and recovery completes the role.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

M=$T/mnt
SLOW=1000      # KiB/s: a 16 MiB member takes about 16 s

# recovery_start DEV: the member's recovery_start, a number.
recovery_start() {
	local v
	v=$(cat "$MD/dev-$1/recovery_start")
	[[ $v =~ ^[0-9]+$ ]] || fail "dev-$1/recovery_start: '$v'"
	echo "$v"
}

# wait_copied DEV: until its recovery_start has moved past 0 (the sync
# checkpoints every 2 s); prints it.
wait_copied() {
	local i d
	for i in $(seq 300); do
		d=$(recovery_start "$1")
		[ "$d" -gt 0 ] && { echo "$d"; return 0; }
		sleep 0.1
	done
	fail "$1: no checkpoint of the copy in 30 s"
}

# replacing DEV: mdstat lists DEV as a replacement.
replacing() {
	grep "^$NAME :" "$M/mdstat" | grep -q " $1\[[0-9]*\](R)" ||
		fail "mdstat shows no $1(R): $(grep "^$NAME :" "$M/mdstat")"
}

# setup LEVEL N: members x1..xN and a spare s, full of $T/data; the copy
# of x1 onto s starts, slowly.
setup() {
	local i members=()
	NAME=r$1 MD=$M/r$1.md
	rm -f "$T"/x[0-9] "$T/s"
	for i in $(seq "$2"); do members+=("$T/x$i"); done
	MEMBERS=("${members[@]}" "$T/s")
	"$RAIDFS" create -l "$1" -n "$2" -x 1 -N "$NAME" --assume-clean \
		--member-size 16M "${MEMBERS[@]}" >/dev/null
	rf_mount "$M" "${MEMBERS[@]}"
	random_file "$T/data" $(stat -c %s "${MD%.md}")
	dd if="$T/data" of="$M/$NAME" bs=1M conv=notrunc,fsync status=none
	echo $SLOW >"$MD/sync_speed_max"
	echo want_replacement >"$MD/dev-x1/state"
	replacing s
	expect_eq "slot of the replacement" "$(cat "$MD/dev-s/slot")" 0
}

# finished: the copy ran to its end; x1 is faulty, s holds role 0.
finished() {
	echo system >"$MD/sync_speed_max"
	recovered_intact "$NAME" "$MD" "$M/$NAME" "$T/data"
	# want_replacement is md's in memory only: gone after a restart
	[[ $(cat "$MD/dev-x1/state") =~ ^faulty(,want_replacement)?$ ]] ||
		fail "x1 after the replacement: $(cat "$MD/dev-x1/state")"
	expect_eq "s after the replacement" "$(cat "$MD/dev-s/state")" in_sync
	expect_eq "slot of s" "$(cat "$MD/dev-s/slot")" 0
	rf_umount "$M"
	expect_eq "s: role" "$(examine_field "$T/s" "Device Role")" "Active device 0"
}

for level in 1 5 10; do
	note "raid$level: a replacement stopped half-way resumes"
	setup $level 3
	done1=$(wait_copied s)
	# the checkpoint on the file before the crash (it is in memory first)
	for i in $(seq 100); do
		off=$(examine_field "$T/s" "Recovery Offset" | cut -d' ' -f1)
		[ "${off:-0}" -ge "$done1" ] && break
		sleep 0.1
	done
	if [ $level = 5 ]; then rf_crash "$M"; else rf_umount "$M"; fi
	expect_eq "s: role" "$(examine_field "$T/s" "Device Role")" "Replacement device 0"
	state=$(examine_field "$T/s" "Array State")
	expect_eq "s: Array State" "${state%% *}" "RAA"
	state=$(examine_field "$T/x2" "Array State")
	expect_eq "x2: Array State" "${state%% *}" "RAA"
	fm=$(examine_field "$T/s" "Feature Map")
	(( fm & 16 )) || fail "s: feature map $fm lacks MD_FEATURE_REPLACEMENT"
	off=$(examine_field "$T/s" "Recovery Offset" | cut -d' ' -f1)
	[ "$off" -ge "$done1" ] || fail "s: recovery offset $off below the checkpoint $done1"
	# slow from the start: the copy left is done long before mdstat is
	# read at full speed
	rf_mount "$M" -o sync_speed_max=$SLOW "${MEMBERS[@]}"
	replacing s
	now=$(recovery_start s)
	[ "$now" -ge "$off" ] || fail "s resumed at $now, below its recovery offset $off"
	finished

	note "raid$level: the member being replaced fails"
	setup $level 3
	wait_copied s >/dev/null
	echo faulty >"$MD/dev-x1/state"
	for i in $(seq 100); do
		grep "^$NAME :" "$M/mdstat" | grep -Eq ' s\[[0-9]+\]( |$)' && break
		sleep 0.1
	done
	grep "^$NAME :" "$M/mdstat" | grep -Eq ' s\[[0-9]+\]( |$)' ||
		fail "s did not take role 0 over: $(grep "^$NAME :" "$M/mdstat")"
	expect_eq "slot of s" "$(cat "$MD/dev-s/slot")" 0
	finished
done
echo PASS
