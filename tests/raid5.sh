#!/bin/bash
# raid5 and raid6 mounted for real: the initial resync, fio writers that
# share stripes (each verifying its own blocks), a check that finds the
# parity right, fsync'd data surviving SIGKILL, and the same image read
# back with one member (raid6: two) gone.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v fio >/dev/null || skip "no fio (package fio)"

# fio_verify IMAGE: four jobs interleaved 4K by 4K, so every stripe has
# several writers at once, then one of large sequential (full-stripe)
# writes; each job verifies what it wrote.  Blocks start on their job's
# 4K, so that none reaches into the next job's (which would then fail
# one of the two verifies, however right the array).
fio_verify() {
	local img=$1 j jobs=()
	for j in 0 1 2 3; do
		jobs+=(--name=strided$j --offset=$((j * 4096)) --zonemode=strided
		       --zonesize=4k --zoneskip=12k --bsrange=512-4k --blockalign=4k)
	done
	fio --verify_state_save=0 --filename="$img" --size=24M --rw=randwrite --ioengine=psync \
	    --verify=crc32c --verify_fatal=1 --do_verify=1 --randrepeat=0 \
	    --output="$T/fio.out" "${jobs[@]}" ||
		{ cat "$T/fio.out"; fail "fio verify (strided writers) on $img"; }
	fio --verify_state_save=0 --filename="$img" --offset=24M --size=4M --offset_increment=4M \
	    --numjobs=2 --rw=write --bs=1M --ioengine=psync --verify=crc32c \
	    --verify_fatal=1 --do_verify=1 --name=full \
	    --output="$T/fio.out" ||
		{ cat "$T/fio.out"; fail "fio verify (full stripes) on $img"; }
}

# crash_after_fsync NAME MEMBER...: what fsync acknowledged survives a
# SIGKILL, though it went in as partial stripes the cache may hold back
# (128K writes over 64K chunks); the restart resyncs to right parity.
crash_after_fsync() {
	local name=$1 off=$((1024 * 1024 + 65536)) len=$((3 * 1024 * 1024))
	shift
	random_file "$T/payload" "$len"
	rf_mount "$T/mnt" "$@"
	dd if="$T/payload" of="$T/mnt/$name" bs=128K oflag=seek_bytes seek="$off" \
	   conv=notrunc,fsync status=none
	rf_crash "$T/mnt"
	rf_mount "$T/mnt" "$@"
	local md="$T/mnt/$name.md"
	wait_idle "$md"
	expect_eq "$name last_sync_action after SIGKILL" "$(cat "$md/last_sync_action")" resync
	same_range "$T/mnt/$name" "$off" "$T/payload" ||
		fail "$name lost fsync'd data to SIGKILL"
	echo check >"$md/sync_action"
	wait_idle "$md"
	expect_eq "$name mismatch_cnt after crash" "$(cat "$md/mismatch_cnt")" 0
	rf_umount "$T/mnt"
}

# run_level LEVEL MEMBERS LOSE NAME [create options...]
run_level() {
	local level=$1 n=$2 lose=$3 name=$4 i
	shift 4
	local members=()
	for i in $(seq "$n"); do members+=("$T/$name$i"); done
	"$RAIDFS" create -l "$level" -n "$n" -N "$name" -c 64K --member-size 24M \
		"$@" "${members[@]}" >/dev/null
	expect_eq "new $name needs resync" "$(examine_field "${members[0]}" State)" active

	rf_mount "$T/mnt" "${members[@]}"
	local md="$T/mnt/$name.md"
	wait_idle "$md"
	expect_eq "$name resync finished" "$(cat "$md/resync_start")" none
	grep -q "level $level, 64k chunk, algorithm 2 \[$n/$n\]" "$T/mnt/mdstat" ||
		fail "mdstat: $(cat "$T/mnt/mdstat")"
	# md's io hints: a chunk, and a chunk per data member.
	local io_opt=$(( 65536 * (n - level + 4) ))
	expect_eq "$name minimum_io_size" "$(cat "$md/minimum_io_size")" 65536
	expect_eq "$name optimal_io_size" "$(cat "$md/optimal_io_size")" "$io_opt"
	# FUSE keeps st_blksize as a power of two (i_blkbits): the largest one
	# not above io_opt; optimal_io_size above carries the exact value.
	local blk=1
	while [ $((blk * 2)) -le "$io_opt" ]; do blk=$((blk * 2)); done
	expect_eq "$name st_blksize" "$(stat -c %o "$T/mnt/$name")" "$blk"
	# md's raid5 stripe cache knobs: its default and bounds.
	expect_eq "$name stripe_cache_size" "$(cat "$md/stripe_cache_size")" 256
	! echo 16 >"$md/stripe_cache_size" 2>/dev/null ||
		fail "$name stripe_cache_size took 16 (md's minimum is 17)"
	echo 4096 >"$md/stripe_cache_size"
	expect_eq "$name stripe_cache_size set" "$(cat "$md/stripe_cache_size")" 4096
	fio_verify "$T/mnt/$name"
	echo 17 >"$md/stripe_cache_size"   # frees what it no longer may hold
	[[ $(cat "$md/stripe_cache_active") =~ ^[0-9]+$ ]] ||
		fail "$name stripe_cache_active: $(cat "$md/stripe_cache_active")"
	echo check >"$md/sync_action"
	wait_idle "$md"
	expect_eq "$name mismatch_cnt after fio" "$(cat "$md/mismatch_cnt")" 0
	expect_eq "$name last_sync_action" "$(cat "$md/last_sync_action")" check
	local sum
	rf_umount "$T/mnt"
	crash_after_fsync "$name" "${members[@]}"
	rf_mount "$T/mnt" "${members[@]}"
	sum=$(image_sum "$T/mnt/$name")
	rf_umount "$T/mnt"

	# Pull members from the source and read the image degraded.
	local kept=("${members[@]:$lose}")
	rm -f "${members[@]:0:$lose}"
	rf_mount "$T/mnt" -o run "${kept[@]}"
	grep -q "\[$n/$((n - lose))\]" "$T/mnt/mdstat" ||
		fail "$name degraded mdstat: $(cat "$T/mnt/mdstat")"
	expect_eq "$name degraded" "$(cat "$md/degraded")" "$lose"
	expect_eq "$name image read with $lose member(s) gone" \
		"$(image_sum "$T/mnt/$name")" "$sum"
	rf_umount "$T/mnt"
	rm -f "${kept[@]}"
}

run_level 5 4 1 r5
run_level 6 5 2 r6
echo "PASS"
