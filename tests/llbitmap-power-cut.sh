#!/bin/bash
# An llbitmap byte is durable on every member before the data it covers:
# writes with no fsync, then NAME.md/fault/power_cut "cut SEED" undoes a
# random part of what was not flushed.  Whatever data reached a member,
# its chunk's byte is neither Clean nor Unwritten on every member; the
# next start syncs and a check finds 0 mismatches.  raid1 created clean
# (Clean -> Dirty), raid5 created without --assume-clean (Unwritten ->
# NeedSync, built lazily while the writes go on), raid10 (its bitmap
# covers the array, its syncs walk member rows), for several seeds.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

SEEDS=${POWER_CUT_SEEDS:-6}
M=$T/mnt
BCHUNK=$((64 << 10))    # llbitmap's chunk for members this small

members() { local a=$1 n=$2 i; for i in $(seq "$n"); do echo "$T/$a-$i"; done; }
create_all() {
	rm -f "$T"/r[0-9]-[0-9] "$T"/r10-[0-9]
	local o=(-b lockless --member-size 8M -c 64K)
	"$RAIDFS" create -l 1 -n 2 -N r1 --assume-clean "${o[@]}" $(members r1 2) >/dev/null
	"$RAIDFS" create -l 5 -n 4 -N r5 "${o[@]}" $(members r5 4) >/dev/null
	"$RAIDFS" create -l 10 -n 4 -N r10 "${o[@]}" $(members r10 4) >/dev/null
}
all_members() { members r1 2; members r5 4; members r10 4; }

# ll_marked MEMBER: the chunks its llbitmap says may need a sync (Dirty,
# NeedSync, Syncing: not Unwritten nor Clean), after checking the chunk
# is BCHUNK.
ll_marked() {
	python3 - "$1" "$(bitmap_pos "$1")" $BCHUNK <<'PY'
import struct, sys
with open(sys.argv[1], 'rb') as f:
    f.seek(int(sys.argv[2]))
    a = f.read(128 << 10)
sync_size, = struct.unpack_from('<Q', a, 40)
chunk, = struct.unpack_from('<I', a, 52)
assert chunk * 512 == int(sys.argv[3]), 'llbitmap chunk'
for c in range((sync_size + chunk - 1) // chunk):
    if a[1024 + c] >= 2:
        print(c)
PY
}

one_seed() {
	local seed=$1 a
	create_all
	rf_mount "$M" $(all_members)
	for a in r1 r5 r10; do
		wait_idle "$M/$a.md"
		echo 600 >"$M/$a.md/llbitmap/daemon_sleep"   # nothing cleaned
		echo 60 >"$M/$a.md/safe_mode_delay"
		echo arm >"$M/$a.md/fault/power_cut"
	done
	cut_during_writes "$seed" "$M" r1 r5 r10

	marks_survive_cut "$seed" r1:2:ll_marked r5:4:ll_marked r10:4:ll_marked:r10_written
	for a in r1 r5 r10; do
		expect_eq "seed $seed: $a need sync" \
			"$(sed -n 's/^need sync //p' "$M/$a.md/llbitmap/bits")" 0
	done
	rf_umount "$M"
	echo "seed $seed: $MARKED_CHUNKS member chunks written before the cut, each marked"
}

for seed in $(seq "$SEEDS"); do
	one_seed "$seed"
done
exit 0
