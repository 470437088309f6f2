#!/bin/bash
# bench/chart.sh draws each Markdown table of a benchmark's output as a
# PNG bar chart: as many charts as tables, each a valid PNG (decoded
# back by tests/png-check.py) of gnuplot's size, with bars on it.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
command -v gnuplot >/dev/null || skip "no gnuplot (apt-get install gnuplot-nox)"
CHART=$(dirname "$0")/../bench/chart.sh
PNG_CHECK=$(dirname "$0")/png-check.py

cat >"$T/run.md" <<'MD'
fio 3.33, 2 CPUs; 5s per job after 2s ramp

| rand write 4K psync QD1 (IOPS) | none | bitmap | llbitmap | llbitmap / none |
|---|---:|---:|---:|---:|
| raid1 (2) | 18728 (resync ran) | 17782 (resync ran) | 17295 | 0.92 |
| raid5 (4) | ERR | 22746 | 23073 | - |

| workload | raidfs raid0 | qemu-storage-daemon FUSE | raw tmpfs | raidfs/qsd |
|---|---:|---:|---:|---:|
| seq write 1M psync QD1 (MiB/s) | 2307.7 | 900.1 | 3100 | 2.56 |

PASS raid1 llbitmap / none, assume-clean: 0.97 (target >= 0.97)
MD
"$CHART" "$T/run.md" "$T/charts" >"$T/out" || fail "chart.sh failed"
expect_eq "charts written" "$(cat "$T/out")" "$T/charts/run-1.png
$T/charts/run-2.png"
for png in "$T"/charts/run-{1,2}.png; do
	python3 "$PNG_CHECK" "$png" >"$T/dec" || fail "$png does not decode"
	expect_eq "$(basename "$png") size" "$(head -n1 "$T/dec")" 960x540
done
# The bars: across the first chart's plot near its foot, a colour for
# each column kept (none, bitmap, llbitmap), beside white, black and grey.
python3 "$PNG_CHECK" "$T/charts/run-1.png" $(for x in $(seq 60 820); do echo "$x,420"; done) |
	tail -n +2 | awk -F, '$1 != $2 || $2 != $3' | sort -u >"$T/colours"
expect_eq "bar colours in the first chart" "$(wc -l <"$T/colours")" 3
"$CHART" /dev/null "$T/none" 2>"$T/err" && fail "chart.sh drew a file with no table"
grep -q "no table" "$T/err" || fail "no reason given: $(cat "$T/err")"
echo PASS
