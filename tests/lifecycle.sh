#!/bin/bash
# The member lifecycle through the control files, as md's sysfs has it:
# spares (create -x, new_dev), automatic recovery onto a spare when a
# member fails, fail/remove/add for every role of raid1, raid10, raid5 and
# raid6, re-add of a former member, the refusals (remove of an active
# member, new_dev of a file too small, in use or no member file), and
# write-mostly.  Data is written and verified by fio throughout.
#
# Members added at run time get no dev-NAME/ directory until the mount
# follows member changes (members_changed): the tests address them through
# the array's files (mdstat, degraded, sync_action) and examine.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v fio >/dev/null || skip "no fio"
command -v python3 >/dev/null || skip "no python3"
MDADM=$(command -v mdadm || true)

cd "$T"
M=$T/mnt

# fio_write IMAGE / fio_verify IMAGE: the whole image in 64K blocks with
# crc32c verify headers, fsync'd; the verify reads it all back.
fio_run() {
	fio --name=lc --filename="$1" --size="$(stat -c %s "$1")" --rw=write \
	    --bs=64k --ioengine=psync --verify=crc32c --verify_fatal=1 \
	    --randrepeat=1 --fsync_on_close=1 --output="$T/fio.out" "${@:2}" ||
		{ cat "$T/fio.out"; fail "fio ${*:2} on $1"; }
}
fio_write() { fio_run "$1" --do_verify=1; }
fio_verify() { fio_run "$1" --verify_only; }

