#!/bin/bash
# raidfs show: where each member keeps which chunks, as md places them
# (the text's first rows against md's layouts worked out by hand), the
# members' states, the bitmap's chunks as the members hold them, and the
# same as a picture: a valid PNG of 1024x768 (decoded back by
# tests/png-check.py) whose heat map shows the written chunk.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
need_fuse
PNG_CHECK=$(dirname "$0")/png-check.py

M=$T/mnt
"$RAIDFS" create -l 5 -n 4 -N r5 -c 64K -b lockless --member-size 32M "$T"/e{0..3} >/dev/null
"$RAIDFS" create -l 6 -n 5 -N r6 -c 64K --assume-clean --member-size 16M "$T"/f{0..4} >/dev/null
"$RAIDFS" create -l 10 -n 2 -p f2 -N f2 -c 64K --assume-clean --member-size 16M "$T"/g{0,1} >/dev/null
"$RAIDFS" create -l 1 -n 2 -N r1 -b internal --assume-clean --member-size 16M "$T"/h{0,1} >/dev/null
"$RAIDFS" create -l 0 -n 3 -N r0 -c 64K --member-size 16M "$T"/i{0..2} >/dev/null
rf_mount "$M" "$T"/e{0..3} "$T"/f{0..4} "$T"/g{0,1} "$T"/h{0,1} "$T"/i{0..2}

show() { "$RAIDFS" show "$M/$1" >"$T/$1.txt" || fail "raidfs show $1 failed"; }
# row ARRAY OFFSET: the cells of the row at member offset OFFSET.
row() { awk -v o="$2" '$1 == o { $1 = ""; sub(/^ /, ""); print }' "$T/$1.txt"; }

note "layouts"
for a in r5 r6 f2 r1 r0; do show "$a"; done
# left-symmetric: P walks down from the last member, data follows it
expect_eq "r5 row 0" "$(row r5 0K)" "0 1 2 P"
expect_eq "r5 row 1" "$(row r5 64K)" "4 5 P 3"
expect_eq "r5 row 3" "$(row r5 192K)" "P 9 10 11"
# raid6 left-symmetric: Q follows P, wrapping round
expect_eq "r6 row 0" "$(row r6 0K)" "Q 0 1 2 P"
expect_eq "r6 row 1" "$(row r6 64K)" "3 4 5 P Q"
# far 2: the far copies begin halfway down, on the next member
expect_eq "f2 row 0" "$(row f2 0K)" "0 1"
far=$(awk '$1 ~ /^[0-9]+K$/ && ++n == 5 { print $1 }' "$T/f2.txt")
expect_eq "f2 first far row" "$(row f2 "$far")" "1 0"
expect_eq "f2 far rows start" "$far" "$(($(cat "$M/f2.md/component_size") / 2))K"
expect_eq "r1 row 1" "$(row r1 64K)" "1 1"
expect_eq "r0 row 1" "$(row r0 64K)" "3 4 5"
grep -q "^r5: raid5 left-symmetric, 4 members of 31.0M, 64K chunks; clean$" "$T/r5.txt" ||
	fail "r5's title: $(head -n1 "$T/r5.txt")"

note "states and bitmaps"
dd if=/dev/urandom of="$M/r5" bs=64K count=1 oflag=direct conv=notrunc status=none
dd if=/dev/urandom of="$M/r1" bs=64K count=1 oflag=direct conv=notrunc status=none
"$RAIDFS" wait "$M/r5" >/dev/null
"$RAIDFS" fail "$M/r1" h1 >/dev/null
show r5
show r1
grep -q "^state .*in sync *in sync *in sync *in sync" "$T/r5.txt" || fail "r5 states: $(grep ^state "$T/r5.txt")"
grep -q "^state .*in sync *faulty" "$T/r1.txt" || fail "r1 states: $(grep ^state "$T/r1.txt")"
# llbitmap: the written chunk is built (lazily, raid5) and no longer
# Unwritten; every other chunk is.
bm=$(grep '^bitmap:' "$T/r5.txt")
chunks=$(sed -n 's/^bitmap: llbitmap, \([0-9]*\) chunks.*/\1/p' <<<"$bm")
unwritten=$(sed -n 's/.* \([0-9]*\) Unwritten.*/\1/p' <<<"$bm")
[ -n "$chunks" ] && [ -n "$unwritten" ] || fail "r5's bitmap line: $bm"
expect_eq "r5 chunks written" "$((chunks - unwritten))" 1
# classic: the written chunks' bits are set, and stay set while degraded
dirty=$(sed -n 's/^bitmap: bitmap, .* \([0-9]*\) Dirty$/\1/p' "$T/r1.txt")
[ "${dirty:-0}" -gt 0 ] || fail "r1's bitmap line: $(grep '^bitmap:' "$T/r1.txt")"
grep -q '^sync: idle' "$T/r5.txt" || fail "r5's sync line: $(grep '^sync:' "$T/r5.txt")"

note "the picture"
"$RAIDFS" show "$M/r5" --png "$T/r5.png" || fail "raidfs show --png failed"
# The heat map's first cell (the written chunk) and its last (never
# written): x 91, y 533 and the 1024th cell's (PNG_W/H and the heat map's
# place are show-cli.c's).
last=$(((chunks < 1024 ? chunks : 1024) - 1))
python3 "$PNG_CHECK" "$T/r5.png" 91,533 "$((91 + last % 64 * 14)),$((533 + last / 64 * 12))" \
	>"$T/dec" || fail "r5.png does not decode"
expect_eq "picture size" "$(sed -n 1p "$T/dec")" 1024x768
expect_eq "the unwritten chunk's colour" "$(sed -n 3p "$T/dec")" 224,224,224
[ "$(sed -n 2p "$T/dec")" != 224,224,224 ] || fail "the written chunk shows as Unwritten"

note "bad input"
"$RAIDFS" show "$T/e0" 2>"$T/err" && fail "show took a member file for an image"
[ "$(wc -l <"$T/err")" = 1 ] || fail "more than one line: $(cat "$T/err")"
"$RAIDFS" show "$M/r5" --png "$T/no/such/dir/x.png" 2>"$T/err" && fail "show wrote into no directory"
[ "$(wc -l <"$T/err")" = 1 ] || fail "more than one line: $(cat "$T/err")"
rf_umount "$M"
echo PASS
