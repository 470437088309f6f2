#!/bin/bash
# The daemon's life as the README runs it: "raidfs mount" without -f returns
# once the mount is up (or fails with the daemon's own status), and an
# unmount or SIGTERM stops every array cleanly, parity levels included
# (their threads must live in the daemon, not in the process that forked it).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

all_clean() { # WHAT MEMBER...
	local what=$1 m; shift
	for m in "$@"; do
		expect_eq "$what: state of $(basename "$m")" "$(examine_field "$m" State)" clean
	done
}

note "raid4, raid5, raid6: unmount stops the daemon and leaves them clean"
for l in 4 5 6; do
	d=$T/r$l
	mkdir -p "$d"
	"$RAIDFS" create -l "$l" -n 4 -N "r$l" --assume-clean --member-size 16M \
		"$d/a" "$d/b" "$d/c" "$d/d" >/dev/null
	rf_mount "$T/mnt" "$d"
	dd if=/dev/urandom of="$T/mnt/r$l" bs=1M count=3 conv=notrunc status=none
	expect_eq "r$l array_state while dirty" "$(cat "$T/mnt/r$l.md/array_state")" active
	rf_umount "$T/mnt"
	all_clean "r$l after unmount" "$d"/?
done

note "SIGTERM stops a raid5 daemon cleanly"
rf_mount "$T/mnt" "$T/r5"
dd if=/dev/urandom of="$T/mnt/r5" bs=1M count=2 conv=notrunc status=none
kill -TERM "$RF_PID"
rf_gone "$RF_PID"
mountpoint -q "$T/mnt" && fail "still mounted after SIGTERM"
all_clean "r5 after SIGTERM" "$T/r5"/?

note "SIGTERM unmounts a relative mount point"
(cd "$T" && "$RAIDFS" mount r5 mnt 2>"$T/daemon.err") || fail "mount r5 mnt failed"
MOUNTS+=("$T/mnt")
RF_PID=$(pgrep -x -f "$(re_quote "$RAIDFS") mount r5 mnt") || fail "no daemon for mnt"
DAEMONS+=("$RF_PID")
kill -TERM "$RF_PID"
rf_gone "$RF_PID"
mountpoint -q "$T/mnt" && fail "relative mount point still mounted after SIGTERM"
ls "$T/mnt" >/dev/null || fail "relative mount point left dead"
all_clean "r5 after SIGTERM, relative mount point" "$T/r5"/?

note "the mount returns its daemon's failure, and its output ends"
mkdir -p "$T/empty"
rc=0; out=$("$RAIDFS" mount "$T/empty" "$T/mnt" 2>&1) || rc=$?
expect_eq "mount of nothing: exit status" "$rc" 2
case $out in *"no md superblock"*) ;; *) fail "mount of nothing said: $out" ;; esac
out=$("$RAIDFS" mount "$T/r5" "$T/mnt" 2>&1) || fail "mount failed: $out"
MOUNTS+=("$T/mnt")
RF_PID=$(daemon_pid "$T/mnt") || fail "no daemon for $T/mnt"
DAEMONS+=("$RF_PID")
rf_umount "$T/mnt"
echo "PASS"