# put FILE VALUE: write VALUE in one write(2); ERR is the errno name, or "".
put() {
	ERR=$(python3 -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.write(fd, sys.argv[2].encode())
except OSError as e:
    print(errno.errorcode[e.errno])' "$1" "$2")
}
ok_put() { put "$1" "$2"; [ -z "$ERR" ] || fail "$1 <- '$2': $ERR"; }

# wait_whole MD: until the array is idle with nothing degraded.
wait_whole() {
	local i
	for i in $(seq 600); do
		[ "$(cat "$1/degraded")" = 0 ] && [ "$(cat "$1/sync_action")" = idle ] &&
			return 0
		sleep 0.1
	done
	cat "$M/mdstat"
	fail "$1: not whole after a minute"
}

check_clean() { # MD: a check finds no mismatch
	ok_put "$1/sync_action" check
	wait_idle "$1"
	expect_eq "${1##*/} mismatch_cnt" "$(cat "$1/mismatch_cnt")" 0
}

# array_state FILE: mdadm's Array State of the member, from raidfs examine
# and, when there, mdadm --examine, which must agree.
array_state() {
	local ours theirs
	ours=$(examine_field "$1" "Array State" | cut -d' ' -f1)
	if [ -n "$MDADM" ]; then
		theirs=$("$MDADM" --examine "$1" | sed -n 's/^ *Array State : //p' | cut -d' ' -f1)
		expect_eq "$1: mdadm's Array State" "$theirs" "$ours"
	fi
	echo "$ours"
}

mdstat_line() { grep "^$1 :" "$M/mdstat"; }

note "raid1 with a spare from create -x: (S), then recovery onto it"
"$RAIDFS" create -l 1 -n 2 -x 1 -N s1 --member-size 16M s1a s1b s1c >/dev/null
rf_mount "$M" "$T/s1a" "$T/s1b" "$T/s1c"
mdstat_line s1 | grep -q 's1c\[2\](S)' || { cat "$M/mdstat"; fail "s1c is no spare"; }
expect_eq "spare's state" "$(cat "$M/s1.md/dev-s1c/state")" spare
expect_eq "spare's slot" "$(cat "$M/s1.md/dev-s1c/slot")" none
wait_idle "$M/s1.md"
fio_write "$M/s1"
ok_put "$M/s1.md/dev-s1a/state" faulty
wait_whole "$M/s1.md"
mdstat_line s1 | grep -q 's1a\[0\](F)' || { cat "$M/mdstat"; fail "s1a not listed faulty"; }
expect_eq "s1c's slot" "$(cat "$M/s1.md/dev-s1c/slot")" 0
expect_eq "s1c's state" "$(cat "$M/s1.md/dev-s1c/state")" in_sync
expect_eq "s1a's slot once out of its role" "$(cat "$M/s1.md/dev-s1a/slot")" none
fio_verify "$M/s1"
check_clean "$M/s1.md"
note "remove: refused for an active member, taken for the faulty one"
put "$M/s1.md/dev-s1b/state" remove
expect_eq "remove of an active member" "$ERR" EBUSY
expect_eq "s1b after a refused remove" "$(cat "$M/s1.md/dev-s1b/state")" in_sync
ok_put "$M/s1.md/dev-s1a/state" remove
mdstat_line s1 | grep -q s1a && { cat "$M/mdstat"; fail "s1a still listed"; }
# Released: nothing holds its lock any more.
flock -n "$T/s1a" true || fail "s1a still claimed after remove"
rf_umount "$M"
expect_eq "s1c's role" "$(examine_field "$T/s1c" "Device Role")" "Active device 0"
for f in s1b s1c; do
	expect_eq "$f Array State" "$(array_state "$T/$f")" AA
	expect_eq "$f state" "$(examine_field "$T/$f" State)" clean
done

# cycle LEVEL N NAME [create options]: for each role, fail the member
# holding it, remove it and add a new file, recovered by itself.
cycle() {
	local level=$1 n=$2 name=$3 i members=()
	shift 3
	for i in $(seq 0 $((n - 1))); do members+=("$T/$name-$i"); done
	"$RAIDFS" create -l "$level" -n "$n" -N "$name" --assume-clean \
		--member-size 16M "$@" "${members[@]}" >/dev/null
	local md=$M/$name.md new
	rf_mount "$M" "${members[@]}"
	fio_write "$M/$name"
	for i in $(seq 0 $((n - 1))); do
		note "$name: role $i failed, removed, replaced by a new file"
		new=$T/$name-n$i
		ok_put "$md/dev-$name-$i/state" faulty
		expect_eq "$name degraded" "$(cat "$md/degraded")" 1
		ok_put "$md/dev-$name-$i/state" remove
		truncate -s 16M "$new"
		ok_put "$md/new_dev" "$new"
		wait_whole "$md"
		mdstat_line "$name" | grep -Eq " $name-n$i\[$i\]( |\$)" ||
			{ cat "$M/mdstat"; fail "$new did not take dev_number and role $i"; }
		fio_verify "$M/$name"
	done
	check_clean "$md"
	rf_umount "$M"
	local all
	all=$(printf 'A%.0s' $(seq "$n"))
	for i in $(seq 0 $((n - 1))); do
		new=$T/$name-n$i
		expect_eq "$new role" "$(examine_field "$new" "Device Role")" "Active device $i"
		expect_eq "$new Array State" "$(array_state "$new")" "$all"
	done
	# Whole again from the new members alone.
	rf_mount "$M" "$T/$name-n"*
	expect_eq "$name degraded after remount" "$(cat "$md/degraded")" 0
	fio_verify "$M/$name"
	rf_umount "$M"
}

cycle 1 2 cyc1
cycle 10 4 cyc10 -c 64K -p n2
cycle 5 3 cyc5 -c 64K
cycle 6 4 cyc6 -c 64K

note "new_dev refusals: nothing written, nothing changed"
"$RAIDFS" create -l 5 -n 3 -N r5 --assume-clean --member-size 16M r5a r5b r5c >/dev/null
"$RAIDFS" create -l 1 -n 2 -N o1 --assume-clean --member-size 16M o1a o1b >/dev/null
rf_mount "$M" "$T"/r5? "$T"/o1?
before=$(mdstat_line r5)
truncate -s 1M small
small_sum=$(image_sum small)
put "$M/r5.md/new_dev" "$T/small"
expect_eq "new_dev of a file too small" "$ERR" EINVAL
expect_eq "the small file" "$(image_sum small)" "$small_sum"
o1a_sum=$(image_sum o1a)
put "$M/r5.md/new_dev" "$T/o1a"
expect_eq "new_dev of another array's member" "$ERR" EBUSY
expect_eq "o1a" "$(image_sum o1a)" "$o1a_sum"
put "$M/r5.md/new_dev" "$T/r5b"
expect_eq "new_dev of one of its own members" "$ERR" EBUSY
put "$M/r5.md/new_dev" "$T/nonexistent"
expect_eq "new_dev of no file" "$ERR" ENOENT
for v in small "$T" /dev/null "$T/small
"; do
	put "$M/r5.md/new_dev" "$v"
	expect_eq "new_dev '$v'" "$ERR" EINVAL
done
expect_eq "r5 after the refusals" "$(mdstat_line r5)" "$before"
put "$M/r5.md/dev-r5a/state" remove
expect_eq "remove of an active raid5 member" "$ERR" EBUSY

note "a spare added to a healthy array stays a spare"
truncate -s 16M r5s
ok_put "$M/r5.md/new_dev" "$T/r5s"
mdstat_line r5 | grep -q 'r5s\[3\](S)' || { cat "$M/mdstat"; fail "r5s is no spare"; }
expect_eq "r5 degraded" "$(cat "$M/r5.md/degraded")" 0
expect_eq "r5s role" "$(examine_field "$T/r5s" "Device Role")" spare
fio_write "$M/r5"
ok_put "$M/r5.md/dev-r5b/state" faulty
wait_whole "$M/r5.md"
mdstat_line r5 | grep -Eq ' r5s\[3\]( |$)' || { cat "$M/mdstat"; fail "r5s did not take the role"; }
fio_verify "$M/r5"
check_clean "$M/r5.md"

note "re-add: a faulty member comes back and is recovered"
fio_write "$M/o1"
ok_put "$M/o1.md/dev-o1b/state" faulty
put "$M/o1.md/dev-o1a/state" re-add
expect_eq "re-add of a working member" "$ERR" EBUSY
ok_put "$M/o1.md/dev-o1b/state" re-add
wait_whole "$M/o1.md"
expect_eq "o1b's state after re-add" "$(cat "$M/o1.md/dev-o1b/state")" in_sync
expect_eq "o1b's slot after re-add" "$(cat "$M/o1.md/dev-o1b/slot")" 1
fio_verify "$M/o1"

note "writemostly: flags round-trip, reads avoid the member"
ok_put "$M/o1.md/dev-o1a/state" writemostly
expect_eq "o1a state" "$(cat "$M/o1.md/dev-o1a/state")" in_sync,write_mostly
expect_eq "o1a flags" "$(examine_field "$T/o1a" Flags)" write-mostly
# Every read of o1a fails: none may reach it while o1b can serve.
ok_put "$M/o1.md/dev-o1a/fault/read_errors" "0 $(($(cat "$M/o1.md/dev-o1a/size") * 2))"
fio_verify "$M/o1"
expect_eq "o1a read errors met" "$(cat "$M/o1.md/dev-o1a/errors")" 0
expect_eq "o1a state after reads" "$(cat "$M/o1.md/dev-o1a/state")" in_sync,write_mostly
ok_put "$M/o1.md/dev-o1a/fault/read_errors" clear
ok_put "$M/o1.md/dev-o1a/state" -writemostly
expect_eq "o1a state" "$(cat "$M/o1.md/dev-o1a/state")" in_sync
[ -z "$(examine_field "$T/o1a" Flags)" ] || fail "o1a still write-mostly on disk"
ok_put "$M/o1.md/dev-o1b/state" writemostly
ok_put "$M/o1.md/dev-o1b/state" blocked
expect_eq "o1b state" "$(cat "$M/o1.md/dev-o1b/state")" in_sync,write_mostly,blocked
ok_put "$M/o1.md/dev-o1b/state" -blocked
note "the write-mostly member serves when it is the only copy"
ok_put "$M/o1.md/dev-o1a/state" faulty
fio_verify "$M/o1"
ok_put "$M/o1.md/dev-o1a/state" re-add
wait_whole "$M/o1.md"
ok_put "$M/o1.md/dev-o1b/state" -writemostly

note "re-add of a removed former member through new_dev: its old role"
ok_put "$M/o1.md/dev-o1b/state" faulty
ok_put "$M/o1.md/dev-o1b/state" remove
fio_write "$M/o1"
ok_put "$M/o1.md/new_dev" "$T/o1b"
wait_whole "$M/o1.md"
mdstat_line o1 | grep -Eq ' o1b\[1\]( |$)' || { cat "$M/mdstat"; fail "o1b not back as dev_number 1"; }
fio_verify "$M/o1"
check_clean "$M/o1.md"
note "write-mostly is kept across a restart"
ok_put "$M/o1.md/dev-o1a/state" writemostly
rf_umount "$M"
rf_mount "$M" "$T/o1a" "$T/o1b"
expect_eq "o1a state after remount" "$(cat "$M/o1.md/dev-o1a/state")" in_sync,write_mostly
rf_umount "$M"

note "a degraded array with a spare recovers onto it at mount"
"$RAIDFS" create -l 5 -n 3 -x 1 -N m5 --assume-clean --member-size 16M m5a m5b m5c m5d >/dev/null
rf_mount "$M" "$T"/m5?
fio_write "$M/m5"
rf_umount "$M"
rf_mount "$M" -o run "$T/m5a" "$T/m5b" "$T/m5d"
wait_whole "$M/m5.md"
mdstat_line m5 | grep -Eq ' m5d\[3\]( |$)' || { cat "$M/mdstat"; fail "m5d did not take the role"; }
fio_verify "$M/m5"
rf_umount "$M"
expect_eq "m5d role" "$(examine_field "$T/m5d" "Device Role")" "Active device 2"

note "0.90: a member added, recovered onto, and whole after a remount"
"$RAIDFS" create -e 0.90 -l 1 -n 2 --assume-clean --member-size 16M z1 z2 >/dev/null 2>&1
rf_mount "$M" "$T/z1" "$T/z2"
md=$(echo "$M"/*.md)
fio_write "${md%.md}"
truncate -s 16M z3
ok_put "$md/new_dev" "$T/z3"
mdstat_line "$(basename "${md%.md}")" | grep -q 'z3\[2\](S)' || { cat "$M/mdstat"; fail "z3 is no spare"; }
ok_put "$md/dev-z1/state" faulty
wait_whole "$md"
fio_verify "${md%.md}"
rf_umount "$M"
rf_mount "$M" "$T/z2" "$T/z3"
expect_eq "0.90 degraded after remount" "$(cat "$md/degraded")" 0
fio_verify "${md%.md}"
rf_umount "$M"
echo PASS
