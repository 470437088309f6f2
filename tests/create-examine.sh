#!/bin/bash
# create writes what it was asked to, for every level and metadata version,
# and examine prints it with mdadm's field names.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

cd "$T"
for e in 1.0 1.1 1.2 0.90; do
	for level in linear 0 1; do
		rm -f a b c
		note "level $level, metadata $e"
		"$RAIDFS" create -l $level -n 3 -e $e -c 64K -u 01234567:89abcdef:fedcba98:76543210 \
			-N demo --member-size 40M a b c >/dev/null
		want_level=$([ $level = linear ] && echo linear || echo raid$level)
		for m in a b c; do
			expect_eq "$m Raid Level" "$(examine_field $m "Raid Level")" "$want_level"
			expect_eq "$m Raid Devices" "$(examine_field $m "Raid Devices")" 3
			expect_eq "$m UUID" "$(examine_field $m "$([ $e = 0.90 ] && echo UUID || echo "Array UUID")")" \
				01234567:89abcdef:fedcba98:76543210
		done
		if [ $e != 0.90 ]; then
			expect_eq "Version" "$(examine_field a Version)" "$e"
			expect_eq "Name" "$(examine_field a Name | cut -d' ' -f1)" "$(hostname):demo"
			expect_eq "Device Role" "$(examine_field c "Device Role")" "Active device 2"
			expect_eq "Array State" "$(examine_field a "Array State" | cut -d' ' -f1)" AAA
			[ "$(examine_field a "Device UUID")" != "$(examine_field b "Device UUID")" ] ||
				fail "members share a device UUID"
		else
			expect_eq "Version" "$(examine_field a Version)" 0.90.00
		fi
	done
done

# A degraded create, a spare, the logical block size and --size.
rm -f a b c
"$RAIDFS" create -l 1 -n 2 -x 1 --logical-block-size 4096 -z 8M --member-size 40M a missing c >/dev/null
expect_eq "spare role" "$(examine_field c "Device Role")" spare
expect_eq "degraded array state" "$(examine_field a "Array State" | cut -d' ' -f1)" "A."
expect_eq "used size" "$(examine_field a "Used Dev Size" | cut -d' ' -f1)" 16384
expect_eq "logical block size at byte 12" \
	"$(od -An -tu4 -j $((4096 + 12)) -N4 a | tr -d ' ')" 4096
[ ! -e missing ] || fail "'missing' became a file"

# An existing array is not overwritten without --force.
rc=0; "$RAIDFS" create -l 1 -n 2 --member-size 40M a c 2>/dev/null || rc=$?
expect_eq "create over an array" $rc 2
"$RAIDFS" create -l 1 -n 2 --force --member-size 40M a c >/dev/null
echo "PASS"
