#!/bin/bash
# llbitmap's on-disk format against the reference: tests/llbitmap-decode
# reads the member files as the reference's llbitmap_read_sb and state
# bytes do (its own structures, none of raidfs's code).  After writes and a
# clean stop, on raid1, raid10 and raid5: every member holds the same map,
# the superblock passes every check the reference makes, its events are
# the md superblock's, the chunk written decodes Clean, and the states
# counted are what llbitmap/bits says once the array is back.  The
# metadata file is read while the superblocks are rewritten, for TSan.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
[ -x "$LLBITMAP_DECODE" ] || fail "no llbitmap-decode at $LLBITMAP_DECODE"

M=$T/mnt
MiB=$((1 << 20))
# state_of DECODED CHUNK: the state the runs give chunk
state_of() {
	awk -v c="$2" 'NF == 3 && c >= $2 && c <= $3 { print $1 }' "$1"
}
# counts DECODED: llbitmap/bits' lines from the runs
counts() {
	awk 'NF == 3 { n[$1] += $3 - $2 + 1 }
	     END { printf "unwritten %d\nclean %d\ndirty %d\nneed sync %d\nsyncing %d\n",
		   n["unwritten"], n["clean"], n["dirty"], n["needsync"], n["syncing"] }' "$1"
}

for spec in "1 2" "10 4" "5 3"; do
	set -- $spec
	level=$1 n=$2 members=()
	for ((i = 0; i < n; i++)); do members+=("$T/r$level-$i"); done
	note "raid$level, $n members"
	"$RAIDFS" create -l "$level" -n "$n" -N r -b lockless --member-size 256M \
		"${members[@]}" >/dev/null
	rf_mount "$M" "${members[@]}"
	wait_idle "$M/r.md"
	random_file "$T/w" "$MiB"
	dd if="$T/w" of="$M/r" bs=1M seek=64 conv=notrunc,fsync status=none
	wait_idle "$M/r.md"
	cs=$(sed -n 's/^chunksize //p' "$M/r.md/llbitmap/metadata")
	# metadata (which reads the superblock's bitmap_offset) while safe
	# mode rewrites the superblocks at every write: TSan once saw a race
	meta=$(cat "$M/r.md/llbitmap/metadata")
	echo 0.001 >"$M/r.md/safe_mode_delay"
	for i in $(seq 30); do
		dd if="$T/w" of="$M/r" bs=4K count=1 seek="$i" conv=notrunc,fsync status=none
		expect_eq "raid$level: metadata while the superblocks change" \
			"$(cat "$M/r.md/llbitmap/metadata")" "$meta"
	done
	# raid5's lazy build of what was written, which the write only asks for
	for i in $(seq 600); do
		grep -q '^need sync 0$' "$M/r.md/llbitmap/bits" &&
			grep -q '^syncing 0$' "$M/r.md/llbitmap/bits" && break
		sleep 0.1
	done
	wait_idle "$M/r.md"
	rf_umount "$M"

	for m in "${members[@]}"; do
		"$LLBITMAP_DECODE" "$m" >"$m.dec" || fail "$m: the reference refuses it"
		cmp -s "${members[0]}.dec" "$m.dec" ||
			fail "$m's map differs from ${members[0]}'s: $(diff "${members[0]}.dec" "$m.dec")"
	done
	dec=${members[0]}.dec
	expect_eq "raid$level chunksize" "$(sed -n 's/^chunksize //p' "$dec")" "$cs"
	expect_eq "raid$level events" "$(sed -n 's/^events //p' "$dec")" \
		"$(sed -n 's/^sb_events //p' "$dec")"
	! grep -q '^invalid' "$dec" ||
		fail "raid$level: invalid states: $(grep '^invalid' "$dec")"
	# the chunk under the write's first sector, in the bitmap's space
	at=$((64 * MiB / 512))
	[ "$level" = 5 ] && at=$((at / (n - 1)))
	expect_eq "raid$level: the written chunk" "$(state_of "$dec" $((at / cs)))" clean
	rf_mount "$M" "${members[@]}"
	expect_eq "raid$level: bits as decoded" "$(cat "$M/r.md/llbitmap/bits")" "$(counts "$dec")"
	rf_umount "$M"
done
exit 0
