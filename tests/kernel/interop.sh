#!/bin/bash
# raidfs and Linux md read each other's member files, checked by the real md
# driver in a VM (vm.sh).  Every case is one array:
#  raidfs->kernel  raidfs creates and writes it and stops cleanly; the kernel
#                  must assemble it with no resync, read identical data and
#                  find 0 mismatches in a check.
#  raidfs-dirty    raidfs is killed during writes; the kernel must want a resync.
#  kernel->raidfs  mdadm creates and writes it (also 0.90 and degraded ones);
#                  raidfs reads identical data, writes more and stops; the
#                  kernel assembles it clean again, data identical, 0 mismatches.
#  raidfs-faulted  raidfs fails a member (fault/pull) and writes more; given
#                  every member, the kernel kicks that one and assembles the
#                  rest degraded, data identical.  One pull too many: the
#                  array's writes fail; mdadm --assemble --force brings it
#                  back with every fsynced write.
#  lifecycle       a member failed and removed, a new one added and
#                  recovered onto by raidfs (also replaced): the kernel
#                  assembles it clean; degraded by the kernel (mdadm
#                  --fail, --remove) and recovered by raidfs: the same; and
#                  degraded by raidfs, recovered by the kernel (mdadm
#                  --add): raidfs assembles it idle, whole, check 0.
#  bitmap          classic internal bitmaps: made by raidfs (-b internal),
#                  after a clean stop the kernel assembles with the bitmap
#                  (mdadm -X: events in step, 0 dirty), no resync; after
#                  a SIGKILL or power cut following fsynced writes to a
#                  few chunks, mdadm -X counts those chunks dirty and the
#                  kernel's resync moves only them.  Made by mdadm: raidfs
#                  keeps mdadm -X's fields exact (no write: events_cleared
#                  kept; writes: it moves up), the kernel assembles clean.
#  bitmap file     the same with the bitmap in a file (create -b PATH,
#                  mdadm --bitmap=FILE), carried to the guest in an ext2
#                  image (md reads a bitmap file through bmap()).
# Prints one table row per case; a data failure names the first differing
# sector.  Exit 0 when every case passes.
# Each boot has its own timeout (VM_T); the whole suite, many boots, gets
# lib.sh's watchdog at an hour instead of a single test's 15 minutes.
TEST_TIMEOUT=${TEST_TIMEOUT:-3600}
. "${TESTLIB:-$(dirname "$0")/../lib.sh}"
need_fuse
KDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM=$KDIR/vm.sh
VM_T=${INTEROP_TIMEOUT:-900}
MAX_DISKS=24                # members per boot; vm.sh takes 26 disks
PAT1=$((6 << 20))           # bytes mdadm's side (or raidfs's first pass) writes at 0
PAT2_OFF=$((8 << 20))       # where the second pass writes
PAT2=$((2 << 20))
BB_RANGE="2048 16"          # member sectors a bad-block log case records
ROWS=()

# ---- the cases: NAME LEVEL LAYOUT METADATA MEMBERS [SIZES] ----

# Geometry lines shared by both directions.  "-" means md's default layout.
geometries() {
	local e
	for e in "$@"; do
		echo "lin-$e linear - $e 3 16M,20M,24M"
		echo "r0-$e 0 - $e 2"
		echo "r0orig-$e 0 original $e 3 16M,20M,24M"
		echo "r0alt-$e 0 alternate $e 3 16M,20M,24M"
		echo "r1-$e 1 - $e 2"
		echo "r1x3-$e 1 - $e 3"
	done
}

# Parity and raid10 arrays: every md layout, short names for --name.
R5_LAYOUTS="la:left-asymmetric ra:right-asymmetric ls:left-symmetric rs:right-symmetric pf:parity-first pl:parity-last"
R6_LAYOUTS="$R5_LAYOUTS zr:ddf-zero-restart nr:ddf-N-restart nc:ddf-N-continue la6:left-asymmetric-6 ra6:right-asymmetric-6 ls6:left-symmetric-6 rs6:right-symmetric-6 pf6:parity-first-6"
R10_LAYOUTS="n2:4 f2:4 o2:4 n3:3 f3:3 o3:3 n2f2:4"

# All layouts of the striped redundant levels, on each metadata given.
layouts() {
	local e l
	for e in "$@"; do
		echo "r4-$e 4 - $e 3 8M"
		for l in $R5_LAYOUTS; do echo "r5${l%%:*}-$e 5 ${l#*:} $e 3 8M"; done
		for l in $R6_LAYOUTS; do echo "r6${l%%:*}-$e 6 ${l#*:} $e 4 8M"; done
		for l in $R10_LAYOUTS; do echo "r10${l%%:*}-$e 10 ${l%%:*} $e ${l#*:} 16M"; done
	done
}

# Their default layouts only.
default_layouts() {
	local e
	for e in "$@"; do
		echo "r4d-$e 4 - $e 3 8M"
		echo "r5d-$e 5 - $e 3 8M"
		echo "r6d-$e 6 - $e 4 8M"
		echo "r10d-$e 10 - $e 4 16M"
	done
}

redundant() { case $1 in 0|linear) return 1;; esac; }

row() { # case level layout metadata bitmap direction result
	local level=raid$2
	[ "$2" = linear ] && level=linear
	ROWS+=("| $1 | $level | $3 | $4 | $5 | $6 | $7 |")
}

# make_members DIR N SIZES: member files m0..m(N-1), sparse.
make_members() {
	local dir=$1 n=$2 sizes=${3:-24M} i
	mkdir -p "$dir"
	IFS=, read -r -a sz <<<"$sizes"
	for ((i = 0; i < n; i++)); do
		truncate -s "${sz[i]:-${sz[-1]}}" "$dir/m$i"
	done
}

members_of() { local d=$1; ls "$d"/m[0-9]* | sort -V; }

# ---- guest script pieces (busybox sh) ----

# An array assembled by the kernel must not resync and must read back what
# the host expects: its bytes go to the OUT disk at a given MiB offset.
guest_verify() { # md devices... ; env: OUT, SEEK, NAME, REDUNDANT, [ASM_OPTS]
	guest_assembled "$NAME" "$MD" "${ASM_OPTS:-}" "$*" <<EOF
	a=\$(cat /sys/block/$MD/md/sync_action 2>/dev/null || echo none)
	r=\$(cat /sys/block/$MD/md/resync_start 2>/dev/null || echo none)
	st=\$(cat /sys/block/$MD/md/array_state)
	deg=\$(cat /sys/block/$MD/md/degraded 2>/dev/null || echo none)
	dd if=/dev/$MD of=$OUT bs=1M seek=$SEEK conv=notrunc 2>/dev/null
	mm=-
	if [ "$REDUNDANT" = 1 ] && [ "\$a" = idle ]; then
		echo check >/sys/block/$MD/md/sync_action
		usleep 100000
		while [ "\$(cat /sys/block/$MD/md/sync_action)" != idle ]; do usleep 100000; done
		mm=\$(cat /sys/block/$MD/md/mismatch_cnt)
	fi
	echo "RESULT $NAME action=\$a resync_start=\$r state=\$st degraded=\$deg mismatch=\$mm"
EOF
}

# guest_assembled NAME MD ASM_OPTS DEVS: the guest script that assembles
# /dev/MD from DEVS, runs the script on stdin, and stops it; a failed
# assembly is a RESULT of its own.
guest_assembled() {
	echo "echo \"== $1\""
	echo "if mdadm --assemble $3 /dev/$2 $4 >/tmp/asm.log 2>&1; then"
	cat
	echo "	mdadm --stop /dev/$2 >/dev/null 2>&1"
	echo "else"
	echo "	cat /tmp/asm.log"
	echo "	echo \"RESULT $1 assemble-failed\""
	echo "fi"
}

# ---- batches: run cases through one VM boot per MAX_DISKS members ----

# vm_batch SCRIPT OUTFILE DISKS...: boot once; the VM log is kept.
vm_batch() {
	local script=$1 log=$2
	shift 2
	local rc=0
	"$VM" -t "$VM_T" "$script" "$@" >"$log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || { tail -n 40 "$log"; fail "vm.sh exited $rc"; }
}

# result NAME LOG: the RESULT line of one case.
result() { sed -n "s/^RESULT $1 //p" "$2" | tail -n1; }

# first_diff A B OFF LEN: "" if equal, else the first differing sector.
first_diff() {
	local out
	out=$(cmp <(dd if="$1" bs=1M iflag=skip_bytes,count_bytes skip="$3" count="$4" status=none) \
		  <(dd if="$2" bs=1M iflag=skip_bytes,count_bytes skip="$3" count="$4" status=none) 2>&1) && return 0
	local byte
	byte=$(sed -n 's/.* differ: byte \([0-9]*\),.*/\1/p' <<<"$out")
	[ -n "$byte" ] && echo "first differing sector $(( ($3 + byte - 1) / 512 ))" || echo "${out:-short read}"
}

