#!/bin/bash
# create -b lockless (and mdadm's alias llbitmap) lays md's llbitmap
# (bitmap version 6) down on every member; assembly picks llbitmap's ops
# by that version: bitmap_type, consistency_policy, the llbitmap/ control
# files (writable ones validated: a refused value changes nothing).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

M=$T/mnt

# llsb MEMBER: version state chunksize sectors_reserved daemon_sleep of the
# bitmap superblock at super_offset + bitmap_offset, and the map's states
# counted (u c d n s), read as md-llbitmap.c lays them out.
llsb() {
	python3 - "$1" "$(bitmap_pos "$1")" <<'PY'
import struct, sys
with open(sys.argv[1], 'rb') as f:
    f.seek(int(sys.argv[2]))
    a = f.read(128 << 10)
magic, version = struct.unpack_from('<II', a, 0)
assert magic == 0x6d746962, 'no bitmap superblock'
sync_size, = struct.unpack_from('<Q', a, 40)
state, chunk, sleep = struct.unpack_from('<III', a, 48)
reserved, = struct.unpack_from('<I', a, 64)
n = (sync_size + chunk - 1) // chunk
counts = [a[1024:1024 + n].count(s) for s in range(5)]
print(version, state, chunk, reserved, sleep, *counts)
PY
}

note "raid1 -b lockless: every member FIRST_USE, all Unwritten, 128 KiB"
"$RAIDFS" create -l 1 -n 2 -N r -b lockless --member-size 1G "$T/a" "$T/b" >/dev/null
for m in a b; do
	# 1 GiB less the data offset: 2093056 sectors, 128-sector chunks
	expect_eq "llbitmap on $m" "$(llsb "$T/$m")" "6 8 128 256 30 16352 0 0 0 0"
done
rf_mount "$M" "$T/a" "$T/b"
D=$M/r.md
expect_eq "bitmap_type" "$(cat "$D/bitmap_type")" "none bitmap [llbitmap]"
expect_eq "consistency_policy" "$(cat "$D/consistency_policy")" bitmap
# md's bitmap_type_store: EBUSY while a bitmap is in use
! echo none 2>/dev/null >"$D/bitmap_type" || fail "bitmap_type changed under llbitmap"
expect_eq "bitmap_type kept" "$(cat "$D/bitmap_type")" "none bitmap [llbitmap]"
expect_eq "llbitmap/bits" "$(cat "$D/llbitmap/bits" | tr '\n' ' ')" \
	"unwritten 16352 clean 0 dirty 0 need sync 0 syncing 0 "
expect_eq "llbitmap/metadata" "$(cat "$D/llbitmap/metadata" | tr '\n' ' ')" \
	"chunksize 128 chunkshift 7 chunks 16352 offset 8 daemon_sleep 30 "
expect_eq "llbitmap/daemon_sleep" "$(cat "$D/llbitmap/daemon_sleep")" 30
expect_eq "llbitmap/barrier_idle" "$(cat "$D/llbitmap/barrier_idle")" 5
for bad in 0 -1 x 1.5 ""; do
	echo "$bad" >"$D/llbitmap/daemon_sleep" 2>/dev/null &&
		fail "daemon_sleep took '$bad'"
done
for bad in -1 x 2s; do
	echo "$bad" >"$D/llbitmap/barrier_idle" 2>/dev/null &&
		fail "barrier_idle took '$bad'"
done
expect_eq "daemon_sleep after refusals" "$(cat "$D/llbitmap/daemon_sleep")" 30
expect_eq "barrier_idle after refusals" "$(cat "$D/llbitmap/barrier_idle")" 5
echo 1 >"$D/llbitmap/daemon_sleep"
echo 0 >"$D/llbitmap/barrier_idle"
expect_eq "llbitmap/daemon_sleep" "$(cat "$D/llbitmap/daemon_sleep")" 1
expect_eq "llbitmap/barrier_idle" "$(cat "$D/llbitmap/barrier_idle")" 0
echo 1 2>/dev/null >"$D/llbitmap/bits" && fail "bits is not writable"
[ -e "$D/bitmap" ] && fail "an llbitmap array has the classic bitmap/ directory"

note "a write makes its chunk Dirty on every member; the daemon cleans it"
dd if=/dev/urandom of="$M/r" bs=4K count=1 seek=$((300 * 16)) conv=notrunc,fsync status=none
for m in a b; do
	# FIRST_USE gone once loaded; chunk 300 Dirty or already Clean
	case "$(llsb "$T/$m")" in
	"6 0 128 256 1 16351 0 1 0 0"|"6 0 128 256 1 16351 1 0 0 0") ;;
	*) fail "$m after a write: $(llsb "$T/$m")" ;;
	esac
done
for i in $(seq 100); do
	[ "$(sed -n 's/^clean //p' "$D/llbitmap/bits")" = 1 ] && break
	sleep 0.1
done
expect_eq "llbitmap/bits once idle" "$(cat "$D/llbitmap/bits" | tr '\n' ' ')" \
	"unwritten 16351 clean 1 dirty 0 need sync 0 syncing 0 "
rf_umount "$M"
for m in a b; do
	expect_eq "llbitmap on $m after stop" "$(llsb "$T/$m" | cut -d' ' -f1,2,6-)" \
		"6 0 16351 1 0 0 0"
done

note "assembled again: still llbitmap, the map as it was"
rf_mount "$M" "$T/a" "$T/b"
expect_eq "bitmap_type again" "$(cat "$D/bitmap_type")" "none bitmap [llbitmap]"
expect_eq "llbitmap/bits again" "$(cat "$D/llbitmap/bits" | tr '\n' ' ')" \
	"unwritten 16351 clean 1 dirty 0 need sync 0 syncing 0 "
rf_umount "$M"

note "raid5 -b llbitmap (mdadm's alias) --assume-clean: all Clean"
"$RAIDFS" create -l 5 -n 3 -N r5 -b llbitmap --assume-clean --member-size 1G \
	"$T/c" "$T/d" "$T/e" >/dev/null
for m in c d e; do
	expect_eq "llbitmap on $m" "$(llsb "$T/$m")" "6 24 128 256 30 0 16352 0 0 0"
done

note "refusals"
"$RAIDFS" create -l 1 -n 2 -b lockless --bitmap-chunk 64M --member-size 1G \
	"$T/f" "$T/g" >/dev/null 2>&1 && fail "lockless took --bitmap-chunk"
out=$("$RAIDFS" create -l 1 -n 2 -b lockless -e 0.90 --member-size 1G \
	"$T/f" "$T/g" 2>&1) && fail "lockless took 0.90 metadata"
[[ $out == *"needs 1.x metadata"* ]] || fail "0.90 refused for another reason: $out"
"$RAIDFS" create -l 0 -n 2 -b lockless --member-size 1G \
	"$T/f" "$T/g" >/dev/null 2>&1 && fail "lockless took raid0"
[ -e "$T/f" ] && fail "a refused create left a member behind"
exit 0
