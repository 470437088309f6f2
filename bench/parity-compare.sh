#!/bin/bash
# parity-compare.sh: the benchmark of issues 4 and 14.  fio through raidfs
# on raid5 over 4 member files and raid6 over 5, against raid0 over 3 (the
# same three data members), raid5 again with llbitmap, then raid5 with one
# member taken away.  Every member lives on one private tmpfs, its pages
# touched before the mount, so the storage below costs the same and only
# the parity work differs.  ROUNDS
# rounds, the arrays' order turned every round, the median of each cell.
# Prints one Markdown table and a PASS/FAIL line per performance target.
#
# Usage: bench/parity-compare.sh         (as root; about 10 minutes)
# Environment:
#   RAIDFS          the raidfs binary (default: ../src/raidfs next to this script)
#   BENCH_RUNTIME   seconds measured per job (default 8; each adds a 2 s ramp)
#   BENCH_SIZE      bytes of each image the jobs use (default 1G)
#   BENCH_ROUNDS    rounds over every cell, the median taken (default 3)
#   BENCH_DIRECT    direct= for the psync jobs (default 1: O_DIRECT, so reads
#                   measure the FUSE server and not the kernel's page cache)
#   BENCH_KEEP_JSON a directory to copy fio's JSON results into
#   BENCH_POWER_CUT 1: every array runs with its power cut armed (test mode)
# Exit status: 0 every target met, 1 a target missed (or a job failed),
# 2 the bench could not be set up.
set -euo pipefail

BENCH=parity-compare
RUNTIME=${BENCH_RUNTIME:-8}
SIZE=${BENCH_SIZE:-1G}
ROUNDS=${BENCH_ROUNDS:-3}
# Every member's pages are touched before its mount (lib.sh's touch_pages),
# so all of them are allocated: 16 members of MEMBER_SIZE, ~9.4 GiB.
TMPFS_SIZE=11G
# Three data members each: every image is 3 x (600M - md's data offset,
# which can be as much as 128 MiB), ~1.4-1.75 GiB, so SIZE=1G fits.
MEMBER_SIZE=600M
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Arrays: name -> "level members"; the columns, in this order.
ARRAYS=(r0 r5 r6 r5ll)
declare -A LEVEL=([r0]=0 [r5]=5 [r6]=6 [r5ll]=5) NMEMB=([r0]=3 [r5]=4 [r6]=5 [r5ll]=4)
declare -A BITMAP=([r5ll]=lockless)
# r5d is r5 remounted with member m1 moved away (-o run).
DEGRADED_OUT=m1

# Rows, in the order printed.
WORKLOADS=(seq-write seq-read rand-write-psync rand-write-aio)
# The order they run in: the writes first (prefill already filled what the
# reads read), seq-read last, so the degraded seq-read that follows it is
# as close in time to the healthy one as it can be.
RUN_ORDER=(seq-write rand-write-psync rand-write-aio seq-read)


cleanup() { cleanup_arrays; }

# Serve the members in $work/$1 at $work/mnt/$1; extra arguments go to mount.
mount_array() {
	local a=$1
	shift
	mkdir -p "$work/mnt/$a"
	# -f keeps the daemon our child, so cleanup can wait for its clean stop.
	"$RAIDFS" mount "$@" -f "$work/$a" "$work/mnt/$a" >>"$work/$a.log" 2>&1 &
	PID_OF_ARRAY[$a]=$!
	wait_mounted "$work/mnt/$a" "${PID_OF_ARRAY[$a]}" mdstat ||
		die "raidfs mount of $a failed: $(cat "$work/$a.log")"
	[[ -f $work/mnt/$a/$a ]] || die "no image $a in $work/mnt/$a"
	arm_power_cut "$work/mnt/$a"
}

# Create array $1 in its own directory (one daemon per array) and mount it.
setup_array() {
	local a=$1 n=${NMEMB[$1]} i members=()
	log "raidfs: raid${LEVEL[$a]} over $n x $MEMBER_SIZE member files"
	mkdir "$work/$a"
	for ((i = 0; i < n; i++)); do
		members+=("$work/$a/m$i")
	done
	# --assume-clean: no initial resync competes with the jobs.
	"$RAIDFS" create -l "${LEVEL[$a]}" -n "$n" -N "$a" --assume-clean \
		-b "${BITMAP[$a]:-none}" --member-size "$MEMBER_SIZE" "${members[@]}" >"$work/$a.log" 2>&1 ||
		die "raidfs create of $a failed: $(cat "$work/$a.log")"
	touch_pages "${members[@]}" || die "cannot touch the members of $a"
	mount_array "$a"
	PATH_OF[$a]=$work/mnt/$a/$a
	if grep -qE 'resync|recovery' "$work/mnt/$a/mdstat"; then
		die "$a is syncing despite --assume-clean: $(cat "$work/mnt/$a/mdstat")"
	fi
}

