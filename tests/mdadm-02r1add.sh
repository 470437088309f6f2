#!/bin/bash
# mdadm's 02r1add, ported as far as raidfs goes: a raid1 of two with a
# spare from create (-x1), on 0.90 and 1.2 metadata.  The spare waits
# through the initial resync; a member added at run time is a second
# spare and is removed again; a failed member's role goes to the spare by
# itself.  (The original grows raid_disks 2 -> 3 -> 2 with mdadm --grow:
# raidfs cannot change raid_disks.)  fio writes and verifies throughout.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "${TESTLIB:-$0}")/mdadm-lib.sh"

for e in 0.90 1.2; do
	note "metadata $e"
	rm -f d0 d1 d2 d3 "$T"/fio.*
	truncate -s 32M d3
	COPTS="-e $e -x 1" MOPTS="-o sync_speed_max=1000" mk r1 1 2 d0 d1 d2
	fio_start "$IMG"
	check resync
	expect_mark d2 "(S)"
	fast_sync
	wait_slots UU
	expect_mark d2 "(S)"

	add_dev d3
	expect_mark d3 "(S)"
	expect_slots UU
	remove_dev d3
	expect_mark d3 gone
	expect_eq "$e: d3's file released" "$(fuser "$T/d3" 2>/dev/null)" ""

	slow_sync
	fail_dev d0
	check recover
	expect_mark d0 "(F)"
	expect_mark d2 ""
	fast_sync
	wait_slots UU
	remove_dev d0
	expect_mark d0 gone
	finish UU d1 d2
done
echo PASS
