# shellcheck shell=bash
# Helpers of the tests of raidfs detail and the member commands, on the
# arrays of the mount at $M (after lib.sh).
need_fuse
M=$T/mnt

# field IMAGE "Name": one value of raidfs detail.
field() {
	"$RAIDFS" detail "$1" | sed -n "s/^ *$2 : //p" | sed 's/ *$//'
}

# expect_field IMAGE "Name" VALUE
expect_field() {
	expect_eq "${1##*/} detail $2" "$(field "$1" "$2")" "$3"
}

# row IMAGE FILE: FILE's row of the member table.
row() {
	"$RAIDFS" detail "$1" | grep " $(re_quote "$(realpath -m "$2")")\$"
}

# snapshot NAME: what a refused command must leave as it was (events
# included: no superblock was written).
snapshot() {
	local d=$M/$1.md f
	for f in "$d"/array_state "$d"/degraded "$d"/events "$d"/sync_action \
		 "$d"/dev-*/state "$d"/dev-*/slot; do
		echo "$f: $(cat "$f")"
	done
}

# refused NAME PATTERN CMD...: exit 2, PATTERN in its one line, and the
# array NAME as it was.
refused() {
	local name=$1 pattern=$2 before rc=0
	shift 2
	before=$(snapshot "$name")
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "$*: exit $rc, want 2 ($(cat "$T/err"))"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "$*: not one line: $(cat "$T/err")"
	grep -qi -- "$pattern" "$T/err" ||
		fail "$*: '$(cat "$T/err")' does not say '$pattern'"
	[ "$(snapshot "$name")" = "$before" ] || fail "$*: $name changed"
	note "refused: $(cat "$T/err")"
}

# For the lifecycle tests (cli-lifecycle.sh, cli-replace.sh).
# expect_row IMAGE FILE SLOT STATE: its RaidDevice and state words.
expect_row() {
	row "$1" "$2" | grep -Eq "^ +[0-9-]+ +[0-9]+ +[0-9]+ +$3 +$4 +/" ||
		fail "${2##*/}'s row in ${1##*/}: '$(row "$1" "$2")', want $3 $4"
}
run() {
	"$RAIDFS" "$@" 2>"$T/err" || fail "raidfs $*: exit $? ($(cat "$T/err"))"
}
waited() {
	"$RAIDFS" wait "$1" >/dev/null 2>"$T/err" ||
		fail "wait ${1##*/}: exit $? ($(cat "$T/err"))"
}
same_data() {
	cmp -s <(head -c 8M "$1") "$2" || fail "${1##*/}: data differs"
}
