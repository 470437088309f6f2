#!/bin/bash
# Members that vanish (dev-X/fault/pull, fault/fail_after) and md's answer,
# on raid1, raid10, raid5 and raid6 under fio with verify headers: a pulled
# member fails at its first IO, the array goes on degraded with correct
# data, the survivors' superblocks and mdstat record the failure; raid6
# serves through a second pull; one pull too many fails the array's IO with
# EIO and loses nothing fsync acknowledged before it (read back after
# assembling as mdadm --assemble --force would).  fail_after counts down to
# the failure; a pull during a sync: a resync goes on without the member,
# a check ends (md's MD_RECOVERY_INTR), nothing hangs.  pull 0 gives the
# file back, the member stays faulty.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v fio >/dev/null || skip "no fio"
[ -x "${SB_PATCH:-}" ] || SB_PATCH=$(dirname "$RAIDFS")/../tests/sb-patch
[ -x "$SB_PATCH" ] || fail "no sb-patch helper (make check builds it)"
[ -x "${SB_RECOVERING:-}" ] || SB_RECOVERING=$(dirname "$RAIDFS")/../tests/sb-recovering
[ -x "$SB_RECOVERING" ] || fail "no sb-recovering helper (make check builds it)"

M=$T/mnt
REGION=$((2 << 20))          # bytes each fio round writes per array
ARRAYS=(r1 r10 r5 r6)
declare -A LEVEL=([r1]=1 [r10]=10 [r5]=5 [r6]=6) DISKS=([r1]=2 [r10]=4 [r5]=3 [r6]=4)

members() { local a=$1 i; for i in $(seq "${DISKS[$a]}"); do echo "$T/$a-$i"; done; }
create() { # ARRAY [create options...]
	local a=$1; shift
	rm -f "$T/$a"-[0-9]*
	"$RAIDFS" create -l "${LEVEL[$a]}" -n "${DISKS[$a]}" -N "$a" -c 64K \
		--member-size 16M "$@" $(members "$a") >/dev/null
}

# fio round K on array A: its own region, fsynced at the end (acknowledged
# once fio exits 0), verified as it is written; with --verify_only
# --do_verify=1 the same job verifies it later.
round() { # A K [fio options...]
	local a=$1 k=$2; shift 2
	fio --output="$T/fio-$a-$k.log" --name="$a-$k" --filename="$M/$a" \
	    --offset=$((k * REGION)) --size=$REGION --rw=randwrite --bs=4k \
	    --direct=1 --ioengine=psync --verify=crc32c --do_verify=1 \
	    --verify_state_save=0 --end_fsync=1 "$@" 2>>"$T/fio.err"
}
verify_rounds() { # A K...
	local a=$1 k; shift
	for k in "$@"; do
		round "$a" "$k" --verify_only || fail "$a: round $k (acknowledged) does not verify"
	done
}

ctl() { cat "$M/$1.md/$2"; }
dev() { echo "$M/$1.md/dev-$1-$2"; }    # ARRAY N: member N's directory
state() { cat "$(dev "$1" "$2")/state"; }

# Member N of A is faulty, and mdstat marks it (F).
expect_failed() { # A N
	local a=$1 n=$2
	[[ $(state "$a" "$n") == *faulty* ]] || fail "$a: member $n not faulty: $(state "$a" "$n")"
	grep -A1 "^$a " "$M/mdstat" | grep -q "$a-$n\[[0-9]*\](F)" ||
		{ cat "$M/mdstat"; fail "$a: mdstat shows no (F) for member $n"; }
}
expect_slots() { # A DEGRADED SLOTS, e.g. r5 1 "[U_U]"
	expect_eq "$1 degraded" "$(ctl "$1" degraded)" "$2"
	grep -A1 "^$1 " "$M/mdstat" | grep -qF "$3" ||
		{ cat "$M/mdstat"; fail "$1: mdstat slots are not $3"; }
}
# After the unmount: survivor S's superblock has member N missing from
# the array state (raidfs examine, and mdadm's where there is one) and
# events past N's own.
expect_recorded() { # A S N STATE
	local a=$1 s=$2 n=$3
	expect_eq "$a: array state in member $s's superblock" \
		"$(examine_field "$T/$a-$s" "Array State" | cut -d' ' -f1)" "$4"
	if command -v mdadm >/dev/null; then
		expect_eq "$a: mdadm --examine's array state of member $s" \
			"$(mdadm --examine "$T/$a-$s" | sed -n 's/^ *Array State : \([^ ]*\).*/\1/p')" "$4"
	fi
	local es en
	es=$(examine_field "$T/$a-$s" Events) en=$(examine_field "$T/$a-$n" Events)
	[ "$es" -gt "$en" ] || fail "$a: member $s's events $es not past pulled member $n's $en"
}

