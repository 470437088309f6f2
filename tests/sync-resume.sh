#!/bin/bash
# Syncs resume where they stopped, as md's: a resync (resync_offset) and a
# recovery (recovery_offset) stopped half-way by an unmount, SIGTERM or
# SIGKILL go on after the next mount from at least their last checkpoint,
# which sync_completed shows from the moment the array is up.  A check
# stopped by "idle" goes on from sync_min at the next request, and a stop
# forgets it (md keeps resync_min in memory, mdadm does not resume).  A
# power cut in the middle of a resync or recovery under fsync'd writes:
# after it the sync ends, acknowledged data is intact and a check finds no
# mismatch.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
[ -x "${SB_RECOVERING:-}" ] || SB_RECOVERING=$(dirname "$RAIDFS")/../tests/sb-recovering
[ -x "$SB_RECOVERING" ] || fail "no sb-recovering helper (make check builds it)"

M=$T/mnt
SLOW=1000      # KiB/s: a 16 MiB member takes about 15 s

# done_sectors CTLDIR: the first figure of sync_completed ("X / N").
done_sectors() {
	local v
	v=$(cat "$1/sync_completed")
	[[ $v =~ ^([0-9]+)\ /\ ([0-9]+)$ ]] || fail "$1/sync_completed: '$v'"
	echo "${BASH_REMATCH[1]}"
}

# wait_checkpoint CTLDIR PREV: until sync_completed has moved past PREV
# (the sync checkpoints every 2 s); prints the new figure.
wait_checkpoint() {
	local i d
	for i in $(seq 300); do
		d=$(done_sectors "$1")
		[ "$d" -gt "$2" ] && { echo "$d"; return 0; }
		sleep 0.1
	done
	fail "$1: no checkpoint past $2 in 30 s"
}

# garbage MEMBER [FROM]: random bytes over the member's data area from
# sector FROM (default 0) of it.
garbage() {
	local doff size
	doff=$(examine_field "$1" "Data Offset" | cut -d' ' -f1)
	size=$(examine_field "$1" "Avail Dev Size" | cut -d' ' -f1)
	dd if=/dev/urandom of="$1" bs=512 seek=$((doff + ${2:-0})) \
	   count=$((size - ${2:-0})) conv=notrunc status=none
}

# setup KIND LEVEL N NAME [create options...]: members $T/NAME1..N.
#   resync: a fresh array (resync owed from 0) with member 1 full of
#   garbage; $T/data goes into its first 4 MiB during the first mount.
#   recover: a clean array full of $T/data, member N then garbage and
#   recovering from 0.
setup() {
	local kind=$1 level=$2 n=$3 name=$4 i
	shift 4
	MEMBERS=()
	rm -f "$T/$name"[0-9]*
	for i in $(seq "$n"); do MEMBERS+=("$T/$name$i"); done
	if [ "$kind" = resync ]; then
		"$RAIDFS" create -l "$level" -n "$n" -N "$name" \
			--member-size 16M "$@" "${MEMBERS[@]}" >/dev/null
		garbage "$T/${name}1"
		random_file "$T/data" $((4 << 20))
		DATA_LEN=$((4 << 20))
		return
	fi
	"$RAIDFS" create -l "$level" -n "$n" -N "$name" --assume-clean \
		--member-size 16M "$@" "${MEMBERS[@]}" >/dev/null
	rf_mount "$M" "${MEMBERS[@]}"
	DATA_LEN=$(stat -c %s "$M/$name")
	random_file "$T/data" "$DATA_LEN"
	dd if="$T/data" of="$M/$name" bs=1M conv=notrunc,fsync status=none
	rf_umount "$M"
	garbage "$T/$name$n"
	"$SB_RECOVERING" "$T/$name$n" 0
}

# The figure the superblocks hold for the sync, read after a mount:
# resync_start, or the recovering member's recovery_start.
held() {
	local kind=$1 name=$2 n=$3
	if [ "$kind" = resync ]; then cat "$M/$name.md/resync_start"
	else cat "$M/$name.md/dev-$name$n/recovery_start"; fi
}

# stop HOW: end the daemon serving $M as HOW says.
stop() {
	case $1 in
	umount) rf_umount "$M" ;;
	sigterm)
		kill -TERM "$RF_PID"
		rf_gone "$RF_PID"
		! mountpoint -q "$M" || fail "still mounted after SIGTERM"
		;;
	sigkill) rf_crash "$M" ;;
	esac
}

