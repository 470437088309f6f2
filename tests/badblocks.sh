#!/bin/bash
# md's bad-block log: sectors recorded bad on a member (and overwritten with
# garbage there) are never served as data.  raid1, raid10, raid5 and raid6
# read them from redundancy, check/repair neither count nor copy them;
# raid0 and linear fail just that read; bad_blocks lists them as md does;
# mdadm --examine-badblocks reads the log the helper wrote; bad bblog
# fields leave the member out with one line and write nothing.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
[ -x "${SB_BADBLOCKS:-}" ] || SB_BADBLOCKS=$(dirname "$RAIDFS")/../tests/sb-badblocks
[ -x "$SB_BADBLOCKS" ] || fail "no sb-badblocks helper (make check builds it)"
command -v mdadm >/dev/null || skip "no mdadm"

BAD=16 LEN=64       # the bad range, in sectors of the data area

data_offset() { examine_field "$1" "Data Offset" | cut -d' ' -f1; }

# spoil MEMBER [START]: garbage over the bad range (from START, default
# BAD), and the range in the log.
spoil() {
	local s=$(( $(data_offset "$1") + ${2:-$BAD} ))
	dd if=/dev/urandom of="$1" bs=512 seek="$s" count="$LEN" conv=notrunc status=none
	"$SB_BADBLOCKS" "$1" "$s:$LEN" || fail "sb-badblocks $1 failed"
	mdadm --examine-badblocks "$1" | grep -qE "^ +$s for $LEN sectors$" ||
		fail "mdadm does not read the log: $(mdadm --examine-badblocks "$1")"
	expect_eq "examine's Bad Block Log line" \
		"$("$RAIDFS" examine "$1" | grep "Bad Block Log")" \
		"$(mdadm --examine "$1" | grep "Bad Block Log")"
}

# make NAME CREATE-ARGS... -- MEMBERS...: an array holding $T/data.
make_array() {
	local name=$1; shift
	local args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	"$RAIDFS" create "${args[@]}" -N "$name" --member-size 8M "$@" >/dev/null
	rf_mount "$T/mnt" "$@"
	random_file "$T/data" "$(stat -c %s "$T/mnt/$name")"
	dd if="$T/data" of="$T/mnt/$name" bs=1M conv=notrunc,fsync status=none
	wait_idle "$T/mnt/$name.md"
	rf_umount "$T/mnt"
}

# redundant NAME BAD-MEMBERS REPAIRED CREATE-ARGS...: the bad members hold
# the first chunk of the array (data, not parity), so reading it would
# serve the garbage.  REPAIRED: repair rewrites the bad sectors from
# redundancy and clears them (raid5/6: md writes the block it computed
# for the member, MadeGood), or leaves them (raid1/10: md's sync neither
# reads nor writes an in-sync member's bad blocks).
redundant() {
	local name=$1 bad=$2 repaired=$3; shift 3
	local dir=$T/$name
	mkdir -p "$dir"
	note "$name: bad sectors on $bad"
	make_array "$name" "$@" -- "$dir"/{a,b,c,d}
	local m
	for m in $bad; do spoil "$dir/$m"; done
	rf_mount "$T/mnt" "$dir"/{a,b,c,d}
	local img=$T/mnt/$name ctl=$T/mnt/$name.md
	cmp -s "$img" "$T/data" || fail "$name: the recorded bad sectors were read as data"
	for m in $bad; do
		expect_eq "$name dev-$m/bad_blocks" "$(cat "$ctl/dev-$m/bad_blocks")" \
			"$(( $(data_offset "$dir/$m") + BAD )) $LEN"
	done
	# Repair takes no bad sector as its source nor counts it.
	echo repair >"$ctl/sync_action"
	wait_idle "$ctl"
	expect_eq "$name mismatch_cnt after repair" "$(cat "$ctl/mismatch_cnt")" 0
	cmp -s "$img" "$T/data" || fail "$name: repair copied the bad sectors"
	grep -q "\[UUUU\]" "$T/mnt/mdstat" || fail "$name: a member failed: $(cat "$T/mnt/mdstat")"
	rf_umount "$T/mnt"
	# The log is each member's own: only the bad members say so.
	for m in a b c d; do
		if [[ " $bad " = *" $m "* ]] && [ "$repaired" = no ]; then
			mdadm --examine-badblocks "$dir/$m" | grep -q " for $LEN sectors" ||
				fail "$name: $m lost its bad-block log"
		else
			mdadm --examine-badblocks "$dir/$m" | grep -q "is empty" ||
				fail "$name: $m has bad blocks: $(mdadm --examine-badblocks "$dir/$m")"
		fi
	done
}

redundant r1 a no -l 1 -n 4
# 1.0: the log below the superblock at the end, data from sector 0.
redundant r1v10 a no -l 1 -n 4 -e 1.0
redundant r10 a no -l 10 -n 4 -p n2 -c 64K
redundant r5 a yes -l 5 -n 4 -c 64K
# raid6's first chunk is on b (Q on a); c holds the second: two members
# bad at once, rebuilt from P and Q.
redundant r6 "b c" yes -l 6 -n 4 -c 64K

