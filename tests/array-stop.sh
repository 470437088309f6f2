#!/bin/bash
# Stopping one array of a mount (array_state inactive, what raidfs stop
# writes; clear too) while the mount serves the others: the array stops
# cleanly and leaves (its image and NAME.md/ gone, mdstat without it), the
# other array goes on under fio with verify, and the stopped members
# examine clean and assemble in another mount with their data.  As md, an
# array whose image is open is not stopped (EBUSY) and nothing changes.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v fio >/dev/null || skip "no fio"

cd "$T"
"$RAIDFS" create --assume-clean -l 1 -n 2 -N keep --member-size 64M k0 k1 >/dev/null
"$RAIDFS" create --assume-clean -l 5 -n 3 -N gone --member-size 16M g0 g1 g2 >/dev/null
M=$T/mnt
rf_mount "$M" k0 k1 g0 g1 g2
P1=$RF_PID
random_file data $((8 << 20))
dd if=data of="$M/gone" bs=1M conv=notrunc,fsync status=none

# stop_array DIR WORD: WORD into DIR/array_state; the close of a descriptor
# reaches the daemon after close(2) returns, so EBUSY is retried a while
# (as mdadm --stop does).
stop_array() {
	local i
	for i in $(seq 100); do
		echo "$2" 2>"$T/err" >"$1/array_state" && return 0
		grep -q "busy" "$T/err" || { cat "$T/err" >&2; fail "$2 into $1/array_state"; }
		sleep 0.1
	done
	fail "$1 stays busy"
}

cat >keep.fio <<EOF
[j]
filename=$M/keep
rw=randwrite
bs=4k
size=32M
ioengine=psync
direct=1
verify=crc32c
verify_fatal=1
do_verify=1
randrepeat=1
EOF
fio keep.fio --output=fio.out &
FIO=$!

note "an open array does not stop, and nothing changes"
sum=$(image_sum "$M/gone")
exec 3<"$M/gone"
for w in inactive clear; do
	if echo "$w" 2>"$T/err" >"$M/gone.md/array_state"; then
		fail "$w stopped an open array"
	fi
	grep -q "Device or resource busy" "$T/err" || fail "$w: $(cat "$T/err")"
done
grep -q "^gone : active" "$M/mdstat" || fail "mdstat lost gone: $(cat "$M/mdstat")"
expect_eq "gone's data after the refusals" "$(image_sum "$M/gone")" "$sum"
[ -e "$M/gone.md/level" ] || fail "gone.md went away"
exec 3<&-

note "stop gone while keep is under fio"
stop_array "$M/gone.md" inactive
kill -0 "$FIO" 2>/dev/null && note "(fio on keep still runs)"
[ ! -e "$M/gone" ] || fail "gone's image is still there"
[ ! -e "$M/gone.md" ] || fail "gone.md is still there"
if ls "$M" | grep -q '^gone'; then fail "readdir lists gone: $(ls "$M")"; fi
if grep -q "^gone" "$M/mdstat"; then fail "mdstat lists gone: $(cat "$M/mdstat")"; fi
grep -q "^keep : active" "$M/mdstat" || fail "mdstat lost keep: $(cat "$M/mdstat")"
wait "$FIO" || { cat fio.out; fail "fio on keep while gone stopped"; }
fio keep.fio --verify_only --output=fio.out || { cat fio.out; fail "keep's verify"; }

note "gone's members: clean, released, and gone's data back in a new mount"
for g in g0 g1 g2; do
	expect_eq "$g state" "$(examine_field $g State)" clean
	expect_eq "$g events" "$(examine_field $g Events)" "$(examine_field g0 Events)"
done
rf_mount "$T/mnt2" g0 g1 g2
expect_eq "gone's data in the new mount" \
	"$(head -c $((8 << 20)) "$T/mnt2/gone" | sha256sum | cut -d' ' -f1)" \
	"$(image_sum data)"
rf_umount "$T/mnt2"

note "clear stops the last array; the mount stays until unmounted"
stop_array "$M/keep.md" clear
[ ! -e "$M/keep" ] || fail "keep's image is still there"
if grep -q "^keep" "$M/mdstat"; then fail "mdstat lists keep: $(cat "$M/mdstat")"; fi
for k in k0 k1; do
	expect_eq "$k state" "$(examine_field $k State)" clean
done
RF_PID=$P1
rf_umount "$M"
echo PASS
