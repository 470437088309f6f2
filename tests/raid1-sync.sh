#!/bin/bash
# check counts mismatches between mirrors without changing them; repair
# rewrites them from the first mirror; an interrupted resync resumes.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse


"$RAIDFS" create -l 1 -n 2 -N m --assume-clean --member-size 32M "$T/a" "$T/b" >/dev/null
rf_mount "$T/mnt" "$T/a" "$T/b"
dd if=/dev/urandom of="$T/mnt/m" bs=1M count=8 conv=notrunc,fsync status=none
echo check >"$T/mnt/m.md/sync_action"
wait_idle "$T/mnt/m.md"
expect_eq "mismatch_cnt on a consistent mirror" "$(cat "$T/mnt/m.md/mismatch_cnt")" 0
rf_umount "$T/mnt"

# Corrupt 4 KiB of b behind the array's back.
off=$(( $(examine_field "$T/b" "Data Offset" | cut -d' ' -f1) * 512 ))
dd if=/dev/urandom of="$T/b" bs=4096 seek=$((off / 4096 + 100)) count=1 conv=notrunc status=none
rf_mount "$T/mnt" "$T/a" "$T/b"
echo check >"$T/mnt/m.md/sync_action"
wait_idle "$T/mnt/m.md"
expect_eq "mismatch_cnt after corruption" "$(cat "$T/mnt/m.md/mismatch_cnt")" 128
expect_eq "last_sync_action" "$(cat "$T/mnt/m.md/last_sync_action")" check
echo repair >"$T/mnt/m.md/sync_action"
wait_idle "$T/mnt/m.md"
echo check >"$T/mnt/m.md/sync_action"
wait_idle "$T/mnt/m.md"
expect_eq "mismatch_cnt after repair" "$(cat "$T/mnt/m.md/mismatch_cnt")" 0
echo bogus >"$T/mnt/m.md/sync_action" 2>/dev/null && fail "sync_action accepted 'bogus'"

# A throttled resync interrupted by a clean stop resumes from its checkpoint.
rf_umount "$T/mnt"
"$RAIDFS" create -l 1 -n 2 -N s --force --member-size 32M "$T/a" "$T/b" >/dev/null
expect_eq "new raid1 needs resync" "$(examine_field "$T/a" State)" active
rf_mount "$T/mnt" -o sync_speed_max=4000 "$T/a" "$T/b"
sleep 2.5
grep -q 'resync =' "$T/mnt/mdstat" || fail "mdstat shows no resync: $(cat "$T/mnt/mdstat")"
rf_umount "$T/mnt"
ro=$(od -An -tu8 -j $((4096 + 208)) -N8 "$T/a" | tr -d ' ')   # sb resync_offset
[ -n "$ro" ] && [ "$ro" -gt 0 ] || fail "no resync checkpoint recorded ($ro)"
rf_mount "$T/mnt" "$T/a" "$T/b"
wait_idle "$T/mnt/s.md"
expect_eq "resync finished" "$(cat "$T/mnt/s.md/resync_start")" none
echo check >"$T/mnt/s.md/sync_action"
wait_idle "$T/mnt/s.md"
expect_eq "mismatch_cnt after resync" "$(cat "$T/mnt/s.md/mismatch_cnt")" 0
rf_umount "$T/mnt"
echo "PASS"
