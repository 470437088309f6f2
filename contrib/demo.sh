#!/bin/bash
# demo.sh: raidfs in one minute.  Builds a raid1 (and a small raid0) from
# sparse member files, serves both over FUSE, puts ext4 on the mirror through
# a loop device, writes a file, stops and restarts everything, and checks the
# file came back bit for bit.  Cleans up after itself, also on failure.
#
# Usage: contrib/demo.sh [RAIDFS]   (as root; RAIDFS defaults to raidfs in PATH)
set -euo pipefail

RAIDFS=${1:-raidfs}
tmp=''           # everything lives in here
daemon_pid=''    # raidfs mount -f, our child
loopdev=''

# Bold headings on a terminal, plain text in logs.
if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '    %s\n' "$*"; }
fail() { echo "demo: $*" >&2; exit 1; }
# Show a command, then run it.
run() { printf '    $ %s\n' "$*"; "$@"; }

# Undo whatever was set up, newest first; runs on every exit.
cleanup() {
	local rc=$?
	set +e
	mountpoint -q "$tmp/fs" 2>/dev/null && umount "$tmp/fs"
	[[ -n $loopdev ]] && losetup -d "$loopdev"
	# A daemon that does not stop cleanly fails an otherwise good run.
	if ! stop_daemon && ((rc == 0)); then rc=1; fi
	[[ -n $tmp ]] && rm -rf "$tmp"
	if ((rc == 0)); then
		printf '\n%sDone: everything checked out and was cleaned up.%s\n' "$bold" "$plain"
	else
		echo "demo: FAILED (exit $rc); cleaned up" >&2
	fi
	exit "$rc"
}

# Unmounting is how raidfs is told to stop: it then marks the arrays clean
# and exits.  Wait for that, so the member files are quiet afterwards.
stop_daemon() {
	[[ -n $daemon_pid ]] || return 0
	mountpoint -q "$tmp/mnt" && fusermount3 -u "$tmp/mnt"
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$daemon_pid" 2>/dev/null && kill "$daemon_pid"
	local rc=0
	wait "$daemon_pid" || rc=$?
	daemon_pid=''
	# Only report: the cleanup trap calls this too and must carry on.
	((rc == 0)) || echo "demo: raidfs exited with status $rc" >&2
	return "$rc"
}

# Start the daemon in the background.  -f keeps it our child so we can wait
# for its clean stop; without -f it would daemonize on its own.
start_daemon() {
	printf '    $ %s mount -f %s %s &\n' "$RAIDFS" "$tmp/members" "$tmp/mnt"
	"$RAIDFS" mount -f "$tmp/members" "$tmp/mnt" >>"$tmp/raidfs.log" 2>&1 &
	daemon_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do
		mountpoint -q "$tmp/mnt" && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$daemon_pid" || true   # reaped here: its log says why
	daemon_pid=''
	fail "raidfs mount did not come up: $(cat "$tmp/raidfs.log")"
}

create_arrays() {
	step "Create a raid1 and a raid0 from sparse 256 MiB member files"
	run "$RAIDFS" create -l 1 -n 2 -N mirror --member-size 256M \
		"$tmp/members/mirror-a" "$tmp/members/mirror-b"
	run "$RAIDFS" create -l 0 -n 2 -c 64K -N stripe --member-size 256M \
		"$tmp/members/stripe-a" "$tmp/members/stripe-b"
	say "on disk: $(du -ch "$tmp"/members/* | tail -1 | cut -f1) (sparse)"
}

show_mount() {
	step "Serve both arrays: one daemon, the member directory as source"
	start_daemon
	run ls "$tmp/mnt"
	run cat "$tmp/mnt/mdstat"
}

# mkfs on the mirror through a loop device, then write a file.
make_filesystem() {
	step "Loop-mount the raid1 image, mkfs.ext4, write 64 MiB of random data"
	loopdev=$(losetup -f --show "$tmp/mnt/mirror") || fail "losetup failed"
	say "$tmp/mnt/mirror is $loopdev"
	run mkfs.ext4 -q -L demo "$loopdev"
	run mount "$loopdev" "$tmp/fs"
	run dd if=/dev/urandom of="$tmp/fs/data" bs=1M count=64 status=none
	(cd "$tmp/fs" && sha256sum data) >"$tmp/data.sha256"
	say "sha256 $(cut -c1-16 "$tmp/data.sha256")..."
}

# Raw IO on the raid0 image: what goes in comes back.
check_stripe() {
	step "Write and read back 16 MiB straight through the raid0 image"
	head -c 16M /dev/urandom >"$tmp/blob"
	run dd if="$tmp/blob" of="$tmp/mnt/stripe" bs=1M oflag=direct conv=notrunc,fsync status=none
	cmp -n $((16 << 20)) "$tmp/blob" "$tmp/mnt/stripe" || fail "raid0 readback differs"
	say "raid0 readback identical"
}

# The real test of persistence: stop everything, then assemble again.
restart_all() {
	step "Stop everything: umount, detach the loop device, unmount raidfs"
	run umount "$tmp/fs"
	run losetup -d "$loopdev"
	loopdev=''
	run fusermount3 -u "$tmp/mnt"
	stop_daemon || fail "raidfs did not stop cleanly: $(cat "$tmp/raidfs.log")"
	# The page cache must not answer the reads below.
	sync
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
	say "superblock after a clean stop:"
	"$RAIDFS" examine "$tmp/members/mirror-a" | grep -E '^ +(State|Events) :' | sed 's/^ */      /'
	step "Assemble again and verify the file"
	start_daemon
	loopdev=$(losetup -f --show "$tmp/mnt/mirror") || fail "losetup failed"
	run mount -o ro "$loopdev" "$tmp/fs"
	(cd "$tmp/fs" && run sha256sum -c "$tmp/data.sha256") || fail "checksum mismatch"
	cmp -n $((16 << 20)) "$tmp/blob" "$tmp/mnt/stripe" || fail "raid0 data differs after restart"
	say "raid0 data identical after restart too"
}

show_status() {
	step "Array status"
	run cat "$tmp/mnt/mdstat"
	local f
	for f in level array_state raid_disks component_size; do
		printf '    mirror.md/%-15s %s\n' "$f" "$(cat "$tmp/mnt/mirror.md/$f")"
	done
	run "$RAIDFS" examine "$tmp/members/mirror-a"
}

main() {
	((EUID == 0)) || { echo "demo.sh: run as root (it uses losetup and mount)" >&2; exit 1; }
	command -v "$RAIDFS" >/dev/null || fail "no raidfs at '$RAIDFS'; pass its path as \$1"
	RAIDFS=$(command -v "$RAIDFS")
	local t
	for t in losetup mkfs.ext4 fusermount3 sha256sum; do
		command -v "$t" >/dev/null || fail "$t is needed"
	done
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	tmp=$(mktemp -d /tmp/raidfs-demo.XXXXXX)
	mkdir "$tmp/members" "$tmp/mnt" "$tmp/fs"
	create_arrays
	show_mount
	make_filesystem
	check_stripe
	restart_all
	show_status
}

main "$@"
