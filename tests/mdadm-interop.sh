#!/bin/bash
# Debian's mdadm reads raidfs-created members and agrees with raidfs examine
# on level, UUID, device count, data offset and state.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
command -v mdadm >/dev/null || skip "no mdadm"

# field TOOL-OUTPUT NAME
field() { sed -n "s/^ *$2 : //p" <<<"$1" | head -n1; }

cd "$T"
for e in 1.0 1.1 1.2 0.90; do
	for level in linear 0 1; do
		for clean in --assume-clean ""; do
			rm -f a b
			"$RAIDFS" create -l $level -n 2 -e $e $clean -N interop --member-size 48M a b >/dev/null
			for m in a b; do
				ours=$("$RAIDFS" examine $m)
				theirs=$(mdadm --examine $m 2>/dev/null) || fail "mdadm --examine $m failed (level $level, $e)"
				for f in "Raid Level" "Raid Devices" "Array UUID" UUID "Data Offset" \
					 State "Version" "Events" "Used Dev Size" "Super Offset" \
					 "Device Role" "Array State" "Chunk Size" "Checksum"; do
					expect_eq "level $level $e $m '$f'" "$(field "$ours" "$f")" "$(field "$theirs" "$f")"
				done
			done
		done
		note "level $level, metadata $e: mdadm agrees"
	done
done
echo "PASS"
