#!/bin/bash
# A dirty raid5 with a member missing, as md treats it: its parity may be
# stale, so it starts only with -o run (saying what that risks), and a
# resync that cannot run with a member missing leaves it needing one.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

"$RAIDFS" create -l 5 -n 3 -N d5 -c 64K --member-size 16M \
	"$T/d1" "$T/d2" missing >/dev/null
expect_eq "raid5 created with a member missing" "$(examine_field "$T/d1" State)" clean
rf_mount "$T/mnt" "$T/d1" "$T/d2"
expect_eq "degraded" "$(cat "$T/mnt/d5.md/degraded")" 1
busy_writer "$T/mnt/d5"
for i in $(seq 100); do
	[ "$(cat "$T/mnt/d5.md/array_state")" = active ] && break
	sleep 0.1
done
rf_crash "$T/mnt"
wait "$WRITER" 2>/dev/null || true
expect_eq "state after SIGKILL" "$(examine_field "$T/d1" State)" active

note "without -o run it is refused, with one line saying why"
mkdir -p "$T/mnt"
"$RAIDFS" mount -f "$T/d1" "$T/d2" "$T/mnt" 2>"$T/refused" &
pid=$!
for i in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	if [ -e "$T/mnt/mdstat" ]; then
		track_daemon "$pid"; MOUNTS+=("$T/mnt")
		fail "a dirty degraded raid5 started without -o run"
	fi
	sleep 0.1
done
rc=0
wait "$pid" || rc=$?
[ "$rc" != 0 ] || fail "the refused mount exited with 0"
grep -q "cannot start dirty degraded array.*-o run" "$T/refused" ||
	{ cat "$T/refused"; fail "no reason given for the refusal"; }

note "with -o run it starts and still needs a resync"
rf_mount "$T/mnt" -o run "$T/d1" "$T/d2"
grep -q "starting dirty degraded array" "$T/daemon.err" ||
	fail "no warning that data corruption is possible"
sleep 0.5
expect_eq "sync_action" "$(cat "$T/mnt/d5.md/sync_action")" idle
[ "$(cat "$T/mnt/d5.md/resync_start")" != none ] ||
	fail "a resync that could not run marked the array in sync"
grep -q "resync=PENDING" "$T/mnt/mdstat" || fail "mdstat does not show the resync pending"
rf_umount "$T/mnt"
expect_eq "state after a clean stop" "$(examine_field "$T/d1" State)" active
echo "PASS"
