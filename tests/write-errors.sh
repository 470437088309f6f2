#!/bin/bash
# md's answer to a member write error (dev-X/fault/write_errors): on raid1,
# raid10, raid5 and raid6 the failed range goes into the member's bad-block
# log, the member stays in sync, the data reads back right (from
# redundancy: the member itself never took it), dev-X/bad_blocks and
# mdadm --examine-badblocks show the range, and it is still there after the
# array is assembled again, until a write makes it good.  On 0.90 metadata
# (no log) the member fails.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v mdadm >/dev/null || skip "no mdadm"

S=16 L=32          # the failing range, sectors of the member's data area
M=$T/mnt

data_offset() { examine_field "$1" "Data Offset" | cut -d' ' -f1; }

# write_all NAME FILE: FILE over the whole image, synchronously.
write_all() {
	dd if="$2" of="$M/$1" bs=1M oflag=direct conv=notrunc,fsync status=none ||
		fail "$1: writing the image failed"
}

# recorded NAME MEMBER CREATE-ARGS...: MEMBER holds array data over
# [S, S + L) of its data area.
recorded() {
	local name=$1 victim=$2; shift 2
	local dir=$T/$name
	mkdir -p "$dir"
	note "$name: write errors on $victim"
	"$RAIDFS" create --assume-clean -N "$name" --member-size 8M "$@" "$dir"/{a,b,c,d} >/dev/null
	rf_mount "$M" "$dir"/{a,b,c,d}
	local ctl=$M/$name.md dev=$M/$name.md/dev-$victim
	local size
	size=$(stat -c %s "$M/$name")
	random_file "$T/old" "$size"
	random_file "$T/new" "$size"
	write_all "$name" "$T/old"
	echo "$S $L" >"$dev/fault/write_errors"
	write_all "$name" "$T/new"
	[ "$(sed -n 's/^write_errors //p' "$dev/fault/injected")" -gt 0 ] ||
		fail "$name: no write error was delivered"
	cmp -s "$M/$name" "$T/new" || fail "$name: the image does not read back"
	local state
	state=$(cat "$dev/state")
	[[ ",$state," = *,in_sync,* && ",$state," != *,faulty,* ]] ||
		fail "$name: $victim is '$state'"
	grep -q "\[UUUU\]" "$M/mdstat" || fail "$name: $(cat "$M/mdstat")"
	local first=$(( $(data_offset "$dir/$victim") + S ))
	expect_eq "$name dev-$victim/bad_blocks" "$(cat "$dev/bad_blocks")" "$first $L"
	expect_eq "$name unacknowledged" "$(cat "$dev/unacknowledged_bad_blocks")" ""
	expect_eq "$name $victim's write_errors" "$(cat "$dev/fault/write_errors")" "$S $L"
	rf_umount "$M"

	mdadm --examine-badblocks "$dir/$victim" | grep -qE "^ +$first for $L sectors$" ||
		fail "$name: mdadm reads no such range: $(mdadm --examine-badblocks "$dir/$victim")"
	# The member never took the new data there: what read back came
	# from redundancy.
	cmp -s <(dd if="$dir/$victim" bs=512 skip="$first" count="$L" status=none) \
		<(dd if="$T/new" bs=512 skip="$S" count="$L" status=none) &&
		fail "$name: $victim holds the new data over the failed range"
	rf_mount "$M" "$dir"/{a,b,c,d}
	expect_eq "$name dev-$victim/bad_blocks after assembly" \
		"$(cat "$dev/bad_blocks")" "$first $L"
	cmp -s "$M/$name" "$T/new" || fail "$name: the image does not read back after assembly"
	# Assembled again, the member has seen no write error: a write over
	# the range reaches it and makes it good (md's MadeGood), and the
	# log follows.
	write_all "$name" "$T/old"
	expect_eq "$name dev-$victim/bad_blocks rewritten" "$(cat "$dev/bad_blocks")" ""
	rf_umount "$M"
	mdadm --examine-badblocks "$dir/$victim" | grep -q "is empty" ||
		fail "$name: the log was not rewritten: $(mdadm --examine-badblocks "$dir/$victim")"
	# A mirror holds the image as it is: the rewrite is on the member.
	if [ "$name" = r1 ] &&
	   ! cmp -s <(dd if="$dir/$victim" bs=512 skip="$first" count="$L" status=none) \
		    <(dd if="$T/old" bs=512 skip="$S" count="$L" status=none); then
		fail "$name: $victim does not hold the rewrite"
	fi
}

recorded r1 b -l 1 -n 4
recorded r10 a -l 10 -n 4 -p n2 -c 64K
recorded r5 a -l 5 -n 4 -c 64K
# raid6's first chunk is on b (Q on a).
recorded r6 b -l 6 -n 4 -c 64K

note "0.90: no log, the member fails"
mkdir -p "$T/old90"
"$RAIDFS" create --assume-clean -N r90 -e 0.90 -l 1 -n 2 --member-size 8M \
	"$T"/old90/{a,b} >/dev/null 2>&1
rf_mount "$M" "$T"/old90/{a,b}
# 0.90 has no name: the array is served as mdN.
md=$(cd "$M" && ls -d md[0-9]*.md) && md=${md%.md}
dev=$M/$md.md/dev-b
random_file "$T/data90" "$(stat -c %s "$M/$md")"
echo "$S $L" >"$dev/fault/write_errors"
write_all "$md" "$T/data90"
# md keeps write_error and want_replacement on the failed member too.
state=$(cat "$dev/state")
[[ ",$state," = *,faulty,* && ",$state," != *,in_sync,* ]] || fail "0.90: b is '$state'"
grep -q "b\[1\](F)" "$M/mdstat" || fail "0.90: no (F) in $(cat "$M/mdstat")"
grep -q "\[U_\]" "$M/mdstat" || fail "0.90: not degraded: $(cat "$M/mdstat")"
expect_eq "0.90 bad_blocks" "$(cat "$dev/bad_blocks")" ""
cmp -s "$M/$md" "$T/data90" || fail "0.90: the image does not read back"
rf_umount "$M"
echo PASS
