#!/bin/bash
# parity-compare.sh: the benchmark of issue 4.  fio through raidfs on raid5
# over 4 member files and raid6 over 5, against raid0 over 3 (the same three
# data members), then raid5 again with one member taken away.  Every member
# lives on one private tmpfs, so the storage below costs the same and only
# the parity work differs.  Prints one Markdown table and a PASS/FAIL line
# per performance target.
#
# Usage: bench/parity-compare.sh         (as root; about 3 minutes)
# Environment:
#   RAIDFS          the raidfs binary (default: ../src/raidfs next to this script)
#   BENCH_RUNTIME   seconds measured per job (default 8; each adds a 2 s ramp)
#   BENCH_SIZE      bytes of each image the jobs use (default 1G)
#   BENCH_DIRECT    direct= for the psync jobs (default 1: O_DIRECT, so reads
#                   measure the FUSE server and not the kernel's page cache)
#   BENCH_KEEP_JSON a directory to copy fio's JSON results into
# Exit status: 0 every target met, 1 a target missed (or a job failed),
# 2 the bench could not be set up.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RAIDFS=${RAIDFS:-$here/../src/raidfs}
JOBDIR=$here/../contrib/fio
RUNTIME=${BENCH_RUNTIME:-8}
SIZE=${BENCH_SIZE:-1G}
# Members are sparse; what is allocated is SIZE per image plus its parity
# (1/3 for raid5, 2/3 for raid6), ~4 GiB in all.
TMPFS_SIZE=6G
# Three data members each: every image is 3 x (600M - md's data offset,
# which can be as much as 128 MiB), ~1.4-1.75 GiB, so SIZE=1G fits.
MEMBER_SIZE=600M

# Arrays: name -> "level members"; the columns, in this order.
ARRAYS=(r0 r5 r6)
declare -A LEVEL=([r0]=0 [r5]=5 [r6]=6) NMEMB=([r0]=3 [r5]=4 [r6]=5)
# r5d is r5 remounted with member m1 moved away (-o run).
DEGRADED_OUT=m1

# Rows, in the order printed.
WORKLOADS=(seq-write seq-read rand-write-psync rand-write-aio)
# The order they run in: the writes first (prefill already filled what the
# reads read), seq-read last, so the degraded seq-read that follows it is
# as close in time to the healthy one as it can be.
RUN_ORDER=(seq-write rand-write-psync rand-write-aio seq-read)
declare -A LABEL=(
	[seq-write]='seq write 1M psync QD1 (MiB/s)'
	[seq-read]='seq read 1M psync QD1 (MiB/s)'
	[rand-write-psync]='rand write 4K psync QD1 (IOPS)'
	[rand-write-aio]='rand write 4K libaio QD32 direct (IOPS)'
)

work=''                 # the private tmpfs
declare -A PID_OF       # array -> our child: raidfs mount -f
declare -A RESULT PATH_OF

