#!/bin/bash
# Hostile superblocks (checksum fixed up) in one mount next to healthy
# arrays: each bad member is refused with one line naming its file and the
# field, or its array refused when nothing tells which member is right; the
# healthy arrays and the healthy members keep serving the right data, the
# daemon lives, and no refused member file changes by a byte.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
SB_PATCH=${SB_PATCH:-$(dirname "$RAIDFS")/../tests/sb-patch}
[ -x "$SB_PATCH" ] || fail "no sb-patch helper (make check builds it)"

# bitmap_sb MEMBER: a clean bitmap superblock, as md_bitmap_write_sb leaves
# it (64K chunks), where the member's superblock puts the bitmap.
bitmap_sb() {
	local m=$1 u args=() i ev
	u=$(examine_field "$m" "Array UUID" | tr -d :)
	for i in $(seq 0 15); do args+=("bitmap.uuid[$i]" "0x${u:$((2 * i)):2}"); done
	ev=$("$SB_PATCH" "$m" events)
	"$SB_PATCH" "$m" "${args[@]}" bitmap.magic 0x6d746962 bitmap.version 4 \
		bitmap.events "$ev" bitmap.events_cleared "$ev" \
		bitmap.sync_size "$("$SB_PATCH" "$m" size)" bitmap.chunksize 65536 \
		bitmap.daemon_sleep 5
}

# mk NAME LEVEL N [MEMBER_SIZE]: an array of N members $T/NAME.0 ... with
# 1 MiB of known data ($T/NAME.data), written through a mount.
ARRAYS=()
mk() {
	local name=$1 level=$2 n=$3 m=() i
	for i in $(seq 0 $((n - 1))); do m+=("$T/$name.$i"); done
	"$RAIDFS" create -l "$level" -n "$n" -c 64K -N "$name" --assume-clean \
		--member-size "${4:-16M}" "${m[@]}" >/dev/null
	random_file "$T/$name.data" $((1 << 20))
	ARRAYS+=("$name")
}
members() { ls "$T/$1".[0-9]*; }
sum_of() { sha256sum "$@" | cut -d' ' -f1 | tr '\n' ' '; }

mk good5 5 3; mk good1 1 2
mk rdmax 5 3; mk rdbig 5 3; mk events 5 3; mk size0 5 3; mk doff 5 3
mk lbs 5 3; mk layout 5 3; mk roles 5 3; mk roles2 5 3; mk dup 5 3; mk tie 1 2; mk reshape 5 3
# Internal bitmaps (as mdadm writes them: 4K after the superblock, the
# bad-block log 4K later): a healthy one, and hostile bitmap superblocks.
BITMAPS=(bm bmsync bmchunk bmsleep bmbehind bmver)
for a in "${BITMAPS[@]}"; do
	mk $a 1 2 $([ $a = bmchunk ] && echo 32M)
	for i in 0 1; do
		"$SB_PATCH" "$T/$a.$i" feature_map 1 bitmap_offset 8
		bitmap_sb "$T/$a.$i"
	done
done
all=(); for a in "${ARRAYS[@]}"; do mapfile -t -O "${#all[@]}" all < <(members "$a"); done
rf_mount "$T/mnt" "${all[@]}"
for a in "${ARRAYS[@]}"; do
	dd if="$T/$a.data" of="$T/mnt/$a" bs=1M conv=notrunc,fsync status=none
done
rf_umount "$T/mnt"

# One field per array, on the member listed first.
poke() { "$SB_PATCH" "$T/$1" "$2" "$3"; }
poke rdmax.0 raid_disks 0xffffffff
poke rdbig.0 raid_disks 1000000
poke events.0 events 0xffffffffffffffff
poke size0.0 size 0
poke doff.0 data_offset 8
poke lbs.0 logical_block_size 3
poke layout.0 layout 0                       # valid, but not what the others say
poke roles.0 'dev_roles[0]' 1; poke roles.0 'dev_roles[1]' 0   # swapped slots
poke roles2.0 'dev_roles[1]' 0              # two slots in role 0
poke dup.2 dev_number 0                      # claims dup.0's slot, same events
size1=$("$SB_PATCH" "$T/tie.1" size)
poke tie.0 size $(( size1 - 128 ))
for i in 0 1 2; do poke reshape.$i feature_map 0x5; poke reshape.$i reshape_position 64; done
for i in 0 1; do
	poke bmsync.$i bitmap.sync_size $((1 << 40))
	poke bmchunk.$i bitmap.chunksize 512      # 7936 bytes of bits in a 4K area
	poke bmsleep.$i bitmap.daemon_sleep 0
	poke bmbehind.$i bitmap.write_behind 20000
	poke bmver.$i bitmap.version 5
