#!/bin/bash
# mdadm's 01replace, ported, for raid1, raid5, raid6 and raid10 of four
# with two spares (-x2), fio writing and verifying throughout:
#  1. want_replacement on a member: a spare copies it while it serves
#     (mdstat (R)), then it is faulty and can be removed; the replacement
#     cannot.
#  2. --with: the spare offered the member's slot is the one that takes
#     it; the other spare can be removed, the replacement cannot.
#  3. a member fails while another is being replaced: the data survives.
#  4. the replacement target itself fails: the data survives.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "${TESTLIB:-$0}")/mdadm-lib.sh"

# fresh LEVEL: a new array of d0..d3 with spares d4, d5, synced.
fresh() {
	rm -f "$T"/d[0-9] "$T"/fio.*
	COPTS="-x 2" mk "r$1" "$1" 4 d0 d1 d2 d3 d4 d5
	wait_slots UUUU
	expect_eq "spares" "$(member_mark d4)$(member_mark d5)" "(S)(S)"
}
# replacing MEMBER: the replacement runs (slowly) beside it.
replacing() {
	check recover
	grep -A1 "^$NAME :" "$M/mdstat" | grep -q '\[[0-9]*\](R)' ||
		{ cat "$M/mdstat"; fail "mdstat shows no (R) replacement"; }
	expect_eq "$1 while replaced" "$(member_mark "$1")" ""
}
# replaced MEMBER: the copy ended, the member is faulty, the array whole.
replaced() {
	fast_sync
	wait_slots UUUU
	expect_mark "$1" "(F)"
	expect_eq "degraded" "$(cat "$MD/degraded")" 0
}
actives() { local d; for d in d0 d1 d2 d3 d4 d5; do [ "$(member_mark $d)" != "" ] || echo $d; done; }

for level in 1 5 6 10; do
	note "raid$level: replace"
	fresh "$level"
	fio_start "$IMG"
	slow_sync
	replace_dev d1
	replacing d1
	replaced d1
	remove_dev d1
	expect_mark d1 gone
	r=d4 s=d5
	[ "$(member_mark d4)" = "(S)" ] && r=d5 s=d4
	expect_mark "$s" "(S)"
	refused remove "$r" remove_dev
	fio_stop
	fio_verify
	rf_umount "$M"

	note "raid$level: replace --with"
	fresh "$level"
	fio_start "$IMG"
	slow_sync
	replace_with d1 d4
	replacing d1
	expect_mark d4 "(R)"
	replaced d1
	expect_mark d4 ""
	remove_dev d1 d5
	refused remove d4 remove_dev

	note "raid$level: a member fails during a replacement"
	add_dev d1 d5
	slow_sync
	replace_dev d0
	replacing d0
	fail_dev d2
	replaced d0
	fio_stop
	fio_verify
	fio_start "$IMG"

	note "raid$level: the replacement fails"
	remove_dev d0 d2
	add_dev d0 d2
	slow_sync
	replace_dev d3
	replacing d3
	fail_dev d0 d2
	fast_sync
	wait_slots UUUU
	expect_eq "degraded" "$(cat "$MD/degraded")" 0
	# shellcheck disable=SC2046
	finish UUUU $(actives)
done
echo PASS
