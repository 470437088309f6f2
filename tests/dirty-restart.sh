#!/bin/bash
# A clean stop records clean superblocks with events advanced; SIGKILL in the
# middle of writes leaves them dirty, and the next start resyncs.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

"$RAIDFS" create -l 1 -n 2 -N r1 --assume-clean --member-size 64M "$T/a" "$T/b" >/dev/null
ev0=$(examine_field "$T/a" Events)
expect_eq "state after create" "$(examine_field "$T/a" State)" clean

rf_mount "$T/mnt" "$T/a" "$T/b"
dd if=/dev/urandom of="$T/mnt/r1" bs=1M count=4 conv=notrunc,fsync status=none
rf_umount "$T/mnt"
expect_eq "state after clean stop" "$(examine_field "$T/a" State)" clean
ev1=$(examine_field "$T/a" Events)
[ "$ev1" -gt "$ev0" ] || fail "events did not advance: $ev0 -> $ev1"
expect_eq "members agree on events" "$(examine_field "$T/b" Events)" "$ev1"

# SIGTERM is a clean stop too, even straight after writes, with exit
# status 0 (a foreground daemon, to see it; tests/daemon.sh does without -f).
rf_mount_fg "$T/mnt" "$T/a" "$T/b"
dd if=/dev/urandom of="$T/mnt/r1" bs=1M count=2 conv=notrunc status=none
kill -TERM "$RF_PID"
rf_exited
mountpoint -q "$T/mnt" && fail "still mounted after SIGTERM"
expect_eq "state after SIGTERM" "$(examine_field "$T/a" State)" clean
[ "$(examine_field "$T/a" Events)" -gt "$ev1" ] || fail "events did not advance on SIGTERM"

# Kill the daemon while a writer keeps the array dirty.
rf_mount "$T/mnt" "$T/a" "$T/b"
busy_writer "$T/mnt/r1"
sleep 1
expect_eq "array_state while writing" "$(cat "$T/mnt/r1.md/array_state")" active
rf_crash "$T/mnt"
wait "$WRITER" 2>/dev/null || true
expect_eq "state after SIGKILL" "$(examine_field "$T/a" State)" active

# The next start knows: it resyncs and ends clean.
rf_mount "$T/mnt" "$T/a" "$T/b"
for i in $(seq 100); do
	[ "$(cat "$T/mnt/r1.md/resync_start")" = none ] && break
	sleep 0.1
done
expect_eq "resync_start after resync" "$(cat "$T/mnt/r1.md/resync_start")" none
expect_eq "last_sync_action" "$(cat "$T/mnt/r1.md/last_sync_action")" resync
rf_umount "$T/mnt"
expect_eq "state after resync and stop" "$(examine_field "$T/a" State)" clean
echo "PASS"
