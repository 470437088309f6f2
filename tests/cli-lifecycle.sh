#!/bin/bash
# The member lifecycle through the commands, as mdadm's --add, --fail,
# --remove, --re-add and --stop drive md: a spare added, recovery onto it
# by itself, a faulty member removed and re-added (in the array, and from
# its file after a remove), the daemon's refusals of a file in use, and
# stop of one array while the mount serves the other.  Replacement is
# cli-replace.sh's.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "$0")/cli-lib.sh"

"$RAIDFS" create -l 1 -n 2 -N r1 --assume-clean --member-size 16M \
	"$T/r1a" "$T/r1b" >/dev/null
"$RAIDFS" create -l 5 -n 3 -N r5 --assume-clean --member-size 16M \
	"$T/r5a" "$T/r5b" "$T/r5c" >/dev/null
for f in s1 s2 s3 s4; do truncate -s 16M "$T/$f"; done
rf_mount "$M" "$T/r1a" "$T/r1b" "$T/r5a" "$T/r5b" "$T/r5c"
R1=$M/r1 R5=$M/r5
random_file "$T/data1" 8M
random_file "$T/data5" 8M
dd if="$T/data1" of="$R1" bs=1M conv=notrunc,fsync status=none
dd if="$T/data5" of="$R5" bs=1M conv=notrunc,fsync status=none

note "add a spare"
run add "$R1" "$T/s1"
expect_field "$R1" "Total Devices" 3
expect_field "$R1" "Spare Devices" 1
expect_row "$R1" "$T/s1" - spare
expect_eq "s1 slot" "$(cat "$M/r1.md/dev-s1/slot")" none

note "fail: recovery onto the spare by itself"
run fail "$R1" "$T/r1b"
waited "$R1"
expect_field "$R1" State clean
expect_row "$R1" "$T/s1" 1 "active sync"
row "$R1" "$T/r1b" | grep -q " faulty " || fail "r1b: $(row "$R1" "$T/r1b")"
same_data "$R1" "$T/data1"

note "remove the faulty member"
run remove "$R1" "$T/r1b"
[ -e "$M/r1.md/dev-r1b" ] && fail "dev-r1b/ is still there after remove"
expect_field "$R1" "Total Devices" 2
expect_field "$R1" "Failed Devices" 0
refused r1 "active in r1" "$RAIDFS" remove "$R1" "$T/s1"

note "re-add a faulty member in the array"
run fail "$R1" dev-s1
run re-add "$R1" dev-s1
waited "$R1"
expect_row "$R1" "$T/s1" 1 "active sync"

note "re-add a removed member from its file"
run fail "$R1" "$T/s1"
run remove "$R1" "$T/s1"
run re-add "$R1" "$T/s1"
waited "$R1"
expect_row "$R1" "$T/s1" 1 "active sync"
expect_field "$R1" State clean
same_data "$R1" "$T/data1"

note "the daemon's refusals"
refused r5 "in use" "$RAIDFS" add "$R5" "$T/r1a"
truncate -s 15M "$T/short"   # holds the component, not the superblock too
refused r5 "too small" "$RAIDFS" add "$R5" "$T/short"

note "remove a spare"
run add "$R1" "$T/s4"
run remove "$R1" "$T/s4"
[ -e "$M/r1.md/dev-s4" ] && fail "dev-s4/ is still there after remove"

note "stop one array"
exec 3<"$R5"
rc=0; "$RAIDFS" stop "$R5" 2>"$T/err" || rc=$?
expect_eq "stop of an open image" "$rc" 1
grep -qi "exclusive access" "$T/err" || fail "stop said: $(cat "$T/err")"
[ -e "$R5" ] || fail "a refused stop took r5 away"
exec 3<&-
run stop "$R5"
[ -e "$R5" ] && fail "r5 is still in the mount after stop"
grep -q '^r5 ' "$M/mdstat" && fail "mdstat still lists r5"
same_data "$R1" "$T/data1"
examine_field "$T/r5c" State | grep -q clean || fail "r5c after stop: $(examine_field "$T/r5c" State)"

rf_umount "$M"
