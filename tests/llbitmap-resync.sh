#!/bin/bash
# SIGKILL during writes to a 16 GiB sparse raid1 with an llbitmap: the
# written chunks are Dirty on every member, and the resync at the next
# mount syncs only those (counted by what it writes to the sparse second
# mirror), not the whole array.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

M=$T/mnt
"$RAIDFS" create -l 1 -n 2 -N r -b lockless --assume-clean --member-size 16G \
	"$T/a" "$T/b" >/dev/null

# states MEMBER: "chunk state" for every chunk not Clean, from the map
states() {
	python3 - "$1" "$(bitmap_pos "$1")" <<'PY'
import struct, sys
with open(sys.argv[1], 'rb') as f:
    f.seek(int(sys.argv[2]))
    a = f.read(128 << 10)
sync_size, = struct.unpack_from('<Q', a, 40)
chunk, = struct.unpack_from('<I', a, 52)
for c in range((sync_size + chunk - 1) // chunk):
    if a[1024 + c] != 1:
        print(c, a[1024 + c])
PY
}

rf_mount "$M" "$T/a" "$T/b"
D=$M/r.md
CS=$(sed -n 's/^chunksize //p' "$D/llbitmap/metadata")
CHUNK=$((CS * 512))
expect_eq "llbitmap chunk of 16 GiB" $CHUNK $((256 << 10))
echo 600 >"$D/llbitmap/daemon_sleep"    # nothing cleaned while we look

note "8 chunks written, each in a block of the map of its own"
WRITTEN="600 1300 2000 9000 20000 33000 47000 65000"
chunks_writer "$M/r" $CHUNK "$WRITTEN" 4096 2 9
want=$(for c in $WRITTEN; do echo "$c 2"; done | tr '\n' ' ')
for i in $(seq 600); do
	[ "$(states "$T/a" | tr '\n' ' ')" = "$want" ] &&
		[ "$(states "$T/b" | tr '\n' ' ')" = "$want" ] && break
	sleep 0.1
done
expect_eq "Dirty on a while writing" "$(states "$T/a" | tr '\n' ' ')" "$want"
expect_eq "Dirty on b while writing" "$(states "$T/b" | tr '\n' ' ')" "$want"

note "SIGKILL: the resync covers only those chunks"
rf_crash "$M"
wait "$WRITER" 2>/dev/null || true
expect_eq "state after SIGKILL" "$(examine_field "$T/a" State)" active
expect_eq "map after SIGKILL" "$(states "$T/a" | tr '\n' ' ')" "$want"
before=$(stat -c %b "$T/b")
rf_mount "$M" "$T/a" "$T/b"
wait_idle "$D"
expect_eq "last_sync_action" "$(cat "$D/last_sync_action")" resync
expect_eq "state after the resync" "$(cat "$D/array_state")" clean
expect_eq "need sync left" "$(sed -n 's/^need sync //p' "$D/llbitmap/bits")" 0
after=$(stat -c %b "$T/b")
# The resync writes each chunk it syncs whole to the second mirror: the
# 8 chunks less the 8 KiB the writer put in each (a full resync would
# fill all 16 GiB of the sparse file).
grown=$(((after - before) * 512))
[ "$grown" -le $((8 * CHUNK)) ] ||
	fail "the resync wrote $grown bytes to b, more than the 8 chunks at risk"
[ "$grown" -ge $((8 * (CHUNK - 8192))) ] ||
	fail "the resync wrote $grown bytes to b: it skipped chunks at risk"
doff=$(examine_field "$T/a" "Data Offset" | cut -d' ' -f1)
for c in 600 65000; do
	at=$((doff * 512 + c * CHUNK))
	cmp -s <(dd if="$T/a" bs=64K skip=$at iflag=skip_bytes count=4 status=none) \
	       <(dd if="$T/b" bs=64K skip=$at iflag=skip_bytes count=4 status=none) ||
		fail "chunk $c differs between the mirrors after the resync"
done
rf_umount "$M"
exit 0
