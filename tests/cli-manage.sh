#!/bin/bash
# raidfs detail, fail, check, repair and wait over a running mount's
# control files, and every refusal of the member commands: exit 2, one
# line saying what to do, and nothing changed (the control files read the
# same, events included, so no superblock was written).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "$0")/cli-lib.sh"

"$RAIDFS" create -l 1 -n 2 -N r1 --assume-clean --member-size 16M \
	"$T/r1a" "$T/r1b" >/dev/null
"$RAIDFS" create -l 5 -n 3 -N r5 --member-size 16M \
	"$T/r5a" "$T/r5b" "$T/r5c" >/dev/null
"$RAIDFS" create -l 0 -n 2 -N r0 --member-size 16M "$T/r0a" "$T/r0b" >/dev/null
"$RAIDFS" create -l 10 -n 4 -N r10 --assume-clean --member-size 16M \
	"$T/r10a" "$T/r10b" "$T/r10c" "$T/r10d" >/dev/null
truncate -s 16M "$T/free"
truncate -s 1M "$T/tiny"
# The raid5's first resync is slow until the test lets it go.  Members
# named relative to the directory the mount was started in: the daemon
# leaves it, and dev-NAME/path must still say where each file is.
cd "$T" || fail "cd $T"
rf_mount "$M" -o sync_speed_max=1000 r1a r1b r5a r5b r5c r0a r0b r10a r10b \
	r10c r10d
cd "$OLDPWD" || fail "cd $OLDPWD"
expect_eq "dev-r1a/path" "$(cat "$M/r1.md/dev-r1a/path")" "$T/r1a"

note "help"
"$RAIDFS" --help >"$T/help"
for c in detail fail remove add re-add replace check repair stop wait; do
	grep -q "^  $c IMAGE" "$T/help" || fail "raidfs --help does not list $c"
	"$RAIDFS" "$c" --help >"$T/out" || fail "raidfs $c --help failed"
	grep -q "IMAGE" "$T/out" || fail "raidfs $c --help says no usage"
done
"$RAIDFS" replace --help | grep -q -- "--with" || fail "replace --help: no --with"

note "detail of a healthy raid1"
R1=$M/r1
expect_field "$R1" Version 1.2
expect_field "$R1" "Raid Level" raid1
field "$R1" "Array Size" | grep -Eq "^$(( $(stat -c %s "$R1") / 1024 )) \([0-9]+\.[0-9]{2} MiB [0-9]+\.[0-9]{2} MB\)\$" ||
	fail "Array Size: $(field "$R1" "Array Size")"
field "$R1" "Used Dev Size" | grep -Eq "^$(cat "$M/r1.md/component_size") \([0-9.]+ MiB [0-9.]+ MB\)\$" ||
	fail "Used Dev Size: $(field "$R1" "Used Dev Size")"
expect_field "$R1" "Raid Devices" 2
expect_field "$R1" "Total Devices" 2
expect_field "$R1" Persistence "Superblock is persistent"
expect_field "$R1" State clean
expect_field "$R1" "Active Devices" 2
expect_field "$R1" "Working Devices" 2
expect_field "$R1" "Failed Devices" 0
expect_field "$R1" "Spare Devices" 0
expect_field "$R1" "Consistency Policy" resync
expect_field "$R1" Name r1
expect_field "$R1" UUID "$(examine_field "$T/r1a" "Array UUID")"
expect_field "$R1" Events "$(examine_field "$T/r1a" Events)"
"$RAIDFS" detail "$R1" | grep -q "Number   Major   Minor   RaidDevice State" ||
	fail "detail has no member table"
row "$R1" "$T/r1a" | grep -Eq '^ +0 +[0-9]+ +[0-9]+ +0 +active sync +/' ||
	fail "r1a's row: $(row "$R1" "$T/r1a")"
row "$R1" "$T/r1b" | grep -Eq '^ +1 +[0-9]+ +[0-9]+ +1 +active sync +/' ||
	fail "r1b's row: $(row "$R1" "$T/r1b")"
"$RAIDFS" detail "$R1" | grep -q 'Layout\|Chunk Size' && fail "raid1 has no layout or chunk"

note "detail and wait of the raid5 resyncing"
R5=$M/r5
expect_field "$R5" "Raid Level" raid5
expect_field "$R5" Layout left-symmetric
expect_field "$R5" "Chunk Size" 512K
field "$R5" State | grep -Eq '^(clean|active), resyncing$' ||
	fail "raid5 State while resyncing: $(field "$R5" State)"
