#!/bin/bash
# Few file descriptors (ulimit -n): the mount refuses in one line, writing
# nothing, or serves; after the unmount every superblock says clean: the
# unmount needs no descriptor (libfuse's pthread_cancel of its workers made
# glibc dlopen libgcc_s then, and abort when it could not).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v prlimit >/dev/null || skip "no prlimit (package util-linux)"

cd "$T"
M=$T/mnt
mkdir -p "$M"
big=() small=()
for i in $(seq 32); do big+=("big$i"); done
for i in $(seq 16); do small+=("small$i"); done
"$RAIDFS" create --assume-clean -l 1 -n 32 -N big --member-size 4M "${big[@]}" >/dev/null
"$RAIDFS" create --assume-clean -l 1 -n 16 -N small --member-size 4M "${small[@]}" >/dev/null

# mount_limited ULIMIT_ARGS MEMBER...: raidfs mount in the background under
# "ulimit ULIMIT_ARGS"; RC its exit status, $T/err what it said.
mount_limited() {
	local lim=$1; shift
	RC=0
	(ulimit $lim; exec timeout -k 5 60 "$RAIDFS" mount "$@" "$M") \
		>/dev/null 2>"$T/err" </dev/null || RC=$?
	# Whatever it did, the cleanup drops the mount and its daemon.
	MOUNTS+=("$M")
	if RF_PID=$(daemon_pid "$M"); then track_daemon "$RF_PID"; fi
	[ "$RC" != 124 ] && [ "$RC" != 137 ] || fail "mount under ulimit $lim hung"
}

# served IMAGE MEMBER...: the mount is up: writes from several threads at
# once reach the image; then, with no descriptor left to the daemon, the
# unmount stops it and the members say clean.
served() {
	RF_PID=$(daemon_pid "$M") || fail "no daemon serves $M"
	RF_CHILD=0
	local img=$M/$1 j pids=(); shift
	random_file "$T/data" 262144
	for j in $(seq 8); do
		dd if="$T/data" of="$img" bs=64K seek=$((j * 4)) conv=notrunc,fsync status=none &
		pids+=($!)
	done
	wait "${pids[@]}"
	for j in $(seq 8); do
		same_range "$img" $((j * 262144)) "$T/data" || fail "$img: write $j lost"
	done
	# Idle FUSE workers give back their descriptors: take every new one
	# away, so the unmount gets none whatever the threads did.  Not under
	# a sanitizer, whose exit-time checks open files of their own (the
	# plain build's run is the one that proves the point).  grep reads
	# all of ldd's output: with -q it could leave before ld.so's last
	# write, and pipefail would take the SIGPIPE for "no sanitizer".
	ldd "$RAIDFS" | grep -E 'lib[at]san' >/dev/null ||
		prlimit --pid "$RF_PID" --nofile=0:0
	rf_umount "$M"
	for m in "$@"; do
		expect_eq "$m after the unmount" "$(examine_field "$m" State)" clean
	done
}

note "32 members with 40 descriptors: refused in one line, nothing written"
before=$(md5sum "${big[@]}")
mount_limited "-n 40" "${big[@]}"
expect_eq "exit status" "$RC" 2
expect_eq "lines said" "$(wc -l <"$T/err")" 1
grep -q "^raidfs: 32 member files need .* the limit is 40: raise it (ulimit -n)" "$T/err" ||
	fail "refusal: $(cat "$T/err")"
! mountpoint -q "$M" || fail "the refused mount is mounted"
expect_eq "members after the refusal" "$(md5sum "${big[@]}")" "$before"

note "16 members with 40 descriptors: served, io_uring rings and FUSE clones short"
mount_limited "-n 40" "${small[@]}"
[ "$RC" = 0 ] || fail "mount of 16 members: exit $RC: $(cat "$T/err")"
served small "${small[@]}"

note "a soft limit of 40 under a higher hard one is raised: served"
[ "$(ulimit -H -n)" = unlimited ] || [ "$(ulimit -H -n)" -ge 64 ] ||
	skip "hard descriptor limit $(ulimit -H -n)"
mount_limited "-S -n 40" "${big[@]}"
[ "$RC" = 0 ] || fail "mount of 32 members, soft limit 40: exit $RC: $(cat "$T/err")"
served big "${big[@]}"
echo PASS
