#!/bin/bash
# The write-intent bitmap is durable on every member before the data it
# covers: writes with no fsync, then NAME.md/fault/power_cut "cut SEED"
# undoes a random part of what was not flushed.  Whatever data reached a
# member, its chunk's bit is set on every member of the array; the next
# start resyncs and a check finds 0 mismatches.  raid1, raid5 (whose
# bitmap covers whole stripes of the components) and raid10 (whose bitmap
# covers the array, its resync walking member rows), for many seeds.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

SEEDS=${POWER_CUT_SEEDS:-10}
M=$T/mnt
BCHUNK=$((64 << 10))

members() { local a=$1 n=$2 i; for i in $(seq "$n"); do echo "$T/$a-$i"; done; }
create_all() {
	rm -f "$T"/r[0-9]-[0-9] "$T"/r10-[0-9]
	local o=(-b internal --bitmap-chunk 64K --assume-clean --member-size 8M -c 64K)
	"$RAIDFS" create -l 1 -n 2 -N r1 "${o[@]}" $(members r1 2) >/dev/null
	"$RAIDFS" create -l 5 -n 4 -N r5 "${o[@]}" $(members r5 4) >/dev/null
	"$RAIDFS" create -l 10 -n 4 -N r10 "${o[@]}" $(members r10 4) >/dev/null
}
all_members() { members r1 2; members r5 4; members r10 4; }

# wait_clear A N: until no member of A has a bit set (the chunks of create).
wait_clear() {
	local i m busy
	for i in $(seq 600); do
		busy=0
		for m in $(members "$1" "$2"); do
			[ -z "$(bitmap_bits "$m")" ] || busy=1
		done
		[ "$busy" = 0 ] && return 0
		sleep 0.1
	done
	fail "$1: bits not cleared"
}

one_seed() {
	local seed=$1 a
	create_all
	rf_mount "$M" $(all_members)
	for a in r1 r5 r10; do echo 0.1 >"$M/$a.md/bitmap/time_base"; done
	wait_clear r1 2
	wait_clear r5 4
	wait_clear r10 4
	for a in r1 r5 r10; do
		echo 60 >"$M/$a.md/bitmap/time_base"
		echo 60 >"$M/$a.md/safe_mode_delay"
		echo arm >"$M/$a.md/fault/power_cut"
	done
	cut_during_writes "$seed" "$M" r1 r5 r10

	marks_survive_cut "$seed" r1:2:bitmap_bits r5:4:bitmap_bits r10:4:bitmap_bits:r10_written
	rf_umount "$M"
	echo "seed $seed: $MARKED_CHUNKS member chunks written before the cut, each with its bits"
}

for seed in $(seq "$SEEDS"); do
	one_seed "$seed"
done
exit 0
