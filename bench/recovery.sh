#!/bin/bash
# recovery.sh: the benchmark of issue 11.  Recovery of one 2 GiB member of
# a raid1 (2 members) and of a raid5 (3 members) with sync_speed_max
# raised, members on one private tmpfs (memory: the recovery is a copy
# loop), and 4 KiB random write IOPS through the image while that recovery
# runs at the default sync_speed_min, against the same array idle.  Prints
# one Markdown table and a PASS/FAIL line per performance target.
#
# Usage: bench/recovery.sh               (as root; about 2 minutes)
# Environment:
#   RAIDFS          the raidfs binary (default: ../src/raidfs next to this script)
#   SB_RECOVERING   tests/sb-recovering (default: next to this script's tests/;
#                   built with make if missing)
#   BENCH_RUNTIME   seconds measured per fio job (default 8; each adds a 2 s ramp)
#   BENCH_MEMBER    member size (default 2G)
#   BENCH_DIRECT    direct= for the psync job (default 1)
#   BENCH_KEEP_JSON a directory to copy fio's JSON results into
# Exit status: 0 every target met, 1 a target missed (or a job failed),
# 2 the bench could not be set up.
set -euo pipefail

BENCH=recovery
RUNTIME=${BENCH_RUNTIME:-8}
MEMBER_SIZE=${BENCH_MEMBER:-2G}
# The arrays run one after the other: at most 3 members (raid5) at a time.
TMPFS_SIZE=$(($(numfmt --from=iec "$MEMBER_SIZE") * 3 + (256 << 20)))
SIZE=''          # per array: its whole image, set once it is up
# md's highest sync_speed_max the mount option takes (KiB/s).
SPEED_MAX=1000000000
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SB_RECOVERING=${SB_RECOVERING:-$here/../tests/sb-recovering}

ARRAYS=(r1 r5)
declare -A LEVEL=([r1]=1 [r5]=5) NMEMB=([r1]=2 [r5]=3) RATE SECS REC_DURING
JOB=rand-write-psync
MIN_SHOWN=-     # sync_speed_min as the array showed it

cleanup() { cleanup_arrays; }

members() { local a=$1 i; for ((i = 0; i < NMEMB[$a]; i++)); do echo "$work/$a/m$i"; done; }
ctl() { cat "$work/mnt/$1/$1.md/$2"; }

mount_array() {
	local a=$1
	shift
	mkdir -p "$work/mnt/$a"
	"$RAIDFS" mount "$@" -f $(members "$a") "$work/mnt/$a" >>"$work/$a.log" 2>&1 &
	PID_OF_ARRAY[$a]=$!
	wait_mounted "$work/mnt/$a" "${PID_OF_ARRAY[$a]}" mdstat ||
		die "raidfs mount of $a failed: $(cat "$work/$a.log")"
}

# The last member needs recovering from sector 0 (its superblock says so,
# as md leaves a member whose recovery was interrupted at the start).
need_recovery() {
	local a=$1 last
	last=$(members "$a" | tail -n1)
	"$SB_RECOVERING" "$last" 0 || die "sb-recovering $last failed"
}

# mdstat's live position of the running sync, in KiB (0 if none).
position() {
	sed -n 's/.*recovery = *[0-9.]*% (\([0-9]*\)\/.*/\1/p' "$work/mnt/$1/mdstat" | head -n1 | grep . || echo 0
}

# Recovery at full speed on an otherwise idle array: KiB recovered from the
# first moment the mount is up to the moment sync_action says idle.
measure_recovery() {
	local a=$1 t0 t1 k0 total
	need_recovery "$a"
	mount_array "$a" -o sync_speed_max=$SPEED_MAX
	t0=$(date +%s.%N)
	k0=$(position "$a")
	[[ $(ctl "$a" sync_action) == recover ]] ||
		die "$a: no recovery at mount: $(cat "$work/mnt/$a/mdstat")"
	while [[ $(ctl "$a" sync_action) != idle ]]; do
		sleep 0.005
	done
	t1=$(date +%s.%N)
	[[ $(ctl "$a" degraded) == 0 ]] || die "$a: still degraded after recovery"
	total=$(ctl "$a" component_size)
	SECS[$a]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	RATE[$a]=$(awk -v k=$((total - k0)) -v a="$t0" -v b="$t1" \
		'BEGIN { printf "%d", k / 1024 / (b - a) }')
	log "$a: recovered $(((total - k0) >> 10)) MiB in ${SECS[$a]} s"
	stop_array "$a"
}

