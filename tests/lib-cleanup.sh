#!/bin/bash
# The test library's cleanup kills the daemons its test started and only
# them: a daemon that has exited may see its pid taken by another test's
# daemon (pids wrap at pid_max, tests run side by side), and a SIGKILL on
# the stale pid would take that one down ("exit 137", "Transport endpoint
# is not connected" in a test that did nothing wrong).  Here a decoy gets
# the pid of a tracked process that has exited (ns_last_pid), and must
# outlive the cleanup of the script that tracked it.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
[ -w /proc/sys/kernel/ns_last_pid ] || skip "cannot set ns_last_pid (needs root)"

# decoy_at PID: start "sleep" with exactly that pid as DECOY (a few
# tries: any other fork on the machine between the write and ours takes
# it).  Our child, so the pid stays its until we reap it.
decoy_at() {
	local i
	for i in $(seq 200); do
		echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid
		sleep 60 </dev/null >/dev/null 2>&1 &
		DECOY=$!
		[ "$DECOY" = "$1" ] && return 0
		kill "$DECOY"; wait "$DECOY" 2>/dev/null || true
	done
	return 1
}

LIB=${TESTLIB:-$(cd "$(dirname "$0")" && pwd)/lib.sh}
# A script of the suite: it tracks a process that exits, then, in its
# last moments, the pid comes back as the decoy; its cleanup runs on exit.
cat >"$T/victim.sh" <<EOF
. "$LIB"
sleep 0.1 &
p=\$!
track_daemon \$p
wait \$p
echo \$p >"$T/old-pid"
while [ ! -e "$T/decoy-up" ]; do sleep 0.05; done
EOF
bash "$T/victim.sh" &
victim=$!
for i in $(seq 100); do [ -s "$T/old-pid" ] && break; sleep 0.05; done
[ -s "$T/old-pid" ] || fail "the script did not get going"
old=$(cat "$T/old-pid")
decoy_at "$old" || fail "pid $old did not come back in 200 forks"
touch "$T/decoy-up"
wait "$victim" || fail "the script failed"
# still running (bash reaps a child the cleanup killed at once)
state=$(sed 's/.*) //' "/proc/$DECOY/stat" 2>/dev/null | cut -c1)
[ -n "$state" ] && [ "$state" != Z ] ||
	fail "the cleanup killed pid $old, which another process had taken"
kill "$DECOY"
echo PASS
