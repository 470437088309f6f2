#!/bin/bash
# The write-intent bitmap is durable on every member before the data it
# covers: writes with no fsync, then NAME.md/fault/power_cut "cut SEED"
# undoes a random part of what was not flushed.  Whatever data reached a
# member, its chunk's bit is set on every member of the array; the next
# start resyncs and a check finds 0 mismatches.  raid1, and raid5 (whose
# bitmap covers whole stripes of the components), for many seeds.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

SEEDS=${POWER_CUT_SEEDS:-10}
M=$T/mnt
BCHUNK=$((64 << 10))

members() { local a=$1 n=$2 i; for i in $(seq "$n"); do echo "$T/$a-$i"; done; }
create_all() {
	rm -f "$T"/r[0-9]-[0-9]
	local o=(-b internal --bitmap-chunk 64K --assume-clean --member-size 8M -c 64K)
	"$RAIDFS" create -l 1 -n 2 -N r1 "${o[@]}" $(members r1 2) >/dev/null
	"$RAIDFS" create -l 5 -n 4 -N r5 "${o[@]}" $(members r5 4) >/dev/null
}
all_members() { members r1 2; members r5 4; }

# written_chunks MEMBER: the bitmap chunks of its data area holding any
# byte that is not zero (the members start sparse).
written_chunks() {
	local doff
	doff=$(examine_field "$1" "Data Offset" | cut -d' ' -f1)
	python3 - "$1" $((doff * 512)) $BCHUNK <<'PY'
import sys
path, off, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, 'rb') as f:
    f.seek(off)
    c = 0
    while True:
        b = f.read(chunk)
        if not b:
            break
        if b.count(0) != len(b):
            print(c)
        c += 1
PY
}

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

# writer SEED: 4 KiB writes at places drawn from SEED into both arrays, no
# fsync, the images held open (a close would flush); touches $T/wrote.
writer() {
	python3 - "$1" "$M/r1" "$M/r5" "$T/wrote" <<'PY' &
import os, random, sys, time
rnd = random.Random(int(sys.argv[1]))
fds = [os.open(p, os.O_WRONLY) for p in sys.argv[2:4]]
for i in range(24):
    fd, span = (fds[0], 6 << 20) if i % 2 else (fds[1], 18 << 20)
    os.pwrite(fd, os.urandom(4096), rnd.randrange(span // 4096) * 4096)
open(sys.argv[4], 'w').close()
time.sleep(600)
PY
	WRITER=$!
}

one_seed() {
	local seed=$1 a n m c
	create_all
	rm -f "$T/wrote"
	rf_mount "$M" $(all_members)
	for a in r1 r5; do echo 0.1 >"$M/$a.md/bitmap/time_base"; done
	wait_clear r1 2
	wait_clear r5 4
	for a in r1 r5; do
		echo 60 >"$M/$a.md/bitmap/time_base"
		echo 60 >"$M/$a.md/safe_mode_delay"
		echo arm >"$M/$a.md/fault/power_cut"
	done
	writer "$seed"
	for i in $(seq 600); do [ -e "$T/wrote" ] && break; sleep 0.1; done
	[ -e "$T/wrote" ] || fail "seed $seed: the writer did not finish"
	for a in r1 r5; do echo "cut $seed" >"$M/$a.md/fault/power_cut"; done
	kill -9 "$WRITER"; wait "$WRITER" 2>/dev/null || true
	rf_umount "$M"

	local total=0
	for a in "r1 2" "r5 4"; do
		set -- $a
		local data=() bits
		for m in $(members "$1" "$2"); do data+=($(written_chunks "$m")); done
		for m in $(members "$1" "$2"); do
			bits=" $(bitmap_bits "$m" | tr '\n' ' ')"
			for c in "${data[@]}"; do
				[[ $bits == *" $c "* ]] ||
					fail "seed $seed: $1: chunk $c has data on a member but no bit on $(basename "$m")"
			done
		done
		total=$((total + ${#data[@]}))
	done
	rf_mount "$M" $(all_members)
	for a in r1 r5; do wait_idle "$M/$a.md"; echo check >"$M/$a.md/sync_action"; done
	for a in r1 r5; do
		wait_idle "$M/$a.md"
		expect_eq "seed $seed: $a mismatch_cnt" "$(cat "$M/$a.md/mismatch_cnt")" 0
	done
	rf_umount "$M"
	echo "seed $seed: $total member chunks written before the cut, each with its bits"
}

for seed in $(seq "$SEEDS"); do
	one_seed "$seed"
done
exit 0