# resume KIND LEVEL N NAME [create options...]: the sync stopped three
# times, each way once, resumes each time from at least what
# sync_completed said before the stop, then ends with the data intact
# and nothing for a check to find.
resume() {
	local kind=$1 level=$2 n=$3 name=$4 how
	shift 4
	setup "$kind" "$level" "$n" "$name" "$@"
	local md=$M/$name.md img=$M/$name
	rf_mount "$M" -o sync_speed_max=$SLOW "${MEMBERS[@]}"
	expect_eq "$name sync_action" "$(cat "$md/sync_action")" "$kind"
	expect_eq "$name sync_completed at the start" "$(done_sectors "$md")" 0
	[ "$kind" = resync ] &&
		dd if="$T/data" of="$img" bs=1M conv=notrunc,fsync status=none
	local seen=0 at sb
	for how in umount sigterm sigkill; do
		seen=$(wait_checkpoint "$md" "$seen")
		stop "$how"
		rf_mount "$M" -o sync_speed_max=$SLOW "${MEMBERS[@]}"
		expect_eq "$name sync_action after $how" "$(cat "$md/sync_action")" "$kind"
		# The superblocks' figure, then where the pass is shown to
		# start: a checkpoint may come in between, never before.
		sb=$(held "$kind" "$name" "$n")
		at=$(done_sectors "$md")
		note "$name $kind: at $seen before $how; superblock $sb, resumed at $at"
		[ "$sb" -ge "$seen" ] && [ "$sb" -gt 0 ] ||
			fail "$name: $kind held $sb after $how, checkpoint was $seen"
		[ "$at" -ge "$sb" ] ||
			fail "$name: $kind resumed at $at, below its checkpoint $sb"
		seen=$at
	done
	echo system >"$md/sync_speed_max"
	wait_idle "$md"
	expect_eq "$name last_sync_action" "$(cat "$md/last_sync_action")" "$kind"
	expect_eq "$name sync_completed idle" "$(cat "$md/sync_completed")" none
	expect_eq "$name sync_speed idle" "$(cat "$md/sync_speed")" none
	expect_eq "$name degraded" "$(cat "$md/degraded")" 0
	expect_eq "$name resync_start" "$(cat "$md/resync_start")" none
	same_range "$img" 0 "$T/data" || fail "$name: data wrong after the $kind"
	echo check >"$md/sync_action"
	wait_idle "$md"
	expect_eq "$name mismatch_cnt" "$(cat "$md/mismatch_cnt")" 0
	rf_umount "$M"
}

# A check stopped by idle goes on from sync_min at the next request (md's
# resync_min); one that ends sets it back to 0, and a stop forgets it.
check_resume() {
	local m=("$T/c1" "$T/c2") md=$M/c.md
	rm -f "$T"/c[12]
	"$RAIDFS" create -l 1 -n 2 -N c --assume-clean --member-size 16M "${m[@]}" >/dev/null
	rf_mount "$M" -o sync_speed_max=$SLOW "${m[@]}"
	expect_eq "c sync_min at the start" "$(cat "$md/sync_min")" 0
	echo check >"$md/sync_action"
	local seen
	seen=$(wait_checkpoint "$md" 0)
	echo 5 >"$md/sync_min" 2>/dev/null && fail "c: sync_min taken while a check runs"
	echo idle >"$md/sync_action"
	wait_idle "$md"
	local min
	min=$(cat "$md/sync_min")
	[ "$min" -ge "$seen" ] || fail "c: sync_min $min after idle, check was at $seen"
	expect_eq "c last_sync_action" "$(cat "$md/last_sync_action")" check
	echo check >"$md/sync_action"
	local at
	at=$(done_sectors "$md")
	note "c: check stopped at $min, went on at $at"
	[ "$at" = "$min" ] || fail "c: the check went on at $at, not at sync_min $min"
	echo system >"$md/sync_speed_max"
	wait_idle "$md"
	expect_eq "c sync_min after a check ended" "$(cat "$md/sync_min")" 0
	# sync_min rounds down to 4 KiB, as md's.
	echo 4099 >"$md/sync_min"
	expect_eq "c sync_min" "$(cat "$md/sync_min")" 4096
	echo "$SLOW" >"$md/sync_speed_max"
	echo check >"$md/sync_action"
	expect_eq "c check from sync_min" "$(done_sectors "$md")" 4096
	wait_checkpoint "$md" 4096 >/dev/null
	rf_umount "$M"
	rf_mount "$M" "${m[@]}"
	expect_eq "c sync_action after a stop in a check" "$(cat "$md/sync_action")" idle
	expect_eq "c sync_min after a stop" "$(cat "$md/sync_min")" 0
	rf_umount "$M"
}