pull() { echo "${3:-1}" >"$(dev "$1" "$2")/fault/pull"; }

# ---- a pull under fio, a second on raid6, one too many ----

note "pull under fio: raid1, raid10, raid5, raid6"
for a in "${ARRAYS[@]}"; do create "$a" --assume-clean; done
rf_mount "$M" $(for a in "${ARRAYS[@]}"; do members "$a"; done)
for a in "${ARRAYS[@]}"; do
	round "$a" 0 || fail "$a: round 0 failed"
done
for a in "${ARRAYS[@]}"; do
	round "$a" 1 --rate_iops=500 &
	writer=$!
	# Most likely while fio writes (it takes a second); the outcome is
	# the same whenever the pull comes.
	sleep 0.3
	pull "$a" 2
	wait "$writer" || fail "$a: fio round 1 failed with member 2 pulled under it"
	verify_rounds "$a" 0 1
	expect_failed "$a" 2
done
expect_slots r1 1 "[2/1] [U_]"
expect_slots r10 1 "[4/3] [U_UU]"
expect_slots r5 1 "[3/2] [U_U]"
expect_slots r6 1 "[4/3] [U_UU]"

note "raid6: a second pull still serves"
pull r6 3
round r6 2 || fail "r6: round 2 failed with two members pulled"
verify_rounds r6 0 1 2
expect_failed r6 3
expect_slots r6 2 "[4/2] [U__U]"

note "one pull too many: EIO"
# raid10 n2 on 4: members 1 and 2 are mirrors.  raid1 and raid10 keep the
# last copy's member in the array (md's raid1_error, raid10_error) but fail
# its IO; raid5 and raid6 fail it too and stop.
declare -A LAST=([r1]=1 [r10]=1 [r5]=3 [r6]=4)
for a in "${ARRAYS[@]}"; do
	pull "$a" "${LAST[$a]}"
	! round "$a" 3 || fail "$a: writes went on with one member too many pulled"
	! dd if="$M/$a" of=/dev/null bs=64K count=64 iflag=direct status=none 2>"$T/dd.err" ||
		fail "$a: reads went on with one member too many pulled"
	grep -q "Input/output error" "$T/dd.err" ||
		fail "$a: the read failed otherwise than with EIO: $(cat "$T/dd.err")"
done
rf_umount "$M"
expect_recorded r1 1 2 "A."
expect_recorded r10 3 2 "A.AA"
expect_recorded r5 1 3 "A.."
expect_recorded r6 1 4 "A..."

# What mdadm --assemble --force does with the member failed last: its
# events brought up to the survivors' (one behind: raidfs, as md, takes a
# member one event behind; at equal events its older dev_roles would
# dispute theirs) and its role back in their dev_roles.
force_member() { # A X SURVIVOR...
	local a=$1 x=$2 top=0 s e dn role; shift 2
	for s; do
		e=$(examine_field "$T/$a-$s" Events)
		[ "$e" -gt "$top" ] && top=$e
	done
	dn=$("$SB_PATCH" "$T/$a-$x" dev_number)
	role=$("$SB_PATCH" "$T/$a-$x" "dev_roles[$dn]")
	"$SB_PATCH" "$T/$a-$x" events $((top - 1))
	for s; do "$SB_PATCH" "$T/$a-$s" "dev_roles[$dn]" "$role"; done
}
note "nothing acknowledged is lost: assembled again (forced as mdadm does)"
force_member r10 1 3 4
force_member r5 3 1
force_member r6 4 1
rf_mount "$M" -o run $(for a in "${ARRAYS[@]}"; do members "$a"; done)
for a in "${ARRAYS[@]}"; do wait_idle "$M/$a.md"; done
verify_rounds r1 0 1
verify_rounds r10 0 1
verify_rounds r5 0 1
verify_rounds r6 0 1 2
expect_slots r1 1 "[2/1] [U_]"
expect_slots r10 1 "[4/3] [U_UU]"
expect_slots r5 1 "[3/2] [U_U]"
expect_slots r6 2 "[4/2] [U__U]"
rf_umount "$M"

