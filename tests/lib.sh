# Shared helpers for the integration tests: a scratch directory, raidfs
# daemons started in the foreground and always unmounted, and checks.
set -euo pipefail

RAIDFS=${RAIDFS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/src/raidfs}
T=$(mktemp -d /tmp/raidfs-test.XXXXXX)
MOUNTS=()
DAEMONS=()

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "--- $*"; }

cleanup() {
	local rc=$? m
	if [ "$rc" != 0 ] && [ -s "$T/daemon.err" ]; then
		echo "--- stderr of the last raidfs daemon:"
		cat "$T/daemon.err"
	fi
	# Lazily, and whether or not mountpoint can tell: a crashed daemon's
	# mount answers "transport endpoint is not connected".
	for m in "${MOUNTS[@]}"; do
		fusermount3 -u -z "$m" 2>/dev/null || true
	done
	for m in "${DAEMONS[@]}"; do kill -9 "$m" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT

need_fuse() {
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	command -v fusermount3 >/dev/null || skip "no fusermount3 (package fuse3)"
}

# rf_mount MNT [raidfs mount args...]: start the daemon in the foreground,
# in the background, and wait for the mount.  RF_PID is its pid.
rf_mount() {
	local mnt=$1; shift
	mkdir -p "$mnt"
	"$RAIDFS" mount -f "$@" "$mnt" 2>"$T/daemon.err" &
	RF_PID=$!
	DAEMONS+=("$RF_PID")
	MOUNTS+=("$mnt")
	local i
	for i in $(seq 100); do
		[ -e "$mnt/mdstat" ] && return 0
		kill -0 "$RF_PID" 2>/dev/null || { cat "$T/daemon.err" >&2; fail "raidfs mount $* exited"; }
		sleep 0.1
	done
	fail "mount of $* did not appear"
}

# rf_crash MNT: SIGKILL the daemon, as a crash would, and drop its mount.
rf_crash() {
	kill -9 "$RF_PID"
	wait "$RF_PID" 2>/dev/null || true
	fusermount3 -u -z "$1"
}

# rf_umount MNT: unmount and insist the daemon stopped cleanly.
rf_umount() {
	fusermount3 -u "$1"
	local rc=0
	wait "$RF_PID" || rc=$?
	[ "$rc" = 0 ] || { cat "$T/daemon.err" >&2; fail "daemon exited with $rc"; }
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

# wait_idle CTLDIR: until sync_action says idle (a minute at most).
wait_idle() {
	local i
	for i in $(seq 600); do
		[ "$(cat "$1/sync_action")" = idle ] && return 0
		sleep 0.1
	done
	fail "$1: sync did not finish"
}
