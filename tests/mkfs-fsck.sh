#!/bin/bash
# The user's path: loop-mount the image, mkfs.ext4, write, fsck -f clean,
# and the files survive a remount of the array.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v losetup >/dev/null || skip "no losetup"
command -v mkfs.ext4 >/dev/null || skip "no mkfs.ext4 (e2fsprogs)"

LOOP=
FSMNT=$T/fs
unloop() {
	mountpoint -q "$FSMNT" 2>/dev/null && umount "$FSMNT"
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	LOOP=
}
trap 'unloop; cleanup' EXIT

for level in 0 1; do
	note "raid$level"
	rm -f "$T"/m?
	"$RAIDFS" create -l $level -n 2 -N fs --assume-clean --member-size 128M "$T/m1" "$T/m2" >/dev/null
	rf_mount "$T/mnt" "$T/m1" "$T/m2"
	LOOP=$(losetup -f --show "$T/mnt/fs") || skip "loop devices unavailable"
	mkfs.ext4 -q -F "$LOOP"
	mkdir -p "$FSMNT"
	mount "$LOOP" "$FSMNT"
	random_file "$T/data" $((20 << 20))
	cp "$T/data" "$FSMNT/data"
	mkdir "$FSMNT/dir" && seq 100000 >"$FSMNT/dir/numbers"
	umount "$FSMNT"
	fsck.ext4 -f -n "$LOOP" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "fsck after writes (raid$level)"; }
	unloop
	rf_umount "$T/mnt"

	rf_mount "$T/mnt" "$T/m1" "$T/m2"
	LOOP=$(losetup -f --show -r "$T/mnt/fs")
	fsck.ext4 -f -n "$LOOP" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "fsck after remount (raid$level)"; }
	mount -o ro "$LOOP" "$FSMNT"
	cmp "$T/data" "$FSMNT/data" || fail "file differs after remount (raid$level)"
	seq 100000 | cmp - "$FSMNT/dir/numbers" || fail "numbers differ (raid$level)"
	unloop
	rf_umount "$T/mnt"
done
echo "PASS"
