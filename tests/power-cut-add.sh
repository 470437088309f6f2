#!/bin/bash
# A power cut while a member added through new_dev is being recovered
# (raid1 and raid5): what fsync acknowledged during the recovery survives,
# the new member's superblock says how far it was recovered and that is
# true, and the recovery resumes from there at the next mount.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

M=$T/mnt

# cut_add LEVEL N NAME SEED [create options...]
cut_add() {
	local level=$1 n=$2 name=$3 seed=$4 i members=()
	shift 4
	for i in $(seq "$n"); do members+=("$T/$name$i"); done
	"$RAIDFS" create -l "$level" -n "$n" -N "$name" --assume-clean \
		--member-size 16M "$@" "${members[@]}" >/dev/null
	local img=$M/$name md=$M/$name.md new=$T/${name}new
	rf_mount "$M" -o sync_speed_max=4000 "${members[@]}"
	random_file "$T/data" $(stat -c %s "${md%.md}")
	dd if="$T/data" of="$img" bs=1M conv=notrunc,fsync status=none
	echo faulty >"$md/dev-${name}1/state"
	echo remove >"$md/dev-${name}1/state"

	# About 4 s to recover 16 MiB: armed as it starts (the new member
	# included), cut after the first checkpoint.
	truncate -s 16M "$new"
	echo "$new" >"$md/new_dev"
	echo arm >"$md/fault/power_cut"
	# Acknowledged by fsync while the recovery runs: must survive.
	random_file "$T/late" 1048576
	dd if="$T/late" of="$T/data" bs=1M seek=3 conv=notrunc status=none
	dd if="$T/late" of="$img" bs=1M seek=3 conv=notrunc,fsync status=none
	RANDOM=$seed
	local ms=$((2300 + RANDOM % 1200))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	[ "$(cat "$md/sync_action")" = recover ] ||
		{ cat "$M/mdstat"; fail "$name: no recovery onto the new member"; }
	echo "cut $seed" >"$md/fault/power_cut"
	rf_umount "$M"
	local said
	said=$(examine_field "$new" "Recovery Offset" | cut -d' ' -f1)
	[ -n "$said" ] || fail "$name seed $seed: the cut came after the recovery ended"
	expect_eq "$name: the new member's role" "$(examine_field "$new" "Device Role")" \
		"Active device 0"

	# The recovery goes on from where the superblock says.
	members[0]=$new
	rf_mount "$M" -o sync_speed_max=4000 "${members[@]}"
	expect_eq "$name: sync_action after the cut" "$(cat "$md/sync_action")" recover
	[ "$(cat "$md/dev-${new##*/}/recovery_start")" -ge "$said" ] ||
		fail "$name: recovery_start $(cat "$md/dev-${new##*/}/recovery_start") below $said"
	echo system >"$md/sync_speed_max"
	recovered_intact "$name seed $seed, after the cut" "$md" "$img" "$T/data"
	rf_umount "$M"
	echo "$name seed $seed: the new member's superblock said $said at the cut"
}

# A member added after the arm is armed too: the recovery's writes to it
# are at risk until its first checkpoint, and a cut takes them all back.
armed_then_added() {
	local members=("$T/b1" "$T/b2") md=$M/b.md new=$T/bnew i
	"$RAIDFS" create -l 1 -n 2 -N b --assume-clean --member-size 16M \
		"${members[@]}" >/dev/null
	rf_mount "$M" -o sync_speed_max=2000 "${members[@]}"
	random_file "$T/bdata" $(stat -c %s "${md%.md}")
	dd if="$T/bdata" of="$M/b" bs=1M conv=notrunc,fsync status=none
	echo faulty >"$md/dev-b1/state"
	echo remove >"$md/dev-b1/state"
	echo arm >"$md/fault/power_cut"
	truncate -s 16M "$new"
	echo "$new" >"$md/new_dev"
	for i in $(seq 50); do
		[ "$(cat "$md/fault/power_cut")" != "armed 0" ] && break
		sleep 0.02
	done
	[ "$(cat "$md/fault/power_cut")" != "armed 0" ] ||
		fail "the recovery's writes to the new member are not at risk"
	echo cut >"$md/fault/power_cut"
	rf_umount "$M"
	# Nothing of the data area past the checkpoint the superblock has
	# survived: the first MiB after it reads as the sparse file did.
	local off data
	off=$(examine_field "$new" "Recovery Offset" | cut -d' ' -f1)
	data=$(examine_field "$new" "Data Offset" | cut -d' ' -f1)
	cmp -n 1048576 -i $(((data + ${off:-0}) * 512)):0 "$new" /dev/zero ||
		fail "the cut left recovery writes on the member added after the arm"
}

cut_add 1 2 a1 1
cut_add 5 3 a5 2 -c 64K
note "a member added after the arm"
armed_then_added
echo PASS
