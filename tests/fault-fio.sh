#!/bin/bash
# Every fault kind against every level with redundancy, under fio with
# verify: the data stays correct and the member ends as md would leave it.
#   read_errors  read back from redundancy and rewritten: in sync, errors > 0
#   write_errors recorded in the bad-block log: in sync (write_error,
#                want_replacement, as md says), bad_blocks listed
#   latency_us   slower, nothing else
#   pull         failed at its first IO: faulty, the array degraded
#   fail_after   the same after N IOs
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v fio >/dev/null || skip "no fio"

cd "$T"
declare -A GEOM=([r1]="-l 1 -n 2" [r10]="-l 10 -n 4" [r5]="-l 5 -n 4" [r6]="-l 6 -n 5")
FAULTS=(read_errors write_errors latency_us pull fail_after)
M=$T/mnt
mkdir -p "$M"

# job NAME RW: fio's job for the image, verify headers in every 4K block.
job() {
	cat <<EOF
[j]
filename=$M/$1
rw=$2
bs=4k
size=4M
ioengine=psync
direct=1
verify=crc32c
verify_fatal=1
do_verify=0
randrepeat=1
EOF
}

for a in r1 r10 r5 r6; do
	for f in "${FAULTS[@]}"; do
		note "$a: $f"
		# shellcheck disable=SC2086 # GEOM holds options
		members=$(for i in $(seq 0 $(($(cut -d' ' -f4 <<<"${GEOM[$a]}") - 1))); do
			echo "$a-$f-$i"; done)
		# shellcheck disable=SC2086
		"$RAIDFS" create --assume-clean ${GEOM[$a]} -c 64K -N "$a" \
			--member-size 16M $members >/dev/null
		# shellcheck disable=SC2086
		rf_mount "$M" $members
		D=$M/$a.md
		X=$D/dev-$a-$f-1
		job "$a" randwrite >"$T/w.fio"
		case $f in
		read_errors) ;;
		write_errors) echo "0 2048" >"$X/fault/write_errors" ;;
		latency_us) echo 500 >"$X/fault/latency_us" ;;
		pull) echo 1 >"$X/fault/pull" ;;
		fail_after) echo 100 >"$X/fault/fail_after" ;;
		esac
		fio "$T/w.fio" --output="$T/fio.out" || { cat "$T/fio.out"; fail "$a $f: fio write"; }
		# The reads of the verify hit the read errors.
		[ "$f" = read_errors ] && echo "0 2048" >"$X/fault/read_errors"
		fio "$T/w.fio" --verify_only --output="$T/fio.out" ||
			{ cat "$T/fio.out"; fail "$a $f: fio verify"; }
		state=$(cat "$X/state")
		case $f in
		read_errors|latency_us)
			expect_eq "$a $f: state" "$state" in_sync
			expect_eq "$a $f: degraded" "$(cat "$D/degraded")" 0 ;;
		write_errors)
			# md's end_write: WriteErrorSeen and WantReplacement.
			expect_eq "$a $f: state" "$state" in_sync,write_error,want_replacement
			expect_eq "$a $f: degraded" "$(cat "$D/degraded")" 0 ;;
		pull|fail_after)
			# A data write failing first leaves md's write_error and
			# want_replacement beside faulty.
			[[ "$state" =~ ^faulty(,write_error,want_replacement)?$ ]] ||
				fail "$a $f: state: got '$state', want faulty"
			expect_eq "$a $f: degraded" "$(cat "$D/degraded")" 1
			grep -q "$a-$f-1\[1\](F)" "$M/mdstat" || fail "$a $f: mdstat: $(cat "$M/mdstat")" ;;
		esac
		case $f in
		read_errors)
			# A check reads every copy: md rewrites what it cannot
			# read, and the disk remaps it.
			echo check >"$D/sync_action"
			wait_idle "$D"
			expect_eq "$a $f: read_errors after check" "$(cat "$X/fault/read_errors")" ""
			expect_eq "$a $f: state after check" "$(cat "$X/state")" in_sync
			expect_eq "$a $f: mismatch_cnt" "$(cat "$D/mismatch_cnt")" 0
			[ "$(cat "$X/errors")" -gt 0 ] || fail "$a $f: errors $(cat "$X/errors")" ;;
		write_errors)
			[ -n "$(cat "$X/bad_blocks")" ] || fail "$a $f: no bad blocks recorded" ;;
		esac
		rf_umount "$M"
		# What the members say after a clean stop assembles as md would.
		# shellcheck disable=SC2086
		rf_mount "$M" $members
		fio "$T/w.fio" --verify_only --output="$T/fio.out" ||
			{ cat "$T/fio.out"; fail "$a $f: fio verify after remount"; }
		rf_umount "$M"
	done
done
