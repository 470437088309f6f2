#!/bin/bash
# mdadm's 23rdev-lifetime, ported: one loop hot-adds a member file through
# new_dev while another removes it through dev-X/state and a third reads
# its dev-X files and mdstat, for a few seconds, with fio writing to the
# array.  The daemon must survive the member coming and going under its
# control files; afterwards the member is a spare or gone, can be added
# and recovered onto, and the array's data is intact.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "${TESTLIB:-$0}")/mdadm-lib.sh"

COPTS="-x 1" mk r1 1 2 d0 d1 d2
wait_slots UU
fio_start "$IMG"
expect_mark d2 "(S)"

read_dev() { cat "$MD/dev-d2/state" "$MD/dev-d2/slot" "$MD/dev-d2/errors" "$M/mdstat" >/dev/null; }
loop 3 adds add_dev d2 &
adder=$!
loop 3 removes remove_dev d2 &
remover=$!
loop 3 reads read_dev &
reader=$!
unstuck "$adder" "$remover" "$reader"
kill -0 "$RF_PID" || fail "the daemon died"
note "$(cat "$T/count-adds") adds, $(cat "$T/count-removes") removes, $(cat "$T/count-reads") reads"
[ "$(cat "$T/count-adds")" -gt 0 ] && [ "$(cat "$T/count-removes")" -gt 0 ] ||
	fail "the member was never both added and removed"

mark=$(member_mark d2)
[ "$mark" = "(S)" ] || [ "$mark" = gone ] || { cat "$M/mdstat"; fail "d2 ends as '$mark'"; }
[ "$mark" = gone ] && add_dev d2
expect_mark d2 "(S)"
expect_eq "d2's state" "$(cat "$MD/dev-d2/state")" spare
expect_slots UU
# slowly, so the check sees the recovery run (fio may pause between its
# rounds, and an idle array recovers at full speed)
slow_sync
fail_dev d0
check recover
fast_sync
wait_slots UU
expect_mark d2 ""
finish UU d1 d2
echo PASS
