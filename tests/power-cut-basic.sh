#!/bin/bash
# NAME.md/fault/power_cut one property at a time: the values it takes, what
# "armed N" counts, a cut with nothing at risk, a cut of everything, and
# what the cut array and the rest of the mount do afterwards.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

M=$T/mnt
"$RAIDFS" create -l 1 -n 2 -N a -b none --assume-clean --member-size 8M "$T/a1" "$T/a2" >/dev/null
"$RAIDFS" create -l 1 -n 2 -N b -b none --assume-clean --member-size 8M "$T/b1" "$T/b2" >/dev/null
PC=$M/a.md/fault/power_cut

# pwrite_at IMAGE OFFSET... : one 4 KiB write of 0x5a at each offset, no
# fsync, through a descriptor that stays open until stdin closes (the close
# would flush).  O_DIRECT, so each write reaches raidfs at once instead of
# waiting in the image's page cache.  Prints "ok" once written.
writer() {
	python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
block = mmap.mmap(-1, 4096)
block.write(b"\x5a" * 4096)
for off in sys.argv[2:]:
    os.pwrite(fd, block, int(off))
print("ok", flush=True)
sys.stdin.read()
try:
    block.seek(0)
    block.write(b"\xa5" * 4096)
    os.pwrite(fd, block, 0)
    print("written")
except OSError as e:
    print("write: errno", e.errno)
try:
    os.close(fd)
except OSError as e:
    print("close: errno", e.errno)
' "$@"
}

rf_mount "$M" "$T/a1" "$T/a2" "$T/b1" "$T/b2"
M_PID=$RF_PID

# start_writer IMAGE OFFSET...: the writer as a coprocess, once it wrote.
start_writer() {
	coproc W { writer "$@"; }
	exec {w_in}>&"${W[1]}" {w_out}<&"${W[0]}"
	read -r line <&"$w_out"
	expect_eq "writer" "$line" ok
}
# stop_writer: let it try one more write and close; $T/late says how
# that went.  Not in a subshell: the writer waits for every copy of its
# stdin to close.
stop_writer() {
	local pid=$W_PID
	exec {w_in}>&- {W[1]}>&-
	cat <&"$w_out" >"$T/late"
	exec {w_out}<&-
	wait "$pid" || true
}

note "values"
expect_eq "power_cut at start" "$(cat "$PC")" off
for v in foo armed "cut x" "cut -1" "cut +1" "cut 1 2" "cut  1" \
	 "cut 18446744073709551616" cut "cut 7"; do
	printf '%s' "$v" >"$PC" 2>/dev/null && fail "power_cut took '$v'"
done
expect_eq "power_cut after refused values" "$(cat "$PC")" off
echo arm >"$PC"
expect_eq "power_cut armed" "$(cat "$PC")" "armed 0"
echo off >"$PC"
expect_eq "power_cut disarmed" "$(cat "$PC")" off
echo arm >"$PC"
echo "cut 18446744073709551615x" >"$PC" 2>/dev/null && fail "power_cut took a bad seed"
expect_eq "still armed" "$(cat "$PC")" "armed 0"

note "armed N counts 4 KiB blocks at risk on every member"
start_writer "$M/a" 0 65536 1048576 1048576
# Three distinct blocks on each of the two mirrors; the rewrite adds none.
expect_eq "blocks at risk" "$(cat "$PC")" "armed 6"
stop_writer
expect_eq "writer's late write" "$(cat "$T/late")" written
expect_eq "after the close (a flush)" "$(cat "$PC")" "armed 0"

note "a cut with nothing at risk leaves the array clean"
for i in $(seq 50); do
	[ "$(cat "$M/a.md/array_state")" = clean ] && break
	sleep 0.1
done
expect_eq "array_state before the cut" "$(cat "$M/a.md/array_state")" clean
ev=$(examine_field "$T/a1" Events)
expect_eq "nothing at risk" "$(cat "$PC")" "armed 0"
echo cut >"$PC"
expect_eq "state after an empty cut" "$(examine_field "$T/a1" State)" clean
expect_eq "events after an empty cut" "$(examine_field "$T/a1" Events)" "$ev"
# The kernel drops its cached names of a and a.md as the cut returns, or
# at the latest when they expire (a second).
for i in $(seq 50); do
	[ -e "$M/a" ] || [ -e "$M/a.md" ] || break
	sleep 0.1
done
[ -e "$M/a" ] && fail "the cut array is still in the mount"
[ -e "$M/a.md" ] && fail "the cut array's control directory is still in the mount"
ls "$M" | grep -qx 'a\|a\.md' && fail "the cut array is still listed"
cat "$M/a.md/array_state" 2>/dev/null && fail "the cut array's control files still open"
grep -q '^a :' "$M/mdstat" && fail "mdstat still lists the cut array"

note "the other array keeps serving; the cut one is free to mount again"
random_file "$T/data" 1048576
dd if="$T/data" of="$M/b" bs=64K conv=notrunc,fsync status=none
same_range "$M/b" 0 "$T/data" || fail "array b does not read back after a's cut"
rf_mount "$T/mnt2" "$T/a1" "$T/a2"
A_PID=$RF_PID
expect_eq "a flushed block" "$(head -c 69632 "$T/mnt2/a" | tail -c 4096 | tr -d "\132" | wc -c)" 0

note "cut: every write since the last flush is undone; none after it lands"
PC2=$T/mnt2/a.md/fault/power_cut
echo arm >"$PC2"
dd if=/dev/zero of="$T/mnt2/a" bs=1M count=2 conv=notrunc,fsync status=none
start_writer "$T/mnt2/a" 0 8192 1048576
[[ $(cat "$PC2") =~ ^armed\ [1-9] ]] || fail "nothing at risk: $(cat "$PC2")"
echo cut >"$PC2"
sums=$(cat "$T/a1" "$T/a2" | sha256sum)
stop_writer
expect_eq "writer after the cut" "$(cat "$T/late")" "write: errno 5
close: errno 5"
expect_eq "members after a write past the cut" "$(cat "$T/a1" "$T/a2" | sha256sum)" "$sums"
expect_eq "state after the cut" "$(examine_field "$T/a1" State)" active
RF_PID=$A_PID
rf_umount "$T/mnt2"
rf_mount "$T/mnt2" "$T/a1" "$T/a2"
wait_idle "$T/mnt2/a.md"
cmp -s <(head -c 2097152 "$T/mnt2/a") <(head -c 2097152 /dev/zero) ||
	fail "the unflushed writes survived a full cut"
rf_umount "$T/mnt2"
RF_PID=$M_PID
rf_umount "$M"
