# Shared helpers for the integration tests: a scratch directory, raidfs
# daemons started as the README tells users to (in the background) and
# always unmounted, and checks.
set -euo pipefail

RAIDFS=${RAIDFS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/src/raidfs}
T=$(mktemp -d /tmp/raidfs-test.XXXXXX)
MOUNTS=()
DAEMONS=()
RF_CHILD=0       # 1: RF_PID is our child (rf_mount_fg)
# A background daemon's stderr is /dev/null: sanitizer reports (make
# check-sanitizers) go to files instead, and any of them fails the test.
for v in ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS; do
	export "$v=${!v:+${!v}:}log_path=$T/sanitizer"
done

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "--- $*"; }

# No sanitizer report so far.
sanitizer_clean() {
	local f
	for f in "$T"/sanitizer.*; do
		[ -e "$f" ] || continue
		cat "$f" >&2
		return 1
	done
}

# proc_start PID: when the process started (clock ticks since boot), empty
# when there is none.  With its pid it names one process: pids come back
# (pid_max may be 32768, and tests run side by side).
proc_start() { { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null || true; } | cut -d' ' -f20; }

# track_daemon PID: the cleanup kills it if it still runs, and only it:
# never another test's daemon that has taken one of our pids since.
track_daemon() { DAEMONS+=("$1:$(proc_start "$1")"); }

