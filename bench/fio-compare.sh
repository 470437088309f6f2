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

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RAIDFS=${RAIDFS:-$here/../src/raidfs}
JOBDIR=$here/../contrib/fio
RUNTIME=${BENCH_RUNTIME:-10}
SIZE=${BENCH_SIZE:-1G}
TMPFS_SIZE=4G
# Two members: each must hold half of SIZE plus md's data offset (which can
# be as much as 128 MiB); 768M leaves the image ~1.2-1.5 GiB.
MEMBER_SIZE=768M

# Rows, in the order they run: the writes first fill what the reads read.
WORKLOADS=(seq-write seq-read rand-write-psync rand-read-psync rand-write-aio rand-read-aio)
declare -A LABEL=(
	[seq-write]='seq write 1M psync QD1 (MiB/s)'
	[seq-read]='seq read 1M psync QD1 (MiB/s)'
	[rand-write-psync]='rand write 4K psync QD1 (IOPS)'
	[rand-read-psync]='rand read 4K psync QD1 (IOPS)'
	[rand-write-aio]='rand write 4K libaio QD32 direct (IOPS)'
	[rand-read-aio]='rand read 4K libaio QD32 direct (IOPS)'
)
TARGETS=(raidfs qsd raw)
# Performance targets: workload -> minimum raidfs/qsd ratio.
declare -A GOAL=([seq-write]=2 [seq-read]=2 [rand-write-aio]=1 [rand-read-aio]=1)

work=''          # the private tmpfs
raidfs_pid=''    # our child: raidfs mount -f
qsd_pid=''       # qemu-storage-daemon (daemonized, from its pid file)
declare -A RESULT PATH_OF

