#!/bin/bash
# Every kind of file as a member, to examine and to mount: the exit status
# expected, a refusal in one non-empty line naming the file (and its kind
# when it is not a regular file or block device), and never a hang.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

LOOP=
trap 'rc=$?; set +e; [ -z "$LOOP" ] || losetup -d "$LOOP"; (exit $rc); cleanup' EXIT

# A mount point of its own for the table, so a refused mount leaves nothing.
M=$T/mnt
mkdir -p "$M"
# nobody must reach the files of the permission row: $T is 0700.
chmod 711 "$T"
K=$T/k
mkdir -m 755 "$K"
cd "$K"

truncate -s 16M a b
"$RAIDFS" create -l 1 -n 2 --assume-clean -N kinds a b >/dev/null 2>&1 ||
	fail "create failed"
: >empty
head -c 100 /dev/urandom >short
truncate -s 16M sparse
mkdir dir
mkfifo fifo
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$K/sock" || skip "python3 cannot make a UNIX socket"
ln -s nowhere dangling
ln -s a alink
ln -s dir dirlink
# A member with a hole where its superblock was (1.2: at 4 KiB).
cp --sparse=always a holed
fallocate -p -o 0 -l 1M holed
head -c 1M /dev/urandom >noread
chmod 000 noread

# run_cmd TIMEOUT CMD...: RC and $T/err of CMD, a hang failing the test.
run_cmd() {
	local t=$1; shift
	RC=0
	timeout -k 5 "$t" "$@" >"$T/out" 2>"$T/err" </dev/null || RC=$?
	[ "$RC" != 124 ] && [ "$RC" != 137 ] || fail "$* hung"
}

# one_line WHAT PATH PATTERN: $T/err is one non-empty line naming PATH and
# saying PATTERN.
one_line() {
	local n
	n=$(wc -l <"$T/err")
	[ "$n" = 1 ] || fail "$1: $n lines of stderr, want 1: $(cat "$T/err")"
	grep -qF -- "$2" "$T/err" && grep -q -- "^raidfs: .*$3" "$T/err" ||
		fail "$1: '$(cat "$T/err")' does not name $2 and say '$3'"
}

# row PATH WANT PATTERN [MOUNT_PATTERN] [AS...]: examine PATH and mount it
# (with b, so a member makes a whole array) as AS (a command prefix, e.g.
# setpriv); WANT is 0 for a member, else 2 with PATTERN in the one line
# (MOUNT_PATTERN for the mount, if given: a directory is a scan there).
row() {
	local path=$1 want=$2 pattern=$3 mpattern=${4:-$3}; shift 3
	[ $# = 0 ] || shift
	run_cmd 20 "$@" "$RAIDFS" examine "$path"
	[ "$RC" = "$want" ] || fail "examine $path: exit $RC, want $want: $(cat "$T/err")"
	if [ "$want" = 0 ]; then
		grep -q "Array UUID" "$T/out" || fail "examine $path printed no superblock"
		[ ! -s "$T/err" ] || fail "examine $path: $(cat "$T/err")"
		rf_mount "$M" "$path" b
		[ -e "$M/kinds" ] || fail "mount $path: no image"
		rf_umount "$M"
	else
		one_line "examine $path" "$path" "$pattern"
		run_cmd 20 "$@" "$RAIDFS" mount -f "$path" "$M"
		[ "$RC" = 2 ] || fail "mount $path: exit $RC, want 2: $(cat "$T/err")"
		one_line "mount $path" "$path" "$mpattern"
		! mountpoint -q "$M" || fail "mount $path left a mount"
	fi
	note "$path: examine and mount: ${pattern:-served}"
}

KIND="not a regular file or block device"
row a 0 ""
row alink 0 ""
row "$K/empty" 2 "no md superblock"
row short 2 "no md superblock"
row sparse 2 "no md superblock"
row holed 2 "no md superblock"
row dir 2 "a directory, $KIND" "no md superblock in dir (0 files"
row dirlink 2 "a directory, $KIND" "no md superblock in dirlink (0 files"
row fifo 2 "a FIFO, $KIND"
row sock 2 "a socket, $KIND"
row dangling 2 "No such file or directory"
row /dev/null 2 "a character device, $KIND"
if [ -c /dev/ptmx ]; then
	row /dev/ptmx 2 "a character device, $KIND"
else
	note "no /dev/ptmx: no tty row"
fi

if [ "$(id -u)" = 0 ]; then
	# The build tree may sit where nobody cannot reach (a 0700 clone):
	# nobody runs a copy of the program from the test's own directory.
	# Its sanitizer reports (make check-sanitizers) go where nobody may
	# write, and fail the test like the daemon's.
	chmod 711 "$T" && mkdir -m 1777 "$T/bin" && cp "$RAIDFS" "$T/bin/raidfs"
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$T/bin/raidfs" ||
		fail "nobody cannot run $T/bin/raidfs"
	# A suppressions file the options name is copied there too.
	(for v in ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS; do
		val=${!v}
		if [[ $val == *suppressions=* ]]; then
			sup=${val##*suppressions=} sup=${sup%%:*}
			cp "$sup" "$T/bin/$v.supp" &&
				val=${val/suppressions=$sup/suppressions=$T/bin/$v.supp}
		fi
		export "$v=$val:log_path=$T/bin/sanitizer"
	 done
	 RAIDFS=$T/bin/raidfs row "$K/noread" 2 "Permission denied" "" \
		setpriv --reuid=65534 --regid=65534 --clear-groups)
	for f in "$T"/bin/sanitizer.*; do
		[ -e "$f" ] || continue
		cat "$f" >&2
		fail "a sanitizer reported on the run as nobody"
	done
else
	row "$K/noread" 2 "Permission denied"
fi

if [ "$(id -u)" = 0 ] && LOOP=$(losetup -f --show "$K/a" 2>/dev/null); then
	row "$LOOP" 0 ""
	losetup -d "$LOOP"
	LOOP=
else
	note "no loop device: no block device row"
fi

# The directory scan skips what is no member, hanging on nothing: every
# kind above beside the array (the symlink to a member would be a member
# twice, the loop device is not in the directory), character devices by
# symlink.
rm alink
ln -s /dev/null devnull
[ ! -c /dev/ptmx ] || ln -s /dev/ptmx ptmx
run_cmd 60 "$RAIDFS" mount "$K" "$M"
[ "$RC" = 0 ] || fail "mount $K: exit $RC: $(cat "$T/err")"
MOUNTS+=("$M")
RF_PID=$(daemon_pid "$M") || fail "no daemon serves $M"
track_daemon "$RF_PID"
RF_CHILD=0
[ -e "$M/kinds" ] || fail "the scan of $K found no array"
rf_umount "$M"
for m in a b; do
	expect_eq "$m state after the scan's mount" "$(examine_field "$K/$m" State)" clean
done
echo PASS
