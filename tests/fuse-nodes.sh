#!/bin/bash
# Every FUSE handler against every kind of node (the image, mdstat, a
# writable and a read-only control file, directories, the rdN symlinks):
# what a node supports works, everything else is refused with the errno a
# block device or sysfs would give.  fallocate on a control file must not
# reach the array (it once punched the array's data).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

# refused WORDS CMD...: CMD fails, saying strerror's WORDS (a glob).
refused() {
	local want=$1 out; shift
	if out=$(LC_ALL=C "$@" 2>&1 >/dev/null); then
		fail "$* succeeded; want '$want'"
	fi
	case $out in *$want*) ;; *) fail "$*: '$out'; want '$want'" ;; esac
}
works() {
	local out
	out=$(LC_ALL=C "$@" 2>&1 >/dev/null) || fail "$* failed: $out"
}
put() { printf '%s' "$2" | dd of="$1" conv=notrunc status=none; }

"$RAIDFS" create --assume-clean -l 1 -n 2 -N r1 --member-size 16M "$T/a" "$T/b" >/dev/null
rf_mount "$T/mnt" "$T/a" "$T/b"
M=$T/mnt
IMG=$M/r1 MDSTAT=$M/mdstat DIR=$M/r1.md RW=$M/r1.md/sync_action
RO=$M/r1.md/level RDEV=$M/r1.md/dev-a LINK=$M/r1.md/rd0
random_file "$T/data" $((2 << 20))
dd if="$T/data" of="$IMG" bs=1M conv=notrunc,fsync status=none

note "open and read"
works cat "$MDSTAT" "$RO" "$RW" "$RDEV/state"
works head -c 4096 "$IMG"
refused "Is a directory" cat "$DIR"
refused "Is a directory" cat "$LINK"

note "write"
works put "$RW" idle
works put "$IMG" x
refused "Permission denied" put "$RO" x
refused "Permission denied" put "$MDSTAT" x
refused "Is a directory" put "$DIR" x
dd if="$T/data" of="$IMG" bs=1 count=1 conv=notrunc status=none

note "fallocate: only the discard, only on the image"
for f in "$RW" "$RDEV/state"; do
	# util-linux words EOPNOTSUPP for a punch so
	refused "keep size mode is unsupported" fallocate -p -o 0 -l 1M "$f"
	refused "Operation not supported" fallocate -o 0 -l 1M "$f"
done
refused "Permission denied" fallocate -p -o 0 -l 1M "$RO"
refused "Permission denied" fallocate -p -o 0 -l 1M "$MDSTAT"
refused "Is a directory" fallocate -p -o 0 -l 1M "$DIR"
same_range "$IMG" 0 "$T/data" || fail "fallocate on a control file changed the array"
refused "Operation not supported" fallocate -o 0 -l 1M "$IMG"
refused "Operation not supported" fallocate -z -o 0 -l 1M "$IMG"
works fallocate -p -o 1M -l 1M "$IMG"
cmp -s <(head -c 1M "$T/data") <(head -c 1M "$IMG") || fail "discard reached the wrong range"
cmp -s <(head -c 1M /dev/zero) <(dd if="$IMG" bs=1M skip=1 count=1 status=none) ||
	fail "discarded range does not read back as zeros"

note "fsync"
works sync "$IMG" "$MDSTAT" "$RO" "$RW" "$DIR" "$RDEV"

note "truncate"
works truncate -s "$(stat -c %s "$IMG")" "$IMG"
refused "Invalid argument" truncate -s 0 "$IMG"
works truncate -s 0 "$RW"
refused "Permission denied" truncate -s 0 "$RO"
refused "Permission denied" truncate -s 0 "$MDSTAT"
refused "Is a directory" truncate -s 0 "$DIR"

note "chmod, chown, utimens on the tree: refused"
for f in "$MDSTAT" "$RO" "$RW" "$DIR" "$RDEV" "$M"; do
	refused "Operation not permitted" chmod 600 "$f"
	refused "Operation not permitted" chown 1:1 "$f"
	refused "Operation not permitted" touch -c "$f"
done
refused "Operation not permitted" chown -h 1:1 "$LINK"
refused "Operation not permitted" touch -h "$LINK"
expect_eq "mode of a writable control file" "$(stat -c %a "$RW")" 644
expect_eq "mode of a read-only control file" "$(stat -c %a "$RO")" 444

note "readlink and readdir"
expect_eq "rd0" "$(readlink -v "$LINK")" dev-a
refused "Invalid argument" readlink -v "$RW"
refused "Invalid argument" readlink -v "$IMG"
refused "Invalid argument" readlink -v "$DIR"
ls "$LINK/" | grep -qx state || fail "rd0/ does not list dev-a's files"
ls "$DIR" | grep -qx sync_action || fail "r1.md does not list sync_action"
refused "Not a directory" ls "$RW/"
refused "Not a directory" cat "$MDSTAT/x"

note "names: nothing is made, removed or renamed"
refused "Operation not permitted" mkdir "$M/new"
refused "Operation not permitted" mkdir "$DIR/new"
refused "Operation not permitted" touch "$M/new"
refused "Operation not permitted" mkfifo "$DIR/fifo"
refused "Operation not permitted" ln -s r1 "$M/sym"
refused "Operation not permitted" ln "$IMG" "$M/hard"
refused "Operation not permitted" rm -f "$RW"
refused "Operation not permitted" rm -f "$IMG"
refused "Operation not permitted" rm -f "$LINK"
refused "Operation not permitted" rmdir "$RDEV"
refused "Operation not permitted" mv "$IMG" "$M/r2"
refused "Operation not permitted" mv "$RW" "$DIR/x"
[ -e "$IMG" ] && [ -e "$RW" ] && [ -L "$LINK" ] || fail "a node went away"
head -c 1M "$T/data" >"$T/first"
same_range "$IMG" 0 "$T/first" || fail "image data changed"
rf_umount "$T/mnt"
echo "PASS"
