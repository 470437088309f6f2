#!/bin/bash
# Write patterns through the mounted image for linear, raid0 (one zone and
# multi-zone in both md layouts) and raid1, remount, and read them back; check
# the control files and, for the simple geometries, where md puts the data.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

# write_patterns IMAGE: pieces at the start, across chunk and member
# boundaries, unaligned, and at the very end.
write_patterns() {
	local img=$1 size
	size=$(stat -c %s "$img")
	random_file "$T/p0" $((3 << 20))
	random_file "$T/p1" 777777
	random_file "$T/p2" 4096
	dd if="$T/p0" of="$img" bs=1M conv=notrunc,fsync status=none
	dd if="$T/p1" of="$img" bs=64K oflag=seek_bytes seek=$((size / 2 - 12345)) conv=notrunc status=none
	dd if="$T/p2" of="$img" bs=4096 seek=$((size / 4096 - 1)) conv=notrunc status=none
}

check_patterns() {
	local img=$1 size
	size=$(stat -c %s "$img")
	same_range "$img" 0 "$T/p0" || fail "$img: pattern at 0 differs"
	same_range "$img" $((size / 2 - 12345)) "$T/p1" || fail "$img: unaligned pattern differs"
	same_range "$img" $((size - 4096)) "$T/p2" || fail "$img: last block differs"
}

# roundtrip NAME CREATE-ARGS...: create, mount, write, check, remount, check.
roundtrip() {
	local name=$1; shift
	local dir=$T/$name
	mkdir -p "$dir"
	note "$name: $*"
	(cd "$dir" && "$RAIDFS" create --assume-clean -N "$name" "$@" >/dev/null)
	rf_mount "$T/mnt" "$dir"
	write_patterns "$T/mnt/$name"
	check_patterns "$T/mnt/$name"
	grep -q "^$name : active" "$T/mnt/mdstat" || fail "mdstat lacks $name"
	rf_umount "$T/mnt"
	rf_mount "$T/mnt" "$dir"
	check_patterns "$T/mnt/$name"
}

ctl() { cat "$T/mnt/$1.md/$2"; }

# raid0 over two equal members: chunk k lives on member k % 2.
roundtrip r0 -l 0 -n 2 -c 64K --member-size 64M a b
expect_eq "raid0 level" "$(ctl r0 level)" raid0
expect_eq "raid0 chunk_size" "$(ctl r0 chunk_size)" 65536
expect_eq "raid0 raid_disks" "$(ctl r0 raid_disks)" 2
expect_eq "raid0 degraded" "$(ctl r0 degraded)" 0
expect_eq "raid0 metadata" "$(ctl r0 metadata_version)" 1.2
# md's array_size: "default" unless a size was set by hand
expect_eq "raid0 array_size" "$(ctl r0 array_size)" default
expect_eq "raid0 blksize" "$(stat -c %o "$T/mnt/r0")" 131072
expect_eq "raid0 minimum_io_size" "$(ctl r0 minimum_io_size)" 65536
expect_eq "raid0 optimal_io_size" "$(ctl r0 optimal_io_size)" 131072
expect_eq "raid0 logical_block_size" "$(ctl r0 logical_block_size)" 512
off=$(( $("$RAIDFS" examine "$T/r0/a" | sed -n 's/^ *Data Offset : \([0-9]*\) sectors/\1/p') * 512 ))
for k in 0 1 2 3 5; do
	m=$([ $((k % 2)) = 0 ] && echo a || echo b)
	cmp -s <(dd if="$T/mnt/r0" bs=64K skip=$k count=1 status=none) \
	       <(dd if="$T/r0/$m" bs=64K iflag=skip_bytes skip=$((off + k / 2 * 65536)) count=1 status=none) ||
		fail "raid0 chunk $k is not where md puts it"
done
# md's state_store: the member's error breaks a raid0, and says EBUSY.
echo faulty 2>"$T/err" >"$T/mnt/r0.md/dev-a/state" && fail "raid0 member went faulty without EBUSY"
grep -q "Device or resource busy" "$T/err" || fail "raid0 faulty: $(cat "$T/err")"
expect_eq "raid0 array_state after a member's error" "$(ctl r0 array_state)" broken
rf_umount "$T/mnt"

# raid1 over three mirrors: every member holds the image at its data offset.
roundtrip r1 -l 1 -n 3 --member-size 32M a b c
expect_eq "raid1 level" "$(ctl r1 level)" raid1
expect_eq "raid1 component_size" "$(ctl r1 component_size)" "$(( $(stat -c %s "$T/mnt/r1") / 1024 ))"
grep -q '\[3/3\] \[UUU\]' "$T/mnt/mdstat" || fail "raid1 mdstat: $(cat "$T/mnt/mdstat")"
sleep 0.5
expect_eq "raid1 array_state after idle" "$(ctl r1 array_state)" clean
rf_umount "$T/mnt"
size=$(( $("$RAIDFS" examine "$T/r1/a" | sed -n 's/^ *Used Dev Size : \([0-9]*\) .*/\1/p') * 512 ))
for m in a b c; do
	off=$(( $("$RAIDFS" examine "$T/r1/$m" | sed -n 's/^ *Data Offset : \([0-9]*\) sectors/\1/p') * 512 ))
	cmp -s <(dd if="$T/r1/a" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$size" status=none) \
	       <(dd if="$T/r1/$m" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$size" status=none) ||
		fail "raid1 mirror $m differs from a"
done

# Unequal members: linear, and multi-zone raid0 in both layouts.
mkdir -p "$T/lin" "$T/z1" "$T/z2"
for d in lin z1 z2; do
	truncate -s 20M "$T/$d/a"; truncate -s 36M "$T/$d/b"; truncate -s 52M "$T/$d/c"
done
roundtrip lin -l linear -n 3 a b c
rf_umount "$T/mnt"
roundtrip z1 -l 0 -n 3 -c 32K -p original a b c
rf_umount "$T/mnt"
roundtrip z2 -l 0 -n 3 -c 32K -p alternate a b c
rf_umount "$T/mnt"

# Metadata 1.0 and 1.1 serve the same way; 0.90 has no name, so md0.
for e in 1.0 1.1; do
	roundtrip "m${e/./}" -l 1 -n 2 -e "$e" --member-size 16M a b
	expect_eq "metadata $e" "$(ctl "m${e/./}" metadata_version)" "$e"
	rf_umount "$T/mnt"
done
mkdir -p "$T/old"
(cd "$T/old" && "$RAIDFS" create --assume-clean -l 1 -n 2 -e 0.90 --member-size 16M a b >/dev/null)
rf_mount "$T/mnt" "$T/old"
write_patterns "$T/mnt/md0"
expect_eq "metadata 0.90" "$(ctl md0 metadata_version)" 0.90
rf_umount "$T/mnt"
rf_mount "$T/mnt" "$T/old"
check_patterns "$T/mnt/md0"
rf_umount "$T/mnt"
echo "PASS"
