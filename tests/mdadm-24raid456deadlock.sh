#!/bin/bash
# mdadm's 24raid456deadlock, ported: a raid6 of six (--assume-clean) takes
# buffered sequential writes that flush often (the original forces
# writeback with dirty_background_ratio 0, a host-wide knob a test must
# not touch) while sync_action is set to check and back to idle ten times
# a second.  No control-file write may hang, the writes all succeed, fio's
# data verifies and a check at rest finds no mismatch.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "${TESTLIB:-$0}")/mdadm-lib.sh"
RUN=${RUN:-8}     # seconds of it (the original: 120)

COPTS=--assume-clean mk r6 6 6 d0 d1 d2 d3 d4 d5
fio_start "$IMG"
fio --output="$T/writeback.log" --name=wb --filename="$IMG" --rw=write \
    --bs=4k --ioengine=psync --fsync=64 --offset=$((FIO_NREG * FIO_REG)) \
    --size=32M --time_based --runtime="$RUN" &
writer=$!
check_idle() { echo check >"$MD/sync_action"; sleep 0.1; echo idle >"$MD/sync_action"; }
loop "$RUN" actions check_idle &
actions=$!
unstuck "$actions"
wait "$writer" || { cat "$T/writeback.log"; fail "the buffered writes failed"; }
kill -0 "$RF_PID" || fail "the daemon died"
note "check/idle $(cat "$T/count-actions") times"
[ "$(cat "$T/count-actions")" -gt 0 ] || fail "sync_action never took check and idle"
finish UUUUUU d0 d1 d2 d3 d4 d5
echo PASS
