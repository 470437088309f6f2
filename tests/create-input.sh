#!/bin/bash
# raidfs create against bad input: every option with malformed values, one
# file given twice, arrays that could never start, and a create that fails
# half-way.  Each refusal exits 2 (1: the operation failed) with exactly
# one line on stderr, and leaves every file as it was and no new one.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

cd "$T"
mkdir d
truncate -s 2M d/a d/b d/c d/e
head -c 65536 /dev/urandom | dd of=d/a bs=64K seek=31 conv=notrunc status=none
ln d/a d/hard
ln -s a d/soft
ln -s "$T/d/a" d/abs

# Names, kinds and link counts of everything, and the contents of each file.
state() { (cd "$T/d" && find . -printf '%p %y %n\n' && find . -type f -links 1 -exec sha256sum {} + &&
	   sha256sum hard) | sort; }

# expect RC PATTERN CMD...: in d/, CMD exits RC with one line on stderr
# matching PATTERN (an extended regular expression), and d/ is exactly as
# it was.
expect() {
	local want=$1 pattern=$2; shift 2
	local before=$BASE after rc=0
	(cd d && "$@") >"$T/out" 2>"$T/err" || rc=$?
	after=$(state)
	[ "$rc" = "$want" ] || fail "$*: exit $rc, want $want ($(cat "$T/err"))"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "$*: stderr is not one line: $(cat "$T/err")"
	grep -Eiq -- "$pattern" "$T/err" || fail "$*: '$(cat "$T/err")' does not say '$pattern'"
	[ ! -s "$T/out" ] || fail "$*: printed $(cat "$T/out")"
	[ "$before" = "$after" ] || fail "$*: files changed: $(diff <(echo "$before") <(echo "$after"))"
}
BASE=$(state)      # d/ as every refusal must leave it
C=("$RAIDFS" create)
R1=(-l 1 -n 2)

# Every option x malformed values: empty, negative, zero, garbage suffix,
# overflow, huge.
note "option values"
for v in '' -1 0 abc 2x 385 2147483647 99999999999 -2147483649; do
	expect 2 "raid-devices|for -n" "${C[@]}" -l 1 -n "$v" a b
done
for v in '' -1 abc 1x 385 2147483647 99999999999; do
	expect 2 "spare-devices|for -x" "${C[@]}" "${R1[@]}" -x "$v" a b
done
for v in '' -1 -0 0 abc 64x ' 64' 3K 1.5K 100K 2G 8G 2T 16E 99999999999999999999; do
	expect 2 chunk "${C[@]}" -l 5 -n 3 -c "$v" a b c
done
for v in '' -1 0 abc 3K 1.5K 2G 2T 99999999999999999999; do
	expect 2 chunk "${C[@]}" -l 0 -n 2 -c "$v" a b
done
expect 2 "power of two" "${C[@]}" -l 10 -n 2 -c 12K a b
expect 2 "logical block size" "${C[@]}" -l 0 -n 2 -c 6K --logical-block-size 4096 a b
for v in '' -1 0 abc 1x 1000B ' 1M' 100T 16E 99999999999999999999; do
	expect 2 size "${C[@]}" "${R1[@]}" -z "$v" a b
done
for v in '' -1 0 abc 1x 512K 16E 9000000T 99999999999999999999; do
	expect 2 member-size "${C[@]}" "${R1[@]}" --member-size "$v" new1 new2
done
for v in '' -1 0 abc 1000 256 131072 4294967296; do
	expect 2 logical-block-size "${C[@]}" "${R1[@]}" --logical-block-size "$v" a b
done
for v in '' abc 0123 0123456789abcdef0123456789abcdef0 \
	 0123456789abcdef0123456789abcdeg 'zz:zz'; do
	expect 2 uuid "${C[@]}" "${R1[@]}" -u "$v" a b
done
for v in '' 2.0 1.3 0.91 abc -1 99999999999; do
	expect 2 metadata "${C[@]}" "${R1[@]}" -e "$v" a b
done
for v in '' 2 3 7 abc -5 raid99 99999999999 '1 '; do
	expect 2 level "${C[@]}" -l "$v" -n 2 a b
done
for v in '' bogus left n2 99999999999; do
	expect 2 layout "${C[@]}" -l 5 -n 3 -p "$v" a b c
done
for v in '' bogus n0 n3 f0 o1 n2x n300 f99999999999 2; do
	expect 2 layout "${C[@]}" -l 10 -n 2 -p "$v" a b
done
for v in '' bogus ' none' NONE; do
	expect 2 bitmap "${C[@]}" "${R1[@]}" -b "$v" a b
done
for v in '' 'a/b' mdstat $'a\nb' 0123456789012345678901234567890123; do
	expect 2 name "${C[@]}" "${R1[@]}" -N "$v" a b
done
expect 2 "empty path" "${C[@]}" "${R1[@]}" a ''

