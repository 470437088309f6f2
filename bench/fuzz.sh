#!/bin/bash
# fuzz.sh: a long fuzzing campaign.  Builds the libFuzzer targets (make
# fuzz-build, in the build tree BUILD) and runs each for SECONDS on every
# core, one after the other, each on a copy of its seed corpus; prints per
# target the total executions and crashes (fuzz/run.sh does the work).
#
# Usage: bench/fuzz.sh [-b BUILD] [-o DIR] SECONDS [TARGET...]
#   -b BUILD   the configured build tree (default: the source tree)
#   -o DIR     scratch directory kept for the findings (default: a new one)
#   TARGET     sb bitmap assemble ctl cli (default: all)
# Exit status 1 if any target crashed, leaked, hung or ran out of memory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage="usage: fuzz.sh [-b BUILD] [-o DIR] SECONDS [TARGET...]"
build=$here/.. out=()
while getopts b:o: opt; do
	case $opt in
	b) build=$OPTARG ;;
	o) out=(-o "$OPTARG") ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
seconds=${1:?$usage}
shift
targets=(sb bitmap assemble ctl cli)
(($#)) && targets=("$@")
make -s -C "$build" fuzz-build
exec "$here/../fuzz/run.sh" -t "$seconds" -j "$(nproc)" "${out[@]}" \
	"${targets[@]/#/$build/fuzz/}"
