#!/bin/bash
# Power cuts (NAME.md/fault/power_cut) on raid1, raid10, raid5 and raid6 in
# one daemon.  Per seed: rounds of fio writes with verify headers, periodic
# fsyncs and a final one, each round its own region; a later round is cut
# at a moment drawn from the seed with "cut SEED", which undoes a random
# half of the unflushed 4 KiB blocks.  After reassembly every round fio
# finished (its end_fsync acknowledged) must verify, an array that had
# writes at risk must come back needing resync, and after the resync a
# check must find no mismatch.  Every third seed writes through the page
# cache (FUSE's writeback cache) instead of O_DIRECT: its fsyncs must
# make the same promise.  POWER_CUT_SEEDS raises the seed count.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v fio >/dev/null || skip "no fio"

SEEDS=${POWER_CUT_SEEDS:-50}
ARRAYS=(r1 r10 r5 r6)
REGION=$((256 << 10))       # bytes each round writes per array
M=$T/mnt

# Members of each array, fresh (sparse) for every seed.
members() { local a=$1 n=$2 i; for i in $(seq "$n"); do echo "$T/$a-$i"; done; }
create_all() {
	rm -f "$T"/r[0-9]*-[0-9]*
	local sz=(--assume-clean --member-size 8M -c 64K)
	"$RAIDFS" create -l 1 -n 2 -N r1 "${sz[@]}" $(members r1 2) >/dev/null
	"$RAIDFS" create -l 10 -n 4 -p n2 -N r10 "${sz[@]}" $(members r10 4) >/dev/null
	"$RAIDFS" create -l 5 -n 4 -N r5 "${sz[@]}" $(members r5 4) >/dev/null
	"$RAIDFS" create -l 6 -n 5 -N r6 "${sz[@]}" $(members r6 5) >/dev/null
}
all_members() { ls "$T"/r[0-9]*-[0-9]*; }

# The fio job of round K on every array; the same file verifies it later.
round_job() {
	local k=$1 a
	for a in "${ARRAYS[@]}"; do
		cat <<EOF
[$a-$k]
filename=$M/$a
offset=$((k * REGION))
size=$REGION
EOF
	done
}
run_round() { # K [FIO OPTIONS]: with --verify_only --do_verify=1, verify it
	local k=$1; shift
	round_job "$k" >"$T/job-$k.fio"
	fio --output=/dev/null --rw=randwrite --bs=4k --direct="$DIRECT" --ioengine=psync \
	    --verify=crc32c --do_verify=0 --verify_state_save=0 \
	    --fsync=16 --end_fsync=1 \
	    "$@" "$T/job-$k.fio" 2>>"$T/fio.err"
}

pc() { cat "$M/$1.md/fault/power_cut"; }

one_seed() {
	local seed=$1 a k
	RANDOM=$seed
	local rounds=$((2 + RANDOM % 2)) delay_ms=$((RANDOM % 250))
	DIRECT=$((seed % 3 != 0))
	create_all
	# Every other seed in the foreground, to hear what the daemon says.
	local fg=$((seed % 4 < 2))
	if [ "$fg" = 1 ]; then rf_mount_fg "$M" $(all_members); else rf_mount "$M" $(all_members); fi
	for a in "${ARRAYS[@]}"; do
		# Even seeds: no going clean between rounds, so writes at risk
		# must mean a resync.  Odd seeds: md's safe mode goes clean too.
		[ $((seed % 2)) = 0 ] && echo 60 >"$M/$a.md/safe_mode_delay"
		echo arm >"$M/$a.md/fault/power_cut"
	done
	local acked=()
	for k in $(seq 0 $((rounds - 2))); do
		run_round "$k" || fail "seed $seed: round $k failed before the cut"
		acked+=("$k")
	done
	k=$((rounds - 1))
	# Paced, so that the cut lands in the middle of it.
	run_round "$k" --rate_iops=200 &
	local writer=$!
	# fio takes a while to start: the moment counts from its first write.
	local i
	for i in $(seq 500); do
		kill -0 "$writer" 2>/dev/null || break
		[ "$(pc r1)" != "armed 0" ] && break
		sleep 0.01
	done
	sleep "$(printf '0.%03d' "$delay_ms")"
	declare -A risk
	for a in "${ARRAYS[@]}"; do
		local state
		state=$(pc "$a")
		[[ $state =~ ^armed\ ([0-9]+)$ ]] || fail "seed $seed: $a power_cut reads '$state'"
		risk[$a]=${BASH_REMATCH[1]}
		echo "cut $seed" >"$M/$a.md/fault/power_cut"
	done
	wait "$writer" && acked+=("$k")
	rf_umount "$M"
	# After the power went, the members' errors are no news: nothing fails.
	[ "$fg" = 1 ] && [ -s "$T/daemon.err" ] && fail "seed $seed: after the cut the daemon said: $(grep -m 3 . "$T/daemon.err")"

	for a in "${ARRAYS[@]}"; do
		local st
		st=$(examine_field "$T/$a-1" State)
		if [ $((seed % 2)) = 0 ] && [ "${risk[$a]}" -gt 0 ]; then
			expect_eq "seed $seed: $a with ${risk[$a]} blocks at risk" "$st" active
		fi
	done
	rf_mount "$M" $(all_members)
	for a in "${ARRAYS[@]}"; do wait_idle "$M/$a.md"; done
	DIRECT=1
	for k in "${acked[@]}"; do
		run_round "$k" --verify_only --do_verify=1 || fail "seed $seed: round $k (acknowledged) does not verify"
	done
	for a in "${ARRAYS[@]}"; do
		echo check >"$M/$a.md/sync_action"
	done
	for a in "${ARRAYS[@]}"; do
		wait_idle "$M/$a.md"
		expect_eq "seed $seed: $a mismatch_cnt after check" \
			"$(cat "$M/$a.md/mismatch_cnt")" 0
	done
	rf_umount "$M"
	echo "seed $seed: rounds ${acked[*]} acknowledged; at risk: $(for a in "${ARRAYS[@]}"; do printf '%s=%s ' "$a" "${risk[$a]}"; done)"
}

for seed in $(seq "$SEEDS"); do
	one_seed "$seed"
done
