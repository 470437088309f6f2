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
	# No safe mode within the test's reach: the array stays dirty after
	# the write however slowly the machine gets to the next line.
	echo 3600 >"$T/mnt/r$l.md/safe_mode_delay"
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
track_daemon "$RF_PID"
kill -TERM "$RF_PID"
rf_gone "$RF_PID"
mountpoint -q "$T/mnt" && fail "relative mount point still mounted after SIGTERM"
ls "$T/mnt" >/dev/null || fail "relative mount point left dead"
all_clean "r5 after SIGTERM, relative mount point" "$T/r5"/?

note "one daemon per member: a second claimant is refused"
# refused_busy HOLDER CMD...: CMD fails with one line naming the holder.
refused_busy() {
	local holder=$1 rc=0 out; shift
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" != 0 ] || fail "$* succeeded while $holder serves its members"
	[ "$(wc -l <<<"$out")" = 1 ] || fail "$*: more than one line: $out"
	case $out in
	*"is in use by raidfs pid $RF_PID ("*"$holder)") ;;
	*) fail "$*: '$out' does not name the daemon serving $holder" ;;
	esac
}
rf_mount "$T/mnt" "$T/r5"
sum=$(image_sum "$T/mnt/r5")
mkdir -p "$T/mnt2"
MOUNTS+=("$T/mnt2")
refused_busy "$T/mnt" "$RAIDFS" mount "$T/r5" "$T/mnt2"
refused_busy "$T/mnt" "$RAIDFS" mount -f "$T/r5/b" "$T/r5/c" "$T/r5/d" "$T/mnt2"
refused_busy "$T/mnt" "$RAIDFS" mount -o ro "$T/r5/a" "$T/mnt2"
mountpoint -q "$T/mnt2" && fail "a second daemon serves r5"
uuid=$(examine_field "$T/r5/a" "Array UUID")
refused_busy "$T/mnt" "$RAIDFS" create -f -l 1 -n 2 "$T/r5/a" "$T/r5/b"
expect_eq "r5's uuid after a refused create" "$(examine_field "$T/r5/a" "Array UUID")" "$uuid"
expect_eq "r5 after the refusals" "$(image_sum "$T/mnt/r5")" "$sum"
rf_umount "$T/mnt"
# Read-only mounts share members with each other, not with a writer.
rf_mount "$T/mnt" -o ro "$T/r5"
ro_pid=$RF_PID
rf_mount "$T/mnt2" -o ro "$T/r5"
expect_eq "r5 read-only twice" "$(image_sum "$T/mnt2/r5")" "$sum"
RF_PID=$ro_pid
mkdir -p "$T/mnt3"
MOUNTS+=("$T/mnt3")
out=$("$RAIDFS" mount "$T/r5" "$T/mnt3" 2>&1) && fail "a writer joined read-only mounts"
case $out in *"is in use by raidfs pid "*) ;; *) fail "writer after ro: $out" ;; esac
rf_umount "$T/mnt"
RF_PID=$(daemon_pid "$T/mnt2")
rf_umount "$T/mnt2"
all_clean "r5 after the claims" "$T/r5"/?

note "the mount returns its daemon's failure, and its output ends"
mkdir -p "$T/empty"
rc=0; out=$("$RAIDFS" mount "$T/empty" "$T/mnt" 2>&1) || rc=$?
expect_eq "mount of nothing: exit status" "$rc" 2
case $out in *"no md superblock"*) ;; *) fail "mount of nothing said: $out" ;; esac
out=$("$RAIDFS" mount "$T/r5" "$T/mnt" 2>&1) || fail "mount failed: $out"
MOUNTS+=("$T/mnt")
RF_PID=$(daemon_pid "$T/mnt") || fail "no daemon for $T/mnt"
track_daemon "$RF_PID"
rf_umount "$T/mnt"
echo "PASS"
