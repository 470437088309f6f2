# lib.sh: what the benchmarks share: a private tmpfs, waiting for mounts
# and daemons, prefilling, running one fio job file into RESULT, ratios.
# The sourcing script sets BENCH (its name, for messages), SIZE, RUNTIME
# and JOBDIR, fills PATH_OF[name] with each target's file, and defines
# cleanup().

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RAIDFS=${RAIDFS:-$here/../src/raidfs}
JOBDIR=$here/../contrib/fio
work=''                 # the private tmpfs
declare -A RESULT PATH_OF
# The job files in contrib/fio, as the tables name them.
declare -A LABEL=(
	[seq-write]='seq write 1M psync QD1 (MiB/s)'
	[seq-read]='seq read 1M psync QD1 (MiB/s)'
	[rand-write-psync]='rand write 4K psync QD1 (IOPS)'
	[rand-read-psync]='rand read 4K psync QD1 (IOPS)'
	[rand-write-aio]='rand write 4K libaio QD32 direct (IOPS)'
	[rand-read-aio]='rand read 4K libaio QD32 direct (IOPS)'
	[fs-seq-write]='seq write 1M, end_fsync (MiB/s)'
	[fs-rand-write-fsync]='rand write 4K, fsync every 32 (IOPS)'
)

die() { echo "$BENCH: $*" >&2; exit 2; }