note "fail_after: counts down, then the member fails"
create r5 --assume-clean
rf_mount "$M" $(members r5)
F=$(dev r5 2)/fault
echo 100000 >"$F/fail_after"
expect_eq "fail_after as set" "$(cat "$F/fail_after")" 100000
round r5 0 || fail "r5: a write with fail_after set failed"
left=$(cat "$F/fail_after")
[ "$left" -lt 100000 ] && [ "$left" -gt 0 ] || fail "fail_after did not count down: $left"
expect_eq "r5 member 2 before its IOs ran out" "$(state r5 2)" in_sync
echo 20 >"$F/fail_after"
round r5 1 || fail "r5: round 1 failed as member 2's IOs ran out"
expect_eq "fail_after once run out" "$(cat "$F/fail_after")" 0
expect_failed r5 2
expect_slots r5 1 "[3/2] [U_U]"
verify_rounds r5 0 1

note "pull 0: the file is back, the member stays faulty"
echo 0 >"$F/pull"
expect_eq "pull after pull 0" "$(cat "$F/pull")" 0
round r5 2 || fail "r5: round 2 failed after pull 0"
expect_failed r5 2
expect_slots r5 1 "[3/2] [U_U]"
rf_umount "$M"
expect_recorded r5 1 2 "A.A"

# ---- a pull during a sync ----

# A SYNC [N]: the sync runs (slowed down) when member N (2) is pulled.
pull_during() {
	local a=$1 sync=$2 n=${3:-2}
	echo 1000 >"$M/$a.md/sync_speed_max"
	[ "$sync" = check ] && echo check >"$M/$a.md/sync_action"
	expect_eq "$a sync_action before the pull" "$(ctl "$a" sync_action)" "$sync"
	pull "$a" "$n"
	echo 200000 >"$M/$a.md/sync_speed_max"
	wait_idle "$M/$a.md"
	expect_eq "$a last_sync_action" "$(ctl "$a" last_sync_action)" "$sync"
	expect_failed "$a" "$n"
}

# A sync needs a member left to compare with after the pull.
DISKS[r1]=3
note "a resync goes on without a member pulled under it (raid1's source, raid6)"
declare -A SLOTS=([r1]="[3/2] [_UU]" [r6]="[4/3] [U_UU]") VICTIM=([r1]=1 [r6]=2)
for a in r1 r6; do
	create "$a"
	rf_mount "$M" -o sync_speed_max=1000 $(members "$a")
	pull_during "$a" resync "${VICTIM[$a]}"
	expect_eq "$a resync_start after the resync" "$(ctl "$a" resync_start)" none
	expect_slots "$a" 1 "${SLOTS[$a]}"
	round "$a" 0 || fail "$a: round 0 failed after the resync"
	echo check >"$M/$a.md/sync_action"
	wait_idle "$M/$a.md"
	expect_eq "$a mismatch_cnt after the resync" "$(ctl "$a" mismatch_cnt)" 0
	rf_umount "$M"
done

note "a recovery goes on without its source mirror pulled under it (raid1)"
create r1 --assume-clean
rf_mount "$M" $(members r1)
round r1 0 || fail "r1: round 0 failed"
rf_umount "$M"
"$SB_RECOVERING" "$T/r1-3" 0
rf_mount "$M" -o sync_speed_max=1000 $(members r1)
pull_during r1 recover 1
expect_eq "r1 recovered member's state" "$(state r1 3)" in_sync
expect_slots r1 1 "[3/2] [_UU]"
verify_rounds r1 0
rf_umount "$M"

note "a check ends at a member pulled under it (raid1, raid5), as md's"
for a in r1 r5; do
	create "$a" --assume-clean
	rf_mount "$M" $(members "$a")
	round "$a" 0 || fail "$a: round 0 failed"
	pull_during "$a" check
	expect_eq "$a mismatch_cnt" "$(ctl "$a" mismatch_cnt)" 0
	round "$a" 1 || fail "$a: round 1 failed after the check"
	verify_rounds "$a" 0
	rf_umount "$M"
done
