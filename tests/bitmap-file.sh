#!/bin/bash
# The classic bitmap in a file (create -b PATH, mount --bitmap PATH, as
# mdadm's --bitmap=FILE): laid down as mdadm's CreateBitmap lays it, read
# right by `mdadm -X`; found by its uuid at mount; its bits set before the
# data they cover and durable under the power cut, which reaches the file
# as it reaches the members; a SIGKILL's resync bounded by it; a mount
# without it leaves it behind, and the next one with it resyncs in full.
# Bad input gets a line and changes nothing.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

M=$T/mnt
BCHUNK=$((64 << 10))
members() { local a=$1 n=$2 i; for i in $(seq "$n"); do echo "$T/$a-$i"; done; }
# file_bits MEMBER: the bits of the file of MEMBER's array (r1-2: r1.bm).
file_bits() { local m=${1##*/}; bitmap_bits "$T/${m%-*}.bm" 0; }
mdadm_x() { mdadm -X "$1" 2>/dev/null | sed -n "s/^ *$2 : //p"; }

create_all() {
	rm -f "$T"/r1-[0-9] "$T"/r5-[0-9] "$T"/*.bm
	local o=(--bitmap-chunk 64K --assume-clean --member-size 8M -c 64K)
	"$RAIDFS" create -l 1 -n 2 -N r1 -b "$T/r1.bm" "${o[@]}" $(members r1 2) >/dev/null
	"$RAIDFS" create -l 5 -n 4 -N r5 -b "$T/r5.bm" "${o[@]}" $(members r5 4) >/dev/null
}
BITMAPS=(--bitmap "$T/r1.bm" --bitmap "$T/r5.bm")
all_members() { members r1 2; members r5 4; }

note "create: the file as mdadm's CreateBitmap writes it, the members with no bitmap"
create_all
# 256 bytes of superblock, then a bit for each of the 112 chunks of 64K
# in the 7 MiB each member holds after its 1 MiB data offset
expect_eq "file size" "$(stat -c %s "$T/r1.bm")" $((256 + 14))
expect_eq "bits at create" "$(file_bits "$T/r1-1" | wc -l)" 112
expect_eq "members' bitmap" "$(examine_field "$T/r1-1" "Internal Bitmap")" ""
if command -v mdadm >/dev/null; then
	expect_eq "mdadm -X chunksize" "$(mdadm_x "$T/r1.bm" Chunksize)" "64 KB"
	expect_eq "mdadm -X uuid" "$(mdadm_x "$T/r1.bm" UUID)" \
		"$(examine_field "$T/r1-1" "Array UUID")"
fi
# mdadm's default: 4K chunks, doubled until 2^20 of them cover the array
"$RAIDFS" create -l 1 -n 2 -N d -b "$T/d.bm" --member-size 16G "$T/d1" "$T/d2" >/dev/null
python3 - "$T/d.bm" <<'PY' || fail "default chunk of a bitmap file"
import struct, sys
sb = open(sys.argv[1], 'rb').read(256)
assert struct.unpack_from('<I', sb, 52)[0] == 16384, struct.unpack_from('<I', sb, 52)
PY
rm -f "$T"/d1 "$T"/d2 "$T"/d.bm

note "bad input: a line each, nothing changed"
refused() { # WHAT REASON CMD...: CMD fails, status 2, one line with REASON
	local out rc=0
	out=$("${@:3}" 2>&1 >/dev/null) || rc=$?
	expect_eq "$1: status" "$rc" 2
	expect_eq "$1: lines" "$(printf '%s\n' "$out" | wc -l)" 1
	[[ $out == *"$2"* ]] || fail "$1: said '$out', not '$2'"
}
mkdir -p "$M"
sum=$(cat "$T/r1.bm" "$T"/r1-[12] | sha256sum)
refused "a mistyped type" "give none, internal, lockless or the path" \
	"$RAIDFS" create -l 1 -n 2 -b interal -f "$T/r1-1" "$T/r1-2"
refused "an existing file" "already exists" \
	"$RAIDFS" create -l 1 -n 2 -b "$T/r1.bm" --member-size 8M "$T/x1" "$T/x2"
[ ! -e "$T/x1" ] || fail "a refused create left $T/x1"
refused "a member as the file" "is the member" \
	"$RAIDFS" create -l 1 -n 2 -b "$T/r1-1" -f "$T/r1-1" "$T/r1-2"
refused "no redundancy" "no redundancy" \
	"$RAIDFS" create -l 0 -n 2 -b "$T/z.bm" -f "$T/r1-1" "$T/r1-2"
[ ! -e "$T/z.bm" ] || fail "a refused create left $T/z.bm"
head -c 4096 /dev/zero >"$T/junk"
refused "no bitmap in the file" "no md bitmap superblock" \
	"$RAIDFS" mount --bitmap "$T/junk" $(members r1 2) "$M"
refused "the file of another array" "no array given has its uuid" \
	"$RAIDFS" mount --bitmap "$T/r5.bm" $(members r1 2) "$M"
# a file made for an array of the same uuid as one with an internal bitmap
U=0a1b2c3d:4e5f6071:8293a4b5:c6d7e8f9
"$RAIDFS" create -l 1 -n 2 -u $U -b internal --member-size 8M "$T/i1" "$T/i2" >/dev/null
"$RAIDFS" create -l 1 -n 2 -u $U -b "$T/i.bm" --member-size 8M "$T/j1" "$T/j2" >/dev/null
refused "an array with an internal bitmap" "has an internal bitmap" \
	"$RAIDFS" mount --bitmap "$T/i.bm" "$T/i1" "$T/i2" "$M"
expect_eq "files after the refusals" "$(cat "$T/r1.bm" "$T"/r1-[12] | sha256sum)" "$sum"
mountpoint -q "$M" && fail "a refused mount is mounted"

note "mount: the file found by its uuid, its control files"
rf_mount "$M" "${BITMAPS[@]}" $(all_members)
D=$M/r1.md
expect_eq "bitmap_type" "$(cat "$D/bitmap_type")" "none [bitmap] llbitmap"
expect_eq "bitmap/location" "$(cat "$D/bitmap/location")" file
expect_eq "bitmap/chunksize" "$(cat "$D/bitmap/chunksize")" $BCHUNK
grep -qF "64KB chunk, file: $(realpath "$T/r5.bm")" "$M/mdstat" ||
	fail "mdstat: $(cat "$M/mdstat")"
expect_eq "detail" "$("$RAIDFS" detail "$M/r1" | grep "Intent Bitmap")" \
	"     Intent Bitmap : $(realpath "$T/r1.bm")"
for a in r1 r5; do echo 0.1 >"$M/$a.md/bitmap/time_base"; done
wait_bits "$T/r1.bm" "" 0
wait_bits "$T/r5.bm" "" 0
echo 60 >"$D/bitmap/time_base"
dd if=/dev/urandom of="$M/r1" bs=4K count=1 seek=$((7 * BCHUNK / 4096)) \
   conv=notrunc,fsync status=none
expect_eq "bits after a write" "$(bitmap_bits "$T/r1.bm" 0 | tr '\n' ' ')" "7 "
# bitmap_bits reads the file, so the mark above is in it before the data
# (fsync) is acknowledged; the events follow the superblock's.
rf_umount "$M"
expect_eq "bits after a clean stop" "$(bitmap_bits "$T/r1.bm" 0 | wc -l)" 0
command -v mdadm >/dev/null &&
	expect_eq "mdadm -X events" "$(mdadm_x "$T/r1.bm" Events)" \
		"$(examine_field "$T/r1-1" Events)"

note "SIGKILL during writes: the resync covers the marked chunks only"
rf_mount "$M" "${BITMAPS[@]}" $(all_members)
echo 60 >"$D/bitmap/time_base"
chunks_writer "$M/r1" $BCHUNK "3 40 " 4096 2 1
wait_bits "$T/r1.bm" "3 40 " 0
rf_crash "$M"
wait "$WRITER" 2>/dev/null || true
# as fstab gives it to mount.raidfs
rf_mount_fg "$M" -o "bitmap=$T/r1.bm,bitmap=$T/r5.bm" $(all_members)
wait_idle "$D"
grep -q "r1: resync by the bitmap: 256 of 14336 sectors synced" "$T/daemon.err" ||
	fail "resync after SIGKILL: $(grep r1: "$T/daemon.err")"
rf_umount "$M"

note "a mount without the file leaves it behind: the next resyncs in full"
rf_mount "$M" $(all_members)
expect_eq "bitmap_type without the file" "$(cat "$D/bitmap_type")" "[none] bitmap llbitmap"
dd if=/dev/urandom of="$M/r1" bs=4K count=1 seek=3 conv=notrunc,fsync status=none
rf_crash "$M"
rf_mount_fg "$M" "${BITMAPS[@]}" $(all_members)
wait_idle "$D"
grep -q "r1: resync by the bitmap: 14336 of 14336 sectors synced" "$T/daemon.err" ||
	fail "resync with a stale file: $(grep r1: "$T/daemon.err")"
rf_umount "$M"

note "a file that fails a write is kicked: the next mount resyncs in full"
# The file on a raidfs image whose member takes write faults: md kicks a
# bitmap file it cannot write and the members' events move past it, or a
# crash would find the chunk written since unmarked and skip it.
H=$T/hostmnt
"$RAIDFS" create -f -l linear -n 1 -N host --member-size 2M "$T/h1" >/dev/null
rf_mount "$H" "$T/h1"
HOST_PID=$RF_PID
dd if="$T/r1.bm" of="$H/host" conv=notrunc,fsync status=none
rf_mount_fg "$M" --bitmap "$H/host" $(members r1 2)
echo 60 >"$D/safe_mode_delay"
dd if=/dev/urandom of="$M/r1" bs=4K count=1 seek=16 conv=notrunc,fsync status=none
expect_eq "array_state before the fault" "$(cat "$D/array_state")" active
echo "0 2048" >"$H/host.md/dev-h1/fault/write_errors"
dd if=/dev/urandom of="$M/r1" bs=4K count=1 seek=$((9 * BCHUNK / 4096)) \
   conv=notrunc,fsync status=none
grep -q "r1: kicking failed bitmap file $H/host from array" "$T/daemon.err" ||
	fail "no kick: $(cat "$T/daemon.err")"
rf_crash "$M"
# The disk mended: the host (a linear array, broken by the error as md's
# are) started again without the fault.
RF_PID=$HOST_PID RF_CHILD=0
rf_umount "$H"
rf_mount "$H" "$T/h1"
HOST_PID=$RF_PID
rf_mount_fg "$M" --bitmap "$H/host" $(members r1 2)
wait_idle "$D"
grep -q "r1: resync by the bitmap: 14336 of 14336 sectors synced" "$T/daemon.err" ||
	fail "resync after a kick: $(grep r1: "$T/daemon.err")"
grep -q kicking "$T/daemon.err" && fail "the file was kicked again: $(cat "$T/daemon.err")"
rf_umount "$M"
RF_PID=$HOST_PID RF_CHILD=0
rf_umount "$H"

note "power cut: every chunk with data is marked in the file"
for seed in $(seq "${POWER_CUT_SEEDS:-6}"); do
	create_all
	rf_mount "$M" "${BITMAPS[@]}" $(all_members)
	for a in r1 r5; do echo 0.1 >"$M/$a.md/bitmap/time_base"; done
	wait_bits "$T/r1.bm" "" 0
	wait_bits "$T/r5.bm" "" 0
	for a in r1 r5; do
		echo 60 >"$M/$a.md/bitmap/time_base"
		echo 60 >"$M/$a.md/safe_mode_delay"
		echo arm >"$M/$a.md/fault/power_cut"
	done
	cut_during_writes "$seed" "$M" r1 r5
	chunks_marked "seed $seed: r1" $BCHUNK file_bits written_chunks $(members r1 2)
	n=$DATA_CHUNKS
	chunks_marked "seed $seed: r5" $BCHUNK file_bits written_chunks $(members r5 4)
	mount_and_check "seed $seed" "$M" "r1 r5" "${BITMAPS[@]}" $(all_members)
	rf_umount "$M"
	echo "seed $seed: $((n + DATA_CHUNKS)) member chunks written before the cut, each marked in its file"
done
exit 0
