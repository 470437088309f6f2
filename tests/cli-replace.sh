#!/bin/bash
# raidfs replace, as mdadm's --replace [--with]: the old member keeps
# serving while the new one is copied, then is marked faulty.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$(dirname "$0")/cli-lib.sh"

"$RAIDFS" create -l 5 -n 3 -N r5 --assume-clean --member-size 16M \
	"$T/r5a" "$T/r5b" "$T/r5c" >/dev/null
for f in s2 s3; do truncate -s 16M "$T/$f"; done
rf_mount "$M" "$T/r5a" "$T/r5b" "$T/r5c"
R5=$M/r5
random_file "$T/data5" 8M
dd if="$T/data5" of="$R5" bs=1M conv=notrunc,fsync status=none

note "replace --with a new file"
run replace "$R5" "$T/r5a" --with "$T/s2"
waited "$R5"
expect_row "$R5" "$T/s2" 0 "active sync"
row "$R5" "$T/r5a" | grep -q " faulty " || fail "r5a: $(row "$R5" "$T/r5a")"
same_data "$R5" "$T/data5"

note "replace onto a spare already there"
run add "$R5" "$T/s3"
run replace "$R5" "$T/r5b"
waited "$R5"
expect_row "$R5" "$T/s3" 1 "active sync"
same_data "$R5" "$T/data5"
expect_eq "r5 mismatch after replacing" "$(run check "$R5"; waited "$R5"; cat "$M/r5.md/mismatch_cnt")" 0

rf_umount "$M"
