#!/bin/bash
# Run libFuzzer targets, each for a while on a copy of its seed corpus
# (fuzz/corpus/NAME), and report per target the executions and findings.
#
# usage: run.sh [-t SECONDS] [-j JOBS] [-o DIR] TARGET...
#   -t  seconds per target (default 30)
#   -j  parallel fuzzing processes per target (default 1)
#   -o  scratch directory for corpora, logs and artifacts (default: a new
#       one under $TMPDIR); findings stay there as crash-*, leak-*,
#       timeout-*, oom-*.
# Exit status 1 if any target crashed, leaked, timed out or ran out of
# memory (or did not run).
set -u
time=30 jobs=1 out=
while getopts t:j:o: opt; do
	case $opt in
	t) time=$OPTARG ;;
	j) jobs=$OPTARG ;;
	o) out=$OPTARG ;;
	*) sed -n 5,8p "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
corpus=$(cd "$(dirname "$0")" && pwd)/corpus
out=${out:-$(mktemp -d "${TMPDIR:-/tmp}/raidfs-fuzz.XXXXXX")}
mkdir -p "$out" && out=$(cd "$out" && pwd)

# libFuzzer's limits make a hang or a huge allocation a finding; the
# targets' own stderr (refusals of hostile members) is closed.
LIBFUZZER_ARGS=(-max_total_time="$time" -timeout=10 -rss_limit_mb=2048
	-malloc_limit_mb=1024 -print_final_stats=1 -close_fd_mask=2)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

stat() {   # NAME LOG...: the sum of libFuzzer's final stat NAME
	cat "${@:2}" 2>/dev/null |
		awk -v k="stat::$1:" '$1 == k { s += $2 } END { print s + 0 }'
}

failed=0 total=0
for bin in "$@"; do
	name=${bin##*/} dir=$out/${bin##*/}
	bin=$(cd "$(dirname "$bin")" && pwd)/$name
	rm -rf "$dir" && mkdir -p "$dir/corpus" "$dir/artifacts"
	cp "$corpus/$name"/* "$dir/corpus/" 2>/dev/null
	if [ "$jobs" -gt 1 ]; then
		(cd "$dir" && "$bin" "${LIBFUZZER_ARGS[@]}" -jobs="$jobs" \
			-workers="$jobs" -artifact_prefix="$dir/artifacts/" corpus \
			>parent.log 2>&1)
		rc=$?
		logs=("$dir"/fuzz-*.log)
	else
		(cd "$dir" && "$bin" "${LIBFUZZER_ARGS[@]}" \
			-artifact_prefix="$dir/artifacts/" corpus >fuzz-0.log 2>&1)
		rc=$?
		logs=("$dir/fuzz-0.log")
	fi
	execs=$(stat number_of_executed_units "${logs[@]}")
	rate=$(stat average_exec_per_sec "${logs[@]}")
	findings=$(find "$dir/artifacts" -type f \( -name 'crash-*' -o \
		-name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	total=$((total + execs))
	echo "fuzz $name: $execs executions ($rate/s), $findings crashes"
	if [ "$findings" -gt 0 ] || [ "$rc" -ne 0 ] || [ "$execs" -eq 0 ]; then
		failed=1
		grep -h -m3 -E '^(SUMMARY|==[0-9]+==ERROR)|runtime error' "${logs[@]}" |
			sed 's/^/  /'
		echo "  exit status $rc; log and artifacts in $dir"
	fi
done
echo "fuzz: $total executions in all; scratch directory $out"
exit $failed
