# Helpers for the ports of mdadm's lifecycle tests (tests/mdadm-*.sh): the
# operations mdadm does, done through the control files as md's sysfs has
# them, and fio writing with verify headers in the background all along.
# Sourced after lib.sh.
need_fuse
command -v fio >/dev/null || skip "no fio"

cd "$T"
M=$T/mnt
FIO_REG=$((1 << 20))      # bytes of one fio region
FIO_NREG=${FIO_NREG:-4}   # regions the background writer cycles through

# mk NAME LEVEL N MEMBER...: create the array (member files in $T, 32
# MiB; "missing" for an empty role; $COPTS more create options) and mount
# it ($MOPTS: mount options); IMG is its image, MD its control directory.
mk() {
	local name=$1 level=$2 n=$3 a files=()
	shift 3
	# shellcheck disable=SC2086 # COPTS holds options
	"$RAIDFS" create -l "$level" -n "$n" -N "$name" -c 64K \
		--member-size 32M ${COPTS:-} "$@" >/dev/null
	for a; do [ "$a" = missing ] || files+=("$T/$a"); done
	# shellcheck disable=SC2086
	rf_mount "$M" ${MOPTS:-} "${files[@]}"
	# 0.90 superblocks have no name: the array is mdN.
	[ -e "$M/$name" ] || name=$(sed -n 's/^\(md[0-9]*\) : .*/\1/p' "$M/mdstat" | head -n1)
	NAME=$name IMG=$M/$name MD=$M/$name.md
}

# mdadm --fail/--remove/--add/--re-add/--replace.
# md's state_store answers a refused write with an error: these fail then.
fail_dev() { local d; for d; do echo faulty >"$MD/dev-$d/state"; done; }
remove_dev() { local d; for d; do echo remove >"$MD/dev-$d/state"; done; }
add_dev() { local d; for d; do echo "$T/$d" >"$MD/new_dev"; done; }
re_add_dev() { local d; for d; do echo re-add >"$MD/dev-$d/state"; done; }
replace_dev() { echo want_replacement >"$MD/dev-$1/state"; }
# mdadm --replace OLD --with NEW: with the sync frozen (md's slot store
# refuses while a sync runs), OLD wants a replacement and NEW, a spare, is
# given OLD's slot, which makes it the replacement.
replace_with() {
	local slot
	slot=$(cat "$MD/dev-$1/slot")
	echo frozen >"$MD/sync_action"
	echo want_replacement >"$MD/dev-$1/state"
	echo "$slot" >"$MD/dev-$2/slot"
	echo idle >"$MD/sync_action"
}
# A refused operation: fails and leaves the member as it was.
refused() { # WHAT MEMBER COMMAND...
	local what=$1 d=$2 before
	shift 2
	before=$(member_mark "$d")
	! "$@" "$d" 2>/dev/null || fail "$what $d was not refused"
	expect_eq "$d after a refused $what" "$(member_mark "$d")" "$before"
}
# mdadm --zero-superblock: the file is no former member any more.
zero_sb() { local d; for d; do dd if=/dev/zero of="$T/$d" bs=4K count=2 conv=notrunc status=none; done; }

# member_mark FILE: how mdstat lists the member: "" (in a role), "(S)",
# "(F)", "(R)", or "gone" when it is not listed.
member_mark() {
	local line
	line=$(grep "^${NAME} :" "$M/mdstat" | sed 's/.*active [a-z0-9]* *//; s/.*inactive *//')
	line=$(tr ' ' '\n' <<<"$line" | grep "^$(re_quote "$1")\[" || true)
	[ -n "$line" ] || { echo gone; return; }
	sed 's/^[^]]*\]//' <<<"$line"
}
# slots: mdstat's [UU_U] of the array.
slots() {
	grep -A1 "^${NAME} :" "$M/mdstat" | sed -n 's/.*\] \[\([U_]*\)\].*/\1/p'
}

# mdadm's test "check": resync | recover | check (one runs: the sync
# thread starts it soon after the change, within 10 s here; mdstat shows
# it) | idle (nosync) | wait.
check() {
	local i
	case $1 in
	wait) wait_idle "$MD" ;;
	idle) expect_eq "sync_action" "$(cat "$MD/sync_action")" idle ;;
	*) for i in $(seq 100); do
		[ "$(cat "$MD/sync_action")" = "$1" ] && break
		sleep 0.1
	   done
	   expect_eq "sync_action" "$(cat "$MD/sync_action")" "$1"
	   grep -A3 "^${NAME} :" "$M/mdstat" | grep -q "$1[a-z]* *=" ||
		{ cat "$M/mdstat"; fail "mdstat shows no $1"; } ;;
	esac
}
expect_slots() { expect_eq "slots" "$(slots)" "$1"; }
expect_mark() { # MEMBER MARK
	expect_eq "$1 in mdstat" "$(member_mark "$1")" "$2"
}
# wait_slots SLOTS: until the array is idle with its roles as mdstat's
# [UU_U] says (a minute at most); mdadm's "check wait" until then.
wait_slots() {
	local i
	for i in $(seq 600); do
		[ "$(cat "$MD/sync_action")" = idle ] && [ "$(slots)" = "$1" ] &&
			return 0
		sleep 0.1
	done
	cat "$M/mdstat"
	fail "${NAME}: not idle and $1 after a minute"
}
check_clean() { # a check finds no mismatch
	echo check >"$MD/sync_action"
	wait_idle "$MD"
	expect_eq "${NAME} mismatch_cnt" "$(cat "$MD/mismatch_cnt")" 0
}
# Slow syncs, so that the scenario can act while one runs, and fast ones.
slow_sync() { echo "${1:-2000}" >"$MD/sync_speed_max"; }
fast_sync() { echo system >"$MD/sync_speed_max"; }

