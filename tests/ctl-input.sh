#!/bin/bash
# Every writable control file x values it does not take: the write fails
# with EINVAL and a read shows the value unchanged (SPEC: "changes
# nothing").  Values it takes are taken with and without echo's trailing
# newline, as md's stores take them.  sync_action answers md's EBUSY while
# a pass runs and EINVAL on a level without redundancy.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
command -v python3 >/dev/null || skip "no python3"

cd "$T"
"$RAIDFS" create --assume-clean -l 1 -n 2 -N r1 --member-size 16M a1 b1 >/dev/null
"$RAIDFS" create --assume-clean -l 5 -n 3 -N r5 --member-size 16M a5 b5 c5 >/dev/null
"$RAIDFS" create -l 0 -n 2 -N r0 --member-size 16M a0 b0 >/dev/null
M=$T/mnt
rf_mount "$M" a1 b1 a5 b5 c5 a0 b0

# put FILE BYTES: one write(2) of BYTES (with \n, \t, \0 escapes) by a
# python coprocess; ERR is the errno name, or "" when the write was taken.
coproc WRITER { python3 -u -c '
import errno, os, sys
for line in sys.stdin:
    path, val = line.rstrip("\n").split("\t", 1)
    data = val.encode("latin-1").decode("unicode_escape").encode("latin-1")
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
        print("")
    except OSError as e:
        print(errno.errorcode[e.errno])
    os.close(fd)'; }
put() {
	printf '%s\t%s\n' "$1" "$2" >&"${WRITER[1]}"
	read -r ERR <&"${WRITER[0]}" || fail "the writer died"
}

# refused FILE VALUE...: each write fails with EINVAL and changes nothing.
refused() {
	local f=$1 v before; shift
	for v in "$@"; do
		before=$(cat "$f")
		put "$f" "$v"
		[ "$ERR" = EINVAL ] || fail "$f: '$v' gave '${ERR:-success}', want EINVAL"
		expect_eq "$f after '$v'" "$(cat "$f")" "$before"
	done
}

# taken FILE VALUE WANT: VALUE with and without a trailing newline is
# taken and reads back as WANT.
taken() {
	local v
	for v in "$2" "$2\\n"; do
		put "$1" "$v"
		[ -z "$ERR" ] || fail "$1: '$v' refused with $ERR"
		expect_eq "$1 after '$v'" "$(cat "$1")" "$3"
	done
}

# What no control file takes: empty (echo's newline alone), blanks, signs,
# hex, nan/inf, 2^32 and 2^64, trailing garbage, a second line, a NUL.
NONE=('\n' ' ' '\t' '\n\n' '+1' '-1' '-0' '0x10' 'nan' 'inf' '1e3'
      '4294967296' '18446744073709551616' '1junk' '1\n2' '1\0' 'idle\nidle'
      'faulty\n\n' 'arm ' ' arm')

# Every writable file must be in the table below.
declare -A ROW
row() { ROW[$1]=1; }

for a in r1 r5 r0; do
	D=$M/$a.md
	f=$D/sync_speed_min; row sync_speed_min
	refused "$f" "${NONE[@]}" 0 ' 5000' '5000 ' '5.0' 'systemx' 'System' '5000\n5000'
	taken "$f" 5000 "5000 (local)"
	taken "$f" system "1000 (system)"

	f=$D/sync_speed_max; row sync_speed_max
	refused "$f" "${NONE[@]}" 0 ' 4000' '4000 ' 'system ' '4000\n4000'
	taken "$f" 4000 "4000 (local)"
	taken "$f" system "200000 (system)"

	# md's sync_min is 64 bits: 2^32 is a sector like any other.
	f=$D/sync_min; row sync_min
	refused "$f" "${NONE[@]/4294967296/4294967296x}" ' 8' '8 ' '8x' '8\n8' 'max' '-8'
	taken "$f" 4099 4096
	taken "$f" 4294967296 4294967296
	taken "$f" 0 0

	# sync_max: "max" or a sector, on a chunk boundary where there are
	# chunks, never below sync_min.
	f=$D/sync_max; row sync_max
	expect_eq "$f at the start" "$(cat "$f")" max
	refused "$f" "${NONE[@]/4294967296/4294967296x}" ' max' 'max ' 'MAX' '8x' '-8' 'max\nmax'
	taken "$f" 8192 8192
	if [ $a = r1 ]; then taken "$f" 1000 1000; else refused "$f" 1000; fi
	taken "$f" 8192 8192
	refused "$D/sync_min" 16384
	taken "$f" 4294967296 4294967296
	taken "$f" max max

	f=$D/safe_mode_delay; row safe_mode_delay
	refused "$f" "${NONE[@]}" ' 5' '5 ' '1.2345' '.' '1..2' '5s' '3601' '-0.5' \
		'NaN' '0x1p3' '4294967.296'
	taken "$f" 5 5.000
	taken "$f" 0.5 0.500
	taken "$f" .25 0.250
	taken "$f" 1.234 1.234
	taken "$f" 0 0.000
	taken "$f" 0.2 0.200

	# md's bitmap_type_store: a bitmap added later; its names only.
	f=$D/bitmap_type; row bitmap_type
	refused "$f" "${NONE[@]}" 'Bitmap' ' none' 'none ' 'internal' 'lockless' \
		'none\nnone' 'llbitmapx'
	taken "$f" llbitmap "none bitmap [llbitmap]"
	taken "$f" none "[none] bitmap llbitmap"

	f=$D/max_read_errors; row max_read_errors
	refused "$f" "${NONE[@]}" ' 5' '5 ' '2147483648' '5x' '20\n20'
	taken "$f" 0 0
	taken "$f" 2147483647 2147483647
	taken "$f" 20 20

	# md's kstrtobool: the first letters only (so "1junk" is 1)
	f=$D/fail_last_dev; row fail_last_dev
	refused "$f" '\n' ' ' '\t' '\n\n' '+1' '-1' 'inf' '4294967296' '1\0' 'idle\nidle' \
		'arm ' ' arm' 'maybe' 'ox' 'Ox' '2'
	taken "$f" y 1
	taken "$f" n 0
	taken "$f" on 1
	taken "$f" off 0
	taken "$f" true 1
	taken "$f" False 0
	taken "$f" 1junk 1
	taken "$f" 0 0

	f=$D/sync_action; row sync_action
	refused "$f" "${NONE[@]}" 'Check' ' idle' 'idle ' 'idlex' 'reshape' 'check\ncheck'
	# md's words only, whole; the ones md never takes, and the switches
	# between read-only and read-write a mounted array does not make.
	f=$D/array_state; row array_state
	refused "$f" "${NONE[@]}" 'Inactive' 'CLEAR' ' clear' 'clear ' 'inactive ' \
		'inactive\ninactive' 'clear\n\n' 'stop' 'read_auto' 'suspended' \
		'write-pending' 'active-idle' 'broken' 'readonly' 'read-auto'
	taken "$f" clean clean
	f=$D/fault/power_cut; row fault/power_cut
	refused "$f" "${NONE[@]}" 'Arm' 'arm\narm' 'cut x' 'cut -1' 'cut +1' 'cut 0x10' \
		'cut  5' 'cut 5 ' 'cut 18446744073709551616' 'cut 5 6'
	taken "$f" arm "armed 0"
	taken "$f" off off

	for s in "$D"/dev-*/state; do
		row dev/state
		refused "$s" "${NONE[@]}" 'Faulty' ' faulty' 'faulty ' 'faulty\nfaulty' 'faultyx' \
			'remove ' 'Remove' 're_add' 'readd' '-faulty' 'in_sync' 'insync' \
			'writemostly\nwritemostly' 'write_mostly' '--writemostly' '-spare' \
			'want_replacement ' 'blocked,-blocked'
	done
	# md's slot_store: a role number or none, nothing else.
	for s in "$D"/dev-*/slot; do
		row dev/slot
		refused "$s" "${NONE[@]}" ' 1' '1 ' 'None' 'none ' '1\n1' '2147483648'
	done
	# Write-only: a path, absolute; nothing else is one.  The array
	# must not change.
	f=$D/new_dev; row new_dev
	before=$(grep "^$a :" "$M/mdstat")
	for v in "${NONE[@]}" a1 ./a1 faulty '../a1'; do
		put "$f" "$v"
		[ "$ERR" = EINVAL ] || fail "$f: '$v' gave '${ERR:-success}', want EINVAL"
	done
	expect_eq "$a after refused new_dev writes" "$(grep "^$a :" "$M/mdstat")" "$before"
	for d in "$D"/dev-*; do
		# Ranges: "SECTOR LENGTH", "-SECTOR LENGTH", clear; inside
		# the member's data area (16M members hold < 32768 sectors).
		RANGES=('5' '5 0' '5  8' ' 5 8' '5 8 ' '5\t8' '-5' '--5 8' '5 -8' \
			'+5 8' '0x5 8' 'clear ' 'Clear' 'clear\nclear' '0 32768' \
			'32767 2' '18446744073709551615 2' '5 8\n9 8')
		for f in read_errors write_errors; do
			row dev/fault/$f
			refused "$d/fault/$f" "${NONE[@]}" "${RANGES[@]}"
			taken "$d/fault/$f" "5 8" "5 8"
			taken "$d/fault/$f" "-5 8" ""
			taken "$d/fault/$f" clear ""
		done
		f=$d/fault/latency_us; row dev/fault/latency_us
		refused "$f" "${NONE[@]}" ' 5' '5 ' '10000001'
		taken "$f" 10 10
		taken "$f" 0 0
		f=$d/fault/pull; row dev/fault/pull
		refused "$f" "${NONE[@]}" 2 01 ' 0' '0 ' true '0\n0'
		taken "$f" 0 0
		f=$d/fault/fail_after; row dev/fault/fail_after
		refused "$f" "${NONE[@]}" Off 'off ' ' 5'
		taken "$f" 5 5
		taken "$f" off off
		# Write-only: the member file is what must not change.
		f=$d/fault/corrupt; row dev/fault/corrupt
		before=$(sha256sum <"$T/${d##*/dev-}")
		for v in "${NONE[@]}" "${RANGES[@]}" '-5 8' clear; do
			put "$f" "$v"
			[ "$ERR" = EINVAL ] || fail "$f: '$v' gave '${ERR:-success}', want EINVAL"
		done
		expect_eq "${d##*/} after refused corruptions" \
			"$(sha256sum <"$T/${d##*/dev-}")" "$before"
	done
	if [ -e "$D/stripe_cache_size" ]; then
		f=$D/stripe_cache_size; row stripe_cache_size
		refused "$f" "${NONE[@]}" 16 ' 300' '300 ' '0x100' '300\n300' 32769
		taken "$f" 512 512
		taken "$f" 256 256
		f=$D/rmw_level; row rmw_level
		refused "$f" "${NONE[@]}" 3 ' 1' '1 ' '1\n1'
		taken "$f" 2 2
		taken "$f" 0 0
		taken "$f" 1 1
		f=$D/stripe_size; row stripe_size
		refused "$f" "${NONE[@]}" 0 512 8192 ' 4096' '4096 '
		taken "$f" 4096 4096
	fi
done

note "every writable control file has its row"
while read -r f; do
	k=${f#"$M"/*.md/}
	[[ $k != dev-* ]] || k=dev/${k#dev-*/}
	[ -n "${ROW[$k]:-}" ] || fail "no invalid-value table for the writable $f"
done < <(find "$M" -mindepth 2 -type f -perm -u+w)

note "sync_action: md's EINVAL without redundancy"
for v in check repair resync recover idle frozen; do
	put "$M/r0.md/sync_action" "$v"
	expect_eq "raid0 sync_action $v" "$ERR" EINVAL
done

note "sync_action: md's EBUSY while a pass runs"
D=$M/r1.md
taken "$D/sync_speed_max" 100 "100 (local)"
put "$D/sync_action" check
[ -z "$ERR" ] || fail "check refused: $ERR"
expect_eq "sync_action during check" "$(cat "$D/sync_action")" check
for v in resync recover check repair 'resync\n'; do
	put "$D/sync_action" "$v"
	expect_eq "'$v' during check" "$ERR" EBUSY
	expect_eq "sync_action after '$v'" "$(cat "$D/sync_action")" check
done
put "$D/sync_action" idle
wait_idle "$D"
note "resync and recover when nothing is owed: taken, nothing to do (md)"
for v in resync recover; do
	put "$D/sync_action" "$v"
	[ -z "$ERR" ] || fail "$v on an idle clean array: $ERR"
	wait_idle "$D"
done
expect_eq "mismatch_cnt" "$(cat "$D/mismatch_cnt")" 0

note "dev-*/state takes faulty, with and without the newline"
put "$M/r1.md/dev-a1/state" 'faulty\n'
[ -z "$ERR" ] || fail "faulty refused: $ERR"
put "$M/r5.md/dev-a5/state" faulty
[ -z "$ERR" ] || fail "faulty refused: $ERR"
expect_eq "r1 degraded" "$(cat "$M/r1.md/degraded")" 1
expect_eq "r5 degraded" "$(cat "$M/r5.md/degraded")" 1
rf_umount "$M"
echo PASS
