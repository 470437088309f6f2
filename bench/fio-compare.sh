#!/bin/bash
# fio-compare.sh: fio through raidfs (raid0 over two member files) side by
# side with qemu-storage-daemon's FUSE export of one raw file and with fio on
# a plain file, all three on one private tmpfs so the storage below costs the
# same and only the FUSE server differs.  Prints one Markdown table and a
# PASS/FAIL line per performance target.
#
# Usage: bench/fio-compare.sh            (as root; about 4 minutes)
# Environment:
#   RAIDFS          the raidfs binary (default: ../src/raidfs next to this script)
#   BENCH_RUNTIME   seconds measured per job (default 10; each adds a 2 s ramp)
#   BENCH_SIZE      bytes of each target the jobs use (default 1G)
#   BENCH_DIRECT    direct= for the psync jobs (default 1: O_DIRECT, so reads
#                   measure the FUSE server and not the kernel's page cache)
#   BENCH_KEEP_JSON a directory to copy fio's JSON results into
# Exit status: 0 every target met, 1 a target missed (or a job failed),
# 2 the bench could not be set up.
set -euo pipefail

BENCH=fio-compare
RUNTIME=${BENCH_RUNTIME:-10}
SIZE=${BENCH_SIZE:-1G}
TMPFS_SIZE=4G
# Two members: each must hold half of SIZE plus md's data offset (which can
# be as much as 128 MiB); 768M leaves the image ~1.2-1.5 GiB.
MEMBER_SIZE=768M
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Rows, in the order they run: the writes first fill what the reads read.
WORKLOADS=(seq-write seq-read rand-write-psync rand-read-psync rand-write-aio rand-read-aio)
TARGETS=(raidfs qsd raw)
# Performance targets: workload -> minimum raidfs/qsd ratio.
declare -A GOAL=([seq-write]=2 [seq-read]=2 [rand-write-aio]=1 [rand-read-aio]=1)

raidfs_pid=''    # our child: raidfs mount -f

# Runs on every exit: leave no mount, daemon or tmpfs behind.
cleanup() {
	local rc=$?
	set +e
	raidfs_stop "$raidfs_pid" "$work/raidfs"
	qsd_stop
	umount_tmpfs
	exit "$rc"
}

setup_raidfs() {
	log "raidfs: raid0 over 2 x $MEMBER_SIZE member files"
	"$RAIDFS" create -l 0 -n 2 -N bench --member-size "$MEMBER_SIZE" \
		"$work/members/m0" "$work/members/m1" >"$work/raidfs.log" 2>&1 ||
		die "raidfs create failed: $(cat "$work/raidfs.log")"
	# -f keeps the daemon our child, so cleanup can wait for its clean stop.
	"$RAIDFS" mount -f "$work/members" "$work/raidfs" >>"$work/raidfs.log" 2>&1 &
	raidfs_pid=$!
	wait_mounted "$work/raidfs" "$raidfs_pid" mdstat ||
		die "raidfs mount failed: $(cat "$work/raidfs.log")"
	PATH_OF[raidfs]=$work/raidfs/bench
	[[ -f ${PATH_OF[raidfs]} ]] || die "no image $work/raidfs/bench in the mount"
	arm_power_cut "$work/raidfs"
}

setup_qsd() {
	log "qemu-storage-daemon: FUSE export of a $SIZE raw file"
	qsd_start "$SIZE"
	PATH_OF[qsd]=$work/qsd.export
}

setup_raw() {
	truncate -s "$SIZE" "$work/raw.img"
	PATH_OF[raw]=$work/raw.img
}

print_table() {
	local w
	echo
	describe_run "${SIZE} per target"
	echo
	echo '| workload | raidfs raid0 | qemu-storage-daemon FUSE | raw tmpfs | raidfs/qsd |'
	echo '|---|---:|---:|---:|---:|'
	for w in "${WORKLOADS[@]}"; do
		printf '| %s | %s | %s | %s | %s |\n' "${LABEL[$w]}" \
			"${RESULT[$w.raidfs]}" "${RESULT[$w.qsd]}" "${RESULT[$w.raw]}" \
			"$(ratio "$w" raidfs qsd)"
	done
	echo
}

# One line per target; returns 1 when any is missed.
verdicts() {
	local w ok=0
	for w in "${WORKLOADS[@]}"; do
		[[ -n ${GOAL[$w]:-} ]] || continue
		verdict "$w" raidfs qsd "${GOAL[$w]}" "${LABEL[$w]}: raidfs/qsd" || ok=1
	done
	return $ok
}

main() {
	bench_start qemu-storage-daemon=qemu-system-common
	setup_tmpfs "$TMPFS_SIZE" members raidfs
	setup_raidfs
	setup_qsd
	setup_raw
	prefill "${TARGETS[@]}"
	local w t
	# Targets take turns per workload, so drift hits all three alike.
	for w in "${WORKLOADS[@]}"; do
		for t in "${TARGETS[@]}"; do
			run_job "$w" "$t"
		done
	done
	tables print_table
	verdicts
}

main "$@"
