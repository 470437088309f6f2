#!/bin/bash
# raid5 created with -b lockless and no --assume-clean does no initial
# parity build: chunks never written stay Unwritten and are skipped (their
# bytes on the members, junk here, stay as they were).  The first write to
# a chunk makes it NeedSync, a resync bounded by the bitmap builds its
# parity, and a check then finds no mismatch.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

M=$T/mnt
JUNK=128            # MiB of junk at the start of each member's data area
"$RAIDFS" create -l 5 -n 3 -c 64K -N r -b lockless --member-size 256M \
	"$T/a" "$T/b" "$T/c" >/dev/null
doff=$(examine_field "$T/a" "Data Offset" | cut -d' ' -f1)
for m in a b c; do
	head -c $((JUNK << 20)) /dev/urandom |
		dd of="$T/$m" bs=1M seek=$((doff * 512)) oflag=seek_bytes conv=notrunc status=none
done
# sum_head MEMBER: the first 64 MiB of its data area (llbitmap blocks of
# chunks 0..1023, which no write below touches)
sum_head() {
	dd if="$1" bs=1M skip=$((doff * 512)) iflag=skip_bytes count=64 status=none | sha256sum
}
before=$(for m in a b c; do sum_head "$T/$m"; done)

rf_mount "$M" "$T/a" "$T/b" "$T/c"
D=$M/r.md
wait_idle "$D"
expect_eq "last_sync_action" "$(cat "$D/last_sync_action")" resync
expect_eq "resync_start" "$(cat "$D/resync_start")" none
expect_eq "bits after the initial resync" "$(sed -n 's/^unwritten //p' "$D/llbitmap/bits")" 4080
echo check >"$D/sync_action"
wait_idle "$D"
expect_eq "mismatch_cnt with nothing written" "$(cat "$D/mismatch_cnt")" 0
expect_eq "no initial build: members' junk" "$(for m in a b c; do sum_head "$T/$m"; done)" "$before"

note "writes: each chunk NeedSync, then built lazily"
# one 4 KiB write in each of two chunks (128 KiB of array each), in
# llbitmap blocks of their own: chunk 1100 and chunk 1700
random_file "$T/d1" 4096
random_file "$T/d2" 4096
dd if="$T/d1" of="$M/r" bs=4K seek=$((1100 * 32 + 5)) conv=notrunc,fsync status=none
dd if="$T/d2" of="$M/r" bs=4K seek=$((1700 * 32 + 17)) conv=notrunc,fsync status=none
for i in $(seq 600); do
	case "$(cat "$D/llbitmap/bits" | tr '\n' ' ')" in
	"unwritten 4078 "*"need sync 0 syncing 0 ") break ;;
	esac
	sleep 0.1
done
wait_idle "$D"
expect_eq "bits after the writes" "$(cat "$D/llbitmap/bits" | tr '\n' ' ' | sed 's/clean [0-9]* dirty [0-9]*/CD/')" \
	"unwritten 4078 CD need sync 0 syncing 0 "
expect_eq "lazy build" "$(cat "$D/last_sync_action")" resync
same_range "$M/r" $(((1100 * 32 + 5) * 4096)) "$T/d1" || fail "first write reads back wrong"
same_range "$M/r" $(((1700 * 32 + 17) * 4096)) "$T/d2" || fail "second write reads back wrong"
echo check >"$D/sync_action"
wait_idle "$D"
expect_eq "mismatch_cnt after the lazy build" "$(cat "$D/mismatch_cnt")" 0
expect_eq "junk elsewhere untouched" "$(for m in a b c; do sum_head "$T/$m"; done)" "$before"
rf_umount "$M"
exit 0
