#!/bin/bash
# Every refusal: exit status 2, a line naming what is wrong, nothing written.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse

# refuse PATTERN CMD...: CMD must exit 2 with PATTERN in its first line of
# stderr, and the member files in $T must be exactly as they were.
refuse() {
	local pattern=$1; shift
	local before after rc=0
	before=$(cd "$T" && find . -type f ! -name '*.err' -exec md5sum {} + | sort)
	"$@" >"$T/out" 2>"$T/cmd.err" || rc=$?
	after=$(cd "$T" && find . -type f ! -name '*.err' ! -name out -exec md5sum {} + | sort)
	before=$(grep -v ' ./out$' <<<"$before" || true)
	[ "$rc" = 2 ] || fail "$*: exit $rc, want 2 ($(cat "$T/cmd.err"))"
	head -n1 "$T/cmd.err" | grep -qi -- "$pattern" ||
		fail "$*: first line '$(head -n1 "$T/cmd.err")' does not say '$pattern'"
	[ "$before" = "$after" ] || fail "$*: files changed"
	note "refused: $(head -n1 "$T/cmd.err")"
}

cd "$T"
refuse "need 3" "$RAIDFS" create -l 1 -n 3 --member-size 16M a b
[ ! -e a ] || fail "a member was created by a refused create"
refuse "power of two" "$RAIDFS" create -l 5 -n 3 -c 100K --member-size 16M a b c
refuse "level" "$RAIDFS" create -l 9 -n 2 --member-size 16M a b
refuse "level" "$RAIDFS" create -n 2 --member-size 16M a b
refuse "metadata" "$RAIDFS" create -l 1 -n 2 -e 2.0 --member-size 16M a b
refuse "logical-block-size" "$RAIDFS" create -l 1 -n 2 --logical-block-size 1000 --member-size 16M a b
truncate -s 100K tiny1 tiny2
refuse "small" "$RAIDFS" create -l 1 -n 2 tiny1 tiny2
refuse "does not exist" "$RAIDFS" create -l 1 -n 2 nosuch1 nosuch2

# Members of two different arrays do not make one array.
mkdir x y
"$RAIDFS" create -l 1 -n 2 --assume-clean -N x --member-size 16M x/a x/b >/dev/null
"$RAIDFS" create -l 1 -n 2 --assume-clean -N y --member-size 16M y/a y/b >/dev/null
refuse "already belongs" "$RAIDFS" create -l 1 -n 2 x/a y/b
mkdir -p mnt
refuse "1 of 2" "$RAIDFS" mount -f x/a y/b mnt

# A damaged superblock or a truncated member is named and left out.
cp x/a bad-csum && printf '\xff' | dd of=bad-csum bs=1 seek=$((4096 + 40)) conv=notrunc status=none
"$RAIDFS" examine bad-csum | grep -q "Checksum : .* - expected" || fail "examine does not flag the bad checksum"
refuse "checksum" "$RAIDFS" mount -f bad-csum x/b mnt
cp y/a short && truncate -s 8M short
refuse "truncated" "$RAIDFS" mount -f short y/b mnt
refuse "no md superblock" "$RAIDFS" examine tiny1

mkdir empty
refuse "no md superblock" "$RAIDFS" mount -f empty mnt
refuse "does not exist" "$RAIDFS" mount -f x no-such-dir
refuse "unknown mount option" "$RAIDFS" mount -f -o bogus x mnt
refuse "unknown command" "$RAIDFS" frobnicate
# The commands over a mount's control files, given no image.
refuse "not an array image" "$RAIDFS" detail x/a
refuse "not an array image" "$RAIDFS" fail no-such-image x/a
refuse "usage" "$RAIDFS" wait
refuse "usage" "$RAIDFS" replace x/a
refuse "unknown option" "$RAIDFS" check --bogus x/a
echo "PASS"
