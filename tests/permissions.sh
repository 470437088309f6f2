#!/bin/bash
# With -o allow_other the mount is shared, and the kernel must check file
# modes (default_permissions): another user reads what is world-readable
# but cannot write the root-owned image or control files, nor fail a
# member.  The image's chmod, chown and utimens take effect.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
[ "$(id -u)" = 0 ] || skip "needs root to mount for other users"
command -v setpriv >/dev/null || skip "no setpriv (package util-linux)"

# as_nobody CMD...: run CMD as user and group 65534, no other groups.
as_nobody() { LC_ALL=C setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
denied() {
	local out
	out=$(as_nobody "$@" 2>&1 >/dev/null) && fail "nobody could: $*"
	case $out in *"Permission denied"*|*"Operation not permitted"*) ;;
	*) fail "nobody: $*: '$out'" ;; esac
}
allowed() {
	local out
	out=$(as_nobody "$@" 2>&1 >/dev/null) || fail "nobody could not: $*: $out"
}
put() { printf '%s' "$2" | dd of="$1" conv=notrunc status=none; }
export -f put

chmod 755 "$T"     # let nobody reach the mount point
"$RAIDFS" create --assume-clean -l 1 -n 2 -N r1 --member-size 16M "$T/a" "$T/b" >/dev/null
rf_mount "$T/mnt" -o allow_other "$T/a" "$T/b"
M=$T/mnt
random_file "$T/data" 65536
dd if="$T/data" of="$M/r1" conv=notrunc,fsync status=none

note "nobody reads what is world-readable"
allowed cat "$M/mdstat" "$M/r1.md/level" "$M/r1.md/sync_action" "$M/r1.md/dev-a/state"
allowed head -c 4096 "$M/r1"
allowed ls "$M" "$M/r1.md" "$M/r1.md/rd0/"

note "nobody writes nothing"
denied bash -c 'put "$1" x' - "$M/r1"
denied fallocate -p -o 0 -l 64K "$M/r1"
denied bash -c 'put "$1" check' - "$M/r1.md/sync_action"
denied bash -c 'put "$1" 1' - "$M/r1.md/sync_speed_min"
denied bash -c 'put "$1" inactive' - "$M/r1.md/array_state"
denied bash -c 'put "$1" faulty' - "$M/r1.md/dev-a/state"
denied bash -c 'put "$1" faulty' - "$M/r1.md/rd1/state"
denied chmod 666 "$M/r1"
denied chown 65534 "$M/r1"
denied touch "$M/r1"
expect_eq "dev-a's state" "$(cat "$M/r1.md/dev-a/state")" in_sync
expect_eq "dev-b's state" "$(cat "$M/r1.md/dev-b/state")" in_sync
expect_eq "sync_action" "$(cat "$M/r1.md/sync_action")" idle
expect_eq "degraded" "$(cat "$M/r1.md/degraded")" 0
same_range "$M/r1" 0 "$T/data" || fail "the image changed"

note "the image's chmod, chown and utimens take effect"
chmod 600 "$M/r1"
expect_eq "mode after chmod" "$(stat -c %a "$M/r1")" 600
denied head -c 4096 "$M/r1"
chown 65534:65534 "$M/r1"
expect_eq "owner after chown" "$(stat -c %u:%g "$M/r1")" 65534:65534
allowed bash -c 'put "$1" x' - "$M/r1"
dd if="$T/data" of="$M/r1" bs=1 count=1 conv=notrunc status=none
touch -m -d @1000000000 "$M/r1"
expect_eq "mtime after touch" "$(stat -c %Y "$M/r1")" 1000000000
denied chmod 644 "$M/r1.md/sync_action"
rf_umount "$T/mnt"

note "-o default_permissions is accepted"
rf_mount "$T/mnt" -o allow_other,default_permissions "$T/a" "$T/b"
expect_eq "image mode at mount" "$(stat -c %a "$M/r1")" 644
denied bash -c 'put "$1" x' - "$M/r1"
rf_umount "$T/mnt"
echo "PASS"