die() { echo "fio-compare: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }

# The first step: install what is missing, and nothing when all is there.
need_packages() {
	local -A pkg_of=([fio]=fio [jq]=jq [qemu-storage-daemon]=qemu-system-common)
	local missing=() cmd
	for cmd in "${!pkg_of[@]}"; do
		command -v "$cmd" >/dev/null || missing+=("${pkg_of[$cmd]}")
	done
	((${#missing[@]} == 0)) && return 0
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# Wait until $1 is a mount point; fail early if process $2 died instead.
wait_mounted() {
	local i
	for ((i = 0; i < 100; i++)); do
		mountpoint -q "$1" && return 0
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

# Runs on every exit: leave no mount, daemon or tmpfs behind.
cleanup() {
	local rc=$?
	set +e
	if [[ -n $raidfs_pid ]]; then
		# Unmounting is how raidfs is told to stop the array cleanly.
		fusermount3 -u "$work/raidfs" 2>/dev/null
		if ! wait_gone "$raidfs_pid" 30; then
			echo "fio-compare: raidfs did not stop after unmount; SIGTERM" >&2
			kill "$raidfs_pid"
		fi
		wait "$raidfs_pid" 2>/dev/null
	fi
	if [[ -n $qsd_pid ]]; then
		# qsd keeps running when its export is unmounted: stop it first.
		kill "$qsd_pid" 2>/dev/null
		wait_gone "$qsd_pid" 10 || kill -KILL "$qsd_pid" 2>/dev/null
		mountpoint -q "$work/qsd.export" && fusermount3 -u "$work/qsd.export"
	fi
	if [[ -n $work ]]; then
		umount "$work" && rmdir "$work"
	fi
	exit "$rc"
}

setup_tmpfs() {
	work=$(mktemp -d /tmp/raidfs-bench.XXXXXX)
	mount -t tmpfs -o "size=$TMPFS_SIZE,mode=0700" raidfs-bench "$work" ||
		{ rmdir "$work"; work=''; die "cannot mount a tmpfs"; }
	mkdir "$work/members" "$work/raidfs"
}

# Prints the size in bytes of a file.
size_of() { stat -c %s "$1"; }

setup_raidfs() {
	log "raidfs: raid0 over 2 x $MEMBER_SIZE member files"
	"$RAIDFS" create -l 0 -n 2 -N bench --member-size "$MEMBER_SIZE" \
		"$work/members/m0" "$work/members/m1" >"$work/raidfs.log" 2>&1 ||
		die "raidfs create failed: $(cat "$work/raidfs.log")"
	# -f keeps the daemon our child, so cleanup can wait for its clean stop.
	"$RAIDFS" mount -f "$work/members" "$work/raidfs" >>"$work/raidfs.log" 2>&1 &
	raidfs_pid=$!
	wait_mounted "$work/raidfs" "$raidfs_pid" ||
		die "raidfs mount failed: $(cat "$work/raidfs.log")"
	PATH_OF[raidfs]=$work/raidfs/bench
	[[ -f ${PATH_OF[raidfs]} ]] || die "no image $work/raidfs/bench in the mount"
}

setup_qsd() {
	log "qemu-storage-daemon: FUSE export of a $SIZE raw file"
	truncate -s "$SIZE" "$work/qsd.raw"
	touch "$work/qsd.export"   # a FUSE export mounts over a regular file
	# --daemonize returns once the export is mounted.
	qemu-storage-daemon \
		--blockdev "driver=file,node-name=file0,filename=$work/qsd.raw,cache.direct=off" \
		--blockdev driver=raw,node-name=raw0,file=file0 \
		--export "type=fuse,id=exp0,node-name=raw0,mountpoint=$work/qsd.export,writable=on" \
		--pidfile "$work/qsd.pid" --daemonize >"$work/qsd.log" 2>&1 ||
		die "qemu-storage-daemon failed: $(cat "$work/qsd.log")"
	qsd_pid=$(cat "$work/qsd.pid")
	wait_mounted "$work/qsd.export" || die "qsd export did not appear"
	PATH_OF[qsd]=$work/qsd.export
}

setup_raw() {
	truncate -s "$SIZE" "$work/raw.img"
	PATH_OF[raw]=$work/raw.img
}

# Write every byte the jobs will touch, so no read lands in a hole.
prefill() {
	local t bytes
	bytes=$(numfmt --from=iec "$SIZE")
	for t in "${TARGETS[@]}"; do
		(($(size_of "${PATH_OF[$t]}") >= bytes)) ||
			die "$t target ${PATH_OF[$t]} is smaller than $SIZE"
		log "prefilling $t"
		dd if=/dev/zero of="${PATH_OF[$t]}" bs=1M count=$((bytes >> 20)) \
			oflag=direct conv=notrunc,fsync status=none ||
			die "prefill of $t failed"
	done
}

# Run job $1 on target $2; store MiB/s (seq) or IOPS (rand) in RESULT.
run_job() {
	local job=$1 t=$2 json=$work/$1.$2.json expr
	log "$job on $t"
	if ! FIO_TARGET=${PATH_OF[$t]} FIO_SIZE=$SIZE FIO_RUNTIME=$RUNTIME \
		fio --output-format=json --output="$json" "$JOBDIR/$job.fio" >&2; then
		RESULT[$job.$t]=ERR
		return 0
	fi
	# A job's bandwidth and IOPS are split by direction; one is zero.
	case $job in
	seq-*) expr='(.read.bw_bytes + .write.bw_bytes) / 1048576 | . * 10 | round / 10' ;;
	*) expr='.read.iops + .write.iops | round' ;;
	esac
	RESULT[$job.$t]=$(jq -r ".jobs[0] | if .error != 0 then \"ERR\" else ($expr) end" "$json")
	[[ -n ${BENCH_KEEP_JSON:-} ]] && cp "$json" "$BENCH_KEEP_JSON/"
	return 0
}

# raidfs/qsd, two decimals, or "-" when either side has no number.
ratio() {
	local a=${RESULT[$1.raidfs]} b=${RESULT[$1.qsd]}
	[[ $a == ERR || $b == ERR ]] && { echo -; return; }
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "-" }'
}

print_table() {
	local w
	echo
	echo "fio $(fio --version | sed 's/^fio-//'), $(uname -r), $(nproc) CPUs;" \
		"${RUNTIME}s per job after 2s ramp; ${SIZE} per target; psync direct=$FIO_DIRECT"
	echo
	echo '| workload | raidfs raid0 | qemu-storage-daemon FUSE | raw tmpfs | raidfs/qsd |'
	echo '|---|---:|---:|---:|---:|'
	for w in "${WORKLOADS[@]}"; do
		printf '| %s | %s | %s | %s | %s |\n' "${LABEL[$w]}" \
			"${RESULT[$w.raidfs]}" "${RESULT[$w.qsd]}" "${RESULT[$w.raw]}" \
			"$(ratio "$w")"
	done
	echo
}

# One line per target; returns 1 when any is missed.
verdicts() {
	local w r ok=0 goal
	for w in "${WORKLOADS[@]}"; do
		[[ -n ${GOAL[$w]:-} ]] || continue
		goal=${GOAL[$w]}
		r=$(ratio "$w")
		if [[ $r != - ]] && awk -v r="$r" -v g="$goal" 'BEGIN { exit !(r >= g) }'; then
			echo "PASS ${LABEL[$w]}: raidfs/qsd = $r (target >= $goal)"
		else
			echo "FAIL ${LABEL[$w]}: raidfs/qsd = $r (target >= $goal)"
			ok=1
		fi
	done
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
	setup_raidfs
	setup_qsd
	setup_raw
	prefill
	local w t
	# Targets take turns per workload, so drift hits all three alike.
	for w in "${WORKLOADS[@]}"; do
		for t in "${TARGETS[@]}"; do
			run_job "$w" "$t"
		done
	done
	print_table
	verdicts
}

main "$@"
