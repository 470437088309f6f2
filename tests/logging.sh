#!/bin/bash
# Where the daemon's messages go.  In the foreground (-f): plain
# "raidfs: NAME: ..." lines on stderr, none of GLib's "** (...): WARNING **".
# In the background: to the journal where one runs, to syslog otherwise,
# facility daemon, the array's name in the message.  The journal's socket
# and /dev/log are the test's own, in a private mount namespace with its
# own /dev and /run: nothing of the machine's logging is touched.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v unshare >/dev/null || skip "no unshare (package util-linux)"
command -v python3 >/dev/null || skip "no python3"

# Foreground: what a member failure and its removal say on stderr.
"$RAIDFS" create -l 1 -n 2 -N fg --assume-clean --member-size 16M "$T/f0" "$T/f1" >/dev/null
rf_mount_fg "$T/fgmnt" "$T/f0" "$T/f1"
"$RAIDFS" fail "$T/fgmnt/fg" "$T/f1"
"$RAIDFS" remove "$T/fgmnt/fg" "$T/f1"
rf_umount "$T/fgmnt"
grep -q '^raidfs: fg: member f1 failed' "$T/daemon.err" ||
	fail "no plain line for the failure on stderr: $(cat "$T/daemon.err")"
grep -q '^raidfs: fg: f1 removed$' "$T/daemon.err" ||
	fail "no plain line for the removal on stderr: $(cat "$T/daemon.err")"
! grep -q '\*\*' "$T/daemon.err" || fail "GLib's own format on stderr: $(cat "$T/daemon.err")"
note "foreground: $(grep -c '^raidfs: fg: ' "$T/daemon.err") plain lines"

# One datagram a line (its newlines shown as |), from the socket at $1.
cat >"$T/listen.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).rstrip(b"\n").replace(b"\n", b"|") + b"\n")
PY

cat >"$T/inner.sh" <<'SH'
set -euo pipefail
T=$1 RAIDFS=$2
trap 'pkill -f -- "$T/listen.py" || true; pkill -9 -f -- "$T/mnt" || true' EXIT
# Our own /dev, with the devices raidfs and fusermount3 use bound in,
# and our own /run.
mkdir "$T/olddev"
mount --bind /dev "$T/olddev"
mount -t tmpfs -o mode=755 none /dev
for d in null zero urandom fuse; do
	touch "/dev/$d"
	mount --bind "$T/olddev/$d" "/dev/$d"
done
ln -s /proc/self/fd /dev/fd
mount -t tmpfs -o mode=755 none /run

listen() {   # SOCKET LOG
	python3 "$T/listen.py" "$1" "$2" &
	for _ in $(seq 50); do [ -e "$2.ready" ] && return 0; sleep 0.1; done
	echo "the listener on $1 did not start" >&2
	return 1
}

# fail_one NAME MEMBER... : an array in the background, a member failed
# and removed, unmounted; the daemon's pid on stdout.
fail_one() {
	local name=$1 m=$T/mnt/$1; shift
	"$RAIDFS" create -l 1 -n 2 -N "$name" --assume-clean --member-size 16M "$@" >/dev/null
	mkdir -p "$m"
	"$RAIDFS" mount "$@" "$m"
	pgrep -f -- "mount .*$m\$"
	"$RAIDFS" fail "$m/$name" "$2"
	"$RAIDFS" remove "$m/$name" "$2"
	fusermount3 -u "$m"
	while pgrep -f -- "mount .*$m\$" >/dev/null; do sleep 0.1; done
}

listen /dev/log "$T/syslog"
pid=$(fail_one sl "$T/s0" "$T/s1")
echo "syslog pid $pid"
mkdir -p /run/systemd/journal
listen /run/systemd/journal/socket "$T/journal"
pid=$(fail_one jn "$T/j0" "$T/j1")
echo "journal pid $pid"
sleep 0.5
SH
out=$(unshare -m --propagation private bash "$T/inner.sh" "$T" "$RAIDFS") ||
	fail "the namespace's part failed: $out"
sl_pid=$(sed -n 's/^syslog pid //p' <<<"$out")
jn_pid=$(sed -n 's/^journal pid //p' <<<"$out")

# syslog: <facility daemon (3) * 8 + severity>, ident raidfs[pid].
note "syslog got: $(cat "$T/syslog" 2>/dev/null)"
grep -Eq "^<28>.*raidfs\[$sl_pid\]: sl: member s1 failed" "$T/syslog" ||
	fail "no warning for the failure in syslog"
grep -Eq "^<29>.*raidfs\[$sl_pid\]: sl: s1 removed$" "$T/syslog" ||
	fail "no notice for the removal in syslog"
! grep -q 'jn:' "$T/syslog" || fail "with a journal, messages still went to syslog"

# The journal's native protocol: KEY=VALUE lines, one datagram a message.
note "journal got: $(cat "$T/journal" 2>/dev/null)"
grep -Eq "(^|\|)MESSAGE=jn: member j1 failed" "$T/journal" ||
	fail "no failure message in the journal"
grep "MESSAGE=jn: member j1 failed" "$T/journal" | grep -Eq '(^|\|)PRIORITY=4(\||$)' ||
	fail "the failure is not a warning (PRIORITY=4) in the journal"
grep -Eq "(^|\|)MESSAGE=jn: j1 removed(\||$)" "$T/journal" ||
	fail "no removal message in the journal"
[ -n "$jn_pid" ] || fail "no daemon pid for the journal's array"
