#!/bin/bash
# ab.sh: benchmarks with two raidfs binaries in one run.  Each benchmark
# script runs with the OLD binary, then with the NEW one, then with the NEW
# one and every array's power cut armed (its cost, a test mode with no
# target), back to back, and the tables are printed one under the other: a
# change to the IO path is judged against the noise of the same hour.  The
# peers inside each benchmark run every time too.
#
# Usage: bench/ab.sh OLD_RAIDFS [NEW_RAIDFS] [-- BENCH_SCRIPT...]   (as root)
#   OLD_RAIDFS   the binary before the change (build it in a git worktree)
#   NEW_RAIDFS   the binary after (default: ../src/raidfs next to this script)
#   BENCH_SCRIPT default: fio-compare.sh parity-compare.sh
# Environment: what the benchmark scripts take (BENCH_RUNTIME, ...);
# AB_ARMED=0 leaves out the armed run.
# Exit status: 0 when every run finished, 1 otherwise (the targets are the
# benchmarks' business: their PASS/FAIL lines are printed, not judged here).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage="usage: ab.sh OLD_RAIDFS [NEW_RAIDFS] [-- BENCH_SCRIPT...]"
old=${1:?$usage}
shift
new=$here/../src/raidfs
if (($#)) && [[ $1 != -- ]]; then
	new=$1
	shift
fi
[[ ${1:-} == -- ]] && shift
scripts=("$@")
((${#scripts[@]})) || scripts=(fio-compare.sh parity-compare.sh)
sides=(old new)
[[ ${AB_ARMED:-1} == 1 ]] && sides+=(armed)

rc=0
for s in "${scripts[@]}"; do
	for side in "${sides[@]}"; do
		bin=$new armed=0
		[[ $side == old ]] && bin=$old
		[[ $side == armed ]] && armed=1
		echo "## $s: $side ($bin$( ((armed)) && echo ', power cut armed'))"
		RAIDFS=$bin BENCH_POWER_CUT=$armed "$here/$s"
		st=$?
		# 1 is a missed target, which the table reports itself.
		((st > 1)) && { echo "($s, $side: exit $st)"; rc=1; }
		echo
	done
done
exit $rc
