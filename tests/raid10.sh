#!/bin/bash
# raid10 near, far and offset over 4 sparse members, end to end: create (with
# the initial resync), mdstat and io_opt, random data, check finds nothing,
# every single member missing still gives the same image, and a whole mirror
# set missing is refused with a reason.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

# layout_test LAYOUT MDSTAT-WORDS IO-OPT-KIB LOST...: LOST are members whose
# loss together loses data (a whole mirror set for md's _enough).
layout_test() {
	local p=$1 words=$2 io_opt=$3
	shift 3
	local lost=" $* "
	local dir=$T/$p m=(a b c d)
	mkdir -p "$dir"
	note "raid10 $p"
	"$RAIDFS" create -l 10 -n 4 -p "$p" -c 64K -N "$p" --member-size 32M \
		"${m[@]/#/$dir/}" >/dev/null
	rf_mount "$T/mnt" "${m[@]/#/$dir/}"
	local img=$T/mnt/$p ctl=$T/mnt/$p.md
	grep -q "^$p : active raid10 " "$T/mnt/mdstat" || fail "mdstat: $(cat "$T/mnt/mdstat")"
	grep -qF " 64K chunks $words [4/4] [UUUU]" "$T/mnt/mdstat" ||
		fail "$p: mdstat status line: $(cat "$T/mnt/mdstat")"
	expect_eq "$p st_blksize" "$(stat -c %o "$img")" $((io_opt * 1024))
	# md's raid10_size from the component size, in 64K chunks: far copies
	# divide each member, near copies the members; then md recomputes it
	# from the member chunks really used (calc_sectors).
	local kind=${p:0:1} copies=${p:1} nc fc chunks used kib
	if [ "$kind" = n ]; then nc=$copies fc=1; else nc=1 fc=$copies; fi
	chunks=$(( $(examine_field "$dir/a" "Avail Dev Size" | cut -d' ' -f1) / 128 ))
	used=$(( (chunks / fc * 4 / nc * nc * fc + 3) / 4 ))
	kib=$(( used / fc * 4 / nc * 64 ))
	expect_eq "$p image size" "$(stat -c %s "$img")" $((kib * 1024))

	# Random data over most of the image, plus an unaligned piece at the end.
	random_file "$T/data" $((kib * 1024 - 1000000))
	random_file "$T/tail" 300001
	dd if="$T/data" of="$img" bs=1M conv=notrunc status=none
	dd if="$T/tail" of="$img" bs=64K oflag=seek_bytes seek=$((kib * 1024 - 300001 - 77)) \
		conv=notrunc,fsync status=none
	same_range "$img" 0 "$T/data" || fail "$p: data reads back differently"
	same_range "$img" $((kib * 1024 - 300001 - 77)) "$T/tail" || fail "$p: tail differs"
	wait_idle "$ctl"                       # the initial resync
	echo check >"$ctl/sync_action"
	wait_idle "$ctl"
	expect_eq "$p mismatch_cnt after check" "$(cat "$ctl/mismatch_cnt")" 0
	local sum
	sum=$(image_sum "$img")
	rf_umount "$T/mnt"

	# Each member missing in turn, on a copy of the members so the degraded
	# start (which records the member as gone) leaves the originals whole.
	local gone left
	for gone in "${m[@]}"; do
		rm -rf "$T/deg"
		mkdir "$T/deg"
		left=()
		for x in "${m[@]}"; do
			[ "$x" = "$gone" ] && continue
			cp --sparse=always "$dir/$x" "$T/deg/$x"
			left+=("$T/deg/$x")
		done
		rf_mount "$T/mnt" -o run "${left[@]}"
		grep -qF "[4/3]" "$T/mnt/mdstat" || fail "$p without $gone: $(cat "$T/mnt/mdstat")"
		expect_eq "$p image without $gone" "$(image_sum "$T/mnt/$p")" "$sum"
		rf_umount "$T/mnt"
	done

	# A whole mirror set gone: refused, one line saying why.
	left=()
	for x in "${m[@]}"; do
		[[ "$lost" == *" $x "* ]] || left+=("$dir/$x")
	done
	mkdir -p "$T/mnt2"
	MOUNTS+=("$T/mnt2")
	local rc=0
	timeout 20 "$RAIDFS" mount -f -o run "${left[@]}" "$T/mnt2" 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "$p without$lost: exit $rc, want 2 (refused)"
	grep -q "^raidfs: $p: ${#left[@]} of 4 members present, too few for raid10" "$T/err" ||
		fail "$p: no reason given: $(cat "$T/err")"
}

layout_test n2 "2 near-copies" 128 a b
layout_test f2 "2 far-copies" 256 b c
layout_test o2 "2 offset-copies" 256 d a
layout_test n3 "3 near-copies" 256 a b c     # 4 % 3: io_opt spans all members

# Layouts that need more members than given are refused, nothing written.
rc=0
"$RAIDFS" create -l 10 -n 2 -p n3 --member-size 32M "$T/x1" "$T/x2" 2>"$T/err" || rc=$?
expect_eq "n3 over 2 refused" "$rc" 2
grep -q "requires at least 3 devices" "$T/err" || fail "n3 over 2: $(cat "$T/err")"
[ ! -e "$T/x1" ] || fail "a refused create wrote $T/x1"
echo "PASS"