# ---- fio with verify in the background ----

# fio_round IMAGE REGION SEED [fio options...]: one pass of random 4K writes
# over the region with crc32c verify headers (random data per SEED),
# fsynced at the end; with --verify_only the same pass reads it back.
fio_round() {
	local img=$1 r=$2 seed=$3
	shift 3
	fio --output="$T/fio-$r.log" --name="r$r" --filename="$img" \
	    --offset=$((r * FIO_REG)) --size=$FIO_REG --rw=randwrite --bs=4k \
	    --direct=1 --ioengine=psync --verify=crc32c --verify_fatal=1 \
	    --randseed="$seed" --verify_state_save=0 --end_fsync=1 "$@" \
	    2>>"$T/fio.err"
}

# fio_start IMAGE: rounds over the regions in turn, each verified as soon
# as it is written, until fio_stop (at least one round).  Each round has
# a seed of its own, also after a new fio_start; the last seed of each
# region is kept for fio_verify.
fio_start() {
	local img=$1
	rm -f "$T/fio.stop"
	(k=$(cat "$T/fio.k" 2>/dev/null || echo 1)
	 while :; do
		r=$((k % FIO_NREG))
		fio_round "$img" "$r" "$k" --do_verify=1 ||
			{ echo "round $k over region $r" 2>/dev/null >"$T/fio.failed"; exit 1; }
		echo "$k" >"$T/fio.seed-$r"
		k=$((k + 1))
		echo "$k" >"$T/fio.k"
		[ -e "$T/fio.stop" ] && exit 0
	 done) &
	FIO_PID=$! FIO_IMG=$img
}
fio_stop() {
	touch "$T/fio.stop"
	wait "$FIO_PID" ||
		{ cat "$T/fio.err" "$T"/fio-*.log >&2; fail "fio: $(cat "$T/fio.failed" 2>/dev/null) did not verify"; }
}
# fio_verify [IMAGE]: every region reads back what its last round wrote.
fio_verify() {
	local img=${1:-$FIO_IMG} f r
	for f in "$T"/fio.seed-*; do
		r=${f##*-}
		fio_round "$img" "$r" "$(cat "$f")" --verify_only ||
			{ cat "$T/fio-$r.log" >&2; fail "fio: region $r does not verify on $img"; }
	done
}

# loop SECONDS WHAT COMMAND...: run it over and over, errors ignored; how
# often it succeeded goes to $T/count-WHAT.
loop() {
	local end=$((SECONDS + $1)) what=$2 n=0
	shift 2
	while [ $SECONDS -lt $end ]; do ! "$@" 2>/dev/null || n=$((n + 1)); done
	echo "$n" >"$T/count-$what"
}

# unstuck PID...: the loops end by themselves; one still running half a
# minute after its end sits in a control-file write that never returns
# (mdadm's tests look for a writer in D state): a deadlock.
unstuck() {
	local p i
	for p; do
		for i in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$p" 2>/dev/null && { cat "$M/mdstat"; fail "a control-file writer is stuck: deadlock"; }
		wait "$p"
	done
}

# finish SLOTS MEMBER...: the end of every scenario: fio's data verifies, a
# check finds no mismatch, and after a clean stop the members given
# assemble as SLOTS says, idle, with the same data.
finish() {
	local want=$1 d files=() sum
	shift
	fio_stop
	fio_verify
	# fio's verify_only checks each block's own header, which an older
	# round's block has too: the bytes themselves must be the same later.
	sum=$(fio_sum)
	check_clean
	expect_eq "fio's regions after the check" "$(fio_sum)" "$sum"
	rf_umount "$M"
	for d; do files+=("$T/$d"); done
	rf_mount "$M" "${files[@]}"
	expect_slots "$want"
	check idle
	expect_eq "fio's regions after a stop and assembly" "$(fio_sum)" "$sum"
	rf_umount "$M"
}
fio_sum() { head -c $((FIO_NREG * FIO_REG)) "$IMG" | sha256sum; }
