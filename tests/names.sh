#!/bin/bash
# Array names.  create refuses a -N the mount could not serve (and never
# cuts one); the mount serves every array whatever set_name its superblock
# carries: a hostile one as mdN, clashing ones under distinct names, each
# with a note on stderr, and mdstat stays one "NAME : active" line per array.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
[ -x "${SB_SETNAME:-}" ] || SB_SETNAME=$(dirname "$RAIDFS")/../tests/sb-setname
[ -x "$SB_SETNAME" ] || skip "no sb-setname helper (make check builds it)"

cd "$T"
note "create refuses what the mount could not serve"
long33=012345678901234567890123456789012
for n in '' 'a/b' / . .. mdstat x.md 'a b' $'a\tb' $'a\nb' $'a\x01b' $'a\x7fb' \
	 "$long33" 'host:' 'host:a/b' 'ho st:x' 'host:mdstat'; do
	rc=0
	"$RAIDFS" create -l 1 -n 2 --member-size 2M -N "$n" r1 r2 >out 2>err || rc=$?
	[ "$rc" = 2 ] || fail "-N '$n': exit $rc, want 2"
	[ "$(wc -l <err)" = 1 ] || fail "-N '$n': stderr is not one line: $(cat err)"
	[ ! -e r1 ] && [ ! -e r2 ] || fail "-N '$n': a member was left behind"
done
# Up to md's 32 bytes, served whole: the host goes where it does not fit.
long32=${long33:0:32}
"$RAIDFS" create -l 1 -n 2 --assume-clean --member-size 2M -N "$long32" l1 l2 >/dev/null
"$RAIDFS" create -l 1 -n 2 --assume-clean --member-size 2M -N other:plain p1 p2 >/dev/null

# Arrays whose superblocks name them badly (another tool, a patched image):
# all members of each get the set_name.
note "hostile set_names at mount"
hostile=('h:a/b' 'h:.' 'h:..' 'h:mdstat' 'h:x.md' $'h:a\nb' $'h:a b' $'h:\x01'
	 'h:data' 'g:data' 'data' 'h:data_0' "$long32")
for i in "${!hostile[@]}"; do
	"$RAIDFS" create -l 1 -n 2 --assume-clean --member-size 2M -N "n$i" "h$i-1" "h$i-2" >/dev/null
	head -c 65536 /dev/urandom >"data$i"
	for m in "h$i-1" "h$i-2"; do
		"$SB_SETNAME" "$m" "${hostile[$i]}"
		# Both mirrors hold the array's first 64K of data.
		off=$(( $(examine_field "$m" "Data Offset" | cut -d' ' -f1) * 512 ))
		dd if="data$i" of="$m" bs=64K seek="$off" oflag=seek_bytes conv=notrunc status=none
	done
done
mkdir src
mv h*-[12] l1 l2 p1 p2 src/
rf_mount "$T/mnt" src

# Every array, by UUID, is served under exactly one name, readable.
narrays=$(( ${#hostile[@]} + 2 ))
declare -A served
for dir in "$T"/mnt/*.md; do
	name=$(basename "$dir" .md)
	uuid=$(tr -dc 0-9a-f <"$dir/uuid")
	[ -z "${served[$uuid]:-}" ] || fail "array $uuid is served twice"
	served[$uuid]=$name
	[ -f "$T/mnt/$name" ] || fail "no image $name next to $name.md"
	dd if="$T/mnt/$name" of=/dev/null bs=1M status=none || fail "$name is not readable"
done
expect_eq "arrays served" "${#served[@]}" "$narrays"
entries=$(ls -a "$T/mnt" | wc -l)
expect_eq "entries in the mount" "$entries" $(( 3 + 2 * narrays ))
[ -f "$T/mnt/$long32" ] || fail "the 32-byte name is not served whole"
[ -f "$T/mnt/plain" ] || fail "other:plain is not served as plain"
for i in "${!hostile[@]}"; do
	uuid=$(examine_field "src/h$i-1" "Array UUID")
	name=${served[$(tr -dc 0-9a-f <<<"$uuid")]:-}
	[ -n "$name" ] || fail "array $i (${hostile[$i]@Q}) is not served"
	cmp -s -n 65536 "$T/mnt/$name" "data$i" || fail "array $i served as $name holds other data"
	case ${hostile[$i]} in
	h:data|g:data|data|h:data_0|"$long32") ;;   # valid names, maybe renamed
	*) [[ $name =~ ^md[0-9]+$ ]] || fail "array $i (${hostile[$i]@Q}) is served as $name"
	   grep -q "array $uuid is served as $name: its name" "$T/daemon.err" ||
		fail "no note for array $i: $(cat "$T/daemon.err")" ;;
	esac
done
# The clashes: data, data_0 (taken by an array of that name too: data_1
# or data_0_0 then), each renamed array noted, and the 32-byte name twice.
for clash in data "$long32"; do
	n=$(grep -c "is served as ${clash}_[0-9_]*: array .* is served as $clash\$" "$T/daemon.err" || true)
	want=2; [ "$clash" = data ] || want=1
	expect_eq "notes for $clash" "$n" "$want"
done

# mdstat: one well-formed line per array, named as served.
note "mdstat"
lines=$(grep -c ' : active ' "$T/mnt/mdstat")
expect_eq "arrays in mdstat" "$lines" "$narrays"
while read -r line; do
	case $line in
	"Personalities :"*|"unused devices: <none>"|"") continue ;;
	esac
	[[ $line =~ ^([^[:space:]]+)\ :\ active\  ]] || [[ $line =~ ^[0-9]+\ blocks ]] ||
		[[ $line =~ ^bitmap: ]] || [[ $line =~ resync|recovery|check ]] ||
		fail "mdstat line '$line' is not md's format"
	if [[ $line =~ ^([^[:space:]]+)\ :\ active ]]; then
		[ -f "$T/mnt/${BASH_REMATCH[1]}" ] || fail "mdstat lists ${BASH_REMATCH[1]}, not served"
	fi
done <"$T/mnt/mdstat"
rf_umount "$T/mnt"
echo "PASS"
