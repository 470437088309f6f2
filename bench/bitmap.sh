#!/bin/bash
# bitmap.sh: the benchmark of issue 12, the reference's table reproduced.
# 4K random writes (psync QD1, direct) on fresh raid1 (2 members), raid10
# (4, near 2) and raid5 (4) arrays with no bitmap, md's classic bitmap and
# llbitmap, each created with and without --assume-clean (without it, the
# initial resync of "none" and "bitmap" runs under fio at md's default
# speeds; llbitmap has none to run).  A row's three arrays are mounted
# side by side and measured in turns, round after round.  Then the resync
# after a SIGKILL of a 16 GiB raid1 with 1% written, llbitmap against
# none.  Members live on a private tmpfs, every page touched before the
# mount (lib.sh's touch_pages), the SIGKILL arrays' on BENCH_BIG_DIR
# (none's resync writes a whole member).  Prints two Markdown tables and
# a PASS/FAIL line per target.
#
# Usage: bench/bitmap.sh                (as root; about 16 minutes)
# Environment:
#   RAIDFS          the raidfs binary (default: ../src/raidfs next to this script)
#   BENCH_RUNTIME   seconds measured per fio job (default 5; each adds a 2 s ramp)
#   BENCH_ROUNDS    rounds over every cell, the median taken (default 5)
#   BENCH_MEMBER    member size of the fio arrays (default 1G)
#   BENCH_BIG       member size of the SIGKILL arrays (default 16G)
#   BENCH_BIG_DIR   where the SIGKILL arrays' members go (default /var/tmp)
#   BENCH_KEEP_JSON a directory to copy fio's JSON results into
# Exit status: 0 every target met, 1 a target missed (or a job failed),
# 2 the bench could not be set up.
set -euo pipefail

BENCH=bitmap
RUNTIME=${BENCH_RUNTIME:-5}
ROUNDS=${BENCH_ROUNDS:-5}
MEMBER_SIZE=${BENCH_MEMBER:-1G}
BIG=${BENCH_BIG:-16G}
BIG_DIR=${BENCH_BIG_DIR:-/var/tmp}
# A row's three arrays at a time; a resync writes its members whole.
TMPFS_SIZE=$(($(numfmt --from=iec "$MEMBER_SIZE") * 12 + (512 << 20)))
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LEVELS=(1 10 5)
BITMAPS=(none internal lockless)
declare -A NMEMB=([1]=2 [10]=4 [5]=4) BMNAME=([none]=none [internal]=bitmap [lockless]=llbitmap)
declare -A SYNCING RESYNC_SECS RESYNC_KIB
JOB=rand-write-psync
big=''
big_pid=''

cleanup() {
	local rc=$?
	set +e
	cleanup_big
	(exit "$rc")   # cleanup_arrays exits with the status it finds
	cleanup_arrays
}

cleanup_big() {
	[[ -n $big ]] || return 0
	local m
	for m in "$big"/*/mnt; do
		fusermount3 -u "$m" 2>/dev/null || true
	done
	if [[ -n $big_pid ]]; then
		kill "$big_pid" 2>/dev/null || true
		wait "$big_pid" 2>/dev/null || true
	fi
	for m in "$big"/*/mnt; do
		mountpoint -q "$m" && { log "$m still mounted: $big left"; return 0; }
	done
	rm -rf "$big"
	big=''
}

members() { local i; for ((i = 0; i < NMEMB[$2]; i++)); do echo "$work/$1/m$i"; done; }

# mount_case LEVEL BITMAP CLEAN: one array of a row, created and mounted;
# without --assume-clean its initial sync waits frozen for its turn.
mount_case() {
	local l=$1 b=$2 clean=$3 a=r$1-$2-$3
	mkdir -p "$work/$a" "$work/mnt/$a"
	"$RAIDFS" create -l "$l" -n "${NMEMB[$l]}" -N a -b "$b" \
		${clean:+--assume-clean} --member-size "$MEMBER_SIZE" \
		$(members "$a" "$l") >/dev/null || die "create of $a failed"
	touch_pages $(members "$a" "$l") || die "cannot touch the members of $a"
	"$RAIDFS" mount -f $(members "$a" "$l") "$work/mnt/$a" >>"$work/$a.log" 2>&1 &
	PID_OF_ARRAY[$a]=$!
	wait_mounted "$work/mnt/$a" "${PID_OF_ARRAY[$a]}" mdstat ||
		die "raidfs mount of $a failed: $(cat "$work/$a.log")"
	[[ -n $clean ]] || echo frozen >"$work/mnt/$a/a.md/sync_action"
	PATH_OF[$a]=$work/mnt/$a/a
}