# The same file twice, however it is named.
note "duplicates"
for pair in "a a" "a ./a" "a $T/d/a" "a ../d/a" "a hard" "a soft" "a abs" \
	    "soft hard"; do
	# shellcheck disable=SC2086
	expect 2 "same file" "${C[@]}" "${R1[@]}" $pair
done
expect 2 "same file" "${C[@]}" "${R1[@]}" --member-size 2M new new
expect 2 "same file" "${C[@]}" "${R1[@]}" --member-size 2M new ./new
expect 2 "same file" "${C[@]}" -l 5 -n 3 -x 1 a b c a
ln -s new d/dangling
BASE=$(state)
expect 2 "same file" "${C[@]}" "${R1[@]}" --member-size 2M new dangling
expect 2 "symbolic link to nothing" "${C[@]}" "${R1[@]}" --member-size 2M dangling new
rm d/dangling
BASE=$(state)

# Arrays md could never start: the level's own rule decides.
note "never startable"
expect 2 "never start" "${C[@]}" -l 5 -n 3 a missing missing
expect 2 "never start" "${C[@]}" -l 4 -n 3 missing missing a
expect 2 "never start" "${C[@]}" -l 6 -n 4 a missing missing missing
expect 2 "never start" "${C[@]}" -l 10 -n 4 missing missing a b
expect 2 "never start" "${C[@]}" -l 10 -n 4 -p n2 a b missing missing
expect 2 "every member is missing" "${C[@]}" -l 10 -n 3 -p n3 missing missing missing
expect 2 "never start" "${C[@]}" -l 0 -n 2 a missing
expect 2 "never start" "${C[@]}" -l linear -n 2 missing a
expect 2 "every member is missing" "${C[@]}" "${R1[@]}" missing missing

# Checked before anything is written: a member that cannot be made.
note "atomic"
expect 2 new1 "${C[@]}" "${R1[@]}" --member-size 2M new0 /nonexistent/dir/new1
expect 2 new1 "${C[@]}" "${R1[@]}" --member-size 2M a /nonexistent/dir/new1
expect 2 x: "${C[@]}" "${R1[@]}" --member-size 2M new0 d-is-not-there/x
(cd d && "${C[@]}" "${R1[@]}" --member-size 2M owned1 owned2 >/dev/null)
mkdir d/sub
BASE=$(state)
expect 2 "already belongs" "${C[@]}" "${R1[@]}" --member-size 2M new0 owned1
expect 2 "same file" "${C[@]}" -l 1 -n 3 --force --member-size 2M new0 owned1 owned1
expect 2 "sub: a directory, not a regular file" "${C[@]}" "${R1[@]}" --member-size 2M new0 sub
rmdir d/sub
# Kinds that are no member: refused by kind, a FIFO without blocking for
# a writer (timeout's 124 would fail the row).
mkfifo d/fifo
BASE=$(state)
expect 2 "fifo: a FIFO, not a regular file" timeout 10 "${C[@]}" "${R1[@]}" --member-size 2M new0 fifo
expect 2 "/dev/null: a character device, not a regular file" "${C[@]}" "${R1[@]}" a /dev/null
rm d/fifo
BASE=$(state)
# A write that fails half-way (a file size limit past the last member's
# 1.0 superblock): the operation failed, the file create made is gone and
# the member it had written is as it was.
truncate -s 8M d/big
BASE=$(state)
expect 1 big bash -c 'trap "" XFSZ; ulimit -f $((4 * 1024)); exec "$@"' - \
	"${C[@]}" -l 1 -n 3 -e 1.0 --member-size 2M new0 a big
"$RAIDFS" examine d/a >/dev/null 2>&1 && fail "d/a kept a superblock"
rm d/big

# What is still accepted: md's limits, not narrower ones.
note "accepted"
cp d/b d/ok1 && cp d/c d/ok2        # members as large as the ones above
(cd d && "${C[@]}" "${R1[@]}" ok1 ok2 >/dev/null)
(cd d && "${C[@]}" -l 0 -n 2 -c 12K --member-size 8M r0a r0b >/dev/null)
expect_eq "raid0 12K chunk" "$(examine_field d/r0a "Chunk Size")" 12K
if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null; then
	random_file pattern 1000000
	rf_mount "$T/mnt" d/r0a d/r0b
	dd if=pattern of="$T/mnt/md0" bs=64K seek=1 oflag=seek_bytes conv=notrunc,fsync status=none
	same_range "$T/mnt/md0" 1 pattern || fail "raid0 with a 12K chunk reads back other data"
	rf_umount "$T/mnt"
fi
(cd d && "${C[@]}" -l 5 -n 3 -c 1G --member-size 3G r5a r5b r5c >/dev/null)
expect_eq "raid5 1G chunk" "$(examine_field d/r5a "Chunk Size")" 1048576K
(cd d && "${C[@]}" -l 10 -n 4 --member-size 8M missing r10a missing r10b >/dev/null)
echo "PASS"