# Remount raid5 without one member: the r5d column.
degrade_r5() {
	log "raid5: remounting without $DEGRADED_OUT (-o run)"
	stop_array r5
	mv "$work/r5/$DEGRADED_OUT" "$work/out/"
	mount_array r5 -o run
	PATH_OF[r5d]=$work/mnt/r5/r5
	grep -q '\[4/3\]' "$work/mnt/r5/mdstat" ||
		die "raid5 is not degraded after the remount: $(cat "$work/mnt/r5/mdstat")"
	if grep -qE 'resync|recovery' "$work/mnt/r5/mdstat"; then
		die "degraded raid5 is syncing: $(cat "$work/mnt/r5/mdstat")"
	fi
}

print_table() {
	local w
	echo
	describe_run "${SIZE} per image; $MEMBER_SIZE members; the median of $ROUNDS rounds (ratios: the median of the rounds' ratios; the degraded column one run)"
	echo
	echo '| workload | raid0 (3) | raid5 (4) | raid6 (5) | raid5 (4) llbitmap | raid5 degraded (3 of 4) | raid5/raid0 | raid6/raid0 | raid5 llbitmap/none |'
	echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
	for w in "${WORKLOADS[@]}"; do
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${LABEL[$w]}" \
			"$(result "$w" r0)" "$(result "$w" r5)" "$(result "$w" r6)" \
			"$(result "$w" r5ll)" "$(result "$w" r5d)" "$(pair "$w" r5 r0)" \
			"$(pair "$w" r6 r0)" "$(pair "$w" r5ll r5)"
	done
	echo
}

# pair JOB A B: A over B, round by round (paired_ratio).
pair() { paired_ratio "$1" "$2" "$3" "$ROUNDS"; }

# target JOB A B GOAL TEXT: the verdict on pair JOB A B.
target() { verdict_of "$(pair "$1" "$2" "$3")" "$4" "$5"; }

# The targets of issues 4 and 14; returns 1 when any is missed.
verdicts() {
	local ok=0 w
	target seq-write r5 r0 0.60 'raid5 seq write / raid0' || ok=1
	target seq-write r6 r0 0.50 'raid6 seq write / raid0' || ok=1
	target seq-read r5 r0 0.90 'raid5 seq read / raid0' || ok=1
	target seq-read r6 r0 0.90 'raid6 seq read / raid0' || ok=1
	verdict seq-read r5d r5 0.50 'degraded raid5 seq read / healthy raid5' || ok=1
	target rand-write-psync r5 r0 0.60 'raid5 rand write QD1 / raid0' || ok=1
	target rand-write-aio r5 r0 0.50 'raid5 rand write QD32 / raid0' || ok=1
	for w in "${WORKLOADS[@]}"; do
		target "$w" r5ll r5 0.97 "raid5 llbitmap / none, ${LABEL[$w]}" || ok=1
	done
	return $ok
}

# rounds: ROUNDS rounds in which the arrays take turns per workload, in
# an order turned every round, so drift hits them all alike.
rounds() {
	local k w i a n=${#ARRAYS[@]}
	for ((k = 1; k <= ROUNDS; k++)); do
		for w in "${RUN_ORDER[@]}"; do
			for ((i = 0; i < n; i++)); do
				a=${ARRAYS[(i + k) % n]}
				PATH_OF[$a-$k]=${PATH_OF[$a]}
				run_job "$w" "$a-$k"
			done
		done
	done
	for w in "${WORKLOADS[@]}"; do
		for a in "${ARRAYS[@]}"; do
			median "$w" "$a" "$ROUNDS"
		done
	done
}

main() {
	bench_start
	setup_tmpfs "$TMPFS_SIZE" mnt out
	local a
	for a in "${ARRAYS[@]}"; do
		setup_array "$a"
	done
	prefill "${ARRAYS[@]}"
	rounds
	degrade_r5
	run_job seq-read r5d
	tables print_table
	verdicts
}

main "$@"
