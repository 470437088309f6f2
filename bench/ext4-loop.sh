#!/bin/bash
# ext4-loop.sh: the path users take, side by side in one run.  ext4 on a
# loop device of a raidfs image (raid0 x2, raid1 x2, raid5 x4, raid6 x5,
# and raid1 and raid5 again with llbitmap; one daemon serving them all as
# users run it), of qemu-storage-daemon's FUSE export of a raw file, and of
# a raw file; everything on one private tmpfs.  The loop devices buffered (losetup's default), then with
# --direct-io=on.  fio inside each ext4: 1 MiB sequential writes of a new
# file with an fsync at its end, then 4 KiB random writes in that file
# with an fsync every 32; ROUNDS rounds of both, the targets' order turned
# every round, the median of each cell taken.  Prints a table per loop
# mode and a PASS/FAIL line per target.
#
# Usage: bench/ext4-loop.sh             (as root; about 20 minutes)
# Environment:
#   RAIDFS          the raidfs binary (default: ../src/raidfs next to this script)
#   BENCH_RUNTIME   seconds measured of the random writes (default 10, after 2 s ramp)
#   BENCH_FILE      the file fio writes in each ext4 (default 512M)
#   BENCH_ROUNDS    rounds over every cell, the median taken (default 3)
#   BENCH_MODES     the loop modes (default "buffered direct")
#   BENCH_TARGETS   the targets, in the order they take turns
#                   (default "r0 r1 r5 r6 r1ll r5ll qsd raw")
#   BENCH_CHARTS    where the PNG charts go (see lib.sh)
# Exit status: 0 every target met, 1 a target missed (or a job failed),
# 2 the bench could not be set up.
set -euo pipefail

BENCH=ext4-loop
RUNTIME=${BENCH_RUNTIME:-10}
SIZE=${BENCH_FILE:-512M}
ROUNDS=${BENCH_ROUNDS:-3}
read -r -a MODES <<<"${BENCH_MODES:-buffered direct}"
TMPFS_SIZE=12G
IMAGE=1G          # qsd's and the raw file; the arrays' come out near it
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ARRAYS=(r0 r1 r5 r6 r1ll r5ll)
read -r -a TARGETS <<<"${BENCH_TARGETS:-${ARRAYS[*]} qsd raw}"
JOBS=(fs-seq-write fs-rand-write-fsync)
declare -A LEVEL=([r0]=0 [r1]=1 [r5]=5 [r6]=6 [r1ll]=1 [r5ll]=5)
declare -A NMEMB=([r0]=2 [r1]=2 [r5]=4 [r6]=5 [r1ll]=2 [r5ll]=4)
declare -A MEMBER=([r0]=512M [r1]=1G [r5]=352M [r6]=352M [r1ll]=1G [r5ll]=352M)
declare -A BITMAP=([r1ll]=lockless [r5ll]=lockless)
declare -A NAME=([r0]='raidfs raid0 (2)' [r1]='raidfs raid1 (2)' [r5]='raidfs raid5 (4)'
		 [r6]='raidfs raid6 (5)' [r1ll]='raidfs raid1 (2) llbitmap' [r5ll]='raidfs raid5 (4) llbitmap'
		 [qsd]='qemu-storage-daemon FUSE' [raw]='raw tmpfs file')
declare -A IMAGE_OF LOOP_OF

raidfs_pid=''

cleanup() {
	local rc=$?
	set +e
	loops_down
	raidfs_stop "$raidfs_pid" "$work/raidfs"
	qsd_stop
	umount_tmpfs
	exit "$rc"
}

setup_raidfs() {
	local a i
	for a in "${ARRAYS[@]}"; do
		"$RAIDFS" create -l "${LEVEL[$a]}" -n "${NMEMB[$a]}" -N "$a" --assume-clean \
			-b "${BITMAP[$a]:-none}" \
			--member-size "${MEMBER[$a]}" \
			$(for ((i = 0; i < NMEMB[$a]; i++)); do echo "$work/members/$a-$i"; done) \
			>>"$work/raidfs.log" 2>&1 || die "raidfs create of $a failed: $(cat "$work/raidfs.log")"
		IMAGE_OF[$a]=$work/raidfs/$a
	done
	"$RAIDFS" mount -f "$work/members" "$work/raidfs" >>"$work/raidfs.log" 2>&1 &
	raidfs_pid=$!
	wait_mounted "$work/raidfs" "$raidfs_pid" mdstat ||
		die "raidfs mount failed: $(cat "$work/raidfs.log")"
	arm_power_cut "$work/raidfs"
}

setup_qsd() {
	qsd_start "$IMAGE"
	IMAGE_OF[qsd]=$work/qsd.export
	truncate -s "$IMAGE" "$work/raw.img"
	IMAGE_OF[raw]=$work/raw.img
}

