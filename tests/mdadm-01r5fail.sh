#!/bin/bash
# mdadm's 01r5fail, ported: a raid5 of four loses a member during its
# initial sync (a degraded raid5 has nothing to sync: it ends), gets two
# members added (one recovered onto, one spare), loses another one, which
# the spare replaces once the failed ones are removed: [UUUU], the data
# fio wrote and verified all along intact, a check finds no mismatch.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "${TESTLIB:-$0}")/mdadm-lib.sh"

MOPTS="-o sync_speed_max=1000" mk r5 5 4 d0 d1 d2 d3
truncate -s 32M d4 d5
fio_start "$IMG"
# mdadm creates a raid5 degraded and recovers onto its last member; md
# itself (and raidfs) resyncs the parity: either is the initial sync.
check resync
fail_dev d3
wait_idle "$MD"
check idle
expect_slots UUU_
expect_mark d3 "(F)"

add_dev d4 d5
check recover
fast_sync
wait_slots UUUU
# One of them took the role, the other one waits as a spare.
[ "$(member_mark d4)$(member_mark d5)" = "(S)" ] ||
	{ cat "$M/mdstat"; fail "not one of d4, d5 active and one spare"; }
slow_sync
fail_dev d0
remove_dev d3 d0
expect_mark d3 gone
expect_mark d0 gone
check recover
fast_sync
wait_slots UUUU
expect_eq "spares left" "$(member_mark d4)$(member_mark d5)" ""
finish UUUU d1 d2 d4 d5
echo PASS