# A check waits at sync_max, sync_completed showing it reached; raising
# sync_max lets it finish, and a pass that finishes sets it back to max.
check_max() {
	local m=("$T/c1" "$T/c2") md=$M/c.md i
	rm -f "$T"/c[12]
	"$RAIDFS" create -l 1 -n 2 -N c --assume-clean --member-size 16M "${m[@]}" >/dev/null
	rf_mount "$M" "${m[@]}"
	echo 8192 >"$md/sync_max"
	echo check >"$md/sync_action"
	for i in $(seq 100); do
		[ "$(cut -d' ' -f1 <"$md/sync_completed")" = 8192 ] && break
		sleep 0.1
	done
	expect_eq "c sync_completed at sync_max" "$(cut -d' ' -f1 <"$md/sync_completed")" 8192
	expect_eq "c sync_action at sync_max" "$(cat "$md/sync_action")" check
	echo 4096 >"$md/sync_max" 2>/dev/null && fail "c: sync_max lowered while a check runs"
	echo max >"$md/sync_max"
	wait_idle "$md"
	expect_eq "c mismatch_cnt" "$(cat "$md/mismatch_cnt")" 0
	expect_eq "c sync_max after the check" "$(cat "$md/sync_max")" max
	rf_umount "$M"
}

# cut_sync KIND LEVEL N NAME SEED [create options...]: a power cut while the
# sync runs and a writer has 1 MiB acknowledged (fsync) and 1 MiB more
# written but not synced, through a descriptor still open (a close would
# flush).  Odd seeds let safe mode go clean before the cut, so the sync
# resumes from its checkpoint; even ones keep the array dirty, so a
# resync starts over (md's).  After it the syncs end, the acknowledged MiB
# and what the writer never touched read back, and a check finds 0.
cut_sync() {
	local kind=$1 level=$2 n=$3 name=$4 seed=$5
	shift 5
	setup "$kind" "$level" "$n" "$name" "$@"
	local md=$M/$name.md img=$M/$name
	rf_mount "$M" -o sync_speed_max=2000 "${MEMBERS[@]}"
	[ $((seed % 2)) = 0 ] && echo 60 >"$md/safe_mode_delay"
	[ "$kind" = resync ] &&
		dd if="$T/data" of="$img" bs=1M conv=notrunc,fsync status=none
	echo arm >"$md/fault/power_cut"
	random_file "$T/acked" $((1 << 20))
	dd if="$T/acked" of="$img" bs=1M seek=1 conv=notrunc,fsync status=none ||
		fail "$name: the acknowledged write failed"
	local fd
	exec {fd}<>"$img"
	dd if=/dev/urandom bs=1M seek=2 count=1 status=none >&"$fd"
	sleep_random "$seed" 2100 1500
	local at
	at=$(done_sectors "$md")
	echo "cut $seed" >"$md/fault/power_cut"
	# Its close flushes, which fails with the power gone.
	{ exec {fd}>&-; } 2>/dev/null
	rf_umount "$M"

	# A raid5 left dirty with a member recovering is md's dirty degraded
	# array: it takes -o run (the recovering member's stale stripes are
	# rebuilt, then the resync owed runs).
	local run=()
	[ "$kind" = recover ] && [ "$(examine_field "$T/${name}1" State)" = active ] &&
		run=(-o run)
	rf_mount "$M" "${run[@]}" "${MEMBERS[@]}"
	local resumed
	resumed=$(cat "$md/sync_action") resumed+=" $(cat "$md/sync_completed")"
	wait_idle "$md"
	expect_eq "$name seed $seed: degraded after the cut" "$(cat "$md/degraded")" 0
	expect_eq "$name seed $seed: resync_start" "$(cat "$md/resync_start")" none
	same_range "$img" $((1 << 20)) "$T/acked" ||
		fail "$name seed $seed: acknowledged data lost"
	dd if="$T/data" of="$T/before" bs=1M count=1 status=none
	same_range "$img" 0 "$T/before" || fail "$name seed $seed: data before the writes lost"
	dd if="$T/data" of="$T/after" bs=1M skip=3 status=none
	same_range "$img" $((3 << 20)) "$T/after" ||
		fail "$name seed $seed: data the writer never touched lost"
	echo check >"$md/sync_action"
	wait_idle "$md"
	expect_eq "$name seed $seed: mismatch_cnt" "$(cat "$md/mismatch_cnt")" 0
	rf_umount "$M"
	note "$name $kind seed $seed: at $at when cut; after the mount: $resumed"
}

resume resync 1 2 r1
resume resync 5 3 r5 -c 64K
resume recover 1 2 v1
resume recover 5 3 v5 -c 64K
check_resume
note "a check waits at sync_max"
check_max
cut_sync resync 1 2 p1 1
cut_sync resync 5 3 p5 2 -c 64K
cut_sync recover 1 2 q1 1
cut_sync recover 5 3 q5 2 -c 64K
echo PASS