# loops_up MODE: a loop device on every target, ext4 on it, mounted.
loops_up() {
	local t dev opt=()
	[[ $1 == direct ]] && opt=(--direct-io=on)
	for t in "${TARGETS[@]}"; do
		dev=$(losetup -f --show "${opt[@]}" "${IMAGE_OF[$t]}") ||
			die "losetup of $t failed"
		LOOP_OF[$t]=$dev
		mkdir -p "$work/fs/$t"
		# Everything initialised now, not by ext4's lazy thread mid-run.
		if mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$dev" &&
		   mount "$dev" "$work/fs/$t"; then
			PATH_OF[$1.$t]=$work/fs/$t/f
		elif [[ -z ${LEVEL[$t]:-} ]]; then
			# qemu-storage-daemon's export corrupts ext4 under a
			# direct loop here: a peer's failure is a cell, not the end.
			log "$t: no working ext4 on a $1 loop device; left out"
		else
			die "ext4 on $t's $1 loop device failed"
		fi
	done
}

loops_down() {
	local t
	for t in "${!LOOP_OF[@]}"; do
		mountpoint -q "$work/fs/$t" && umount "$work/fs/$t"
		losetup -d "${LOOP_OF[$t]}"
		unset "LOOP_OF[$t]"
	done
}

print_tables() {
	local m j t row
	for m in "${MODES[@]}"; do
		echo
		describe_run "ext4 on a $m loop device of each target, a $SIZE file, the median of $ROUNDS rounds (ratios: the median of the rounds' ratios)"
		echo
		row="| ext4 on loop, $m"
		for t in "${TARGETS[@]}"; do row+=" | ${NAME[$t]}"; done
		echo "$row | raid0/raw | raid0/qsd | raid5/raid0 | raid1 llbitmap/none | raid5 llbitmap/none |"
		echo "|---$(printf '|---:%.0s' "${TARGETS[@]}")|---:|---:|---:|---:|---:|"
		for j in "${JOBS[@]}"; do
			row="| ${LABEL[$j]}"
			for t in "${TARGETS[@]}"; do row+=" | $(result "$j" "$m.$t")"; done
			row+=" | $(pair "$j" "$m.r0" "$m.raw") | $(pair "$j" "$m.r0" "$m.qsd")"
			row+=" | $(pair "$j" "$m.r5" "$m.r0") | $(pair "$j" "$m.r1ll" "$m.r1")"
			echo "$row | $(pair "$j" "$m.r5ll" "$m.r5") |"
		done
	done
	echo
}

# pair JOB A B: A over B, round by round (paired_ratio).
pair() { paired_ratio "$1" "$2" "$3" "$ROUNDS"; }

# target JOB A B GOAL TEXT: the verdict on pair JOB A B.
target() { verdict_of "$(pair "$1" "$2" "$3")" "$4" "$5"; }

verdicts() {
	local m j l ok=0 w=fs-rand-write-fsync s=fs-seq-write
	for m in "${MODES[@]}"; do
		for j in "${JOBS[@]}"; do
			for l in 1 5; do
				target "$j" "$m.r${l}ll" "$m.r$l" 0.97 \
					"$m: ${LABEL[$j]}, raid$l llbitmap / none" || ok=1
			done
		done
		target "$w" "$m.r0" "$m.raw" 0.5 "$m: ${LABEL[$w]}, raid0 / raw" || ok=1
		target "$w" "$m.r0" "$m.qsd" 2 "$m: ${LABEL[$w]}, raid0 / qsd" || ok=1
		target "$s" "$m.r0" "$m.raw" 0.9 "$m: ${LABEL[$s]}, raid0 / raw" || ok=1
		target "$w" "$m.r5" "$m.r0" 0.5 "$m: ${LABEL[$w]}, raid5 / raid0" || ok=1
	done
	return $ok
}

# rounds MODE: ROUNDS rounds in which the targets take turns per job, in
# an order turned every round, so drift hits them all alike.  Each round's
# sequential job writes a new file, which its random job then rewrites.
rounds() {
	local m=$1 k i j t n=${#TARGETS[@]}
	for ((k = 1; k <= ROUNDS; k++)); do
		for j in "${JOBS[@]}"; do
			for ((i = 0; i < n; i++)); do
				t=${TARGETS[(i + k) % n]}
				[[ -n ${PATH_OF[$m.$t]:-} ]] || continue
				[[ $j == fs-seq-write ]] && rm -f "${PATH_OF[$m.$t]}"
				# each run from a clean page cache, not the last one's
				sync
				echo 3 >/proc/sys/vm/drop_caches
				PATH_OF[$m.$t-$k]=${PATH_OF[$m.$t]}
				run_job "$j" "$m.$t-$k"
			done
		done
	done
	for t in "${TARGETS[@]}"; do
		[[ -n ${PATH_OF[$m.$t]:-} ]] || continue
		for j in "${JOBS[@]}"; do
			median "$j" "$m.$t" "$ROUNDS"
		done
	done
}

main() {
	bench_start qemu-storage-daemon=qemu-system-common mkfs.ext4=e2fsprogs
	export FIO_DIRECT=0   # the jobs write through ext4's page cache
	setup_tmpfs "$TMPFS_SIZE" members raidfs fs
	setup_raidfs
	setup_qsd
	local m
	for m in "${MODES[@]}"; do
		loops_up "$m"
		rounds "$m"
		loops_down
	done
	tables print_tables
	verdicts
}

main "$@"