field "$R5" "Resync Status" | grep -Eq '^[0-9]+% complete$' ||
	fail "raid5 Resync Status: $(field "$R5" "Resync Status")"
"$RAIDFS" wait "$R5" >"$T/wait.out" 2>"$T/wait.err" &
WAITER=$!
for _ in $(seq 100); do [ -s "$T/wait.out" ] && break; sleep 0.1; done
echo system >"$M/r5.md/sync_speed_max"
rc=0; wait "$WAITER" || rc=$?
[ "$rc" = 0 ] || fail "wait on the raid5 resync: exit $rc ($(cat "$T/wait.err"))"
# Not a terminal: whole lines, no bar, no escapes.
grep -Evq '^r5: resync +[0-9]+\.[0-9]% \([0-9]+/[0-9]+ MiB\), ([0-9]+\.[0-9] MiB/s, [0-9]+:[0-5][0-9]:[0-5][0-9] left|speed unknown)$' \
	<(head -n -1 "$T/wait.out") && fail "wait's progress lines: $(cat "$T/wait.out")"
[ "$(wc -l <"$T/wait.out")" -ge 2 ] || fail "wait showed no progress: $(cat "$T/wait.out")"
expect_eq "wait's last line" "$(tail -n1 "$T/wait.out")" "r5: resync finished"
expect_field "$R5" State clean
expect_eq "resync_start after wait" "$(cat "$M/r5.md/resync_start")" none

note "wait when nothing runs: 0 on a whole array, silent"
"$RAIDFS" wait "$R1" >"$T/out" 2>&1 || fail "wait on a clean raid1 failed: $(cat "$T/out")"
[ -s "$T/out" ] && fail "wait on an idle array said: $(cat "$T/out")"

note "check and repair, with wait"
echo 1000 >"$M/r5.md/sync_speed_max"
"$RAIDFS" check "$R5" || fail "raidfs check failed"
expect_eq "sync_action after raidfs check" "$(cat "$M/r5.md/sync_action")" check
expect_field "$R5" State "clean, checking"
field "$R5" "Check Status" | grep -Eq '^[0-9]+% complete$' ||
	fail "detail during check: $("$RAIDFS" detail "$R5")"
refused r5 "busy with check" "$RAIDFS" check "$R5"
refused r5 "busy with check" "$RAIDFS" repair "$R5"
echo system >"$M/r5.md/sync_speed_max"
"$RAIDFS" wait "$R5" >"$T/out" || fail "wait after check: exit $?"
expect_eq "last_sync_action" "$(cat "$M/r5.md/last_sync_action")" check
expect_eq "mismatch_cnt" "$(cat "$M/r5.md/mismatch_cnt")" 0
"$RAIDFS" repair "$R5" || fail "raidfs repair failed"
"$RAIDFS" wait "$R5" >"$T/out" || fail "wait after repair: exit $?"
expect_eq "last_sync_action" "$(cat "$M/r5.md/last_sync_action")" repair

note "wait on a frozen array gives up, as mdadm --wait does"
echo frozen >"$M/r5.md/sync_action"
rc=0; "$RAIDFS" wait "$R5" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "wait on a frozen array" "$rc" 1
grep -q "frozen" "$T/err" || fail "wait on a frozen array said: $(cat "$T/err")"
echo idle >"$M/r5.md/sync_action"

note "refusals"
refused r1 "not an array image" "$RAIDFS" detail "$M/nosuch"
refused r1 "not an array image" "$RAIDFS" fail "$T/r1a" "$T/r1a"
refused r1 "not an array image" "$RAIDFS" wait "$M/mdstat"
refused r1 "usage" "$RAIDFS" fail "$R1"
refused r1 "usage" "$RAIDFS" check "$R1" extra
refused r1 "not a member of r1" "$RAIDFS" fail "$R1" "$T/r5a"
refused r1 "not a member of r1" "$RAIDFS" fail "$R1" "$T/nosuch"
refused r1 "not a member of r1" "$RAIDFS" remove "$R1" dev-r5a
refused r1 "active in r1" "$RAIDFS" remove "$R1" "$T/r1a"
refused r1 "nothing to re-add" "$RAIDFS" re-add "$R1" "$T/r1a"
refused r1 "not a member of r1" "$RAIDFS" re-add "$R1" "$T/free"
refused r1 "too small" "$RAIDFS" add "$R1" "$T/tiny"
refused r1 "already a member of r1" "$RAIDFS" add "$R1" "$T/r1b"
refused r1 "no such file" "$RAIDFS" add "$R1" "$T/nosuch"
refused r1 "no spare" "$RAIDFS" replace "$R1" "$T/r1a"
refused r1 "too small" "$RAIDFS" replace "$R1" "$T/r1a" --with "$T/tiny"
refused r1 "active in r1 and cannot be a replacement" \
	"$RAIDFS" replace "$R1" "$T/r1a" --with "$T/r1b"
