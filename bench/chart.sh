#!/bin/bash
# chart.sh TABLES.md OUTDIR [NAME]: every Markdown table of a benchmark's
# output drawn as a PNG bar chart with gnuplot, OUTDIR/NAME-1.png and on
# (NAME: the file's name without .md).  A group of bars per table row, a
# bar per column: raidfs beside its peers, or beside its other settings.
# Rows often differ in unit (MiB/s, IOPS), so each is scaled to its first
# column with a figure (1.0) and every bar is labelled with the figure the table gives.
# Columns of ratios (a "/" in their heading) are the bars' own ratios and
# are left out; a cell with no number ("-", "ERR") draws no bar.
# Prints the files written.  Exit 2 on bad usage or no table.
set -euo pipefail

(($# == 2 || $# == 3)) || { echo "usage: $0 TABLES.md OUTDIR [NAME]" >&2; exit 2; }
src=$1 out=$2 name=${3:-$(basename "$1" .md)}
[[ -r $src ]] || { echo "chart.sh: cannot read $src" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "chart.sh: gnuplot is not installed" >&2; exit 2; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One data file per table: a heading line, then "label" scaled... raw...
# for the columns kept.  Cells are split on "|"; a cell's number is its
# first one, so "18728 (resync ran)" is 18728.
awk -v dir="$tmp" '
function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
function quote(s) { gsub(/"/, "\x27", s); return "\"" s "\"" }
function num(s) { return match(s, /^-?[0-9]+(\.[0-9]+)?/) ? substr(s, RSTART, RLENGTH) : "" }
/^\|/ {
	n = split($0, c, "|")
	if (!intable) {
		intable = 1; t++; row = 0; kept = 0
		f = dir "/" t ".dat"
		line = quote(trim(c[2]) == "" ? "table " t : trim(c[2]))
		for (i = 3; i < n; i++) {
			h = trim(c[i])
			if (index(h, "/")) continue
			keep[++kept] = i
			line = line " " quote(h)
		}
		print line > f
		next
	}
	if (trim(c[2]) ~ /^-+:?$/ || trim(c[2]) ~ /^:?-+:?$/) next
	base = ""
	for (k = 1; k <= kept && base == ""; k++)
		base = num(trim(c[keep[k]]))
	line = quote(trim(c[2])); raw = ""
	for (k = 1; k <= kept; k++) {
		v = num(trim(c[keep[k]]))
		line = line " " (v == "" || base == "" || base + 0 == 0 ? "NaN" : v / base)
		raw = raw " " (v == "" ? "NaN" : v)
	}
	print line raw > f
	next
}
{ if (intable) close(f); intable = 0 }
END { if (intable) close(f) }
' "$src"

shopt -s nullglob
files=("$tmp"/*.dat)
((${#files[@]})) || { echo "chart.sh: no table in $src" >&2; exit 2; }
for f in "${files[@]}"; do
	t=$(basename "$f" .dat)
	png=$out/$name-$t.png
	# Columns: 1 the row, 2..k+1 scaled, k+2..2k+1 the figures.
	k=$(($(head -n1 "$f" | grep -o '"[^"]*"' | wc -l) - 1))
	title=$(head -n1 "$f" | grep -o '"[^"]*"' | head -n1 | tr -d '"')
	gnuplot <<EOF
set terminal pngcairo size 960,540 font "sans,10"
set output "$png"
set title "$title"
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 1
set key outside right top autotitle columnheader
set ylabel "relative to the first column"
set xrange [-0.6:*]
set yrange [0:*]
set offsets 0, 0, 0.15, 0
set grid ytics
set xtics rotate by -20 scale 0
set format y "%.1f"
plot for [i=2:$((k + 1))] "$f" using i:xtic(1), \
     for [i=2:$((k + 1))] "$f" using (\$0 + (i - 2 - ($k - 1) / 2.0) / ($k + 1)):i:(stringcolumn(i + $k)) \
	with labels offset 0,0.7 font "sans,8" notitle
EOF
	echo "$png"
done