done
bblog=$(dd if="$T/bm.0" bs=512 skip=24 count=8 status=none | sha256sum)

# What must not change: every refused member, and all of a refused array.
refused=("$T"/{rdmax,rdbig,events,size0,doff,lbs,layout,roles,roles2}.0 "$T"/dup.* "$T"/tie.* "$T"/reshape.*
	 "$T"/bm?*.[0-9])
before=$(sum_of "${refused[@]}")

rf_mount "$T/mnt" -o run "${all[@]}"
err=$(cat "$T/daemon.err")
expect_line() { # FILE TEXT: one line naming the file and the field
	grep -q "^raidfs: $(re_quote "$T/$1"): .*$(re_quote "$2")" <<<"$err" ||
		fail "no refusal of $1 naming '$2' in: $err"
}
expect_line rdmax.0 "superblock raid_disks 4294967295 exceeds the 384 roles it can carry; left out"
expect_line rdbig.0 "superblock raid_disks 1000000 exceeds"
expect_line events.0 "superblock events 18446744073709551615 cannot advance"
expect_line size0.0 "superblock size 0 leaves the array no data"
expect_line doff.0 "superblock data_offset 8 overlaps the superblock"
expect_line lbs.0 "superblock logical_block_size 3"
expect_line layout.0 "superblock layout 0 differs from layout 2 on $T/layout.1"
expect_line roles.0 "superblock dev_roles[0] 1 differs from dev_roles[0] 0"
expect_line roles2.0 "superblock dev_roles[1] 0 differs from dev_roles[1] 1 on $T/roles2.1, which the freshest members agree on; left out"
expect_line dup.2 "superblock dev_number 0 is also $T/dup.0's, at the same events; array not started"
expect_line tie.1 "superblock size $(( size1 )) differs from size $(( size1 - 128 )) on $T/tie.0 at the same events, and no majority tells which is right; array not started"
expect_line reshape.0 "MD_FEATURE_RESHAPE_ACTIVE"
expect_line bmsync.0 "bitmap sync_size 1099511627776 exceeds the 30720 sectors the array syncs"
expect_line bmchunk.0 "bitmap chunksize 512 needs 8192 bytes for 63488 sectors, the bitmap area has 4096"
expect_line bmsleep.0 "bitmap daemon_sleep 0 is out of range"
expect_line bmbehind.0 "bitmap write_behind 20000 exceeds 16383"
expect_line bmver.0 "bitmap version 5 is not 3 or 4"
expect_eq "lines of stderr" "$(grep -vc '^raidfs: ' <<<"$err" || true)" 0

# The served arrays read what was written, and take writes.
for a in good5 good1 rdmax rdbig events size0 doff lbs layout roles roles2 bm; do
	[ -e "$T/mnt/$a" ] || fail "$a is not served: $err"
	same_range "$T/mnt/$a" 0 "$T/$a.data" || fail "$a reads wrong data"
done
for a in dup tie reshape bmsync bmchunk bmsleep bmbehind bmver; do [ -e "$T/mnt/$a" ] && fail "$a is served"; done
random_file "$T/new" $((1 << 20))
for a in good5 good1 size0 roles bm; do
	dd if="$T/new" of="$T/mnt/$a" bs=1M seek=2 conv=notrunc,fsync status=none ||
		fail "write to $a failed"
	same_range "$T/mnt/$a" $((2 << 20)) "$T/new" || fail "$a reads back wrong data"
done
kill -0 "$RF_PID" || fail "the daemon died"
rf_umount "$T/mnt"

expect_eq "refused members unchanged" "$(sum_of "${refused[@]}")" "$before"
expect_eq "bad-block log after the bitmap" \
	"$(dd if="$T/bm.0" bs=512 skip=24 count=8 status=none | sha256sum)" "$bblog"
for i in 1 2; do   # size 0 went nowhere
	[ "$("$SB_PATCH" "$T/size0.$i" size)" != 0 ] || fail "size0.$i got size 0"
done
echo "PASS"