cleanup() {
	local rc=$? m
	sanitizer_clean || rc=1
	if [ "$rc" != 0 ] && [ -s "$T/daemon.err" ]; then
		echo "--- stderr of the last raidfs daemon:"
		cat "$T/daemon.err"
	fi
	# Lazily, and whether or not mountpoint can tell: a crashed daemon's
	# mount answers "transport endpoint is not connected".
	for m in "${MOUNTS[@]}"; do
		fusermount3 -u -z "$m" 2>/dev/null || true
	done
	for m in "${DAEMONS[@]}"; do
		[ "$(proc_start "${m%%:*}")" != "${m#*:}" ] || kill -9 "${m%%:*}" 2>/dev/null || true
	done
	m=$(pgrep -P "$WATCHDOG")   # its sleep, before the watchdog goes
	kill "$WATCHDOG" $m 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

# A hung test fails instead of stalling the suite: after TEST_TIMEOUT
# seconds the watchdog kills what runs on the test's files (a daemon, and
# with it any request stuck in it) and stops the test.
TEST_TIMEOUT=${TEST_TIMEOUT:-900}
(exec </dev/null >/dev/null 2>&1; sleep "$TEST_TIMEOUT"
 pkill -9 -f -- "$T/"; kill -TERM $$) &
WATCHDOG=$!
trap 'echo "FAIL: timed out after $TEST_TIMEOUT s"; exit 1' TERM

need_fuse() {
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	command -v fusermount3 >/dev/null || skip "no fusermount3 (package fuse3)"
}

# A string as an extended regular expression matching just itself.
re_quote() { printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g'; }

# daemon_pid MNT: the pid of the raidfs daemon serving MNT, started by
# rf_mount (its command line ends in MNT).
daemon_pid() {
	local pids
	pids=$(pgrep -x -f "$(re_quote "$RAIDFS") mount (.* )?$(re_quote "$1")") ||
		return 1
	[ "$(wc -l <<<"$pids")" = 1 ] || return 1
	echo "$pids"
}

# rf_mount MNT [raidfs mount args...]: "raidfs mount ARGS MNT" as the README
# has it: it returns once the mount is up, leaving the daemon in the
# background.  RF_PID is the daemon's pid.
rf_mount() {
	local mnt=$1; shift
	mkdir -p "$mnt"
	MOUNTS+=("$mnt")
	"$RAIDFS" mount "$@" "$mnt" 2>"$T/daemon.err" ||
		{ cat "$T/daemon.err" >&2; fail "raidfs mount $* $mnt failed"; }
	RF_PID=$(daemon_pid "$mnt") || fail "no single raidfs daemon serves $mnt"
	RF_CHILD=0
	track_daemon "$RF_PID"
	[ -e "$mnt/mdstat" ] || fail "raidfs mount $* returned before the mount was up"
}

# rf_mount_fg MNT [args...]: the daemon in the foreground (-f) as our child,
# only for a test that needs what it says while it runs ($T/daemon.err) or
# its exit status (rf_umount then insists on 0).
rf_mount_fg() {
	local mnt=$1; shift
	mkdir -p "$mnt"
	"$RAIDFS" mount -f "$@" "$mnt" 2>"$T/daemon.err" &
	RF_PID=$! RF_CHILD=1
	track_daemon "$RF_PID"
	MOUNTS+=("$mnt")
	local i
	for i in $(seq 100); do
		[ -e "$mnt/mdstat" ] && return 0
		kill -0 "$RF_PID" 2>/dev/null || { cat "$T/daemon.err" >&2; fail "raidfs mount -f $* exited"; }
		sleep 0.1
	done
	fail "mount of $* did not appear"
}

# rf_exited: wait for the daemon to end; a foreground one must exit 0.
rf_exited() {
	local rc=0
	[ "$RF_CHILD" = 1 ] || { rf_gone "$RF_PID"; return; }
	wait "$RF_PID" || rc=$?
	[ "$rc" = 0 ] || { cat "$T/daemon.err" >&2; fail "daemon exited with $rc"; }
}

# rf_gone PID: wait until the daemon has exited (a minute at most); a zombie
# nobody reaps has exited too.  Its member locks may outlive it a moment
# (a file held by IO still in flight, or by a thread not yet gone), and the
# next mount would find the members in use: wait for them too.
rf_gone() {
	local i start
	start=$(proc_start "$1")
	for i in $(seq 600); do
		if [ -z "$start" ] || [ "$(proc_start "$1")" != "$start" ] ||   # gone
		   [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" = Z ]; then
			awk -v p="$1" '$5 == p { held = 1 } END { exit !held }' /proc/locks ||
				return 0
		fi
		sleep 0.1
	done
	fail "raidfs daemon $1 still runs a minute after it was told to stop"
}

# rf_crash MNT: SIGKILL the daemon, as a crash would, and drop its mount.
rf_crash() {
	kill -9 "$RF_PID"
	if [ "$RF_CHILD" = 1 ]; then wait "$RF_PID" 2>/dev/null || true; fi
	rf_gone "$RF_PID"
	fusermount3 -u -z "$1"
}

# rf_umount MNT: unmount and insist the daemon stopped cleanly: gone in
# bounded time, no sanitizer report (tests check the superblocks).
rf_umount() {
	fusermount3 -u "$1" || fail "fusermount3 -u $1 failed"
	rf_exited
	mountpoint -q "$1" && fail "$1 is still mounted after the daemon stopped"
	sanitizer_clean || fail "the daemon reported a sanitizer error"
}

# busy_writer IMAGE: rewrite IMAGE's first MiB in a loop, in the background
# (WRITER is its pid), until a write fails.  Through the file held open:
# once the daemon dies and its mount is dropped, opening the path anew
# would create a plain file underneath and never fail.
busy_writer() {
	(exec 3<>"$1"
	 while :; do dd if=/dev/urandom of=/proc/self/fd/3 bs=64K count=16 conv=notrunc status=none || exit 0; done) &
	WRITER=$!
}

# chunks_writer IMAGE CHUNK_BYTES "C1 C2 ..." BS COUNT AT: rewrite COUNT
# blocks of BS bytes, AT blocks into each chunk C, in a loop in the
# background (WRITER is its pid) until a write fails (as busy_writer).
chunks_writer() {
	(exec 3<>"$1"
	 while :; do
		for c in $3; do
			dd if=/dev/urandom of=/proc/self/fd/3 bs="$4" count="$5" \
			   seek=$(($2 / $4 * c + $6)) conv=notrunc status=none || exit 0
		done
	 done) &
	WRITER=$!
}

# cut_writer SEED DONE IMAGE...: 24 writes of 4 KiB at places drawn from
# SEED, into each IMAGE in turn (the first 6 MiB of the first, up to 18
# MiB of the others), no fsync, the images held open (a close would
# flush); touches DONE after the last and stays (WRITER is its pid) for
# the power cut to come.
cut_writer() {
	python3 - "$@" <<'PY' &
import os, random, sys, time
rnd = random.Random(int(sys.argv[1]))
fds = [os.open(p, os.O_WRONLY) for p in sys.argv[3:]]
spans = [6 << 20] + [min(18 << 20, os.fstat(fd).st_size) for fd in fds[1:]]
for i in range(24):
    k = (i + 1) % len(fds)
    os.pwrite(fds[k], os.urandom(4096), rnd.randrange(spans[k] // 4096) * 4096)
open(sys.argv[2], 'w').close()
time.sleep(600)
PY
	WRITER=$!
}

# cut_during_writes SEED MNT ARRAY...: cut_writer into MNT's images of
# the ARRAYs (their power cut armed), then "cut SEED" on each and the
# daemon stopped.
cut_during_writes() {
	local seed=$1 mnt=$2 a i
	shift 2
	rm -f "$T/wrote"
	cut_writer "$seed" "$T/wrote" "${@/#/$mnt/}"
	for i in $(seq 600); do [ -e "$T/wrote" ] && break; sleep 0.1; done
	[ -e "$T/wrote" ] || fail "seed $seed: the writer did not finish"
	for a; do echo "cut $seed" >"$mnt/$a.md/fault/power_cut"; done
	kill -9 "$WRITER"; wait "$WRITER" 2>/dev/null || true
	rf_umount "$mnt"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# examine_field MEMBER "Field Name": one value from raidfs examine.
examine_field() {
	"$RAIDFS" examine "$1" | sed -n "s/^ *$2 : //p" | head -n1
}

# A file of random data, and a check that a range of the image matches it.
random_file() { head -c "$2" /dev/urandom >"$1"; }
image_sum() { sha256sum <"$1" | cut -d' ' -f1; }
same_range() { # IMAGE OFFSET FILE
	cmp -s <(dd if="$1" bs=1M iflag=skip_bytes,count_bytes skip="$2" count="$(stat -c %s "$3")" 2>/dev/null) "$3"
}

# sleep_random SEED FROM SPAN: sleep FROM ms plus a part of SPAN ms drawn
# from SEED (RANDOM is left seeded by it).
sleep_random() {
	RANDOM=$1
	local ms=$(($2 + RANDOM % $3))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# wait_idle CTLDIR: until sync_action says idle (a minute at most).
wait_idle() {
	local i
	for i in $(seq 600); do
		[ "$(cat "$1/sync_action")" = idle ] && return 0
		sleep 0.1
	done
	fail "$1: sync did not finish"
}

# wait_whole CTLDIR: until nothing is degraded and no sync runs (a minute
# at most each).
wait_whole() {
	local i
	for i in $(seq 600); do
		[ "$(cat "$1/degraded")" = 0 ] && break
		sleep 0.1
	done
	expect_eq "$1: degraded" "$(cat "$1/degraded")" 0
	wait_idle "$1"
}

# replaced CTLDIR MEMBER NEW: NEW joins as a spare and replaces MEMBER
# (want_replacement); back once MEMBER is faulty and no sync runs.
replaced() {
	local i
	echo "$3" >"$1/new_dev"
	echo want_replacement >"$1/dev-$2/state"
	for i in $(seq 600); do
		grep -q faulty "$1/dev-$2/state" && break
		sleep 0.1
	done
	grep -q faulty "$1/dev-$2/state" || fail "$2 not replaced: $(cat "$1/dev-$2/state")"
	wait_idle "$1"
}

# kib FILE: the KiB the file holds (what a sparse member has allocated).
kib() { du -k "$1" | cut -f1; }

# recovered_intact WHAT MD IMAGE DATA: the sync under way runs to its end
# with nothing left degraded, IMAGE reads back DATA and a check finds no
# mismatch.
recovered_intact() {
	wait_idle "$2"
	expect_eq "$1: degraded after the recovery" "$(cat "$2/degraded")" 0
	cmp -s "$3" "$4" || fail "$1: data wrong after the recovery"
	echo check >"$2/sync_action"
	wait_idle "$2"
	expect_eq "$1: mismatch_cnt" "$(cat "$2/mismatch_cnt")" 0
}

# bitmap_pos MEMBER: the byte offset of MEMBER's bitmap superblock
# (super_offset + bitmap_offset), either type.
bitmap_pos() {
	local so bo
	so=$(examine_field "$1" "Super Offset" | cut -d' ' -f1)
	bo=$(examine_field "$1" "Internal Bitmap" | cut -d' ' -f1)
	echo $(((so + bo) * 512))
}

# written_chunks MEMBER CHUNK_BYTES: the chunks of its data area holding
# any byte that is not zero (the members start sparse).
written_chunks() {
	local doff
	doff=$(examine_field "$1" "Data Offset" | cut -d' ' -f1)
	python3 - "$1" $((doff * 512)) "$2" <<'PY'
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

# chunks_marked WHAT CHUNK_BYTES MARKS DATA MEMBER...: every chunk with
# data on any MEMBER (as `DATA MEMBER CHUNK_BYTES` lists them, in the
# bitmap's space) is marked on each MEMBER, as `MARKS MEMBER` lists them
# (one a line); DATA_CHUNKS is how many had data.
chunks_marked() {
	local what=$1 chunk=$2 marks=$3 written=$4 m c data=() got
	shift 4
	for m; do data+=($($written "$m" "$chunk")); done
	for m; do
		got=" $($marks "$m" | tr '\n' ' ')"
		for c in "${data[@]}"; do
			[[ $got == *" $c "* ]] ||
				fail "$what: chunk $c has data on a member but no mark on $(basename "$m")"
		done
	done
	DATA_CHUNKS=${#data[@]}
}

# mount_and_check WHAT MNT ARRAYS MEMBER...: mount, let the syncs finish,
# then a check of each of ARRAYS ("r1 r5") finds no mismatch.
mount_and_check() {
	local what=$1 mnt=$2 arrays=$3 a
	shift 3
	rf_mount "$mnt" "$@"
	for a in $arrays; do wait_idle "$mnt/$a.md"; echo check >"$mnt/$a.md/sync_action"; done
	for a in $arrays; do
		wait_idle "$mnt/$a.md"
		expect_eq "$what: $a mismatch_cnt" "$(cat "$mnt/$a.md/mismatch_cnt")" 0
	done
}

# marks_survive_cut SEED ARRAY:N:MARKS[:DATA]...: the bitmap power-cut
# tests' verdict after cut_during_writes: every chunk with data on the N
# members of each ARRAY (as the test's members() names them) is marked on
# each, as MARKS lists them (chunks_marked, BCHUNK; DATA, written_chunks
# unless given, lists the data); then mount_and_check of them all on $M.
# MARKED_CHUNKS is how many had data.
marks_survive_cut() {
	local seed=$1 a name n marks written total=0 names=() all=()
	shift
	for a; do
		IFS=: read -r name n marks written <<<"$a"
		chunks_marked "seed $seed: $name" "$BCHUNK" "$marks" \
			"${written:-written_chunks}" $(members "$name" "$n")
		total=$((total + DATA_CHUNKS))
		names+=("$name")
		all+=($(members "$name" "$n"))
	done
	mount_and_check "seed $seed" "$M" "${names[*]}" "${all[@]}"
	MARKED_CHUNKS=$total
}

# r10_written MEMBER CHUNK_BYTES: the chunks of the array whose data
# MEMBER (NAME-K) of a raid10 near-2 array of 4 holds (written_chunks,
# raid10 chunk CHUNK_BYTES): members 1 and 2 hold chunk 2r at row r,
# members 3 and 4 chunk 2r + 1.
r10_written() {
	local k=${1##*-} r
	for r in $(written_chunks "$1" "$2"); do echo $((2 * r + (k - 1) / 2)); done
}

# bitmap_bits MEMBER [POS]: the chunks whose bit is set in MEMBER's
# classic internal bitmap, one a line, read from the file as md-bitmap.c
# lays it out (bitmap_super_t at super_offset + bitmap_offset, or at POS,
# 0 for a bitmap file; then the bits).
bitmap_bits() {
	python3 - "$1" "${2:-$(bitmap_pos "$1")}" <<'PY'
import struct, sys
with open(sys.argv[1], 'rb') as f:
    f.seek(int(sys.argv[2]))
    sb = f.read(256)
    magic, = struct.unpack_from('<I', sb, 0)
    assert magic == 0x6d746962, 'no bitmap superblock'
    sync_size, = struct.unpack_from('<Q', sb, 40)
    chunk, = struct.unpack_from('<I', sb, 52)
    n = (sync_size * 512 + chunk - 1) // chunk
    bits = f.read((n + 7) // 8)
for c in range(n):
    if bits[c // 8] >> (c % 8) & 1:
        print(c)
PY
}

# wait_bits MEMBER WANT [POS]: until MEMBER's set bits (bitmap_bits) are
# WANT ("3 77 " or ""), a minute at most.
wait_bits() {
	local i
	for i in $(seq 600); do
		[ "$(bitmap_bits "$1" ${3:-} | tr '\n' ' ')" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$1: bits $(bitmap_bits "$1" ${3:-} | tr '\n' ' '), want '$2'"
}
