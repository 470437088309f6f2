#!/bin/bash
# mdadm's 24raid10deadlock, ported: a raid10 under random-write pressure
# while member d0, whose IO fails soon after each add (fault/fail_after,
# the kernel test's make-it-fail), and member d3 are failed, removed,
# wiped and added again and again, and sync_action is set frozen and
# idle ten times a second.  No control-file write may hang; afterwards
# both members come back, fio's data verifies and a check finds nothing.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "${TESTLIB:-$0}")/mdadm-lib.sh"
RUN=${RUN:-8}     # seconds of the storm (the original: 120)

mk r10 10 4 d0 d1 d2 d3
fio_start "$IMG"
# Pressure beyond the verified regions: four writers of their own.
fio --output="$T/pressure.log" --name=p --filename="$IMG" --rw=randwrite \
    --bs=4k --direct=1 --ioengine=psync --numjobs=4 --offset=$((FIO_NREG * FIO_REG)) \
    --size=4M --offset_increment=4M --time_based --runtime="$RUN" &
pressure=$!

# cycle MEMBER SLEEP [FAIL_AFTER]: mdadm -f, -r, --zero-superblock, -a
# (each tried, as the original does); true when the add went in.
cycle() {
	local added=1
	fail_dev "$1"
	remove_dev "$1"
	if [ "$(member_mark "$1")" = gone ]; then
		zero_sb "$1"
		add_dev "$1" && added=0
		[ -z "${3:-}" ] || echo "$3" >"$MD/dev-$1/fault/fail_after"
	fi
	sleep "$2"
	return $added
}
frozen_idle() { echo frozen >"$MD/sync_action"; echo idle >"$MD/sync_action"; sleep 0.1; }
loop "$RUN" d0 cycle d0 2 50 &
p0=$!
loop "$RUN" d3 cycle d3 5 &
p3=$!
loop "$RUN" actions frozen_idle &
pa=$!
unstuck "$p0" "$p3" "$pa"
wait "$pressure" || { cat "$T/pressure.log"; fail "fio's pressure writes failed"; }
kill -0 "$RF_PID" || fail "the daemon died"
note "cycles: d0 $(cat "$T/count-d0"), d3 $(cat "$T/count-d3"); frozen/idle $(cat "$T/count-actions")"
[ "$(cat "$T/count-d0")" -gt 0 ] && [ "$(cat "$T/count-d3")" -gt 0 ] ||
	fail "no member went out and back"

# Bring both back for good.
echo idle >"$MD/sync_action"
for d in d0 d3; do
	case $(member_mark "$d") in
	"") continue ;;
	gone) ;;
	*) [ -e "$MD/dev-$d/fault/fail_after" ] && echo off >"$MD/dev-$d/fault/fail_after"
	   [ "$(member_mark "$d")" = "(F)" ] && remove_dev "$d" ;;
	esac
	[ "$(member_mark "$d")" = gone ] && { zero_sb "$d"; add_dev "$d"; }
done
wait_slots UUUU
finish UUUU d0 d1 d2 d3
echo PASS
