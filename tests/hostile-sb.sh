#!/bin/bash
# Hostile superblocks: every field of the v1 and 0.90 superblocks and of the
# bitmap superblock, set to boundary and hostile values with the checksum
# fixed up (tests/sb-patch), on raid1, raid5 and raid10 members.  Each case
# is a copy of a base array under its own UUID; many cases and a healthy
# sentinel array share one mount source directory.  Per case the outcome is
# md's (md.c super_1_load/super_1_validate, super_90_load/validate,
# analyze_sbs, md-bitmap.c md_bitmap_read_sb):
#   S  served: the image reads back what was written before patching (and
#      a patched member of a one-member row is not left out)
#   R  refused: no image, a one-line reason naming a member file and the
#      field as md_p.h spells it
#   D  (R on one member: every base is redundant) served degraded with -o
#      run, correct data, the patched member left out with such a reason
#   X  like R/D, but the member holds no superblock at all (magic, version):
#      nothing to say about a file that is not an md member
#   W  (events far ahead on one member) md takes that member as freshest:
#      the others are stale; raid1 serves from it, raid5/raid10 cannot start
# In every case the daemon lives on and the sentinel keeps serving; a
# served image takes a 4 KiB write and serves the same after a restart;
# member files of a refused array, and a left-out member, come through
# both mounts byte for byte.
# HOSTILE_SB_ONLY=REGEX limits the cases (by "base field scope value"),
# HOSTILE_SB_STRIDE=N keeps one case in N (make check-sanitizers: the
# plain build runs them all), HOSTILE_SB_VERBOSE=1 lists every case,
# HOSTILE_SB_DRYRUN=1 only counts.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
SB_PATCH=${SB_PATCH:-$(dirname "$RAIDFS")/../tests/sb-patch}
[ -x "$SB_PATCH" ] || fail "no sb-patch helper at $SB_PATCH"

MEMBER=2M            # 1.2: 1 MiB of data per member
BATCH=${HOSTILE_SB_BATCH:-200}
BASE=$T/base SRC=$T/src MNT=$T/mnt KEEP=$T/keep WBLOCK=$T/wblock
mkdir -p "$BASE" "$SRC" "$KEEP"

# --- base arrays: created once, filled with random data through a mount --
# name: level members metadata bitmap
declare -A B_LEVEL B_N B_META B_BM B_SUF IMG
B_SUF[sentinel]=5e5e5e5e

# IMG[last 8 hex digits of an array's UUID]: its image's name in MNT
image_map() {
	local f u
	IMG=()
	for f in "$MNT"/*.md/uuid; do
		[ -e "$f" ] || continue
		u=$(cat "$f" 2>/dev/null) || continue
		f=${f%.md/uuid}; IMG[${u: -8}]=${f##*/}
	done
}
BASES=()
add_base() { BASES+=("$1"); B_LEVEL[$1]=$2 B_N[$1]=$3 B_META[$1]=$4 B_BM[$1]=${5:-}; }
for l in 1 5 10; do
	n=$(( l == 10 ? 4 : 3 ))     # three mirrors: one that disagrees is outvoted
	add_base "r$l-12" $l $n 1.2
	add_base "r$l-10" $l $n 1.0
	add_base "r$l-090" $l $n 0.90
	add_base "b$l-12" $l $n 1.2 bm
done
add_base b1-10 1 3 1.0 bm
add_base b1-090 1 3 0.90 bm

# The base UUID's first 12 bytes; the last 4 are each case's number.
UUID_HEAD=11111111:22222222:33333333

# An internal bitmap by hand (raidfs create has none yet): the bitmap
# superblock of md-bitmap.h after the v1 bad-block log, or 4 KiB after the
# 0.90 superblock, clean (bits zero), 64 KiB chunks.
add_bitmap() { # MEMBER META SIZE_SECTORS EVENTS UUID_TAIL
	local m=$1 meta=$2 size=$3 ev=$4 args=() i j u
	case $meta in
	1.2) args=(feature_map 1 bitmap_offset 24) ;;             # sb 8, bblog 16..24
	# 1.0: between the data (data_size cut to size) and the superblock
	1.0) args=(feature_map 1 bitmap_offset $(( -(4080 - 3976) )) data_size 3968) ;;
	0.90) args=(state 0x101) ;;                               # clean, bitmap present
	esac
	"$SB_PATCH" "$m" "${args[@]}" || fail "sb-patch $m (bitmap offset)"
	u=$(echo "$UUID_HEAD:$5" | tr -d :)
	args=()
	for i in $(seq 0 15); do
		# v1: set_uuid; 0.90: the kernel's uuid, each word host-endian
		j=$i
		[ "$meta" = 0.90 ] && j=$(( i / 4 * 4 + 3 - i % 4 ))
		args+=("bitmap.uuid[$i]" "0x${u:$((2 * j)):2}")
	done
	args+=(bitmap.magic 0x6d746962 bitmap.version 4 bitmap.events "$ev"
	       bitmap.events_cleared "$ev" bitmap.sync_size "$size"
	       bitmap.chunksize 65536 bitmap.daemon_sleep 5)
	"$SB_PATCH" "$m" "${args[@]}" || fail "sb-patch $m (bitmap)"
}