# measure A ROUND CLEAN: one fio run on array A; without CLEAN its
# initial sync runs only meanwhile, so no array's sync slows another's run.
measure() {
	local a=$1 md=$work/mnt/$1/a.md
	[[ -n $3 ]] || echo idle >"$md/sync_action"
	PATH_OF[$a-$2]=${PATH_OF[$a]}
	run_job "$JOB" "$a-$2"
	if [[ -z $3 ]]; then
		local now
		now=$(cat "$md/sync_action")
		[[ $now == idle ]] || SYNCING[$a]=$now
		echo frozen >"$md/sync_action"
	fi
}

# fio_row LEVEL CLEAN: the row's three arrays mounted side by side, then
# a warm-up round (tmpfs allocating the members' first pages) and ROUNDS
# rounds of one run on each, the order rotated every round, so a slow
# spell of the machine falls on every bitmap alike.
fio_row() {
	local l=$1 c=$2 b k i n=${#BITMAPS[@]}
	for b in "${BITMAPS[@]}"; do
		mount_case "$l" "$b" "$c"
	done
	SIZE=$(($(stat -c %s "${PATH_OF[r$l-none-$c]}") >> 20))M
	for ((k = 0; k <= ROUNDS; k++)); do
		for ((i = 0; i < n; i++)); do
			measure "r$l-${BITMAPS[(i + k) % n]}-$c" "$k" "$c"
		done
	done
	for b in "${BITMAPS[@]}"; do
		stop_array "r$l-$b-$c"
		rm -rf "${work:?}/r$l-$b-$c"
	done
}

# sigkill_resync BITMAP: a 16 GiB raid1, 1% written in one run and the
# daemon killed at once (the chunks are still Dirty; "none" is active),
# then the time from the mount to the end of its resync.
sigkill_resync() {
	local b=$1 d=$big/$1 t0 t1 run
	mkdir -p "$d/mnt"
	"$RAIDFS" create -l 1 -n 2 -N a -b "$b" --assume-clean --member-size "$BIG" \
		"$d/m0" "$d/m1" >/dev/null || die "create of the $b SIGKILL array failed"
	"$RAIDFS" mount -f "$d/m0" "$d/m1" "$d/mnt" >>"$d/log" 2>&1 &
	big_pid=$!
	wait_mounted "$d/mnt" "$big_pid" mdstat || die "mount of $b failed: $(cat "$d/log")"
	local bytes=$(($(numfmt --from=iec "$BIG") / 100))
	run=$(($(numfmt --from=iec "$BIG") >> 22))     # in MiB, a quarter in
	dd if=/dev/urandom of="$d/mnt/a" bs=1M count=$((bytes >> 20)) seek="$run" \
		conv=notrunc oflag=direct status=none || die "the write to $b failed"
	# Killed in the middle of rewriting that run: the array is active.
	while dd if=/dev/zero of="$d/mnt/a" bs=4k count=$((bytes >> 12)) \
		seek=$((run << 8)) conv=notrunc oflag=direct status=none 2>/dev/null; do
		:
	done &
	local writer=$!
	sleep 0.5
	kill -9 "$big_pid"
	wait "$writer" 2>/dev/null || true
	wait "$big_pid" 2>/dev/null || true
	fusermount3 -u "$d/mnt" 2>/dev/null || umount -l "$d/mnt" 2>/dev/null || true
	local seen
	seen=$(wc -l <"$d/log")
	t0=$(date +%s.%N)
	"$RAIDFS" mount -f -o sync_speed_max=1000000000 "$d/m0" "$d/m1" "$d/mnt" >>"$d/log" 2>&1 &
	big_pid=$!
	wait_mounted "$d/mnt" "$big_pid" mdstat || die "remount of $b failed: $(cat "$d/log")"
	while [[ $(cat "$d/mnt/a.md/sync_action") != idle ]]; do
		sleep 0.01
	done
	t1=$(date +%s.%N)
	RESYNC_SECS[$b]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	# the remount's first bitmap-bounded resync
	RESYNC_KIB[$b]=$(tail -n +$((seen + 1)) "$d/log" |
			 sed -n 's/.*resync by the bitmap: \([0-9]*\) of.*/\1/p' |
			 head -n1 | awk '{ print int($1 / 2) }')
	log "$b: resync after SIGKILL in ${RESYNC_SECS[$b]} s"
	fusermount3 -u "$d/mnt"
	wait "$big_pid" 2>/dev/null || true
	big_pid=""
	rm -rf "$d"
}

print_tables() {
	local l b c row
	echo
	describe_run "$MEMBER_SIZE members on tmpfs; fresh arrays, their members' pages touched (contents kept); a row's arrays side by side, a warm-up round, then the median of $ROUNDS rounds (llbitmap / none: the median of the rounds' ratios)"
	echo
	echo "| ${LABEL[$JOB]} | none | bitmap | llbitmap | llbitmap / none |"
	echo '|---|---:|---:|---:|---:|'
	for l in "${LEVELS[@]}"; do
		for c in '' clean; do
			row="raid$l (${NMEMB[$l]})${c:+ assume-clean}"
			for b in "${BITMAPS[@]}"; do
				row+=" | $(result "$JOB" "r$l-$b-$c")"
				[[ ${SYNCING[r$l-$b-$c]:-idle} == idle ]] ||
					row+=" (${SYNCING[r$l-$b-$c]} ran)"
			done
			echo "| $row | $(ll_ratio "$l" "$c") |"
		done
	done
	echo
	echo "| resync after SIGKILL, raid1 2 x $BIG, 1% written | none | llbitmap |"
	echo '|---|---:|---:|'
	echo "| seconds from the mount to idle | ${RESYNC_SECS[none]:--} | ${RESYNC_SECS[lockless]:--} |"
	echo "| KiB the bitmap let it sync | - | ${RESYNC_KIB[lockless]:--} |"
	echo
}

# ll_ratio LEVEL CLEAN: llbitmap over none, round by round.
ll_ratio() { paired_ratio "$JOB" "r$1-lockless-$2" "r$1-none-$2" "$ROUNDS"; }

verdicts() {
	local ok=0 l r
	for l in "${LEVELS[@]}"; do
		verdict_of "$(ll_ratio "$l" clean)" 0.97 \
			"raid$l llbitmap / none, assume-clean" || ok=1
		verdict_of "$(ll_ratio "$l" '')" 1.00 \
			"raid$l llbitmap / none, initial sync of none running" || ok=1
	done
	r=$(awk -v a="${RESYNC_SECS[lockless]:-0}" -v b="${RESYNC_SECS[none]:-0}" \
		'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')
	if [[ $r != - ]] && awk -v r="$r" 'BEGIN { exit !(r <= 0.05) }'; then
		echo "PASS SIGKILL resync time llbitmap / none: $r (target <= 0.05)"
	else
		echo "FAIL SIGKILL resync time llbitmap / none: $r (target <= 0.05)"
		ok=1
	fi
	return $ok
}

main() {
	bench_start
	setup_tmpfs "$TMPFS_SIZE" mnt
	local l b c
	for l in "${LEVELS[@]}"; do
		for c in '' clean; do
			fio_row "$l" "$c"
		done
	done
	for l in "${LEVELS[@]}"; do
		for c in '' clean; do
			for b in "${BITMAPS[@]}"; do
				median "$JOB" "r$l-$b-$c" "$ROUNDS"
			done
		done
	done
	big=$(mktemp -d "$BIG_DIR/raidfs-bench-big.XXXXXX")
	for b in none lockless; do
		sigkill_resync "$b"
	done
	cleanup_big
	tables print_tables
	verdicts
}

main "$@"
