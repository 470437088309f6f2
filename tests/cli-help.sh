#!/bin/bash
# The command line as a newcomer meets it: raidfs --help lists every
# command, each command's --help names the program, mdadm's spellings of
# the commands work, a mistyped command is one line with a hint; and the
# man page documents every option the CLI accepts, rendering without a
# warning.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
MANDIR=${RAIDFS_MANDIR:-$(dirname "$RAIDFS")/../doc}
COMMANDS=(create examine mount status detail fail remove add re-add replace check repair stop wait show)

help=$("$RAIDFS" --help)
for c in "${COMMANDS[@]}"; do
	grep -Eq "^  $c " <<<"$help" || fail "raidfs --help does not list $c"
	out=$("$RAIDFS" "$c" --help) || fail "raidfs $c --help failed"
	sed -n 2p <<<"$out" | grep -q "^  raidfs $c " ||
		fail "raidfs $c --help does not name the program: $(sed -n 2p <<<"$out")"
done
# Every command --help lists is one of them.
listed=$(sed -nE 's/^  ([a-z-]+) .*/\1/p' <<<"$help" | sort)
[ "$listed" = "$(printf '%s\n' "${COMMANDS[@]}" | sort)" ] ||
	fail "raidfs --help lists: $(echo $listed)"

rc=0
"$RAIDFS" frobnicate >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "an unknown command exits $rc, want 2"
[ "$(wc -l <"$T/err")" = 1 ] || fail "an unknown command says more than one line: $(cat "$T/err")"
grep -q "unknown command 'frobnicate'.*raidfs --help" "$T/err" ||
	fail "no hint for an unknown command: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "an unknown command wrote to stdout"

"$RAIDFS" create -l 1 -n 2 --assume-clean --member-size 16M "$T/a" "$T/b" >/dev/null
"$RAIDFS" examine "$T/a" >"$T/e1"
for spelling in --examine -E; do
	"$RAIDFS" $spelling "$T/a" | cmp -s - "$T/e1" || fail "raidfs $spelling differs from examine"
done
"$RAIDFS" --create -l 1 -n 2 --assume-clean --member-size 16M "$T/c" "$T/d" >/dev/null ||
	fail "raidfs --create failed"
note "commands: ${#COMMANDS[@]} listed, each --help names raidfs; --examine, -E, --create work"

# The man pages: every long option of every command (from its --help)
# and every -o mount option, and a render with no warning.
page=$MANDIR/raidfs.8
[ -f "$page" ] || fail "no built man page at $page"
# The page as text, hyphens plain, so an option is found as typed.
text=$(MANWIDTH=200 man -l "$page" 2>/dev/null | sed 's/‐/-/g; s/−/-/g')
n=0
for c in "${COMMANDS[@]}"; do
	for opt in $("$RAIDFS" "$c" --help | grep -oE '^  (-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
		[ "$opt" = --help ] && continue
		grep -qF -- "$opt" <<<"$text" || fail "raidfs(8) does not document $c $opt"
		n=$((n + 1))
	done
done
for opt in ro allow_other debug run sync_speed_min sync_speed_max threads bitmap; do
	"$RAIDFS" mount --help | grep -q "$opt" || fail "mount --help no longer lists -o $opt"
	grep -qE "(^| )$opt(=| |,|$)" <<<"$text" || fail "raidfs(8) does not document -o $opt"
	n=$((n + 1))
done
for p in raidfs.8 mount.raidfs.8; do
	[ -f "$MANDIR/$p" ] || fail "no built man page $p"
	# (an installed path longer than a line, distcheck's say, cannot break)
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$MANDIR/$p" 2>&1 >/dev/null |
		grep -v "warning .*: can't break line" || true)
	[ -z "$warn" ] || fail "man -l $p warns: $warn"
	! grep -q '@[a-zA-Z_]*@' "$MANDIR/$p" || fail "$p has an unsubstituted @...@"
done
note "raidfs(8) documents $n options; both pages render with no warning"
