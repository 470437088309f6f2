#!/bin/bash
# raid10 with the classic bitmap: its resync walks member rows, the bitmap
# covers the array, and each virtual block asks the bitmap (md's
# raid10_sync_request).  After SIGKILL during writes, the resync covers
# the chunks whose bits are set and no others: in every layout (near,
# offset, far), a copy spoilt on one member in a chunk with its bit set
# is made consistent, one spoilt in a chunk without stays for check; the
# pass counts only what it synced (md's sync speed leaves out what the
# bitmap skipped).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

M=$T/mnt
D=$M/r.md
BCHUNK=$((1 << 20))
WRITTEN="5 40 "
STALE=20         # no bit: never written since the bits cleared

# spoil MEMBER CHUNK: 256 KiB of random where MEMBER holds copies of
# bitmap chunk CHUNK and of no other (1 MiB of the array over 4 members,
# 2 copies: the member rows of 512 KiB from CHUNK * 512 KiB in near and
# offset layouts, 256 KiB from CHUNK * 256 KiB in the far layout's first
# half).
spoil() {
	local doff at=$(($2 * ROW_BYTES))
	doff=$(examine_field "$1" "Data Offset" | cut -d' ' -f1)
	dd if=/dev/urandom of="$1" bs=256K count=1 conv=notrunc status=none \
	   oflag=seek_bytes seek=$((doff * 512 + at))
}

for layout in n2 o2 f2; do
	note "layout $layout"
	ROW_BYTES=$((512 << 10))
	[ "$layout" = f2 ] && ROW_BYTES=$((256 << 10))
	rm -f "$T"/m[0-3]
	"$RAIDFS" create -l 10 -p "$layout" -n 4 -c 64K -N r -b internal \
		--bitmap-chunk 1M --assume-clean --member-size 64M \
		"$T/m0" "$T/m1" "$T/m2" "$T/m3" >/dev/null
	rf_mount "$M" "$T"/m[0-3]
	echo 0.1 >"$D/bitmap/time_base"
	for m in 0 1 2 3; do wait_bits "$T/m$m" ""; done
	echo 60 >"$D/bitmap/time_base"
	chunks_writer "$M/r" $BCHUNK "$WRITTEN" 65536 16 0
	for m in 0 1 2 3; do wait_bits "$T/m$m" "$WRITTEN"; done
	rf_crash "$M"
	wait "$WRITER" 2>/dev/null || true

	spoil "$T/m1" 40
	spoil "$T/m1" $STALE
	rf_mount_fg "$M" "$T"/m[0-3]
	wait_idle "$D"
	# 2 chunks of 1 MiB at risk: about 1 MiB of each member's rows is
	# synced (the sync speed counts no more), not its 63 MiB.
	synced=$(sed -n 's/.*resync by the bitmap: \([0-9]*\) of.*/\1/p' "$T/daemon.err")
	note "$layout: the resync synced $synced sectors of the members' rows"
	[ -n "$synced" ] && [ "$synced" -gt 0 ] && [ "$synced" -le 4096 ] ||
		fail "$layout: $(grep -i resync "$T/daemon.err")"
	echo check >"$D/sync_action"
	wait_idle "$D"
	# 256 KiB on one member: 512 sectors of copies that disagree, all in
	# the chunk the resync rightly left alone.
	expect_eq "$layout: mismatch_cnt after the resync" "$(cat "$D/mismatch_cnt")" 512
	rf_umount "$M"
done
exit 0
