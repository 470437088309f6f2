#!/bin/bash
# The classic internal bitmap (create -b internal): laid down as mdadm's,
# read right by `mdadm -X`; its control files; a chunk's bit is set on
# every member while it is written and cleared once idle; after SIGKILL
# the resync of a 16 GiB array covers only the chunks written, not all.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

M=$T/mnt
CHUNK=$((64 << 20))     # mdadm's default chunk for an internal bitmap
"$RAIDFS" create -l 1 -n 2 -N r -b internal --assume-clean --member-size 16G \
	"$T/a" "$T/b" >/dev/null
expect_eq "bitmap place" "$(examine_field "$T/a" "Internal Bitmap")" \
	"8 sectors from superblock"
# mdadm's write_bitmap sets every bit; the resync offset says none is needed.
expect_eq "bits at create" "$(bitmap_bits "$T/b" | wc -l)" 256

# mdadm_x MEMBER FIELD: a field of `mdadm -X` on the member (read-only
# loop device), or nothing when mdadm or loop devices are absent.
mdadm_x() {
	command -v mdadm >/dev/null || return 0
	local dev
	dev=$(losetup -f --show -r "$1" 2>/dev/null) || return 0
	mdadm -X "$dev" 2>/dev/null | sed -n "s/^ *$2 : //p"
	losetup -d "$dev"
}
x=$(mdadm_x "$T/a" Chunksize)
[ -z "$x" ] || expect_eq "mdadm -X chunksize" "$x" "64 MB"
x=$(mdadm_x "$T/a" Bitmap)
[ -z "$x" ] || expect_eq "mdadm -X bits" "$x" "256 bits (chunks), 256 dirty (100.0%)"

rf_mount "$M" "$T/a" "$T/b"
D=$M/r.md
expect_eq "bitmap_type" "$(cat "$D/bitmap_type")" "none [bitmap] llbitmap"
expect_eq "consistency_policy" "$(cat "$D/consistency_policy")" bitmap
expect_eq "bitmap/chunksize" "$(cat "$D/bitmap/chunksize")" $CHUNK
expect_eq "bitmap/metadata" "$(cat "$D/bitmap/metadata")" internal
expect_eq "bitmap/location" "$(cat "$D/bitmap/location")" +8
expect_eq "bitmap/time_base" "$(cat "$D/bitmap/time_base")" 5
expect_eq "bitmap/max_backlog_used" "$(cat "$D/bitmap/max_backlog_used")" 0
echo 0 >"$D/bitmap/time_base" 2>/dev/null && fail "time_base took 0"
echo 5x >"$D/bitmap/time_base" 2>/dev/null && fail "time_base took 5x"
echo 64K 2>/dev/null >"$D/bitmap/chunksize" && fail "chunksize is not writable"
echo 0.2 >"$D/bitmap/time_base"
expect_eq "bitmap/time_base" "$(cat "$D/bitmap/time_base")" 0.200

note "the daemon clears the idle bits of create"
wait_bits "$T/a" ""
wait_bits "$T/b" ""

note "a written chunk's bit is on every member while it is written"
echo 60 >"$D/bitmap/time_base"      # no clearing while we look
WRITTEN="3 77 200 "
chunks_writer "$M/r" $CHUNK "$WRITTEN" 65536 4 7
wait_bits "$T/a" "$WRITTEN"
wait_bits "$T/b" "$WRITTEN"
expect_eq "array_state while writing" "$(cat "$D/array_state")" active
x=$(mdadm_x "$T/b" Bitmap)
[ -z "$x" ] || expect_eq "mdadm -X while writing" "$x" "256 bits (chunks), 3 dirty (1.2%)"

note "SIGKILL: the resync covers only those chunks"
rf_crash "$M"
wait "$WRITER" 2>/dev/null || true
expect_eq "state after SIGKILL" "$(examine_field "$T/a" State)" active
expect_eq "bits after SIGKILL" "$(bitmap_bits "$T/a" | tr '\n' ' ')" "$WRITTEN"
before=$(stat -c %b "$T/b")
rf_mount "$M" "$T/a" "$T/b"
wait_idle "$D"
expect_eq "state after the resync" "$(cat "$D/array_state")" clean
after=$(stat -c %b "$T/b")
# The resync writes what it syncs to the second mirror: at most the three
# chunks (a full resync would fill all 16 GiB of the sparse file).
grown=$(((after - before) * 512))
[ "$grown" -le $((3 * CHUNK)) ] ||
	fail "the resync wrote $grown bytes to b, more than the 3 chunks at risk"
[ "$grown" -gt $((2 * CHUNK)) ] ||
	fail "the resync wrote $grown bytes to b: it skipped chunks at risk"
cmp -s <(dd if="$T/a" bs=1M skip=$((200 * 64)) count=64 status=none) \
       <(dd if="$T/b" bs=1M skip=$((200 * 64)) count=64 status=none) ||
	fail "chunk 200 differs between the mirrors after the resync"

note "the synced chunks' bits clear once idle; a clean stop clears all"
echo 0.2 >"$D/bitmap/time_base"
wait_bits "$T/a" ""
echo 60 >"$D/bitmap/time_base"
dd if=/dev/urandom of="$M/r" bs=64K count=1 seek=$((5 * CHUNK / 65536)) \
   conv=notrunc,fsync status=none
expect_eq "bits after a write" "$(bitmap_bits "$T/b" | tr '\n' ' ')" "5 "
rf_umount "$M"
expect_eq "bits after a clean stop" "$(bitmap_bits "$T/a" | wc -l)" 0
x=$(mdadm_x "$T/a" Bitmap)
[ -z "$x" ] || expect_eq "mdadm -X after a clean stop" "$x" "256 bits (chunks), 0 dirty (0.0%)"
x=$(mdadm_x "$T/a" "Events Cleared")
[ -z "$x" ] || [ "$x" -gt 0 ] || fail "events_cleared stayed 0 after writes"
[ -z "$x" ] || expect_eq "mdadm -X events" "$(mdadm_x "$T/a" Events)" \
	"$(examine_field "$T/a" Events)"

# raid10's resync walks member rows, its bitmap covers the array: the
# whole initial resync must still let the daemon clear create's bits.
note "raid10: the initial resync clears create's bits"
"$RAIDFS" create -l 10 -n 4 -c 64K -N t -b internal --bitmap-chunk 1M \
	--member-size 32M "$T/t0" "$T/t1" "$T/t2" "$T/t3" >/dev/null
rf_mount "$M" "$T/t0" "$T/t1" "$T/t2" "$T/t3"
echo 0.2 >"$M/t.md/bitmap/time_base"
wait_idle "$M/t.md"
for m in t0 t1 t2 t3; do wait_bits "$T/$m" ""; done
rf_umount "$M"
exit 0