make_bases() {
	local b i members sz nb=0
	for b in "${BASES[@]}"; do
		mkdir -p "$BASE/$b"
		members=()
		for i in $(seq 0 $(( B_N[$b] - 1 ))); do members+=("$BASE/$b/m$i"); done
		"$RAIDFS" create -l "${B_LEVEL[$b]}" -n "${B_N[$b]}" -e "${B_META[$b]}" -c 64K \
			--assume-clean --member-size $MEMBER -N "$b" \
			-u "$UUID_HEAD:$(printf %08x $(( 0xffff0000 + nb )))" \
			"${members[@]}" >/dev/null || fail "create base $b"
		B_SUF[$b]=$(printf %08x $(( 0xffff0000 + nb )))
		nb=$(( nb + 1 ))
	done
	# one mount fills every base (and the sentinel) with random data
	rf_mount_fg "$MNT" "$BASE"/*/m* "$BASE"/sentinel/*
	image_map
	for b in "${BASES[@]}" sentinel; do
		[ -n "${IMG[${B_SUF[$b]}]:-}" ] || fail "base $b not served"
		sz=$(stat -c %s "$MNT/${IMG[${B_SUF[$b]}]}")
		random_file "$BASE/$b.data" "$sz"
		dd if="$BASE/$b.data" of="$MNT/${IMG[${B_SUF[$b]}]}" bs=1M conv=notrunc,fsync status=none ||
			fail "filling base $b"
	done
	rf_umount "$MNT"
	# bitmaps after the data: their events follow the superblocks'
	for b in "${BASES[@]}"; do
		[ -n "${B_BM[$b]}" ] || continue
		for i in $(seq 0 $(( B_N[$b] - 1 ))); do
			sz=$(examine_field "$BASE/$b/m$i" "Used Dev Size" | cut -d' ' -f1)
			[ -n "$sz" ] || sz=$(examine_field "$BASE/$b/m$i" "Avail Dev Size" | cut -d' ' -f1)
			[ "${B_META[$b]}" = 0.90 ] && sz=$(( sz * 2 ))    # KiB there
			add_bitmap "$BASE/$b/m$i" "${B_META[$b]}" "$sz" \
				"$(examine_field "$BASE/$b/m$i" Events)" "${B_SUF[$b]}"
		done
	done
	rf_mount_fg "$MNT" "$BASE"/*/m* "$BASE"/sentinel/*
	image_map
	for b in "${BASES[@]}" sentinel; do
		cmp -s "$MNT/${IMG[${B_SUF[$b]}]:-none}" "$BASE/$b.data" || fail "base $b does not read back"
	done
	local nbm=0
	for b in "${BASES[@]}"; do [ -z "${B_BM[$b]}" ] || nbm=$(( nbm + 1 )); done
	[ "$(grep -c bitmap "$MNT/mdstat")" = $nbm ] ||
		fail "not every bitmap base runs with its bitmap: $(cat "$MNT/mdstat")"
	rf_umount "$MNT"
	# what a served case holds after check_case's 4 KiB write
	for b in "${BASES[@]}"; do
		cp "$BASE/$b.data" "$BASE/$b.data2"
		dd if="$WBLOCK" of="$BASE/$b.data2" bs=4096 seek=1 conv=notrunc status=none
	done
}

# --- the table ---------------------------------------------------------
# BASES FIELD SCOPE EXPECT REGEX VALUE...
#   BASES: v1 (1.2 and 1.0 arrays), v1x (one v1 array per level: raid1
#          1.0, raid5 and raid10 1.2), v1i and 090i (one array, for the
#          fields md ignores), v12, v10, 090, bm (bitmap arrays),
#          bmv1 (bitmap arrays with v1 superblocks), optionally :L to one
#          level (v1x:5)
#   FIELD: sb-patch's name; "a=1,b" sets a to 1 and b to each VALUE
#   SCOPE: one (the second member) or all members
#   EXPECT: S R X W, Q (refused even when only one member is patched), or
#           per level "1=S,5=R,10=R"
#   REGEX: what the reason must name ("-": the field's name)
# Value words: U8 U16 U32 U64 expand to boundary values of that width.
U8="0 1 0x7f 0x80 0xfe 0xff"
U16="0 1 0x7fff 0x8000 0xfffe 0xffff"
U32="0 1 0x7fffffff 0x80000000 0xfffffffe 0xffffffff"
U64="0 1 0x7fffffff 0x80000000 0xffffffff 0x8000000000000000 0xfffffffffffffffe 0xffffffffffffffff"
BIG64="0x80000000 0xffffffff 0x8000000000000000 0xfffffffffffffc00 0xffffffffffffffff"
TABLE=$(cat <<'EOF'
v1x magic              one X -  0 1 0xa92b4efd 0xffffffff
v1x magic              all X -  0 0xffffffff
v1x major_version      one X -  0 2 0xffffffff
v1x major_version      all X -  0 0xffffffff
# BAD_BLOCKS (the log is empty), RESHAPE_BACKWARDS and NEW_OFFSET without
# RESHAPE_ACTIVE, RECOVERY_BITMAP without RECOVERY_OFFSET: md ignores them;
# REPLACEMENT alone in its role: md's run makes it the role's member
v1x feature_map        one S -  8 16 32 64 128
v1x feature_map        all S -  8 16 32 64 128
# super_1_validate reads feature_map's BITMAP_OFFSET from the freshest
# member only: one member's bit with offset 0 is overwritten
v1x feature_map        one S -  1
# BITMAP_OFFSET with bitmap_offset 0: md takes offset 0 for no bitmap
v1x feature_map        all S -  1
v1x feature_map        one R feature_map|reshape|cluster|journal|ppl|raid0_layout  4 256 512 1024 2048 4096 8192 16384 0x10000 0x80000000 0xffffffff
v1x feature_map        all R feature_map|reshape|cluster|journal|ppl|raid0_layout  4 256 512 1024 2048 4096 8192 16384 0x10000 0x80000000 0xffffffff
v1x feature_map        one S -  2
v1x feature_map        all R recovery_offset  2
v1x pad0               one R pad0|logical_block_size  1 0xffffffff
v1x logical_block_size all S -  512 1024 4096
v1x logical_block_size one R -  3 256 513 0x100000 0x80000000 0xffffffff
v1x logical_block_size all R -  3 256 513 0x100000 0x80000000 0xffffffff
v1i set_uuid[0]        all S -  0 0xff
v1i set_uuid[11]       all S -  0 0xff
v1i set_name[0]        one S -  0 0x41 0xff
v1i set_name[0]        all S -  0 0x41
v1i set_name[31]       all S -  0x41 0xff
v1i ctime              one S -  U64
v1i ctime              all S -  U64
v1x:1 level             one R level|raid_disks|layout|chunk  0 4 5 6 10 2 3 7 0x80000000 0xffffffff
v1x:5 level             one R level|raid_disks|layout|chunk  0 1 4 6 10 2 3 7 0x80000000 0xffffffff
v1x:10 level            one R level|raid_disks|layout|chunk  0 1 4 5 6 2 3 7 0x80000000 0xffffffff
v1x level              all R level|raid_disks|layout|chunk  2 3 7 11 0x80000000 0xfffffffb 0xfffffffc 0xfffffffe
# super_1_load kicks a member whose layout or chunksize differs from the
# freshest's, on raid1 too
v1x:1 layout            one R -  1 2 0x102 0x80000000 0xffffffff
v1x:1 layout            all S -  1 2 0x102 0x80000000 0xffffffff
v1x:5 layout            one R -  0 1 3 4 5 6 0x80000000 0xffffffff
v1x:5 layout            all R -  6 7 16 0x80000000 0xffffffff
v1x:10 layout           one R -  0 1 0x101 0x201 0x80102 0xffffffff
v1x:10 layout           all R -  0 1 0x101 0xff 0x80102 0xffffffff
v1x size               one R -  0 DS+8 BIG64
v1x size               all R -  0 DS+8 BIG64
v1x:1 chunksize         one R -  8 256 0x80000000 0xffffffff
v1x:1 chunksize         all S -  8 256 0x80000000 0xffffffff
v1x:5 chunksize         one R -  0 1 64 256 0x80000000 0xffffffff
v1x:5 chunksize         all R -  0 1 3 4 0x80000000 0xffffffff
v1x:10 chunksize        one R -  0 1 64 256 0x80000000 0xffffffff
v1x:10 chunksize        all R -  0 1 3 4 0x80000000 0xffffffff
v1x raid_disks         one R -  0 1 5 1000000 0x7fffffff 0x80000000 0xffffffff
v1x raid_disks         all R -  0 1000000 0x7fffffff 0x80000000 0xffffffff
# a role at or past raid_disks makes md's member a spare
v1x:1 raid_disks        all S -  1 3
v1x:5 raid_disks        all R -  1
v1x:10 raid_disks       all R -  1
v1i bitmap_offset      one S -  U32
v1i bitmap_offset      all S -  U32
v1i ppl.size           all S -  1 0xffff
v1i new_level          all S -  U32
v1i reshape_position   all S -  U64
v1i delta_disks        all S -  U32
v1i new_layout         all S -  U32
v1i new_chunk          all S -  U32
v1i new_offset         all S -  U32
v1i new_level          one S -  0xffffffff
v1i reshape_position   one S -  0xffffffffffffffff
v12 data_offset        one R -  0 1 8 4096 4097 BIG64
v12 data_offset        all R -  0 1 8 4096 4097 BIG64
v10 data_offset        one R -  24 4096 BIG64
v10 data_offset        all R -  24 4096 BIG64
v12 data_size          one R -  0 9 2047 2049 BIG64
v12 data_size          all R -  0 9 2047 2049 BIG64
v10 data_size          one R -  0 9 3967 4081 BIG64
v10 data_size          all R -  0 9 3967 4081 BIG64
v12 super_offset       one R -  0 1 9 4080 BIG64
v12 super_offset       all R -  0 1 9 4080 BIG64
v10 super_offset       one R -  0 8 4079 4088 BIG64
v10 super_offset       all R -  0 8 4079 4088 BIG64
v1i recovery_offset    one S -  U64
v1i recovery_offset    all S -  U64
v1x feature_map=2,recovery_offset one S - 8 1024 0x8000000000000000 0xffffffffffffffff
v1x dev_number         one R -  384 1920 0x7fffffff 0x80000000 0xffffffff
# another member's number: nothing tells which of the two is rightful
v1x dev_number         one Q -  0
v1x dev_number         all R -  0x80000000 0xffffffff
v1i cnt_corrected_read one S -  U32
v1i cnt_corrected_read all S -  U32
v1i device_uuid[0]     one S -  0 0xff
v1i device_uuid[15]    all S -  0 0xff
v1i devflags           one S -  1 2 3 4 0x80 0xff
v1i devflags           all S -  1 2 3 4 0x80 0xff
v1x bblog_shift        one S -  1 9 0x80 0xff
v1x bblog_shift        all S -  1 9 0x80 0xff
v1x bblog_size         all S -  0 1
v1x bblog_size         one R -  9 0x8000 0xffff
v1x bblog_size         all R -  9 0x8000 0xffff
v1x bblog_offset       all S -  0
v1x bblog_offset       one R -  0x7fffffff 0x80000000
v1x bblog_offset       all R -  0x7fffffff 0x80000000
v1i utime              one S -  U64
v1i utime              all S -  U64
v1x events             one R -  0 1 0xffffffffffffffff
v1x events             one W events  0x7fffffff 0xffffffff 0x8000000000000000
v1x events             all S -  0 1 0x7fffffff 0xffffffff 0x8000000000000000
v1x events             all R -  0xffffffffffffffff
v1i resync_offset      one S -  U64
v1i resync_offset      all S -  U64
v1x sb_csum            one R sb_csum|checksum  0 0xffffffff
v1x sb_csum            all R sb_csum|checksum  0 0xffffffff
v1x max_dev            one R -  0 1 1921 0xffffffff
v1x max_dev            all R -  0 1921 0xffffffff
v1x max_dev            all S -  RD
v1x max_dev            all 1=S,5=R,10=R -  1
v1x pad3[0]            one R pad3  1 0xff
v1x pad3[0]            all R pad3  1 0xff
v1x pad3[31]           all R pad3  1
v1x dev_roles[0]       one R -  1 0x7fff 0xfeff 0xfffd 0xfffe 0xffff
v1x dev_roles[0]       all R -  1
v1x dev_roles[0]       all S -  0x7fff 0xfeff 0xfffd 0xfffe 0xffff
v1x dev_roles[5]       one R -  0
v1x dev_roles[5]       all S -  0
090 md_magic           one X -  0 0xffffffff
090 md_magic           all X -  0
090 major_version      one X -  1 0xffffffff
090 major_version      all X -  1
090 minor_version      one R -  0 89 91 0xffffffff
090 minor_version      all R -  0 89 91 0xffffffff
# super_90_load's sb_equal: words 0-31 but nr_disks must match on all members
090 patch_version      one R -  1 0xffffffff
090 patch_version      all S -  1 0xffffffff
090 gvalid_words       one R -  1 0xffffffff
090 gvalid_words       all S -  1 0xffffffff
090i set_uuid0          all S -  0 0xffffffff
090i set_uuid2          all S -  0 0xffffffff
090 ctime              one R -  0 0xffffffff
090 ctime              all S -  0 0xffffffff
090:1 level            one R level|raid_disks|layout|chunk  0 5 0xffffffff
090:5 level            one R level|raid_disks|layout|chunk  0 1 0xffffffff
090:10 level           one R level|raid_disks|layout|chunk  0 5 0xffffffff
090 level              all R level|raid_disks|layout|chunk  2 3 7 0x80000000 0xfffffffc
090 size               one R -  0 1 0xffffffff
090 size               all R -  0 0x7fffffff 0xffffffff
090i nr_disks           one S -  U32
090i nr_disks           all S -  U32
090 raid_disks         one R -  0 1 5 28 0xffffffff
090 raid_disks         all R -  0 28 1000000 0xffffffff
090:1 raid_disks       all S -  1
090 md_minor           one R -  1 0xffffffff
090 md_minor           all S -  1 0xffffffff
090 not_persistent     one R -  1
# super_90_validate ignores not_persistent (super_90_sync writes 0); one
# member that differs fails super_90_load's sb_equal
090 not_persistent     all S -  1
090 gstate_creserved[0] one R - 1
090 gstate_creserved[0] all S - 1 0xffffffff
090i utime              one S -  0 0xffffffff
090i utime              all S -  0 0xffffffff
090 state              one S -  0 2
090 state              all S -  0 2
# state is outside sb_equal's words: super_90_validate reads it from the
# freshest member only, super_90_sync rewrites it
090 state              one S -  0x100 0xffffffff
090 state              all R state|bitmap  0x100 0xffffffff
090i active_disks       all S -  U32
090i working_disks      all S -  U32
090i failed_disks       all S -  U32
090i spare_disks        all S -  U32
090 sb_csum            one R sb_csum|checksum  0 0xffffffff
090 sb_csum            all R sb_csum|checksum  0 0xffffffff
090 events_lo          one R events  0
090 events_hi          one W events  1 0x80000000 0xffffffff
090 events_hi=0xffffffff,events_lo one R events  0xffffffff
090 events_hi          all S -  1 0x80000000
090 events_hi=0xffffffff,events_lo all R events  0xffffffff
090i cp_events_hi       all S -  U32
090i cp_events_lo       all S -  U32
090i recovery_cp        all S -  U32
090i reshape_position   all S -  0 0xffffffffffffffff
090i new_level          all S -  U32
090i delta_disks        all S -  U32
090i new_layout         all S -  U32
090i new_chunk          all S -  U32
090i gstate_sreserved[0] all S - 1 0xffffffff
090:1 layout           all S -  1 0xffffffff
# layout is outside the words 0-31 super_90_load's sb_equal compares
090:1 layout           one S -  1 0xffffffff
090:5 layout           all R -  6 0x80000000 0xffffffff
090:5 layout           one R -  0 6 0xffffffff
090:10 layout          all R -  0 1 0x80102 0xffffffff
090:10 layout          one R -  0 0x201 0xffffffff
090:1 chunk_size       all S -  0 4096 0xffffffff
090:5 chunk_size       all R -  0 1 4095 0x80000000 0xffffffff
090:5 chunk_size       one R -  0 4095 131072 0xffffffff
090:10 chunk_size      all R -  0 1 4095 0x80000000 0xffffffff
090:10 chunk_size      one R -  0 4095 131072 0xffffffff
090i root_pv            all S -  0xffffffff
090i root_block         all S -  0xffffffff
090i pstate_reserved[0] all S -  0xffffffff
090i disks[0].number    all S -  1 0xffffffff
090i disks[0].major     all S -  0xffffffff
090i disks[0].minor     all S -  0xffffffff
# super_90_validate takes each member's role from its own disks[]: the
# second member's disks[0] says nothing about the first
090 disks[0].raid_disk one S -  1 0xffffffff
090 disks[0].raid_disk all R disks|raid_disk  1
090 disks[0].raid_disk all S -  27 0xffffffff
090 disks[0].state     one S -  0 1 0xffffffff
090 disks[0].state     all S -  0 1 0xffffffff
090i disks[0].reserved[0] all S - 0xffffffff
090i disks[26].number   all S -  0xffffffff
090 this_disk.number   one R this_disk|number  27 0x80000000 0xffffffff
090 this_disk.number   one Q this_disk|number  0
090 this_disk.number   all R this_disk|number  0x80000000
090i this_disk.raid_disk all S - 0 0xffffffff
090i this_disk.state    all S -  0 0xffffffff
090i this_disk.major    all S -  0xffffffff
# md reads the bitmap superblock from one member (raidfs: the first slot)
# and rewrites every member's: a bad one elsewhere is overwritten
bm  bitmap.magic       one S -  0 0xffffffff
bm  bitmap.magic       all R bitmap  0 0xffffffff
bm  bitmap.version     all S -  3
bm  bitmap.version     one S -  0 2 5 0xffffffff
bm  bitmap.version     all R bitmap  0 2 5 0xffffffff
bm  bitmap.uuid[0]     one S -  0 0xff
bm  bitmap.uuid[0]     all R bitmap  0 0xff
bm  bitmap.events      all S -  0 0xffffffffffffffff
bm  bitmap.events_cleared all S - 0 0xffffffffffffffff
bm  bitmap.sync_size   all S -  0
bm  bitmap.sync_size   one S -  0xffffffff 0x8000000000000000 0xffffffffffffffff
bm  bitmap.sync_size   all R sync_size  0xffffffff 0x8000000000000000 0xffffffffffffffff
bm  bitmap.state       all S -  0 2 0x8000
bm  bitmap.chunksize   all S -  512 0x80000000
bm  bitmap.chunksize   one S -  0 1 511 513 0xffffffff
bm  bitmap.chunksize   all R chunksize  0 1 511 513 0xffffffff
bm  bitmap.daemon_sleep all S - 1 0xffffffff
bm  bitmap.daemon_sleep one S -  0
bm  bitmap.daemon_sleep all R daemon_sleep 0
bm  bitmap.write_behind all S - 0 16383
bm  bitmap.write_behind one S -  16384 0xffffffff
bm  bitmap.write_behind all R write_behind 16384 0xffffffff
bm  bitmap.sectors_reserved all S - 0 1 0xffffffff
bm  bitmap.nodes       all S -  1 0xffffffff
bm  bitmap.cluster_name[0] all S - 0x41
bmv1 bitmap_offset     one R bitmap  0 8 0x7fffffff 0x80000000 0xffffffff
bmv1 bitmap_offset     all S -  0
bmv1 bitmap_offset     all R bitmap  8 0x7fffffff 0x80000000 0xffffffff
EOF
)

# --- expanding the table into cases ------------------------------------
# per case: base, field spec, value, scope, expectation, reason regex, row
C_BASE=() C_FIELD=() C_VALUE=() C_SCOPE=() C_EXP=() C_RE=() C_ROW=()

base_matches() { # CLASS BASE
	local cls=${1%%:*} lv=
	[[ $1 == *:* ]] && lv=${1#*:}
	[ -z "$lv" ] || [ "${B_LEVEL[$2]}" = "$lv" ] || return 1
	case $cls in
	v1) [ -z "${B_BM[$2]}" ] && [[ ${B_META[$2]} == 1.* ]] ;;
	v1x) [[ $2 == @(r1-10|r5-12|r10-12) ]] ;;
	v1i) [ "$2" = r5-12 ] ;;
	090i) [ "$2" = r5-090 ] ;;
	v12) [ -z "${B_BM[$2]}" ] && [ "${B_META[$2]}" = 1.2 ] ;;
	v10) [ -z "${B_BM[$2]}" ] && [ "${B_META[$2]}" = 1.0 ] ;;
	090) [ -z "${B_BM[$2]}" ] && [ "${B_META[$2]}" = 0.90 ] ;;
	bm) [ -n "${B_BM[$2]}" ] ;;
	bmv1) [ -n "${B_BM[$2]}" ] && [[ ${B_META[$2]} == 1.* ]] ;;
	*) fail "table: no base class $cls" ;;
	esac
}

# EXPECT for this base's level and the scope: S R X W or a per-level list.
resolve_exp() { # EXPECT BASE SCOPE: sets EXP
	local e=$1 item
	if [[ $e == *=* ]]; then
		for item in ${e//,/ }; do
			[ "${item%%=*}" = "${B_LEVEL[$2]}" ] && e=${item#*=}
		done
	fi
	case $e$3 in
	Q*) EXP=R ;;
	Rone) EXP=D ;;            # every base here is redundant
	Xone) EXP=X1 ;;
	Wone) [ "${B_LEVEL[$2]}" = 1 ] && EXP=W1 || EXP=WR ;;
	*) EXP=$e ;;
	esac
}

expand_value() { # VALUE BASE: sets V, the table's symbolic values for this base
	case $1 in
	DS+8) [ "${B_META[$2]}" = 1.2 ] && V=2056 || V=4072 ;;
	RD) V=${B_N[$2]} ;;
	*) V=$1 ;;
	esac
}

NROW=0
while read -r cls field scope exp re values; do
	[[ -n $cls && $cls != \#* ]] || continue
	[ "$re" = - ] && { re=${field##*[,.]}; re=${re%%\[*}; }
	values=${values//BIG64/$BIG64}; values=${values//U64/$U64}
	values=${values//U32/$U32}; values=${values//U16/$U16}; values=${values//U8/$U8}
	for b in "${BASES[@]}"; do
		base_matches "$cls" "$b" || continue
		resolve_exp "$exp" "$b" "$scope"
		for v in $values; do
			expand_value "$v" "$b"
			row="$b $field $scope $V"
			[ -z "${HOSTILE_SB_ONLY:-}" ] || [[ $row =~ $HOSTILE_SB_ONLY ]] || continue
			NROW=$((NROW + 1))
			(( (NROW - 1) % ${HOSTILE_SB_STRIDE:-1} == 0 )) || continue
			C_BASE+=("$b") C_FIELD+=("$field") C_VALUE+=("$V") C_SCOPE+=("$scope")
			C_EXP+=("$EXP") C_RE+=("$re") C_ROW+=("$row")
		done
	done
done <<<"$TABLE"
note "${#C_BASE[@]} cases"
[ -z "${HOSTILE_SB_DRYRUN:-}" ] || exit 0
"$RAIDFS" create -l 1 -n 2 --assume-clean --member-size $MEMBER -N sentinel \
	-u 5e5e5e5e:5e5e5e5e:5e5e5e5e:5e5e5e5e "$BASE/sentinel0" "$BASE/sentinel1" >/dev/null
mkdir -p "$BASE/sentinel"
mv "$BASE/sentinel0" "$BASE/sentinel1" "$BASE/sentinel/"
random_file "$WBLOCK" 4096
note "creating ${#BASES[@]} base arrays"; SECONDS=0
make_bases
note "bases took ${SECONDS}s"

# --- running cases -------------------------------------------------------
# Case K's members are SRC/cK_mI, its UUID ends in K, its v1 name is cK.
prep_case() { # K
	local k=$1 b=${C_BASE[$1]} i j args spec f id=() name=c$1 ch
	local ub=($(( $1 >> 24 & 255 )) $(( $1 >> 16 & 255 )) $(( $1 >> 8 & 255 )) $(( $1 & 255 )))
	if [ "${B_META[$b]}" = 0.90 ]; then
		id=(set_uuid3 "$k")
		# the bitmap's uuid is the kernel's: each word host-endian
		[ -z "${B_BM[$b]}" ] || id+=("bitmap.uuid[12]" "${ub[3]}" "bitmap.uuid[13]" "${ub[2]}"
					  "bitmap.uuid[14]" "${ub[1]}" "bitmap.uuid[15]" "${ub[0]}")
	else
		for j in 0 1 2 3; do id+=("set_uuid[$(( 12 + j ))]" "${ub[$j]}"); done
		for (( j = 0; j < 10; j++ )); do
			ch=0; [ $j -lt ${#name} ] && printf -v ch '%d' "'${name:$j:1}"
			id+=("set_name[$j]" "$ch")
		done
		[ -z "${B_BM[$b]}" ] ||
			for j in 0 1 2 3; do id+=("bitmap.uuid[$(( 12 + j ))]" "${ub[$j]}"); done
	fi
	for (( i = 0; i < B_N[$b]; i++ )); do
		args=("${id[@]}")
		if [ "${C_SCOPE[$k]}" = all ] || [ "$i" = 1 ]; then
			spec=${C_FIELD[$k]}
			while [[ $spec == *=*,* ]]; do
				f=${spec%%,*}; spec=${spec#*,}
				args+=("${f%%=*}" "${f#*=}")
			done
			args+=("$spec" "${C_VALUE[$k]}")
		fi
		"$SB_PATCH" --copy-from "$BASE/$b/m$i" "$SRC/c${k}_m$i" "${args[@]}" ||
			fail "sb-patch c${k}_m$i ${args[*]}"
	done
}

# Which member files must come through the mount byte for byte: every
# member of a refused array, the left-out member of a degraded one.
kept_members() { # K: sets KEPT
	local k=$1 i
	KEPT=()
	case ${C_EXP[$k]} in
	R|X|WR) for (( i = 0; i < B_N[${C_BASE[$k]}]; i++ )); do KEPT+=("c${k}_m$i"); done ;;
	D|X1) KEPT=("c${k}_m1") ;;
	esac
}

declare -A RESULT ERRS

# ERRS[K]: the daemon's lines about case K's member files.
read_reasons() {
	local line re='/c([0-9]+)_m[0-9]+[^0-9]'
	ERRS=()
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		ERRS[${BASH_REMATCH[1]}]+="$line"$'\n'
	done <"$T/batch.err"
}

# has_reason K MEMBER_RE FIELD_RE: a line of K's naming both
has_reason() {
	local line
	while IFS= read -r line; do
		[[ $line =~ /c$1_m$2[^0-9] ]] || continue
		shopt -s nocasematch
		[[ $line =~ $3 ]] && { shopt -u nocasematch; return 0; }
		shopt -u nocasematch
	done <<<"${ERRS[$1]:-}"
	return 1
}

# Check case K in the running mount: MSG says what is wrong, empty if right.
check_case() { # K
	local k=$1 b=${C_BASE[$1]} e=${C_EXP[$1]} re=${C_RE[$1]}
	local suf name
	printf -v suf %08x "$k"
	name=${IMG[$suf]:-}
	MSG=
	case $e in
	R|X|WR) [ -z "$name" ] || MSG="served as $name, expected refused"
		[ "$e" = X ] || [ -n "$name" ] || has_reason "$k" '[0-9]+' "$re" ||
			MSG="refused, but no reason naming a member file and /$re/"
		return ;;
	esac
	[ -n "$name" ] || { MSG="not served"; return; }
	cmp -s "$MNT/$name" "$BASE/$b.data" || { MSG="served, but the data differs"; return; }
	case $e in
	S) [ "${C_SCOPE[$k]}" = all ] || [[ ${ERRS[$k]:-} != *"c${k}_m1: "*"left out"* ]] ||
		MSG="the patched member was left out: ${ERRS[$k]%%$'\n'*}" ;;
	D) has_reason "$k" 1 "$re" ||
		MSG="served, but no reason naming c${k}_m1 and /$re/ for leaving it out" ;;
	W1) has_reason "$k" 0 events || MSG="the stale member c${k}_m0 is not reported" ;;
	esac
	[ -n "$MSG" ] && return
	# a served image takes a write and reads it back
	dd if="$WBLOCK" of="$MNT/$name" bs=4096 seek=1 conv=notrunc,fsync status=none 2>/dev/null ||
		{ MSG="a 4 KiB write to the served image failed"; return; }
	cmp -s -n 4096 -i 0:4096 "$WBLOCK" "$MNT/$name" || MSG="a 4 KiB write does not read back"
}

# Start the daemon on SRC; DPID is its pid, and 0 is returned once the
# mount is up.
start_daemon() {
	local i
	mkdir -p "$MNT"
	"$RAIDFS" mount -f -o run "$SRC" "$MNT" 2>"$T/batch.err" &
	DPID=$!
	track_daemon "$DPID"; MOUNTS+=("$MNT")
	for i in $(seq 200); do
		[ -e "$MNT/mdstat" ] && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Unmount; 0 if the daemon lived to the end and exited 0 (RC its status).
stop_daemon() {
	local alive=0
	kill -0 "$DPID" 2>/dev/null || alive=1
	fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null || true
	RC=0
	wait "$DPID" || RC=$?
	fusermount3 -u -z "$MNT" 2>/dev/null || true
	[ $alive = 0 ] && [ $RC = 0 ]
}

# The mount again, as it left the members: what was served serves the
# same data with the 4 KiB write in it, what was refused stays refused.
check_restart() { # K: sets MSG
	local k=$1 b=${C_BASE[$1]} suf name
	printf -v suf %08x "$k"
	name=${IMG[$suf]:-}
	MSG=
	if [ -z "${SERVED[$k]:-}" ]; then
		[ -z "$name" ] || MSG="refused at first, served as $name after a restart"
		return
	fi
	[ -n "$name" ] || { MSG="served at first, not after a restart"; return; }
	cmp -s "$MNT/$name" "$BASE/$b.data2" || MSG="after a restart the data differs"
}

record() { # K MESSAGE
	RESULT[$1]=${RESULT[$1]:+${RESULT[$1]}; }$2
}

# Run cases in one mount.  A daemon that dies or aborts, or a sentinel
# that stops serving, takes the whole set down; the set is then split
# until the culprit is alone.
run_set() { # K...
	local k f died=0 kept=() line sentinel= suf
	rm -rf "$SRC" "$KEEP"; mkdir -p "$SRC" "$KEEP"
	cp --sparse=always "$BASE/sentinel/"* "$SRC/"
	for k in "$@"; do
		prep_case "$k"
		kept_members "$k"
		kept+=("${KEPT[@]/#/$SRC/}")
	done
	[ ${#kept[@]} = 0 ] || cp --sparse=always "${kept[@]}" "$KEEP/"
	declare -gA TMP=() SERVED=()
	RC=0
	if start_daemon; then
		image_map
		read_reasons
		cmp -s "$MNT/sentinel" "$BASE/sentinel.data" || sentinel="the sentinel did not serve"
		for k in "$@"; do
			check_case "$k"
			[ -z "$MSG" ] || TMP[$k]=$MSG
			printf -v suf %08x "$k"
			[ -z "${IMG[$suf]:-}" ] || SERVED[$k]=1
		done
		[ -n "$sentinel" ] || cmp -s "$MNT/sentinel" "$BASE/sentinel.data" ||
			sentinel="the sentinel stopped serving"
		stop_daemon && [ -z "$sentinel" ] || died=1
	else
		kill -9 "$DPID" 2>/dev/null || true      # hung before its mount was up
		stop_daemon || true
		died=1
	fi
	if [ $died = 0 ] && start_daemon; then
		image_map
		for k in "$@"; do
			[ -n "${TMP[$k]:-}" ] && continue
			check_restart "$k"
			[ -z "$MSG" ] || TMP[$k]=$MSG
		done
		cmp -s "$MNT/sentinel" "$BASE/sentinel.data" || sentinel="the sentinel did not serve after a restart"
		stop_daemon && [ -z "$sentinel" ] || died=1
	elif [ $died = 0 ]; then
		kill -9 "$DPID" 2>/dev/null || true
		stop_daemon || true
		died=1
	fi
	if [ $died = 1 ]; then
		if [ $# = 1 ]; then
			record "$1" "${sentinel:-the daemon died or exited $RC}: $(grep -v 'left out' "$T/batch.err" | tail -2 | tr '\n' ' ')"
			return
		fi
		note "a daemon of $# cases died (exit $RC${sentinel:+, $sentinel}): splitting"
		local half=$(( $# / 2 ))
		run_set "${@:1:$half}"
		run_set "${@:$(( half + 1 ))}"
		return
	fi
	for k in "$@"; do
		[ -z "${TMP[$k]:-}" ] || record "$k" "${TMP[$k]}"
	done
	# one pass over the kept members: any that differs was written
	while IFS= read -r line; do
		[[ $line =~ /(c([0-9]+)_m[0-9]+)\ differ ]] || continue
		record "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]} was written by the mounts"
	done < <(diff -q "$KEEP" "$SRC" 2>/dev/null | grep ' differ$' || true)
	cp "$T/batch.err" "${HOSTILE_SB_ERRLOG:-$T/last.err}"
	[ -z "${HOSTILE_SB_VERBOSE:-}" ] || note "$# cases in one mount, ${SECONDS}s so far"
}

SECONDS=0
ids=()
for k in "${!C_BASE[@]}"; do
	ids+=("$k")
	if [ ${#ids[@]} = "$BATCH" ]; then run_set "${ids[@]}"; ids=(); fi
done
[ ${#ids[@]} = 0 ] || run_set "${ids[@]}"
note "cases took ${SECONDS}s"

nbad=0
for k in "${!C_BASE[@]}"; do
	if [ -n "${RESULT[$k]:-}" ]; then
		nbad=$(( nbad + 1 ))
		echo "FAIL row: ${C_ROW[$k]} (expect ${C_EXP[$k]}): ${RESULT[$k]}"
	elif [ -n "${HOSTILE_SB_VERBOSE:-}" ]; then
		echo "ok: ${C_ROW[$k]} (${C_EXP[$k]})"
	fi
done
[ $nbad = 0 ] || fail "$nbad of ${#C_BASE[@]} hostile superblock cases went wrong"
echo "PASS (${#C_BASE[@]} cases)"