# Bad ranges on two copies, apart: a read over both is served in parts,
# each from a copy that holds it good, as md's read_balance does; check
# ends its windows at the bad ranges' edges, as md's sync_request does,
# so it still compares what both copies hold good (a's first sectors,
# spoiled unrecorded) instead of stopping.
apart() { # NAME MEMBERS CREATE-ARGS...
	local name=$1 members=$2; shift 2
	local dir=$T/$name m=(a b c d)
	mkdir -p "$dir"
	note "$name: bad sectors on a and b, apart"
	m=("${m[@]:0:$members}")
	make_array "$name" "$@" -- "${m[@]/#/$dir/}"
	spoil "$dir/a"
	spoil "$dir/b" $((BAD + LEN + 10))
	local img=$T/mnt/$name ctl=$T/mnt/$name.md
	rf_mount "$T/mnt" "${m[@]/#/$dir/}"
	dd if="$img" bs=1M status=none | cmp -s - "$T/data" ||
		fail "$name: the image does not read back whole"
	rf_umount "$T/mnt"

	dd if=/dev/urandom of="$dir/a" bs=512 seek="$(data_offset "$dir/a")" count=8 \
		conv=notrunc status=none
	# In the foreground: what the daemon says is checked.
	rf_mount_fg "$T/mnt" "${m[@]/#/$dir/}"
	echo check >"$ctl/sync_action"
	wait_idle "$ctl"
	[ "$(cat "$ctl/mismatch_cnt")" -gt 0 ] ||
		fail "$name: check skipped the sectors before the bad ranges"
	rf_umount "$T/mnt"
	if grep -q "stopped" "$T/daemon.err"; then
		fail "$name: $(cat "$T/daemon.err")"
	fi
}
apart r1apart 2 -l 1 -n 2
apart r10apart 4 -l 10 -n 4 -p n2 -c 64K

# No redundancy: the read of the bad range fails, the rest reads, the
# array does not break.
plain() {
	local name=$1; shift
	local dir=$T/$name img=$T/mnt/$name
	mkdir -p "$dir"
	note "$name: bad sectors on a"
	make_array "$name" "$@" -- "$dir"/{a,b}
	spoil "$dir/a"
	rf_mount "$T/mnt" "$dir"/{a,b}
	dd if="$img" of=/dev/null bs=512 skip=$BAD count=$LEN status=none 2>/dev/null &&
		fail "$name: the recorded bad sectors were read as data"
	dd if="$img" of=/dev/null bs=512 skip=$((BAD + LEN - 1)) count=1 status=none 2>/dev/null &&
		fail "$name: the last bad sector was read as data"
	cmp -s <(head -c $((BAD * 512)) "$img") <(head -c $((BAD * 512)) "$T/data") ||
		fail "$name: the sectors before the bad range differ"
	tail -c +$(( (BAD + LEN) * 512 + 1 )) "$T/data" >"$T/after"
	same_range "$img" $(( (BAD + LEN) * 512 )) "$T/after" ||
		fail "$name: the sectors after the bad range differ"
	expect_eq "$name array_state" "$(cat "$T/mnt/$name.md/array_state")" clean
	rf_umount "$T/mnt"
}
plain r0 -l 0 -n 2 -c 64K
plain lin -l linear -n 2

# Bad bblog fields or log entries: that member is left out with one line
# naming the field, and no member file changes.
mkdir "$T/x" && mkdir -p "$T/mnt"
"$RAIDFS" create -l 1 -n 2 --assume-clean -N x --member-size 8M "$T/x/a" "$T/x/b" >/dev/null
do=$(data_offset "$T/x/a")
size=$(examine_field "$T/x/a" "Avail Dev Size" | cut -d' ' -f1)
refused() { # PATTERN SB-BADBLOCKS-ARGS...
	local pattern=$1; shift
	rm -rf "$T/y" && cp -a "$T/x" "$T/y"
	"$SB_BADBLOCKS" "$T/y/a" "$@" || fail "sb-badblocks $* failed"
	local before after rc=0
	before=$(md5sum "$T"/y/*)
	# In the background: a mount that wrongly succeeds must not hang here.
	"$RAIDFS" mount "$T/y/a" "$T/y/b" "$T/mnt" 2>"$T/err" || rc=$?
	[ "$rc" != 0 ] || { fusermount3 -u "$T/mnt"; fail "$*: mounted"; }
	after=$(md5sum "$T"/y/*)
	local lines
	lines=$(grep -c "$(re_quote "$T/y/a"): .*; left out$" "$T/err" || true)
	[ "$lines" = 1 ] || fail "$*: want one line leaving out $T/y/a: $(cat "$T/err")"
	grep "$(re_quote "$T/y/a"): " "$T/err" | grep -q -- "$pattern" ||
		fail "$*: the line does not say '$pattern': $(cat "$T/err")"
	[ "$before" = "$after" ] || fail "$*: member files changed"
	note "refused: $(grep "$(re_quote "$T/y/a"): " "$T/err")"
}
refused "bblog_offset .* over the data area" bblog_offset=$((do - 8 + 1))
refused "bblog_offset .* over the superblock" bblog_offset=-4
refused "bblog_offset -100 .* outside the file" bblog_offset=-100
refused "bblog_offset .* outside the file" bblog_offset=0x7fffffff
refused "bblog_offset is 0" bblog_offset=0 feature=1
refused "bblog_size is 0" bblog_size=0 feature=1
refused "bblog_size 9" bblog_size=9
# super_1_load reads bblog_shift only with MD_FEATURE_BAD_BLOCKS (without
# it md starts the log at shift 0; hostile-sb serves such members)
refused "bblog_shift 17" bblog_shift=17 feature=1
refused "entry 0 .* outside the data area" raw=$(( 8 << 10 | 1 ))
refused "entry 1 .* outside the data area" $((do + 100)):8 $((do + size - 4)):8
refused "entry 0 .* no length" raw=$(( (do + 100) << 10 ))
echo "PASS"
