#!/bin/bash
# mdadm's 05r1-re-add, ported without a bitmap: a raid1 member failed,
# removed and added back (mdadm --add of a former member is a re-add) is
# recovered in full, as md does with no bitmap to narrow it, also after IO
# while it was out and after it was scribbled on while released; a faulty
# member's dev-X/state re-add (md's sysfs) too.  Each time its data area
# ends equal to the other's, fio's data verifies and a check finds 0.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "${TESTLIB:-$0}")/mdadm-lib.sh"

MOPTS="-o sync_speed_max=1000" mk r1 1 2 d1 d2
check resync
fast_sync
wait_idle "$MD"
fio_start "$IMG"

# the members' data areas are the same bytes
same_members() {
	local doff len
	doff=$(($(examine_field "$T/d1" "Data Offset" | cut -d' ' -f1) * 512))
	len=$(($(cat "$MD/component_size") * 1024))
	cmp -s <(dd if="$T/d1" bs=1M iflag=skip_bytes,count_bytes skip="$doff" count="$len" status=none) \
	       <(dd if="$T/d2" bs=1M iflag=skip_bytes,count_bytes skip="$doff" count="$len" status=none) ||
		fail "$1: the members' data differ"
}
# The re-added member is recovered from its start: nothing of it is
# trusted without a bitmap.
readded() {
	check recover
	expect_eq "$1: d2 while recovering" "$(member_mark d2)" ""
	fast_sync
	wait_slots UU
	fio_stop
	same_members "$1"
	fio_verify
	fio_start "$IMG"
	slow_sync
}

note "fail, remove, add back"
slow_sync
fail_dev d2
remove_dev d2
add_dev d2
readded "re-add"

note "fail, remove, IO, scribble on the released file, add back"
fail_dev d2
remove_dev d2
expect_slots U_
dd if=/dev/zero of="$IMG" bs=1M seek=$((FIO_NREG + 1)) count=8 conv=notrunc,fsync status=none
dd if=/dev/urandom of="$T/d2" bs=1M seek=1 count=30 conv=notrunc status=none
add_dev d2
readded "re-add after IO"

note "fail, then dev-X/state re-add"
fail_dev d2
expect_mark d2 "(F)"
dd if=/dev/urandom of="$IMG" bs=1M seek=$((FIO_NREG + 2)) count=4 conv=notrunc,fsync status=none
re_add_dev d2
readded "state re-add"
finish UU d1 d2
echo PASS
