#!/bin/bash
# A power cut in the middle of a recovery (NAME.md/fault/power_cut), on
# raid1, raid5, raid6 and raid10.  The recovering member starts full of
# garbage; after the cut, the superblocks say how far it was recovered,
# and that must be true: reassembled, the recovery resumes from there, the
# array reads back what was written before, and a check finds nothing.
# POWER_CUT_RECOVERY_SEEDS sets the seeds per level (default 2).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
[ -x "${SB_RECOVERING:-}" ] || SB_RECOVERING=$(dirname "$RAIDFS")/../tests/sb-recovering
[ -x "$SB_RECOVERING" ] || fail "no sb-recovering helper (make check builds it)"

SEEDS=${POWER_CUT_RECOVERY_SEEDS:-2}
M=$T/mnt

# cut_recovery LEVEL N VICTIM NAME SEED [create options...]
cut_recovery() {
	local level=$1 n=$2 victim=$3 name=$4 seed=$5 i members=()
	shift 5
	rm -f "$T/$name"[0-9]*
	for i in $(seq "$n"); do members+=("$T/$name$i"); done
	"$RAIDFS" create -l "$level" -n "$n" -N "$name" --assume-clean \
		--member-size 16M "$@" "${members[@]}" >/dev/null
	local img=$M/$name md=$M/$name.md vm=$T/$name$victim
	rf_mount "$M" "${members[@]}"
	random_file "$T/data" $(stat -c %s "${md%.md}")
	dd if="$T/data" of="$img" bs=1M conv=notrunc,fsync status=none
	rf_umount "$M"

	local doff
	doff=$(examine_field "$vm" "Data Offset" | cut -d' ' -f1)
	dd if=/dev/urandom of="$vm" bs=512 seek="$doff" conv=notrunc status=none \
	   count="$(examine_field "$vm" "Avail Dev Size" | cut -d' ' -f1)"
	"$SB_RECOVERING" "$vm" 0

	# About 4 s to recover 16 MiB; its first checkpoint comes after 2 s,
	# the cut between 2.1 and 3.7 s, mostly after it.
	rf_mount "$M" -o sync_speed_max=4000 "${members[@]}"
	expect_eq "$name sync_action" "$(cat "$md/sync_action")" recover
	echo arm >"$md/fault/power_cut"
	sleep_random "$seed" 2100 1600
	local reached
	reached=$(cat "$md/dev-$name$victim/recovery_start")
	echo "cut $seed" >"$md/fault/power_cut"
	rf_umount "$M"
	local said
	said=$(examine_field "$vm" "Recovery Offset" | cut -d' ' -f1)
	[ -n "$said" ] || fail "$name seed $seed: the cut came after the recovery ended"

	rf_mount "$M" "${members[@]}"
	recovered_intact "$name seed $seed, after the cut" "$md" "$img" "$T/data"
	rf_umount "$M"
	echo "$name seed $seed: recovering at sector $reached when cut, superblock said $said"
}

for seed in $(seq "$SEEDS"); do
	cut_recovery 1 2 2 r1 "$seed"
	cut_recovery 5 3 1 r5 "$seed" -c 64K
	cut_recovery 6 4 3 r6 "$seed" -c 64K
	cut_recovery 10 4 2 r10 "$seed" -c 64K -p n2
done
echo PASS