refused r0 "no redundancy" "$RAIDFS" add "$M/r0" "$T/free"
refused r0 "no redundancy" "$RAIDFS" check "$M/r0"
refused r0 "no redundancy" "$RAIDFS" replace "$M/r0" "$T/r0a"
refused r0 "r0 would fail" "$RAIDFS" fail "$M/r0" "$T/r0a"

note "fail a raid1 member"
"$RAIDFS" fail "$R1" "$T/r1b" 2>"$T/err" || fail "raidfs fail: $(cat "$T/err")"
grep -q "faulty" "$M/r1.md/dev-r1b/state" || fail "r1b state: $(cat "$M/r1.md/dev-r1b/state")"
expect_field "$R1" State "clean, degraded"
expect_field "$R1" "Active Devices" 1
expect_field "$R1" "Working Devices" 1
expect_field "$R1" "Failed Devices" 1
row "$R1" "$T/r1b" | grep -q " faulty " || fail "r1b's row: $(row "$R1" "$T/r1b")"
rc=0; "$RAIDFS" wait "$R1" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "wait on a degraded raid1" "$rc" 1
grep -q "degraded" "$T/err" || fail "wait on a degraded array said: $(cat "$T/err")"
refused r1 "r1 would fail" "$RAIDFS" fail "$R1" "$T/r1a"
refused r1 "not active in r1" "$RAIDFS" replace "$R1" dev-r1b
refused r1 "active in r1" "$RAIDFS" remove "$R1" r1a

note "fail a raid5 member, by its dev-NAME"
"$RAIDFS" fail "$R5" dev-r5c 2>"$T/err" || fail "raidfs fail dev-r5c: $(cat "$T/err")"
expect_field "$R5" State "clean, degraded"
expect_field "$R5" "Failed Devices" 1
refused r5 "r5 would fail" "$RAIDFS" fail "$R5" "$T/r5a"
rc=0; "$RAIDFS" wait "$R5" >/dev/null 2>&1 || rc=$?
expect_eq "wait on a degraded raid5" "$rc" 1

note "raid10: each near pair keeps one member"
R10=$M/r10
expect_field "$R10" Layout near=2
row "$R10" "$T/r10b" | grep -q " active sync set-B " || fail "r10b: $(row "$R10" "$T/r10b")"
"$RAIDFS" fail "$R10" "$T/r10a" 2>/dev/null || fail "raidfs fail r10a"
refused r10 "r10 would fail" "$RAIDFS" fail "$R10" "$T/r10b"
"$RAIDFS" fail "$R10" "$T/r10c" 2>/dev/null || fail "raidfs fail r10c"
refused r10 "r10 would fail" "$RAIDFS" fail "$R10" "$T/r10d"
expect_field "$R10" State "clean, degraded"

note "status: every array of the mount, a line each"
"$RAIDFS" status "$M" >"$T/status" || fail "raidfs status $M failed"
expect_eq "status heading" "$(sed -n 1p "$T/status")" "$M:"
expect_eq "status arrays" "$(awk 'NR > 2 { print $1 }' "$T/status" | tr '\n' ' ')" "r0 r1 r10 r5 "
grep -Eq '^  r10 +raid10 +[0-9.]+ MiB +clean +\[_U_U\] degraded +none *$' "$T/status" ||
	fail "status r10: $(grep ' r10 ' "$T/status")"
grep -Eq '^  r5 +raid5 .* \[UU_\] degraded ' "$T/status" ||
	fail "status r5: $(grep ' r5 ' "$T/status")"
# with no mount point: every raidfs mount, this one among them (other
# tests' may come and go meanwhile)
"$RAIDFS" status >"$T/status" || fail "raidfs status failed: $(cat "$T/status")"
grep -qx "$M:" "$T/status" || fail "raidfs status does not find $M: $(cat "$T/status")"
refused r1 "not a raidfs mount" "$RAIDFS" status "$T"

rf_umount "$M"
