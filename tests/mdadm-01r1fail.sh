#!/bin/bash
# mdadm's 01r1fail, ported: a raid1 of four with one role missing loses a
# member during its initial resync (which goes on) and a second one (which
# ends it: one in-sync copy has nothing to resync), gets two members added
# (recovered onto), has the failed ones removed, and one of them, wiped,
# added back and recovered: [UUUU].  fio writes and verifies throughout.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "${TESTLIB:-$0}")/mdadm-lib.sh"

MOPTS="-o sync_speed_max=1000" mk r1 1 4 d0 d1 d2 missing
truncate -s 32M d3 d4
fio_start "$IMG"
check resync
fail_dev d2
check resync
fail_dev d1
wait_idle "$MD"
check idle
expect_slots U___
add_dev d4 d3
check recover
fast_sync
wait_slots UUU_
remove_dev d2 d1
expect_mark d2 gone
expect_mark d1 gone
check idle
expect_slots UUU_

zero_sb d2
slow_sync
add_dev d2
check recover
fast_sync
wait_slots UUUU
finish UUUU d0 d2 d3 d4
echo PASS