# judge NAME LEVEL LOG EXPECTED-IMAGE OUT SEEK-MIB SIZE [regions...]: the
# kernel's view of one array against what the host expects.
judge() {
	local name=$1 level=$2 log=$3 want=$4 out=$5 seek=$6 size=$7
	shift 7
	local res d
	res=$(result "$name" "$log")
	[ -n "$res" ] || { echo "no result (see $log)"; return; }
	case $res in assemble-failed*) echo "kernel could not assemble it"; return;; esac
	if redundant "$level"; then
		grep -q "action=idle" <<<"$res" || { echo "kernel started a sync: $res"; return; }
		grep -q "resync_start=none" <<<"$res" || { echo "kernel sees it dirty: $res"; return; }
	fi
	grep -q "state=clean" <<<"$res" || { echo "kernel sees it unclean: $res"; return; }
	redundant "$level" && ! grep -q "mismatch=0" <<<"$res" && { echo "check found mismatches: $res"; return; }
	dd if="$out" of="$T/got" bs=1M iflag=skip_bytes,count_bytes skip=$((seek << 20)) count="$size" status=none
	if [ $# = 0 ]; then set -- 0 "$size"; fi
	while [ $# -gt 0 ]; do
		d=$(first_diff "$want" "$T/got" "$1" "$2")
		[ -z "$d" ] || { echo "data differs: $d"; return; }
		shift 2
	done
	echo ok
}

# ---- direction 1: raidfs writes, the kernel reads ----

d1_write() { # NAME LEVEL LAYOUT E N SIZES
	local name=$1 level=$2 layout=$3 e=$4 n=$5 sizes=$6 dir=$T/$1
	make_members "$dir" "$n" "$sizes"
	local lay=()
	[ "$layout" = - ] || lay=(-p "$layout")
	mapfile -t mem < <(members_of "$dir")
	"$RAIDFS" create -l "$level" -n "$n" -e "$e" -c 64K -N "$name" "${lay[@]}" ${RF_CREATE_OPTS:-} "${mem[@]}" >/dev/null
	rf_mount "$T/mnt" "${mem[@]}"
	local img=$T/mnt/$name
	[ "$e" = 0.90 ] && img=$T/mnt/md0
	wait_idle "$img.md"
	random_file "$dir/p1" "$PAT1"
	random_file "$dir/p2" "$PAT2"
	dd if="$dir/p1" of="$img" bs=1M conv=notrunc status=none
	dd if="$dir/p2" of="$img" bs=1M oflag=seek_bytes seek=$(( $(stat -c %s "$img") - PAT2 )) conv=notrunc status=none
	cat "$img" >"$dir/expect"
	rf_umount "$T/mnt"
}

direction1() {
	local -a batch=() disks=()
	local script=$T/d1.sh out log size seek=0 b=0
	note "direction 1: raidfs writes, the kernel reads"
	flush_d1() {
		[ ${#batch[@]} = 0 ] && return
		out=$T/d1-out-$b && truncate -s "${seek}M" "$out"
		log=$T/d1-$b.log
		sed -i "s|@OUT@|/dev/vd$(dev_letter ${#disks[@]})|g" "$script"
		vm_batch "$script" "$log" "${disks[@]}" "$out"
		local c name level layout e n sizes cseek csize
		for c in "${batch[@]}"; do
			read -r name level layout e n sizes cseek csize <<<"$c"
			row "$name" "$level" "$layout" "$e" none "raidfs->kernel" \
				"$(judge "$name" "$level" "$log" "$T/$name/expect" "$out" "$cseek" "$csize")"
		done
		batch=() disks=() seek=0 b=$((b + 1))
		: >"$script"
	}
	: >"$script"
	while read -r name level layout e n sizes; do
		[ $(( ${#disks[@]} + n )) -le $MAX_DISKS ] || flush_d1
		d1_write "$name" "$level" "$layout" "$e" "$n" "$sizes"
		size=$(stat -c %s "$T/$name/expect")
		local devs=() i
		for ((i = 0; i < n; i++)); do
			devs+=("/dev/vd$(dev_letter $((${#disks[@]} + i)))")
		done
		mapfile -t -O "${#disks[@]}" disks < <(members_of "$T/$name")
		NAME=$name MD=md$((${#batch[@]} + 1)) OUT=@OUT@ SEEK=$seek \
			REDUNDANT=$(redundant "$level" && echo 1 || echo 0) \
			guest_verify "${devs[@]}" >>"$script"
		batch+=("$name $level $layout $e $n ${sizes:--} $seek $size")
		seek=$(( seek + (size >> 20) + 1 ))
	done < <(geometries 1.0 1.1 1.2; echo "r1-0.90 1 - 0.90 2"
		 layouts 1.2; default_layouts 1.0 1.1
		 [ -z "${INTEROP_FULL:-}" ] || layouts 1.0 1.1)
	flush_d1
}

# ---- direction 1, dirty: raidfs killed in the middle of writes ----

dirty() {
	note "raidfs killed during writes: the kernel must want a resync"
	local dir=$T/dirty
	make_members "$dir" 2 24M
	mapfile -t mem < <(members_of "$dir")
	"$RAIDFS" create -l 1 -n 2 -N dirty --assume-clean "${mem[@]}" >/dev/null
	rf_mount "$T/mnt" "${mem[@]}"
	(while :; do dd if=/dev/urandom of="$T/mnt/dirty" bs=64K count=32 conv=notrunc status=none 2>/dev/null || exit 0; done) &
	local writer=$!
	sleep 1
	rf_crash "$T/mnt"
	wait "$writer" 2>/dev/null || true
	# Slow resync, so it is still visible when we look.
	cat >"$T/dirty.sh" <<'EOF'
echo 10 >/proc/sys/dev/raid/speed_limit_min
echo 100 >/proc/sys/dev/raid/speed_limit_max
mdadm --assemble /dev/md1 /dev/vda /dev/vdb >/dev/null 2>&1 || echo "RESULT dirty assemble-failed"
usleep 300000
echo "RESULT dirty action=$(cat /sys/block/md1/md/sync_action) resync_start=$(cat /sys/block/md1/md/resync_start)"
EOF
	vm_batch "$T/dirty.sh" "$T/dirty.log" "${mem[@]}"
	local res
	res=$(result dirty "$T/dirty.log")
	if grep -q "action=resync" <<<"$res" && ! grep -q "resync_start=none" <<<"$res"; then
		row dirty 1 - 1.2 none "raidfs-dirty->kernel" ok
	else
		row dirty 1 - 1.2 none "raidfs-dirty->kernel" "kernel did not resync: ${res:-no result}"
	fi
}

# ---- direction 1, faulted: raidfs fails members and goes on ----

# NAME LEVEL N MODE PULLED...: members 1-based, pulled in turn with an
# fsynced write after each (the pull takes effect at the member's first
# IO).  MODE "force": the last pull is one too many, the write after it
# fails, and the kernel assembles with --force.  MODE "bblog": no pull;
# member 2's writes over BB_RANGE (data-area sectors) fail, and what its
# bad-block log records (dev-X/bad_blocks) must be what mdadm
# --examine-badblocks shows in the VM.
faulted_cases() {
	echo "r1pull 1 2 degraded 2"
	echo "r5pull 5 3 degraded 2"
	echo "r6pull 6 4 degraded 3 1"
	echo "r10pull 10 4 degraded 4"
	echo "r5over 5 3 force 2 3"
	echo "r1bblog 1 2 bblog"
}

# pull_write NAME MEMBER: pull it, then an fsynced write of its own
# region (PAT2 bytes at PAT2_OFF + MEMBER * PAT2); fails as the write does.
pull_write() {
	local img=$T/mnt/$1 f=$T/$1/p2
	echo 1 >"$img.md/dev-m$(($2 - 1))/fault/pull"
	random_file "$f" "$PAT2"
	dd if="$f" of="$img" bs=1M oflag=seek_bytes seek=$((PAT2_OFF + $2 * PAT2)) \
		conv=notrunc,fsync status=none 2>/dev/null
}

f_write() { # NAME LEVEL N MODE PULLED...
	local name=$1 level=$2 n=$3 mode=$4 dir=$T/$1 m
	shift 4
	make_members "$dir" "$n" 16M
	mapfile -t mem < <(members_of "$dir")
	"$RAIDFS" create -l "$level" -n "$n" -c 64K -N "$name" "${mem[@]}" >/dev/null
	rf_mount "$T/mnt" "${mem[@]}"
	local img=$T/mnt/$name over=
	wait_idle "$img.md"
	[ "$mode" = bblog ] && echo "$BB_RANGE" >"$img.md/dev-m1/fault/write_errors"
	random_file "$dir/p1" "$PAT1"
	dd if="$dir/p1" of="$img" bs=1M conv=notrunc,fsync status=none
	if [ "$mode" = bblog ]; then   # md's bad_blocks: member sectors
		cat "$img.md/dev-m1/bad_blocks" >"$dir/bb"
		local doff
		doff=$(cat "$img.md/dev-m1/offset")
		expect_eq "$name bad_blocks" "$(cat "$dir/bb")" "$((doff + ${BB_RANGE% *})) ${BB_RANGE#* }"
	fi
	[ "$mode" = force ] && { over=${*: -1}; set -- "${@:1:$#-1}"; }
	for m in "$@"; do
		pull_write "$name" "$m" || fail "$name: a write failed with member $m pulled"
		[[ $(cat "$img.md/dev-m$((m - 1))/state") == *faulty* ]] ||
			fail "$name: pulled member m$((m - 1)) is not faulty"
	done
	expect_eq "$name degraded" "$(cat "$img.md/degraded")" $#
	cat "$img" >"$dir/expect"
	if [ -n "$over" ]; then
		! pull_write "$name" "$over" || fail "$name: a write went on with one pull too many"
	fi
	rf_umount "$T/mnt"
}

faulted() {
	note "raidfs fails members (fault/pull): the kernel assembles the rest degraded"
	local script=$T/f.sh out=$T/f-out log=$T/f.log seek=0 k=1
	local -a disks=() cases=()
	: >"$script"
	while read -r name level n mode pulled; do
		f_write "$name" "$level" "$n" "$mode" $pulled
		local first=${#disks[@]} devs=() i opts= size upto kicked
		mapfile -t -O "$first" disks < <(members_of "$T/$name")
		for ((i = 0; i < n; i++)); do devs+=("/dev/vd$(dev_letter $((first + i)))"); done
		size=$(stat -c %s "$T/$name/expect")
		upto=$size kicked=$(wc -w <<<"$pulled")
		if [ "$mode" = force ]; then
			# The member failed last comes back; what the failed
			# write may have touched is not compared.
			opts="--force --run"
			upto=$((PAT2_OFF + ${pulled##* } * PAT2)) kicked=$((kicked - 1))
		fi
		[ "$mode" = bblog ] &&
			echo "echo \"BBLOG $name \$(mdadm --examine-badblocks ${devs[1]} | awk '/ for / { print \$1, \$3 }')\"" >>"$script"
		ASM_OPTS=$opts NAME=$name MD=md$k OUT=@OUT@ SEEK=$seek REDUNDANT=1 \
			guest_verify "${devs[@]}" >>"$script"
		cases+=("$name $level $seek $size $upto $kicked")
		seek=$(( seek + (size >> 20) + 1 )) k=$((k + 1))
	done < <(faulted_cases)
	truncate -s "${seek}M" "$out"
	sed -i "s|@OUT@|/dev/vd$(dev_letter ${#disks[@]})|g" "$script"
	vm_batch "$script" "$log" "${disks[@]}" "$out"
	local c cseek csize cupto degraded verdict
	for c in "${cases[@]}"; do
		read -r name level cseek csize cupto degraded <<<"$c"
		verdict=$(judge "$name" "$level" "$log" "$T/$name/expect" "$out" "$cseek" "$csize" 0 "$cupto")
		[ "$verdict" != ok ] || grep -q "degraded=$degraded " <<<"$(result "$name" "$log")" ||
			verdict="kernel's degraded is not $degraded: $(result "$name" "$log")"
		if [ "$verdict" = ok ] && [ -f "$T/$name/bb" ]; then
			local bb
			bb=$(sed -n "s/^BBLOG $name //p" "$log")
			echo "$name: mdadm --examine-badblocks in the VM: $bb"
			[ "$bb" = "$(cat "$T/$name/bb")" ] ||
				verdict="mdadm --examine-badblocks shows '$bb', not '$(cat "$T/$name/bb")'"
		fi
		row "$name" "$level" - 1.2 none "raidfs-faulted->kernel" "$verdict"
	done
}

# ---- direction 2: the kernel writes, raidfs reads and writes more ----

d2_cases() {
	# mdadm 4.2 cannot create raid0 with 0.90 metadata at all.
	geometries 1.0 1.1 1.2 0.90 | grep -v '^r0[a-z]*-0\.90 '
	echo "r1deg-1.2 1 - 1.2 3 degraded"
	echo "r1deg-0.90 1 - 0.90 3 degraded"
	echo "r1bm-1.2 1 - 1.2 2 bitmap"
	echo "r1bm-1.0 1 - 1.0 3 bitmap"
	echo "r1bm-0.90 1 - 0.90 2 bitmap"
	layouts 1.2 | grep -v '^r10n2f2'     # mdadm has no name for near+far
	default_layouts 1.0 1.1 0.90
	echo "r5deg-1.2 5 - 1.2 4 degraded"
	echo "r6deg-1.2 6 - 1.2 5 degraded"
	echo "r10deg-1.2 10 - 1.2 4 degraded"
	echo "r5bm-1.2 5 - 1.2 3 bitmap"
	echo "r10bm-1.2 10 - 1.2 4 bitmap"
}

# The guest side of creating one array with mdadm and writing PAT1 to it
# from the pattern disk.
guest_create() { # NAME MD LEVEL LAYOUT E N DEGRADED PATDEV devs...
	local name=$1 md=$2 level=$3 layout=$4 e=$5 n=$6 deg=$7 pat=$8
	shift 8
	local opts="--level=$level --raid-devices=$n --metadata=$e"
	[ "$layout" = - ] || opts="$opts --layout=$layout"
	[ "$level" = 1 ] || opts="$opts --chunk=64"
	[ "$e" = 0.90 ] || opts="$opts --name=$name"
	if [ "$deg" = bitmap ]; then opts="$opts --bitmap=internal"
	elif [ "${deg#file=}" != "$deg" ]; then opts="$opts --bitmap=${deg#file=}"
	elif redundant "$level"; then opts="$opts --bitmap=none"; fi
	cat <<EOF
echo "== create $name"
if mdadm --create /dev/$md --run --force $opts $* >/tmp/c.log 2>&1; then
	mdadm --wait /dev/$md >/dev/null 2>&1
	dd if=$pat of=/dev/$md bs=1M count=$((PAT1 >> 20)) conv=fsync 2>/dev/null
	[ "$deg" != degraded ] || { mdadm /dev/$md --fail ${3:-} >/dev/null 2>&1; mdadm /dev/$md --remove ${3:-} >/dev/null 2>&1; }
	mdadm --stop /dev/$md >/dev/null 2>&1
	echo "RESULT $name created"
else
	cat /tmp/c.log
	echo "RESULT $name create-failed"
fi
EOF
}

dev_letter() { printf "\\$(printf %o $((97 + $1)))"; }

direction2() {
	note "direction 2: the kernel writes, raidfs reads"
	local -a cases=() disks=()
	random_file "$T/pat1" "$PAT1"
	local b=0
	run_d2() {
		[ ${#cases[@]} = 0 ] && return
		local pat=/dev/vd$(dev_letter ${#disks[@]})
		local create=$T/d2c-$b.sh verify=$T/d2v-$b.sh out=$T/d2-out-$b seek=0 c i
		local name level layout e n deg cseek csize verdict
		: >"$create"; : >"$verify"
		local first=0 k=1
		for c in "${cases[@]}"; do
			read -r name level layout e n deg <<<"$c"
			local devs=()
			for ((i = 0; i < n; i++)); do devs+=("/dev/vd$(dev_letter $((first + i)))"); done
			guest_create "$name" "md$k" "$level" "$layout" "$e" "$n" "$deg" "$pat" "${devs[@]}" >>"$create"
			first=$((first + n)); k=$((k + 1))
		done
		vm_batch "$create" "$T/d2c-$b.log" "${disks[@]}" "$T/pat1"
		# raidfs: read what the kernel wrote, write more, stop cleanly.
		first=0; k=1
		local -a rows=()
		for c in "${cases[@]}"; do
			read -r name level layout e n deg <<<"$c"
			local verdict=ok res
			res=$(result "$name" "$T/d2c-$b.log")
			[ "$res" = created ] || verdict="mdadm could not create it: $res"
			mapfile -t mem < <(members_of "$T/$name")
			local img=$T/mnt/$name
			[ "$e" = 0.90 ] && img=$T/mnt/md0
			if [ "$verdict" = ok ]; then
				rf_mount "$T/mnt" "${mem[@]}"
				local d
				d=$(first_diff "$T/pat1" "$img" 0 "$PAT1")
				[ -z "$d" ] || verdict="raidfs reads different data: $d"
				random_file "$T/$name/p2" "$PAT2"
				dd if="$T/$name/p2" of="$img" bs=1M oflag=seek_bytes seek=$PAT2_OFF conv=notrunc,fsync status=none
				cat "$img" >"$T/$name/expect"
				rf_umount "$T/mnt"
			fi
			# Back to the kernel with the members that are still in.
			local devs=()
			for ((i = 0; i < n; i++)); do
				[ "$deg" = degraded ] && [ $i = 2 ] && continue
				devs+=("/dev/vd$(dev_letter $((first + i)))")
			done
			NAME=$name MD=md$k OUT=/dev/vd$(dev_letter ${#disks[@]}) SEEK=$seek \
				REDUNDANT=$(redundant "$level" && echo 1 || echo 0) \
				guest_verify "${devs[@]}" >>"$verify"
			local size=0
			[ -f "$T/$name/expect" ] && size=$(stat -c %s "$T/$name/expect")
			rows+=("$name $level $layout $e $deg $seek $size $verdict")
			seek=$(( seek + (size >> 20) + 1 ))
			first=$((first + n)); k=$((k + 1))
		done
		truncate -s "${seek}M" "$out"
		vm_batch "$verify" "$T/d2v-$b.log" "${disks[@]}" "$out"
		for c in "${rows[@]}"; do
			read -r name level layout e deg cseek csize verdict <<<"$c"
			[ "$verdict" = ok ] && verdict=$(judge "$name" "$level" "$T/d2v-$b.log" \
				"$T/$name/expect" "$out" "$cseek" "$csize" 0 "$PAT1" "$PAT2_OFF" "$PAT2")
			row "$name" "$level" "$layout" "$e" "$([ "$deg" = bitmap ] && echo internal || echo none)" \
				"kernel->raidfs->kernel" "$verdict"
		done
		cases=() disks=() b=$((b + 1))
	}
	while read -r name level layout e n rest; do
		[ $(( ${#disks[@]} + n )) -le $MAX_DISKS ] || run_d2
		local sizes=24M deg=-
		case $rest in degraded|bitmap) deg=$rest;; ?*) sizes=$rest;; esac
		make_members "$T/$name" "$n" "$sizes"
		mapfile -t -O "${#disks[@]}" disks < <(members_of "$T/$name")
		cases+=("$name $level $layout $e $n $deg")
	done < <(d2_cases)
	run_d2
}

# ---- lifecycle: members replaced at run time, on either side ----

# NAME LEVEL N KIND: N members m0..m(N-1), m2 is the one that fails, mN
# the new member that recovers its role (m(N+1) a replacement's target):
#  raidfs    raidfs fails and removes m2, adds mN (new_dev) and recovers
#            onto it; the kernel assembles the result clean
#  replace   the same, then m0 replaced by m(N+1) (want_replacement)
#  kdeg      the kernel degrades it (mdadm --fail, --remove), raidfs adds
#            mN and recovers; the kernel assembles the result clean
#  rdeg      raidfs degrades it, the kernel adds mN (mdadm --add) and
#            recovers; raidfs assembles the result clean, check 0
lifecycle_cases() {
	local k
	for k in raidfs kdeg rdeg; do
		echo "r1$k 1 3 $k"
		echo "r5$k 5 3 $k"
		echo "r6$k 6 4 $k"
		echo "r10$k 10 4 $k"
	done
	printf '%s\n' "r1repl 1 3 replace" "r5repl 5 3 replace"
}

# lc_whole MD: until idle with nothing degraded (a minute at most).
lc_whole() {
	local i
	for i in $(seq 600); do
		[ "$(cat "$1/degraded")" = 0 ] && [ "$(cat "$1/sync_action")" = idle ] && return 0
		sleep 0.1
	done
	cat "$T/mnt/mdstat" >&2
	return 1
}

# lc_members NAME N KIND: the member files in the array after the case's
# changes, the new one last.
lc_members() {
	local name=$1 n=$2 kind=$3 i
	for ((i = 0; i < n; i++)); do
		[ $i = 2 ] || { [ "$kind" = replace ] && [ $i = 0 ]; } || echo "$T/$name/m$i"
	done
	[ "$kind" != replace ] || echo "$T/$name/m$((n + 1))"
	echo "$T/$name/m$n"
}

# lc_pass NAME FILE OFF: write FILE into the image at OFF, fsynced.
lc_pass() {
	dd if="$2" of="$T/mnt/$1" bs=1M oflag=seek_bytes seek="$3" conv=notrunc,fsync status=none
}

# lc_fail NAME: m2 faulty and removed, as mdadm --fail, --remove do it.
lc_fail() {
	local md=$T/mnt/$1.md
	echo faulty >"$md/dev-m2/state" && echo remove >"$md/dev-m2/state"
}

# lc_recover NAME N: mN added; the recovery onto it runs to its end.
lc_recover() {
	echo "$T/$1/m$2" >"$T/mnt/$1.md/new_dev" && lc_whole "$T/mnt/$1.md"
}

# lc_replace NAME N: m(N+1), added as a spare, replaces m0, which is
# faulty afterwards and removed.
lc_replace() {
	local md=$T/mnt/$1.md i
	echo "$T/$1/m$(($2 + 1))" >"$md/new_dev" &&
		echo want_replacement >"$md/dev-m0/state" || return 1
	for i in $(seq 600); do
		[[ $(cat "$md/dev-m0/state") == faulty* ]] && break
		sleep 0.1
	done
	echo remove >"$md/dev-m0/state" && lc_whole "$md"
}

# Before the first boot: member files, and the arrays raidfs makes.
lc_host_create() { # NAME LEVEL N KIND
	local name=$1 level=$2 n=$3 kind=$4 dir=$T/$1 i mem=()
	make_members "$dir" $((n + 2)) 24M
	for ((i = 0; i < n; i++)); do mem+=("$dir/m$i"); done
	random_file "$dir/p2" "$PAT2"
	[ "$kind" = kdeg ] && return 0
	"$RAIDFS" create -l "$level" -n "$n" -c 64K -N "$name" "${mem[@]}" >/dev/null
	rf_mount "$T/mnt" "${mem[@]}"
	local md=$T/mnt/$name.md err=
	wait_idle "$md"
	lc_pass "$name" "$T/pat1" 0
	lc_fail "$name" || err="raidfs could not fail and remove m2"
	if [ "$kind" != rdeg ] && [ -z "$err" ]; then
		lc_recover "$name" "$n" || err="raidfs did not recover onto m$n"
	fi
	if [ "$kind" = replace ] && [ -z "$err" ]; then
		lc_replace "$name" "$n" || err="raidfs did not replace m0"
	fi
	lc_pass "$name" "$dir/p2" "$PAT2_OFF"
	cat "$T/mnt/$name" >"$dir/expect"
	rf_umount "$T/mnt"
	[ -z "$err" ] || echo "$err" >"$dir/verdict"
}

# kdeg, after the first boot: raidfs reads what the kernel wrote to the
# degraded array, recovers onto mN and writes more.
lc_host_recover() { # NAME N
	local name=$1 n=$2 dir=$T/$1 d
	mapfile -t mem < <(lc_members "$name" "$n" kdeg)
	rf_mount "$T/mnt" "${mem[@]:0:${#mem[@]}-1}"
	d=$(first_diff "$T/pat1" "$T/mnt/$name" 0 "$PAT1")
	if [ -n "$d" ]; then
		echo "raidfs reads the kernel's degraded array wrong: $d" >"$dir/verdict"
	elif ! lc_recover "$name" "$n"; then
		echo "raidfs did not recover onto m$n" >"$dir/verdict"
	fi
	lc_pass "$name" "$dir/p2" "$PAT2_OFF"
	cat "$T/mnt/$name" >"$dir/expect"
	rf_umount "$T/mnt"
}

# rdeg, after the first boot: raidfs assembles what the kernel recovered.
lc_host_check() { # NAME N
	local name=$1 n=$2 dir=$T/$1 md=$T/mnt/$1.md d
	mapfile -t mem < <(lc_members "$name" "$n" rdeg)
	rf_mount "$T/mnt" "${mem[@]}"
	if [ "$(cat "$md/sync_action")" != idle ] || [ "$(cat "$md/degraded")" != 0 ]; then
		echo "raidfs finds it $(cat "$md/sync_action"), degraded $(cat "$md/degraded")" >"$dir/verdict"
	else
		d=$(first_diff "$dir/expect" "$T/mnt/$name" 0 "$(stat -c %s "$dir/expect")")
		if [ -n "$d" ]; then
			echo "raidfs reads it wrong: $d" >"$dir/verdict"
		else
			echo check >"$md/sync_action"
			wait_idle "$md"
			[ "$(cat "$md/mismatch_cnt")" = 0 ] ||
				echo "raidfs's check finds $(cat "$md/mismatch_cnt") mismatches" >"$dir/verdict"
		fi
	fi
	rf_umount "$T/mnt"
}

# The kernel adds NEWDEV to the degraded array and recovers onto it.
guest_recover() { # NAME MD NEWDEV devs...
	local name=$1 md=$2 new=$3
	shift 3
	guest_assembled "$name" "$md" "" "$*" <<EOF
	mdadm /dev/$md --add $new >/dev/null 2>&1
	i=0
	while [ \$i -lt 1200 ] && { [ "\$(cat /sys/block/$md/md/degraded)" != 0 ] ||
		[ "\$(cat /sys/block/$md/md/sync_action)" != idle ]; }; do usleep 100000; i=\$((i + 1)); done
	echo "RESULT $name recovered degraded=\$(cat /sys/block/$md/md/degraded)"
EOF
}

# lc_devs FIRST FILE...: the guest's names of the FILEs attached from
# disk FIRST on.
lc_devs() {
	local i=$1 f
	shift
	for f in "$@"; do echo "/dev/vd$(dev_letter "$i")"; i=$((i + 1)); done
}

# Boot 1: the kernel creates and degrades the kdeg arrays (the pattern
# disk first) and recovers the rdeg ones, MAX_DISKS disks a boot.
lc_boot1() { # CASE...
	local c name level n kind i k=1 b=0 files devs disks=("$T/pat1")
	: >"$T/lc1-0.sh"
	for c; do
		read -r name level n kind <<<"$c"
		files=()
		case $kind in
		kdeg) for ((i = 0; i < n; i++)); do files+=("$T/$name/m$i"); done ;;
		rdeg) mapfile -t files < <(lc_members "$name" "$n" rdeg) ;;
		*) continue ;;
		esac
		if [ $((${#disks[@]} + ${#files[@]})) -gt $MAX_DISKS ]; then
			vm_batch "$T/lc1-$b.sh" "$T/lc1-$b.log" "${disks[@]}"
			b=$((b + 1)) disks=("$T/pat1")
			: >"$T/lc1-$b.sh"
		fi
		mapfile -t devs < <(lc_devs "${#disks[@]}" "${files[@]}")
		disks+=("${files[@]}")
		# mdadm fails and removes its member 2 (m2) after writing.
		if [ "$kind" = kdeg ]; then
			guest_create "$name" "md$k" "$level" - 1.2 "$n" degraded /dev/vda "${devs[@]}"
		else
			guest_recover "$name" "md$k" "${devs[-1]}" "${devs[@]:0:${#devs[@]}-1}"
		fi >>"$T/lc1-$b.sh"
		echo "$b" >"$T/$name/boot1"
		k=$((k + 1))
	done
	[ ${#disks[@]} = 1 ] || vm_batch "$T/lc1-$b.sh" "$T/lc1-$b.log" "${disks[@]}"
}

# Boot 2: the kernel assembles what raidfs recovered or replaced, each
# array's bytes to the batch's OUT disk; judged lists NAME LEVEL BATCH
# SEEK SIZE.
lc_boot2() { # CASE...
	local c name level n kind k=1 b=0 seek=0 size files devs disks=()
	judged=()
	: >"$T/lc2-0.sh"
	for c; do
		read -r name level n kind <<<"$c"
		case $kind in rdeg) continue ;; esac
		[ -e "$T/$name/verdict" ] && continue
		mapfile -t files < <(lc_members "$name" "$n" "$kind")
		if [ $((${#disks[@]} + ${#files[@]})) -ge $MAX_DISKS ]; then
			lc_boot2_run "$b" "$seek" "${disks[@]}"
			b=$((b + 1)) seek=0 disks=()
			: >"$T/lc2-$b.sh"
		fi
		mapfile -t devs < <(lc_devs "${#disks[@]}" "${files[@]}")
		disks+=("${files[@]}")
		NAME=$name MD=md$k OUT=@OUT@ SEEK=$seek REDUNDANT=1 guest_verify "${devs[@]}" >>"$T/lc2-$b.sh"
		size=$(stat -c %s "$T/$name/expect")
		judged+=("$name $level $b $seek $size")
		seek=$((seek + (size >> 20) + 1)) k=$((k + 1))
	done
	[ ${#disks[@]} = 0 ] || lc_boot2_run "$b" "$seek" "${disks[@]}"
}
lc_boot2_run() { # BATCH SEEK DISKS...
	local b=$1 seek=$2
	shift 2
	truncate -s "${seek}M" "$T/lc2-out-$b"
	sed -i "s|@OUT@|/dev/vd$(dev_letter $#)|g" "$T/lc2-$b.sh"
	vm_batch "$T/lc2-$b.sh" "$T/lc2-$b.log" "$@" "$T/lc2-out-$b"
}

lifecycle() {
	note "lifecycle: members failed, added, recovered and replaced on either side"
	local -a cases=() judged=()
	local c name level n kind res b cseek csize verdict
	random_file "$T/pat1" "$PAT1"
	while read -r name level n kind; do
		lc_host_create "$name" "$level" "$n" "$kind"
		cases+=("$name $level $n $kind")
	done < <(lifecycle_cases)
	lc_boot1 "${cases[@]}"
	# The host's part between the boots.
	for c in "${cases[@]}"; do
		read -r name level n kind <<<"$c"
		[ -e "$T/$name/boot1" ] || continue
		res=$(result "$name" "$T/lc1-$(cat "$T/$name/boot1").log")
		case $kind in
		kdeg)
			[ "$res" = created ] || echo "mdadm could not create it: ${res:-no result}" >"$T/$name/verdict"
			[ -e "$T/$name/verdict" ] || lc_host_recover "$name" "$n" ;;
		rdeg)
			[ -e "$T/$name/verdict" ] || [ "$res" = "recovered degraded=0" ] ||
				echo "the kernel did not recover it: ${res:-no result}" >"$T/$name/verdict"
			[ -e "$T/$name/verdict" ] || lc_host_check "$name" "$n" ;;
		esac
	done
	lc_boot2 "${cases[@]}"
	for c in "${judged[@]}"; do
		read -r name level b cseek csize <<<"$c"
		verdict=$(judge "$name" "$level" "$T/lc2-$b.log" "$T/$name/expect" "$T/lc2-out-$b" "$cseek" "$csize")
		[ "$verdict" != ok ] || grep -q "degraded=0 " <<<"$(result "$name" "$T/lc2-$b.log")" ||
			verdict="the kernel finds it degraded: $(result "$name" "$T/lc2-$b.log")"
		echo "$verdict" >"$T/$name/verdict"
	done
	for c in "${cases[@]}"; do
		read -r name level n kind <<<"$c"
		verdict=$(cat "$T/$name/verdict" 2>/dev/null || echo ok)
		case $kind in
		raidfs) kind="raidfs-recovered->kernel" ;;
		replace) kind="raidfs-replaced->kernel" ;;
		kdeg) kind="kernel-degraded->raidfs-recovered->kernel" ;;
		rdeg) kind="raidfs-degraded->kernel-recovered->raidfs" ;;
		esac
		row "$name" "$level" - 1.2 none "$kind" "$verdict"
	done
}

# ---- bitmap: the classic internal bitmap, in both directions ----

# bmx DEV: mdadm -X of DEV in one line: the bitmap's events, events_cleared
# and dirty bits, the superblock's events, and a digest of the other fields
# (UUID, chunksize, daemon, sync size, bits).  The same text runs in the
# guest (busybox sh) and on the host.
# A second argument: the bitmap is in that file, the superblock on DEV.
BMX_FN='bmx() {
	local x e c d o s
	x=$(mdadm -X "${2:-$1}" 2>&1)
	e=$(echo "$x" | sed -n "s/^ *Events : //p")
	c=$(echo "$x" | sed -n "s/^ *Events Cleared : //p")
	d=$(echo "$x" | sed -n "s/^ *Bitmap : .*, \([0-9]*\) dirty.*/\1/p")
	o=$(echo "$x" | grep -v -e "^ *Events" -e "^ *Filename" | md5sum | cut -c1-8)
	s=$(mdadm -E "$1" 2>/dev/null | sed -n "s/^ *Events : //p")
	echo "events=${e:-?} cleared=${c:-?} dirty=${d:-?} sbevents=${s:-?} other=$o"
}'
eval "$BMX_FN"

# bm_x FILE [BITMAP_FILE]: bmx of a member file on the host, through a
# read-only loop device.
bm_x() {
	local dev
	dev=$(losetup -f --show -r "$1") || { echo "no-loop-device"; return; }
	bmx "$dev" ${2:-}
	losetup -d "$dev"
}

# fld KEY LINE: KEY's value in a "key=value ..." line.
fld() { sed -n "s/.*\(^\| \)$1=\([^ ]*\).*/\2/p" <<<"$2"; }

# bm_in_step WHAT LINE DIRTY: "" when the bitmap's events are the
# superblock's and DIRTY bits are set, else what is wrong.
bm_in_step() {
	local e s d
	e=$(fld events "$2") s=$(fld sbevents "$2") d=$(fld dirty "$2")
	[ "$e" = "$s" ] || { echo "$1: bitmap events $e, superblock events $s ($2)"; return; }
	[ "$d" = "$3" ] || echo "$1: $d dirty bits, want $3 ($2)"
}

BM_B=$((1 << 20))       # --bitmap-chunk of the cases that count bits
BM_CHUNKS="3 11 20"     # the bitmap chunks a dirty case writes

# NAME LEVEL N KIND: raidfs makes them, -b internal;
#  clean   data written (PAT1 at 0, PAT2 at the end), a clean unmount
#  chunk   the same with --bitmap-chunk 2M
#  kill    the bits of create cleared, then fsynced writes to BM_CHUNKS,
#          and the daemon SIGKILLed
#  cut     the same, ended by the power cut (arm, writes, cut)
bm_d1_cases() {
	printf '%s\n' "bm1 1 2 clean" "bm10 10 4 clean" "bm4 4 3 chunk" \
		"bm5 5 3 clean" "bm6 6 4 clean" \
		"bmk1 1 2 kill" "bmk10 10 4 kill" "bmk5 5 3 cut" "bmk6 6 4 cut"
}

# bm_data_disks LEVEL N: how many array bytes one byte of the space the
# bitmap covers stands for (raid10's bitmap covers the array itself).
bm_data_disks() {
	case $1 in 4|5) echo $(($2 - 1));; 6) echo $(($2 - 2));; *) echo 1;; esac
}

# bm_bits FILE: the bits of a member's internal bitmap or of a bitmap
# file (NAME.bm).
bm_bits() { case $1 in *.bm) bitmap_bits "$1" 0;; *) bitmap_bits "$1";; esac; }

# bm_wait_bits WANT FILES...: until every member's (or the file's) set bits
# are WANT (a minute); else says what they are.
bm_wait_bits() {
	local want=$1 end=$((SECONDS + 60)) f ok
	shift
	while [ $SECONDS -lt $end ]; do
		ok=1
		for f; do [ "$(bm_bits "$f" | tr '\n' ' ')" = "$want" ] || { ok=0; break; }; done
		[ $ok = 1 ] && return 0
		sleep 0.2
	done
	for f; do
		printf '%s: %s bits set (%s); ' "${f##*/}" "$(bm_bits "$f" | wc -l)" \
			"$(bm_bits "$f" | tr '\n' ' ' | cut -c1-24)"
	done
	echo "want '$want'"
	return 1
}

# Dirty cases: writes to BM_CHUNKS only, fsynced, then the daemon dies.
# BF: the bitmap in that file rather than on the members.
bm_dirty_write() { # NAME LEVEL N KIND
	local name=$1 level=$2 n=$3 kind=$4 dir=$T/$1 c d
	local md=$T/mnt/$1.md img=$T/mnt/$1 made=(-b internal) given=()
	make_members "$dir" "$n" 32M
	mapfile -t mem < <(members_of "$dir")
	local bits=("${mem[@]}")
	[ -z "${BF:-}" ] || bits=("$BF") made=(-b "$BF") given=(--bitmap "$BF")
	"$RAIDFS" create -l "$level" -n "$n" -c 64K -N "$name" "${made[@]}" \
		--bitmap-chunk $((BM_B >> 10))K "${mem[@]}" >/dev/null
	rf_mount "$T/mnt" "${given[@]}" "${mem[@]}"
	wait_idle "$md"
	random_file "$dir/p1" "$PAT1"
	dd if="$dir/p1" of="$img" bs=1M conv=notrunc,fsync status=none
	echo 0.2 >"$md/bitmap/time_base"
	{ printf 'raidfs keeps the bits of create: '; bm_wait_bits "" "${bits[@]}"; } >"$dir/verdict" &&
		rm "$dir/verdict"
	# As under steady writes: the bits stay, the array stays active.
	echo 60 >"$md/bitmap/time_base"
	echo 60 >"$md/safe_mode_delay"
	[ "$kind" = cut ] && echo arm >"$md/fault/power_cut"
	d=$(bm_data_disks "$level" "$n")
	for c in $BM_CHUNKS; do
		dd if=/dev/urandom of="$img" bs=64K count=1 oflag=seek_bytes \
			seek=$((c * d * BM_B)) conv=notrunc,fsync status=none
	done
	cat "$img" >"$dir/expect"
	# Every member's bits say the chunks written, before the daemon dies.
	if [ ! -e "$dir/verdict" ]; then
		{ printf 'the bits after the writes: '; bm_wait_bits "$BM_CHUNKS " "${bits[@]}"; } >"$dir/verdict" &&
			rm "$dir/verdict"
	fi
	if [ "$kind" = cut ]; then
		echo cut >"$md/fault/power_cut"
		rf_umount "$T/mnt"
	else
		rf_crash "$T/mnt"
	fi
	[ -e "$dir/verdict" ] || [ "$(examine_field "$dir/m0" State)" = active ] ||
		echo "the superblock says $(examine_field "$dir/m0" State) after the $kind, not active" >"$dir/verdict"
}

bm_clean_write() { # NAME LEVEL N KIND
	local opts=(-b internal)
	[ "$4" = chunk ] && opts+=(--bitmap-chunk 2M)
	RF_CREATE_OPTS="${opts[*]}" d1_write "$1" "$2" - 1.2 "$3" 24M
}

# bm_guest NAME MD KIND DEVS...: the guest's side of one case: mdadm -X
# of every member before assembly (BMX NAME pre DEV ...) and after the
# stop (BMX NAME post DEV ...); the assembly's first sync_action and
# whether /proc/mdstat shows its bitmap; for a dirty KIND the resync run
# to its end, the members' sectors read and written by it (IO NAME ...)
# and md's resync and stale-bitmap messages; then as guest_verify.
bm_guest() {
	local name=$1 md=$2 kind=$3 d
	shift 3
	for d; do echo "echo \"BMX $name pre $d \$(bmx $d ${BMFILE:-})\""; done
	echo "io0=\$(io $*)"
	guest_assembled "$name" "$md" "${ASM_OPTS:-}" "$*" <<EOF
	first=\$(cat /sys/block/$md/md/sync_action)
	bm=\$(sed -n "/^$md :/,/^\\\$/p" /proc/mdstat | grep -c "bitmap:")
	if [ $kind = dirty ]; then
		i=0
		while [ \$i -lt 1200 ] && [ "\$(cat /sys/block/$md/md/sync_action)" != idle ]; do
			usleep 100000; i=\$((i + 1))
		done
		echo "IO $name \$io0 / \$(io $*)"
		sleep 1     # safe mode: clean again once idle
	fi
	a=\$(cat /sys/block/$md/md/sync_action)
	r=\$(cat /sys/block/$md/md/resync_start)
	st=\$(cat /sys/block/$md/md/array_state)
	dd if=/dev/$md of=$OUT bs=1M seek=$SEEK conv=notrunc 2>/dev/null
	echo check >/sys/block/$md/md/sync_action
	usleep 100000
	while [ "\$(cat /sys/block/$md/md/sync_action)" != idle ]; do usleep 100000; done
	mm=\$(cat /sys/block/$md/md/mismatch_cnt)
	rs=\$(dmesg | grep -c "resync of RAID array $md\\\$")
	stale=\$(dmesg | grep -c "$md: .*out of date")
	echo "RESULT $name first=\$first bitmap=\$bm resyncs=\$rs stale=\$stale action=\$a resync_start=\$r state=\$st mismatch=\$mm"
EOF
	for d; do echo "echo \"BMX $name post $d \$(bmx $d ${BMFILE:-})\""; done
}

# The guest script's prelude: bmx, and io DEVS: each one's sectors read
# plus written so far.
bm_guest_prelude() {
	echo "$BMX_FN"
	cat <<'EOF'
io() {
	for d; do
		read -r a b r c e f w rest <"/sys/block/${d#/dev/}/stat"
		printf '%s ' $((r + w))
	done
}
EOF
}

# bm_judge_x NAME LOG WHEN DIRTY: every member's mdadm -X in the guest
# in step, with DIRTY bits.
bm_judge_x() {
	local line v
	[ -n "$(grep "^BMX $1 $3 " "$2")" ] || { echo "no mdadm -X of $1 ($3) in $2"; return; }
	local when="before assembly"
	[ "$3" = pre ] || when="after the stop"
	while read -r line; do
		v=$(bm_in_step "mdadm -X of $(cut -d' ' -f4 <<<"$line") $when" "${line#BMX $1 $3 }" "$4")
		[ -z "$v" ] || { echo "$v"; return; }
	done < <(grep "^BMX $1 $3 " "$2")
}

# bm_judge_io NAME LOG: the resync read and wrote only the dirty chunks:
# at most their size (plus 1 MiB of metadata) on each member, and at
# least half of it in all.
bm_judge_io() {
	local line before after i sum=0 max=0 d
	line=$(sed -n "s/^IO $1 //p" "$2" | tail -n1)
	[ -n "$line" ] || { echo "no IO counts"; return; }
	read -r -a before <<<"${line%/*}"
	read -r -a after <<<"${line#*/}"
	for i in "${!before[@]}"; do
		d=$(( (after[i] - before[i]) * 512 ))
		sum=$((sum + d)); [ $d -gt $max ] && max=$d
	done
	local n=$(wc -w <<<"$BM_CHUNKS")
	[ $max -le $((n * BM_B + (1 << 20))) ] ||
		{ echo "the resync moved $max bytes on one member, more than the $n dirty chunks (full resync?): $line"; return; }
	[ $sum -ge $((n * BM_B / 2)) ] ||
		echo "the resync moved only $sum bytes in all, less than the $n dirty chunks: $line"
}

# bm_judge NAME LEVEL KIND LOG OUT SEEK SIZE [regions]: one case's verdict.
bm_judge() {
	local name=$1 level=$2 kind=$3 log=$4 v res
	shift 4
	local want=0
	[ "$kind" = dirty ] && want=$(wc -w <<<"$BM_CHUNKS")
	v=$(bm_judge_x "$name" "$log" pre "$want"); [ -z "$v" ] || { echo "$v"; return; }
	res=$(result "$name" "$log")
	case $res in ""|assemble-failed*) judge "$name" "$level" "$log" "$T/$name/expect" "$@"; return;; esac
	[ "$(fld bitmap "$res")" = 1 ] || { echo "/proc/mdstat shows no bitmap: $res"; return; }
	[ "$(fld stale "$res")" = 0 ] || { echo "md found the bitmap out of date: $res"; return; }
	if [ "$kind" = dirty ]; then
		[ "$(fld resyncs "$res")" = 1 ] || { echo "md did not resync: $res"; return; }
		v=$(bm_judge_io "$name" "$log"); [ -z "$v" ] || { echo "$v"; return; }
	else
		[ "$(fld first "$res")" = idle ] || { echo "md started a sync at assembly: $res"; return; }
		[ "$(fld resyncs "$res")" = 0 ] || { echo "md resynced: $res"; return; }
	fi
	v=$(judge "$name" "$level" "$log" "$T/$name/expect" "$@")
	[ "$v" = ok ] || { echo "$v"; return; }
	v=$(bm_judge_x "$name" "$log" post 0); [ -z "$v" ] || { echo "$v"; return; }
	echo ok
}

bm_direction() { # KIND: the table's direction column
	local -A d=([clean]="raidfs->kernel" [chunk]="raidfs(--bitmap-chunk 2M)->kernel"
		    [kill]="raidfs-SIGKILL->kernel" [cut]="raidfs-power-cut->kernel")
	echo "${d[$1]}"
}

# Direction 1: raidfs makes the bitmap, the kernel assembles with it.
bm_direction1() {
	local -a disks=() cases=()
	local script=$T/bm1.sh out=$T/bm1-out seek=0 k=1 name level n kind
	local b=0
	flush_bm1() {
		[ ${#cases[@]} = 0 ] && return
		truncate -s "${seek}M" "$out-$b"
		sed -i "s|@OUT@|/dev/vd$(dev_letter ${#disks[@]})|g" "$script-$b"
		vm_batch "$script-$b" "$T/bm1-$b.log" "${disks[@]}" "$out-$b"
		local c cseek size v how name level kind
		for c in "${cases[@]}"; do
			read -r name level kind cseek size <<<"$c"
			how=dirty
			case $kind in clean|chunk) how=clean;; esac
			v=$(cat "$T/$name/verdict" 2>/dev/null) ||
				v=$(bm_judge "$name" "$level" "$how" "$T/bm1-$b.log" "$out-$b" "$cseek" "$size")
			row "$name" "$level" - 1.2 internal "$(bm_direction "$kind")" "$v"
		done
		cases=() disks=() seek=0 k=1 b=$((b + 1))
	}
	while read -r name level n kind; do
		[ $(( ${#disks[@]} + n )) -le $MAX_DISKS ] || flush_bm1
		[ ${#cases[@]} != 0 ] || bm_guest_prelude >"$script-$b"
		case $kind in
		clean|chunk) bm_clean_write "$name" "$level" "$n" "$kind" ;;
		*) bm_dirty_write "$name" "$level" "$n" "$kind" ;;
		esac
		local devs=() size how=dirty
		mapfile -t devs < <(lc_devs "${#disks[@]}" $(members_of "$T/$name"))
		mapfile -t -O "${#disks[@]}" disks < <(members_of "$T/$name")
		size=$(stat -c %s "$T/$name/expect")
		case $kind in clean|chunk) how=clean;; esac
		OUT=@OUT@ SEEK=$seek bm_guest "$name" md$k "$how" "${devs[@]}" >>"$script-$b"
		cases+=("$name $level $kind $seek $size")
		seek=$((seek + (size >> 20) + 1)) k=$((k + 1))
	done < <(bm_d1_cases)
	flush_bm1
}

# Direction 2: mdadm makes the bitmap (its default chunk); raidfs mounts
# it without writing (the bitmap must stay as md would leave it: same bits
# and fields, events in step with the superblock, events_cleared kept),
# then writes more (events_cleared moves up as md's endwrite moves it);
# the kernel assembles it again with no resync.
bm_d2_cases() {
	printf '%s\n' "kbm1 1 2" "kbm10 10 4" "kbm4 4 3" "kbm5 5 3" "kbm6 6 4"
}

# bm_host_x NAME WHEN [FILE]: mdadm -X of every member (of the bitmap in
# FILE, with the member's superblock) into $T/NAME/x-WHEN.
bm_host_x() { # NAME WHEN [BITMAP_FILE]
	local f
	for f in $(members_of "$T/$1"); do echo "${f##*/} $(bm_x "$f" ${3:-})"; done >"$T/$1/x-$2"
}

# bm_host_cmp NAME WHEN CLEARED: each member's mdadm -X at WHEN against
# "created" (md's own): in step, 0 dirty, the same other fields;
# CLEARED "same": events_cleared unchanged, "up": above the old one but
# not above events.
bm_host_cmp() {
	local name=$1 when=$2 how=$3 m line old v c0 c1 e
	while read -r m line; do
		old=$(sed -n "s/^$m //p" "$T/$name/x-created")
		v=$(bm_in_step "mdadm -X of $m after raidfs ($when)" "$line" 0)
		[ -z "$v" ] || { echo "$v"; return; }
		[ "$(fld other "$line")" = "$(fld other "$old")" ] ||
			{ echo "$m: mdadm -X fields changed by raidfs ($when); see $T/$name/x-*"; return; }
		c0=$(fld cleared "$old") c1=$(fld cleared "$line") e=$(fld events "$line")
		if [ "$how" = same ]; then
			[ "$c1" = "$c0" ] || { echo "$m: events_cleared $c0 -> $c1 with no write ($when)"; return; }
		elif ! [ "$c1" -gt "$c0" ] || ! [ "$c1" -le "$e" ]; then
			echo "$m: events_cleared $c0 -> $c1 (events $e) after writes ($when)"; return
		fi
	done <"$T/$name/x-$when"
}

# The host's part between the boots: raidfs reads, then writes; what
# goes wrong ends in $T/NAME/verdict.  FILE: the bitmap is in that file,
# out of NAME's ext2 image first and back into it after.
bm_d2_host() { # NAME [FILE]
	local name=$1 bf=${2:-} img=$T/mnt/$1 md=$T/mnt/$1.md v d m line
	local verdict=$T/$1/verdict want="none [bitmap] llbitmap" opts=()
	if [ -n "$bf" ]; then
		rm -f "$bf"
		debugfs -R "dump /$name.bm $bf" "$T/$name/bf.img" >/dev/null 2>&1
		[ -s "$bf" ] || { echo "no $name.bm in the guest's ext2 image" >"$verdict"; return; }
		opts=(--bitmap "$bf") want="$want file"
	fi
	mapfile -t mem < <(members_of "$T/$name")
	bm_host_x "$name" created "$bf"
	while read -r m line; do
		v=$(bm_in_step "mdadm -X of $m as md left it" "$line" 0)
		[ -z "$v" ] || { echo "$v" >"$verdict"; return; }
	done <"$T/$name/x-created"
	rf_mount "$T/mnt" "${opts[@]}" "${mem[@]}"
	v=$(cat "$md/bitmap_type")
	[ -z "$bf" ] || v="$v $(cat "$md/bitmap/location")"
	d=$(first_diff "$T/pat1" "$img" 0 "$PAT1")
	rf_umount "$T/mnt"
	[ "$v" = "$want" ] || { echo "bitmap_type (and location) read '$v'" >"$verdict"; return; }
	[ -z "$d" ] || { echo "raidfs reads different data: $d" >"$verdict"; return; }
	bm_host_x "$name" read "$bf"
	v=$(bm_host_cmp "$name" read same)
	[ -z "$v" ] || { echo "$v" >"$verdict"; return; }
	rf_mount "$T/mnt" "${opts[@]}" "${mem[@]}"
	random_file "$T/$name/p2" "$PAT2"
	dd if="$T/$name/p2" of="$img" bs=1M oflag=seek_bytes seek=$PAT2_OFF conv=notrunc,fsync status=none
	cat "$img" >"$T/$name/expect"
	rf_umount "$T/mnt"
	bm_host_x "$name" written "$bf"
	v=$(bm_host_cmp "$name" written up)
	[ -z "$v" ] || { echo "$v" >"$verdict"; return; }
	[ -z "$bf" ] || bf_pack "$name"
}

# d2_host_step NAME LEVEL LOG HOST BITMAP: after mdadm's create (its
# LOG), the host's part (HOST NAME); true when the case goes on to the
# kernel's assembly, else its row is made (BITMAP: that column).
d2_host_step() {
	local v
	v=$(result "$1" "$3")
	if [ "$v" != created ]; then
		echo "mdadm could not create it: ${v:-no result}" >"$T/$1/verdict"
	else
		"$4" "$1"
	fi
	v=$(cat "$T/$1/verdict" 2>/dev/null) || return 0
	row "$1" "$2" - 1.2 "$5" "kernel->raidfs->kernel" "$v"
	return 1
}

# d2_verify SCRIPT LOG OUT BITMAP: the kernel assembles the caller's
# judged cases (its disks, seek: OUT's size in MiB) again; their rows.
d2_verify() {
	[ ${#judged[@]} != 0 ] || return 0
	truncate -s "${seek}M" "$3"
	sed -i "s|@OUT@|/dev/vd$(dev_letter ${#disks[@]})|g" "$1"
	vm_batch "$1" "$2" "${disks[@]}" "$3"
	local c name level s size
	for c in "${judged[@]}"; do
		read -r name level s size <<<"$c"
		row "$name" "$level" - 1.2 "$4" "kernel->raidfs->kernel" \
			"$(bm_judge "$name" "$level" clean "$2" "$3" "$s" "$size" 0 "$PAT1" "$PAT2_OFF" "$PAT2")"
	done
}

bm_direction2() {
	local -a disks=("$T/pat1") cases=()
	local create=$T/bm2c.sh verify=$T/bm2v.sh out=$T/bm2-out seek=0 k=1
	local name level n devs v size c
	random_file "$T/pat1" "$PAT1"
	: >"$create"
	bm_guest_prelude >"$verify"
	while read -r name level n; do
		make_members "$T/$name" "$n" 24M
		mapfile -t devs < <(lc_devs "${#disks[@]}" $(members_of "$T/$name"))
		mapfile -t -O "${#disks[@]}" disks < <(members_of "$T/$name")
		guest_create "$name" md$k "$level" - 1.2 "$n" bitmap /dev/vda "${devs[@]}" >>"$create"
		cases+=("$name $level ${devs[*]}")
		k=$((k + 1))
	done < <(bm_d2_cases)
	vm_batch "$create" "$T/bm2c.log" "${disks[@]}"
	k=1
	local -a judged=()
	for c in "${cases[@]}"; do
		read -r name level devs <<<"$c"
		if d2_host_step "$name" "$level" "$T/bm2c.log" bm_d2_host internal; then
			size=$(stat -c %s "$T/$name/expect")
			OUT=/dev/vd$(dev_letter ${#disks[@]}) SEEK=$seek \
				bm_guest "$name" md$k clean $devs >>"$verify"
			judged+=("$name $level $seek $size")
			seek=$((seek + (size >> 20) + 1))
		fi
		k=$((k + 1))
	done
	d2_verify "$verify" "$T/bm2v.log" "$out" internal
}

bitmap() {
	command -v python3 >/dev/null || skip "no python3 (bitmap_bits)"
	note "bitmap: raidfs's internal bitmap to the kernel, clean and dirty"
	bm_direction1
	note "bitmap: mdadm's internal bitmap through raidfs, kept exact"
	bm_direction2
}

# ---- bitmap file: the classic bitmap in a file, both directions ----
# md reads a bitmap file through bmap(), so it must lie on a block
# filesystem: each case's file travels in an ext2 image of its own, a disk
# the guest mounts at /bf-NAME.

# bf_pack NAME: $T/NAME/bf.img, an ext2 image of $T/NAME/bf/ (the file).
bf_pack() {
	mke2fs -q -F -t ext2 -d "$T/$1/bf" "$T/$1/bf.img" 8M ||
		fail "mke2fs of $1's bitmap file"
}

# bf_attach NAME SCRIPT: NAME's members and then its image join the
# caller's disks (devs: the members' names in the guest), and SCRIPT
# mounts the image.
bf_attach() {
	mapfile -t devs < <(lc_devs "${#disks[@]}" $(members_of "$T/$1"))
	mapfile -t -O "${#disks[@]}" disks < <(members_of "$T/$1")
	disks+=("$T/$1/bf.img")
	echo "mkdir -p /bf-$1 && mount -t ext2 /dev/vd$(dev_letter $((${#disks[@]} - 1))) /bf-$1" >>"$2"
}

# bf_guest NAME MD HOW SCRIPT: bm_guest of NAME (at the caller's seek)
# assembled with its file, then the image unmounted.
bf_guest() {
	OUT=@OUT@ SEEK=$seek ASM_OPTS="--bitmap=/bf-$1/$1.bm" BMFILE=/bf-$1/$1.bm \
		bm_guest "$1" "$2" "$3" "${devs[@]}" >>"$4"
	echo "umount /bf-$1" >>"$4"
}

# Direction 1: raidfs makes the file (SIGKILL / power cut after fsynced
# writes to BM_CHUNKS); the kernel assembles with it and resyncs only them.
bf_d1_cases() { printf '%s\n' "bfk1 1 2 kill" "bfk5 5 3 cut"; }

# Direction 2: mdadm makes the file; raidfs keeps it exact, reading and
# then writing; the kernel assembles with it again, clean.
bf_d2_cases() { printf '%s\n' "kbf1 1 2" "kbf5 5 3"; }

bf_d2_host() { bm_d2_host "$1" "$T/$1/bf/$1.bm"; }

bitmap_file() {
	command -v python3 >/dev/null || skip "no python3 (bitmap_bits)"
	note "bitmap file: raidfs's to the kernel after a crash; mdadm's through raidfs"
	local -a disks=("$T/pat1") d1=() d2=() judged=()
	local a=$T/bfa.sh out=$T/bfa-out seek=0 k=1 name level n kind devs size c v
	random_file "$T/pat1" "$PAT1"
	bm_guest_prelude >"$a"
	while read -r name level n kind; do
		mkdir -p "$T/$name/bf"
		BF=$T/$name/bf/$name.bm bm_dirty_write "$name" "$level" "$n" "$kind"
		bf_pack "$name"
		bf_attach "$name" "$a"
		size=$(stat -c %s "$T/$name/expect")
		bf_guest "$name" md$k dirty "$a"
		d1+=("$name $level $kind $seek $size")
		seek=$((seek + (size >> 20) + 1)) k=$((k + 1))
	done < <(bf_d1_cases)
	while read -r name level n; do
		make_members "$T/$name" "$n" 24M
		mkdir -p "$T/$name/bf"
		bf_pack "$name"
		bf_attach "$name" "$a"
		guest_create "$name" md$k "$level" - 1.2 "$n" "file=/bf-$name/$name.bm" \
			/dev/vda "${devs[@]}" >>"$a"
		echo "umount /bf-$name" >>"$a"
		d2+=("$name $level $n")
		k=$((k + 1))
	done < <(bf_d2_cases)
	truncate -s "${seek}M" "$out"
	sed -i "s|@OUT@|/dev/vd$(dev_letter ${#disks[@]})|g" "$a"
	# the guest's ext2 images come back with the files md wrote
	vm_batch "$a" "$T/bfa.log" "${disks[@]}" "$out"
	for c in "${d1[@]}"; do
		read -r name level kind cseek size <<<"$c"
		v=$(cat "$T/$name/verdict" 2>/dev/null) ||
			v=$(bm_judge "$name" "$level" dirty "$T/bfa.log" "$out" "$cseek" "$size")
		row "$name" "$level" - 1.2 file "$(bm_direction "$kind")" "$v"
	done
	local b=$T/bfb.sh
	disks=("$T/pat1") seek=0 k=1
	bm_guest_prelude >"$b"
	for c in "${d2[@]}"; do
		read -r name level n <<<"$c"
		d2_host_step "$name" "$level" "$T/bfa.log" bf_d2_host file || continue
		bf_attach "$name" "$b"
		size=$(stat -c %s "$T/$name/expect")
		bf_guest "$name" md$k clean "$b"
		judged+=("$name $level $seek $size")
		seek=$((seek + (size >> 20) + 1)) k=$((k + 1))
	done
	d2_verify "$b" "$T/bfb.log" "$T/bfb-out" file
}

command -v qemu-system-x86_64 >/dev/null || skip "no qemu (tests/kernel/deps.sh installs it)"
# INTEROP_PARTS picks parts by hand (e.g. "direction2"); all by default.
# Every layout runs on metadata 1.2, the default layouts on each version;
# INTEROP_FULL=1 runs every layout on 1.0 and 1.1 as well (twice as long).
for part in ${INTEROP_PARTS:-direction1 dirty direction2 faulted lifecycle bitmap bitmap_file}; do
	"$part"
done

echo
echo "| case | level | layout | metadata | bitmap | direction | result |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
total=${#ROWS[@]}
bad=$(printf '%s\n' "${ROWS[@]}" | grep -vc '| ok |$' || true)
echo
echo "$((total - bad)) passed, $bad failed"
[ "$bad" = 0 ]
