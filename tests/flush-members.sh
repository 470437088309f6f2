#!/bin/bash
# An fsync flushes only the members written since their last flush: on a
# disk each fdatasync is a cache flush command, and a member the write
# never reached has nothing to flush.  fail_after counts every IO of its
# member, fdatasync included, so it shows whether one reached the member.
# The power cut then shows the skipped flush lost nothing.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

cd "$T"

# 64K chunks: image [0, 64K) is a0's, [64K, 128K) b0's.
"$RAIDFS" create -l 0 -n 2 -c 64K -N r0 --member-size 16M "$T/a0" "$T/b0" >/dev/null
M=$T/mnt
rf_mount "$M" "$T/a0" "$T/b0"
MD=$M/r0.md
# The array stays active: safe mode's clean superblocks would be IO too.
echo 600 >"$MD/safe_mode_delay"
echo 1000000 >"$MD/dev-b0/fault/fail_after"
echo arm >"$MD/fault/power_cut"
random_file data 192K

# put OFFSET_K: 4K of data there, written and fsynced.
put() {
	dd if=data of="$M/r0" bs=4K count=1 seek="$(($1 / 4))" skip="$(($1 / 4))" \
		oflag=direct conv=notrunc,fsync 2>/dev/null || fail "write at ${1}K"
}
left() { cat "$MD/dev-b0/fault/fail_after"; }

put 0          # the array goes active: superblocks on both members
n=$(left)
put 4
expect_eq "b0's IOs after a write to a0 and fsync" "$(left)" "$n"
put 64
expect_eq "b0's IOs after a write to b0 and fsync" "$(left)" "$((n - 2))"
put 8
expect_eq "b0's IOs after a second write to a0 and fsync" "$(left)" "$((n - 2))"
expect_eq "writes at risk after the last fsync" "$(cat "$MD/fault/power_cut")" "armed 0"

note "nothing fsynced is lost at a power cut"
echo off >"$MD/dev-b0/fault/fail_after" 2>/dev/null || true
echo cut >"$MD/fault/power_cut"
rf_umount "$M"
rf_mount "$M" "$T/a0" "$T/b0"
for k in 0 4 64 8; do
	dd if=data of=piece bs=4K count=1 skip="$((k / 4))" 2>/dev/null
	same_range "$M/r0" "$((k * 1024))" piece || fail "the 4K at ${k}K after the cut"
done
rf_umount "$M"
echo PASS