# fio while the recovery runs at the default sync_speed_min: the recovery
# starts frozen (at full speed it would be over before fio begins) and is
# let go once fio writes (the array goes active), in fio's 2 s ramp.  Its
# position is taken 1.2 s later and 1 s before fio ends: the recovery
# must still run then.
iops_during_recovery() {
	local a=$1 p0 p1 st i
	need_recovery "$a"
	mount_array "$a" -o sync_speed_max=$SPEED_MAX
	echo frozen >"$work/mnt/$a/$a.md/sync_action"
	MIN_SHOWN=$(ctl "$a" sync_speed_min)
	PATH_OF[$a.rec]=${PATH_OF[$a]}
	(for ((i = 0; i < 100; i++)); do
		[[ $(ctl "$a" array_state) == active ]] && break
		sleep 0.02
	 done
	 echo idle >"$work/mnt/$a/$a.md/sync_action"
	 sleep 1.2; position "$a" >"$work/p0"
	 sleep $((RUNTIME - 1)); position "$a" >"$work/p1"
	 ctl "$a" sync_action >"$work/st") &
	local watcher=$!
	run_job "$JOB" "$a.rec"
	wait "$watcher"
	p0=$(cat "$work/p0") p1=$(cat "$work/p1") st=$(cat "$work/st")
	if [[ $st != recover || $p0 == 0 || $p1 == 0 ]]; then
		log "$a: the recovery did not run through fio's measured time ($st)"
		RESULT[$JOB.$a.rec]=ERR
	fi
	REC_DURING[$a]=$(awk -v k=$((p1 - p0)) -v s=$((RUNTIME - 1)) \
		'BEGIN { printf "%d", k / s }')
	stop_array "$a"
}

bench_array() {
	local a=$1
	log "raidfs: raid${LEVEL[$a]} over ${NMEMB[$a]} x $MEMBER_SIZE member files"
	mkdir -p "$work/$a"
	"$RAIDFS" create -l "${LEVEL[$a]}" -n "${NMEMB[$a]}" -N "$a" --assume-clean \
		--member-size "$MEMBER_SIZE" $(members "$a") >"$work/$a.log" 2>&1 ||
		die "raidfs create of $a failed: $(cat "$work/$a.log")"
	mount_array "$a"
	PATH_OF[$a]=$work/mnt/$a/$a
	SIZE=$(($(stat -c %s "${PATH_OF[$a]}") >> 20))M
	prefill "$a"
	run_job "$JOB" "$a"
	stop_array "$a"
	measure_recovery "$a"
	iops_during_recovery "$a"
	rm -f $(members "$a")
}

print_table() {
	echo
	describe_run "whole image per array; $MEMBER_SIZE members on tmpfs"
	echo
	echo '| | raid1 (2) | raid5 (3) |'
	echo '|---|---:|---:|'
	printf '| recovery of one member, sync_speed_max=%s (MiB/s) | %s | %s |\n' \
		"$SPEED_MAX" "${RATE[r1]:--}" "${RATE[r5]:--}"
	printf '| recovery time (s) | %s | %s |\n' "${SECS[r1]:--}" "${SECS[r5]:--}"
	printf '| %s, idle | %s | %s |\n' "${LABEL[$JOB]}" "$(result "$JOB" r1)" "$(result "$JOB" r5)"
	printf '| %s, during recovery | %s | %s |\n' "${LABEL[$JOB]}" \
		"$(result "$JOB" r1.rec)" "$(result "$JOB" r5.rec)"
	printf '| during / idle | %s | %s |\n' "$(ratio "$JOB" r1.rec r1)" "$(ratio "$JOB" r5.rec r5)"
	printf '| recovery while fio ran, sync_speed_min=%s (KiB/s) | %s | %s |\n' \
		"$MIN_SHOWN" "${REC_DURING[r1]:--}" "${REC_DURING[r5]:--}"
	echo
}

# rate_verdict ARRAY: recovery at 1 GiB/s at least.
rate_verdict() {
	local r=${RATE[$1]:-0}
	if ((r >= 1024)); then
		echo "PASS raid${LEVEL[$1]} recovery rate: $r MiB/s (target >= 1024)"
	else
		echo "FAIL raid${LEVEL[$1]} recovery rate: $r MiB/s (target >= 1024)"
		return 1
	fi
}

verdicts() {
	local ok=0 a
	for a in "${ARRAYS[@]}"; do
		rate_verdict "$a" || ok=1
		verdict "$JOB" "$a.rec" "$a" 0.50 \
			"raid${LEVEL[$a]} 4K random write IOPS during recovery / idle" || ok=1
	done
	return $ok
}

main() {
	bench_start
	if [[ ! -x $SB_RECOVERING ]]; then
		make -C "$here/.." tests/sb-recovering >&2 || die "cannot build tests/sb-recovering"
	fi
	setup_tmpfs "$TMPFS_SIZE" mnt
	local a
	for a in "${ARRAYS[@]}"; do
		bench_array "$a"
	done
	tables print_table
	verdicts
}

main "$@"