# arm_power_cut MOUNT: with BENCH_POWER_CUT=1, arm the power cut of every
# array in MOUNT, to measure what the test mode costs (it has no target).
arm_power_cut() {
	[[ ${BENCH_POWER_CUT:-0} == 1 ]] || return 0
	local pc
	for pc in "$1"/*.md/fault/power_cut; do
		echo arm >"$pc" || die "cannot arm $pc (a raidfs without the power cut?)"
	done
}
log() { echo "== $*" >&2; }

# need_packages CMD=PACKAGE...: install what is missing, nothing when all
# is there.
need_packages() {
	local missing=() pair
	for pair in fio=fio jq=jq gnuplot=gnuplot-nox "$@"; do
		command -v "${pair%%=*}" >/dev/null || missing+=("${pair#*=}")
	done
	((${#missing[@]} == 0)) && return 0
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# wait_mounted DIR [PID [FILE]]: until DIR is a mount point (holding FILE);
# fail early if process PID died instead.
wait_mounted() {
	local i
	for ((i = 0; i < 100; i++)); do
		mountpoint -q "$1" && [[ -z ${3:-} || -e $1/$3 ]] && return 0
		[[ -n ${2:-} ]] && ! kill -0 "$2" 2>/dev/null && return 1
		sleep 0.1
	done
	return 1
}

# wait_gone PID SECONDS: until process PID has exited.
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# setup_tmpfs SIZE DIR...: the private tmpfs, with directories in it.
setup_tmpfs() {
	local size=$1 d
	shift
	work=$(mktemp -d /tmp/raidfs-bench.XXXXXX)
	mount -t tmpfs -o "size=$size,mode=0700" raidfs-bench "$work" ||
		{ rmdir "$work"; work=''; die "cannot mount a tmpfs"; }
	for d in "$@"; do
		mkdir "$work/$d"
	done
}

# touch_pages FILE...: every page of each file read and written back as
# it is, before the measuring.  On a virtual machine the first write to
# memory the host has taken back (free page reporting) faults in the host,
# several microseconds a page: without this it falls on whichever array
# was made last (swapping the order of two arrays turned a 0.45 ratio
# into 2.4).
touch_pages() {
	local f
	for f; do
		dd if="$f" of="$f" bs=1M conv=notrunc status=none || return 1
	done
}

umount_tmpfs() {
	[[ -n $work ]] && umount "$work" && rmdir "$work"
}

# The peer: qemu-storage-daemon's FUSE export of a new raw file of SIZE
# bytes in $work (qsd_start SIZE), at $work/qsd.export; qsd_stop ends it.
qsd_pid=''
qsd_start() {
	truncate -s "$1" "$work/qsd.raw"
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
}

# qsd keeps running when its export is unmounted: it is stopped first.
qsd_stop() {
	[[ -n $qsd_pid ]] || return 0
	kill "$qsd_pid" 2>/dev/null
	wait_gone "$qsd_pid" 10 || kill -KILL "$qsd_pid" 2>/dev/null
	mountpoint -q "$work/qsd.export" && fusermount3 -u "$work/qsd.export"
	qsd_pid=''
}

# raidfs_stop PID MOUNT: unmount (how raidfs is told to stop its arrays
# cleanly) and reap the daemon, SIGTERM if it lingers.
raidfs_stop() {
	[[ -n $1 ]] || return 0
	fusermount3 -u "$2" 2>/dev/null
	if ! wait_gone "$1" 60; then
		echo "$BENCH: raidfs did not stop after unmount; SIGTERM" >&2
		kill "$1"
	fi
	wait "$1" 2>/dev/null
}

# Benchmarks with one raidfs daemon per array (parity-compare, recovery):
# array -> our child, "raidfs mount -f" serving $work/mnt/ARRAY.
declare -A PID_OF_ARRAY

# stop_array A: unmount array A and reap its daemon; unmounting is how
# raidfs is told to stop the array cleanly.
stop_array() {
	raidfs_stop "${PID_OF_ARRAY[$1]:-}" "$work/mnt/$1" || true
	PID_OF_ARRAY[$1]=''
}

# Their cleanup: leave no mount, daemon or tmpfs behind.
cleanup_arrays() {
	local rc=$? a
	set +e
	for a in "${!PID_OF_ARRAY[@]}"; do
		stop_array "$a"
	done
	umount_tmpfs
	exit "$rc"
}

# The checks and traps every benchmark starts with.
bench_start() {
	((EUID == 0)) || die "run as root (it mounts a tmpfs and FUSE file systems)"
	need_packages "$@"
	[[ -x $RAIDFS ]] || die "no raidfs binary at $RAIDFS (build it, or set RAIDFS)"
	[[ -r $JOBDIR/seq-write.fio ]] || die "no fio job files in $JOBDIR"
	export FIO_DIRECT=${BENCH_DIRECT:-1}
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# prefill NAME...: write every byte the jobs will touch, so no read lands
# in a hole (and every parity block is real).
prefill() {
	local t bytes
	bytes=$(numfmt --from=iec "$SIZE")
	for t in "$@"; do
		(($(stat -c %s "${PATH_OF[$t]}") >= bytes)) ||
			die "$t: ${PATH_OF[$t]} is smaller than $SIZE"
		log "prefilling $t"
		dd if=/dev/zero of="${PATH_OF[$t]}" bs=1M count=$((bytes >> 20)) \
			oflag=direct conv=notrunc,fsync status=none ||
			die "prefill of $t failed"
	done
}

# run_job JOB NAME: fio's JOB.fio on NAME; MiB/s (seq) or IOPS (rand) into
# RESULT[JOB.NAME], ERR if the job failed.
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
	seq-* | fs-seq-*) expr='(.read.bw_bytes + .write.bw_bytes) / 1048576 | . * 10 | round / 10' ;;
	*) expr='.read.iops + .write.iops | round' ;;
	esac
	RESULT[$job.$t]=$(jq -r ".jobs[0] | if .error != 0 then \"ERR\" else ($expr) end" "$json")
	[[ -n ${BENCH_KEEP_JSON:-} ]] && cp "$json" "$BENCH_KEEP_JSON/"
	return 0
}

# result JOB NAME: the number, ERR, or "-" when not run.
result() { echo "${RESULT[$1.$2]:--}"; }

# median JOB CELL ROUNDS: JOB's RESULT on CELL, the median of its rounds'
# (cells CELL-1 .. CELL-ROUNDS); ERR if a round failed.
median() {
	local k v=()
	for ((k = 1; k <= $3; k++)); do
		v+=("$(result "$1" "$2-$k")")
	done
	if [[ " ${v[*]} " == *" ERR "* ]]; then
		RESULT[$1.$2]=ERR
	else
		RESULT[$1.$2]=$(printf '%s\n' "${v[@]}" | sort -n | awk '{ a[NR] = $1 }
			END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }')
	fi
}

# ratio JOB A B: A's result over B's, two decimals; "-" without numbers.
ratio() {
	local a b
	a=$(result "$1" "$2") b=$(result "$1" "$3")
	[[ $a == ERR || $a == - || $b == ERR || $b == - ]] && { echo -; return; }
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "-" }'
}

# paired_ratio JOB A B ROUNDS: the median of the rounds' ratios A-k / B-k,
# two decimals; "-" if a round lacks a number.  The runs of one round are
# seconds apart, so a slow spell of the machine divides out of its ratio,
# where it would move one median and not the other.
paired_ratio() {
	local k a b v=()
	for ((k = 1; k <= $4; k++)); do
		a=$(result "$1" "$2-$k") b=$(result "$1" "$3-$k")
		[[ $a =~ ^[0-9.]+$ && $b =~ ^[0-9.]+$ && $b != 0 ]] || { echo -; return; }
		v+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f\n", a / b }')")
	done
	printf '%s\n' "${v[@]}" | sort -n | awk '{ a[NR] = $1 }
		END { printf "%.2f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# verdict_of RATIO GOAL TEXT: one PASS or FAIL line for RATIO >= GOAL;
# returns 1 when missed.
verdict_of() {
	if [[ $1 != - ]] && awk -v r="$1" -v g="$2" 'BEGIN { exit !(r >= g) }'; then
		echo "PASS $3: $1 (target >= $2)"
	else
		echo "FAIL $3: $1 (target >= $2)"
		return 1
	fi
}

# verdict JOB A B GOAL TEXT: verdict_of A's result over B's.
verdict() { verdict_of "$(ratio "$1" "$2" "$3")" "$4" "$5"; }

# tables PRINTER: the tables PRINTER prints, on stdout as ever, and drawn
# as PNG bar charts (chart.sh) into BENCH_CHARTS, the files named on stderr.
tables() {
	local md=$work/$BENCH.md
	local dir=${BENCH_CHARTS:-bench-results/$BENCH-$(date +%Y%m%d-%H%M%S)}
	"$@" | tee "$md"
	"$here/chart.sh" "$md" "$dir" "$BENCH" | sed 's/^/== chart: /' >&2 ||
		log "no charts drawn"
}

# The first line under every table.
describe_run() {
	echo "fio $(fio --version | sed 's/^fio-//'), $(uname -r), $(nproc) CPUs;" \
		"${RUNTIME}s per job after 2s ramp; $*; psync direct=$FIO_DIRECT"
}
