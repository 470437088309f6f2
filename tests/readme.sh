#!/bin/bash
# The README's "Using it" block, run as written: each command in turn in
# an empty directory, raidfs found on PATH, stopping at the first that
# fails.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v losetup >/dev/null || skip "no losetup (package mount)"
command -v mkfs.ext4 >/dev/null || skip "no mkfs.ext4 (package e2fsprogs)"
README=${README:-$(dirname "$0")/../README.md}

awk '/^## Using it/ { on = 1; next }
     on && /^```sh/ { code = 1; next }
     code && /^```/ { exit }
     code' "$README" >"$T/block.sh"
[ -s "$T/block.sh" ] || fail "no sh block under '## Using it' in $README"
mkdir "$T/try"
MOUNTS+=("$T/try/mnt")
# a loop device the block leaves behind, should a step after losetup fail
# (set +e first: under errexit "(exit 1)" would end the trap before cleanup)
trap 'rc=$?; set +e; losetup -j "$T/try/mnt/data" -O NAME -n | xargs -r losetup -d
      (exit $rc); cleanup' EXIT
(cd "$T/try" && PATH=$(dirname "$RAIDFS"):$PATH bash -euo pipefail -x "$T/block.sh") \
	>"$T/out" 2>&1 || { tail -n 30 "$T/out"; fail "the README's block failed"; }
note "ran $(grep -c . "$T/block.sh") lines; last: $(tail -n 1 "$T/out")"
mountpoint -q "$T/try/mnt" && fail "the block left its mount up"
grep -qx '0' "$T/out" || fail "the scrub's mismatch_cnt is not 0"
"$RAIDFS" examine "$T/try/c.img" | grep -q 'Device Role : Active device' ||
	fail "c.img did not take the failed member's role"
true
