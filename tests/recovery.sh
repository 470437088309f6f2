#!/bin/bash
# Recovery as md does it: a member whose recovery was interrupted (its
# superblock has a recovery_offset) counts as degraded, is never read
# beyond its recovery_offset, and is recovered from there, checkpointed
# across a stop, until it is in sync again.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
[ -x "${SB_RECOVERING:-}" ] || SB_RECOVERING=$(dirname "$RAIDFS")/../tests/sb-recovering
[ -x "$SB_RECOVERING" ] || fail "no sb-recovering helper (make check builds it)"

# recover LEVEL N VICTIM NAME [create options...]: fill an array, stop it,
# mark member VICTIM as recovered up to 4 MiB with garbage beyond, then
# check that it shows as recovering, that reads never take the garbage,
# that a stop checkpoints its progress and a restart resumes it, and that
# it ends in sync with a check finding nothing wrong.
recover() {
	local level=$1 n=$2 victim=$3 name=$4 i members=()
	shift 4
	for i in $(seq "$n"); do members+=("$T/$name$i"); done
	"$RAIDFS" create -l "$level" -n "$n" -N "$name" --assume-clean \
		--member-size 24M "$@" "${members[@]}" >/dev/null
	local img="$T/mnt/$name" md="$T/mnt/$name.md" vm="$T/$name$victim"
	rf_mount "$T/mnt" "${members[@]}"
	local size=$(stat -c %s "${md%.md}")
	random_file "$T/data" "$size"
	dd if="$T/data" of="$img" bs=1M conv=notrunc,fsync status=none
	rf_umount "$T/mnt"

	local from=8192 doff
	doff=$(examine_field "$vm" "Data Offset" | cut -d' ' -f1)
	dd if=/dev/urandom of="$vm" bs=512 seek=$((doff + from)) \
	   count=$(($(examine_field "$vm" "Avail Dev Size" | cut -d' ' -f1) - from)) \
	   conv=notrunc status=none
	"$SB_RECOVERING" "$vm" "$from"

	note "$name: member $victim recovering from sector $from"
	rf_mount "$T/mnt" -o sync_speed_max=2000 "${members[@]}"
	expect_eq "$name degraded while recovering" "$(cat "$md/degraded")" 1
	expect_eq "$name sync_action" "$(cat "$md/sync_action")" recover
	grep -q "\[$n/$((n - 1))\]" "$T/mnt/mdstat" || { cat "$T/mnt/mdstat"; fail "$name: mdstat counts the recovering member"; }
	grep -q "recovery =" "$T/mnt/mdstat" || { cat "$T/mnt/mdstat"; fail "$name: mdstat shows no recovery"; }
	local dev="$md/dev-$name$victim"
	[ "$(cat "$dev/recovery_start")" -ge "$from" ] || fail "$name recovery_start: $(cat "$dev/recovery_start")"
	cmp -s "$img" "$T/data" || fail "$name: a read took the recovering member's garbage"
	sleep 1
	rf_umount "$T/mnt"
	local ckpt
	ckpt=$(examine_field "$vm" "Recovery Offset" | cut -d' ' -f1)
	[ -n "$ckpt" ] && [ "$ckpt" -gt "$from" ] ||
		fail "$name: the stop did not checkpoint recovery ($from -> '$ckpt')"

	note "$name: resumed at $ckpt"
	rf_mount "$T/mnt" "${members[@]}"
	wait_idle "$md"
	expect_eq "$name last_sync_action" "$(cat "$md/last_sync_action")" recover
	expect_eq "$name degraded after recovery" "$(cat "$md/degraded")" 0
	expect_eq "$name recovery_start after recovery" "$(cat "$dev/recovery_start")" none
	grep -q "\[$n/$n\]" "$T/mnt/mdstat" || { cat "$T/mnt/mdstat"; fail "$name: not whole after recovery"; }
	cmp -s "$img" "$T/data" || fail "$name: data wrong after recovery"
	echo check >"$md/sync_action"
	wait_idle "$md"
	expect_eq "$name mismatch_cnt after recovery" "$(cat "$md/mismatch_cnt")" 0
	rf_umount "$T/mnt"
	[ -z "$(examine_field "$vm" "Recovery Offset")" ] ||
		fail "$name: still recovering in its superblock"
	expect_eq "$name state" "$(examine_field "$vm" State)" clean
}

# A recovering member that fails is failed, though the in-sync one is the
# last copy: it held no data yet, and degraded counts it once.
fail_recovering() {
	local m=("$T/x1" "$T/x2") md="$T/mnt/x.md"
	"$RAIDFS" create -l 1 -n 2 -N x --assume-clean --member-size 16M "${m[@]}" >/dev/null
	"$SB_RECOVERING" "$T/x2" 0
	rf_mount "$T/mnt" -o sync_speed_max=1000 "${m[@]}"
	expect_eq "x sync_action" "$(cat "$md/sync_action")" recover
	expect_eq "x recovering member's state" "$(cat "$md/dev-x2/state")" spare
	echo faulty >"$md/dev-x2/state"
	expect_eq "x recovering member's state" "$(cat "$md/dev-x2/state")" faulty
	expect_eq "x degraded" "$(cat "$md/degraded")" 1
	# The last copy stays, and md's state_store says EBUSY.
	echo faulty 2>/dev/null >"$md/dev-x1/state" && fail "x: the last mirror went faulty without EBUSY"
	expect_eq "x last mirror's state" "$(cat "$md/dev-x1/state")" in_sync
	wait_idle "$md"
	dd if="$T/mnt/x" of=/dev/null bs=1M status=none || fail "x unreadable"
	rf_umount "$T/mnt"
}

fail_recovering
recover 1 2 2 r1
recover 5 3 1 r5 -c 64K
recover 6 4 3 r6 -c 64K
recover 10 4 2 r10 -c 64K -p n2
recover 10 3 3 f10 -c 64K -p f2
echo "PASS"