die() { echo "parity-compare: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }

# The first step: install what is missing, and nothing when all is there.
need_packages() {
	local -A pkg_of=([fio]=fio [jq]=jq)
	local missing=() cmd
	for cmd in "${!pkg_of[@]}"; do
		command -v "$cmd" >/dev/null || missing+=("${pkg_of[$cmd]}")
	done
	((${#missing[@]} == 0)) && return 0
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# Wait until $1 is a mount point serving mdstat; fail early if process $2
# died instead.
wait_mounted() {
	local i
	for ((i = 0; i < 100; i++)); do
		mountpoint -q "$1" && [[ -f $1/mdstat ]] && return 0
		[[ -n ${2:-} ]] && ! kill -0 "$2" 2>/dev/null && return 1
		sleep 0.1
	done
	return 1
}

# Wait up to $2 seconds for process $1 to exit.
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# Unmount array $1 and reap its daemon; unmounting is how raidfs is told to
# stop the array cleanly.
stop_array() {
	local a=$1 pid=${PID_OF[$1]:-}
	[[ -n $pid ]] || return 0
	fusermount3 -u "$work/mnt/$a" 2>/dev/null || true
	if ! wait_gone "$pid" 30; then
		echo "parity-compare: raidfs ($a) did not stop after unmount; SIGTERM" >&2
		kill "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true
	PID_OF[$a]=''
	return 0
}

# Runs on every exit: leave no mount, daemon or tmpfs behind.
cleanup() {
	local rc=$? a
	set +e
	for a in "${!PID_OF[@]}"; do
		stop_array "$a"
	done
	if [[ -n $work ]]; then
		umount "$work" && rmdir "$work"
	fi
	exit "$rc"
}

setup_tmpfs() {
	work=$(mktemp -d /tmp/raidfs-bench.XXXXXX)
	mount -t tmpfs -o "size=$TMPFS_SIZE,mode=0700" raidfs-bench "$work" ||
		{ rmdir "$work"; work=''; die "cannot mount a tmpfs"; }
	mkdir "$work/mnt" "$work/out"
}

# Serve the members in $work/$1 at $work/mnt/$1; extra arguments go to mount.
mount_array() {
	local a=$1
	shift
	mkdir -p "$work/mnt/$a"
	# -f keeps the daemon our child, so cleanup can wait for its clean stop.
	"$RAIDFS" mount "$@" -f "$work/$a" "$work/mnt/$a" >>"$work/$a.log" 2>&1 &
	PID_OF[$a]=$!
	wait_mounted "$work/mnt/$a" "${PID_OF[$a]}" ||
		die "raidfs mount of $a failed: $(cat "$work/$a.log")"
	[[ -f $work/mnt/$a/$a ]] || die "no image $a in $work/mnt/$a"
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
		--member-size "$MEMBER_SIZE" "${members[@]}" >"$work/$a.log" 2>&1 ||
		die "raidfs create of $a failed: $(cat "$work/$a.log")"
	mount_array "$a"
	PATH_OF[$a]=$work/mnt/$a/$a
	if grep -qE 'resync|recovery' "$work/mnt/$a/mdstat"; then
		die "$a is syncing despite --assume-clean: $(cat "$work/mnt/$a/mdstat")"
	fi
}

# Prints the size in bytes of a file.
size_of() { stat -c %s "$1"; }

# Write every byte the jobs will touch, so no read lands in a hole (and
# every parity block is real).
prefill() {
	local a bytes
	bytes=$(numfmt --from=iec "$SIZE")
	for a in "${ARRAYS[@]}"; do
		(($(size_of "${PATH_OF[$a]}") >= bytes)) ||
			die "$a image ${PATH_OF[$a]} is smaller than $SIZE"
		log "prefilling $a"
		dd if=/dev/zero of="${PATH_OF[$a]}" bs=1M count=$((bytes >> 20)) \
			oflag=direct conv=notrunc,fsync status=none ||
			die "prefill of $a failed"
	done
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

# Run job $1 on array $2; store MiB/s (seq) or IOPS (rand) in RESULT.
run_job() {
	local job=$1 a=$2 json=$work/$1.$2.json expr
	log "$job on $a"
	if ! FIO_TARGET=${PATH_OF[$a]} FIO_SIZE=$SIZE FIO_RUNTIME=$RUNTIME \
		fio --output-format=json --output="$json" "$JOBDIR/$job.fio" >&2; then
		RESULT[$job.$a]=ERR
		return 0
	fi
	# A job's bandwidth and IOPS are split by direction; one is zero.
	case $job in
	seq-*) expr='(.read.bw_bytes + .write.bw_bytes) / 1048576 | . * 10 | round / 10' ;;
	*) expr='.read.iops + .write.iops | round' ;;
	esac
	RESULT[$job.$a]=$(jq -r ".jobs[0] | if .error != 0 then \"ERR\" else ($expr) end" "$json")
	[[ -n ${BENCH_KEEP_JSON:-} ]] && cp "$json" "$BENCH_KEEP_JSON/"
	return 0
}

# Result of workload $1 on array $2, "-" when not run.
result() { echo "${RESULT[$1.$2]:--}"; }

# Workload $1: array $2 / array $3, two decimals, or "-" when either side
# has no number.
ratio() {
	local a b
	a=$(result "$1" "$2") b=$(result "$1" "$3")
	[[ $a == ERR || $a == - || $b == ERR || $b == - ]] && { echo -; return; }
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "-" }'
}

print_table() {
	local w
	echo
	echo "fio $(fio --version | sed 's/^fio-//'), $(uname -r), $(nproc) CPUs;" \
		"${RUNTIME}s per job after 2s ramp; ${SIZE} per image; $MEMBER_SIZE members;" \
		"psync direct=$FIO_DIRECT"
	echo
	echo '| workload | raid0 (3) | raid5 (4) | raid6 (5) | raid5 degraded (3 of 4) | raid5/raid0 | raid6/raid0 |'
	echo '|---|---:|---:|---:|---:|---:|---:|'
	for w in "${WORKLOADS[@]}"; do
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${LABEL[$w]}" \
			"$(result "$w" r0)" "$(result "$w" r5)" "$(result "$w" r6)" \
			"$(result "$w" r5d)" "$(ratio "$w" r5 r0)" "$(ratio "$w" r6 r0)"
	done
	echo
}

# One target: workload $1, array $2 / array $3 >= $4, described as $5.
# Returns 1 when missed.
verdict() {
	local r
	r=$(ratio "$1" "$2" "$3")
	if [[ $r != - ]] && awk -v r="$r" -v g="$4" 'BEGIN { exit !(r >= g) }'; then
		echo "PASS $5: $r (target >= $4)"
	else
		echo "FAIL $5: $r (target >= $4)"
		return 1
	fi
}

# The targets of issue 4; returns 1 when any is missed.
verdicts() {
	local ok=0
	verdict seq-write r5 r0 0.60 'raid5 seq write / raid0' || ok=1
	verdict seq-write r6 r0 0.50 'raid6 seq write / raid0' || ok=1
	verdict seq-read r5 r0 0.90 'raid5 seq read / raid0' || ok=1
	verdict seq-read r6 r0 0.90 'raid6 seq read / raid0' || ok=1
	verdict seq-read r5d r5 0.50 'degraded raid5 seq read / healthy raid5' || ok=1
	return $ok
}

main() {
	((EUID == 0)) || die "run as root (it mounts a tmpfs and FUSE file systems)"
	need_packages
	[[ -x $RAIDFS ]] || die "no raidfs binary at $RAIDFS (build it, or set RAIDFS)"
	[[ -r $JOBDIR/seq-write.fio ]] || die "no fio job files in $JOBDIR"
	export FIO_DIRECT=${BENCH_DIRECT:-1}
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	setup_tmpfs
	local w a
	for a in "${ARRAYS[@]}"; do
		setup_array "$a"
	done
	prefill
	# Arrays take turns per workload, so drift hits all three alike.
	for w in "${RUN_ORDER[@]}"; do
		for a in "${ARRAYS[@]}"; do
			run_job "$w" "$a"
		done
	done
	degrade_r5
	run_job seq-read r5d
	print_table
	verdicts
}

main "$@"
