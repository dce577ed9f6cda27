#!/bin/sh
# fuzz/run.sh SECONDS DIR TARGET... - runs the libFuzzer targets built by
# `make fuzz` (DIR/fuzz_TARGET), one after the other, each for SECONDS.
#
# Each target keeps its work corpus in DIR/corpus/TARGET, seeded from
# fuzz/seeds/TARGET (and, for spec, from the spec cases of tests/corpus),
# uses fuzz/dict/TARGET.dict when there is one, and writes its output to
# DIR/TARGET.log. A crash, leak, timeout or out-of-memory leaves its input
# in DIR (DIR/TARGET-crash-..., -leak-, -timeout-, -oom-). Prints one line
# per target (executions, result) and exits 1 when any target found
# something, 2 on a usage error.
#
# Limits: -rss_limit_mb=2048 (a single malloc over that counts too),
# -timeout=25 s per input, -max_len per target (below).
[ $# -ge 3 ] || { echo "usage: fuzz/run.sh SECONDS DIR TARGET..." >&2; exit 2; }
secs=$1
dir=$2
shift 2
case $secs in '' | *[!0-9]*) echo "fuzz/run.sh: SECONDS must be a number, not '$secs'" >&2; exit 2 ;; esac

max_len() {
	case $1 in
	spec) echo 32768 ;;
	schema) echo 8192 ;;
	template) echo 4096 ;;
	replace) echo 1024 ;;
	ctl) echo 512 ;;
	ere) echo 1024 ;;
	*) echo 4096 ;;
	esac
}

status=0
npass=0
nfail=0
summary=""
for t in "$@"; do
	bin=$dir/fuzz_$t
	corpus=$dir/corpus/$t
	log=$dir/$t.log
	[ -x "$bin" ] || { echo "fuzz/run.sh: $bin is missing (make fuzz builds it)" >&2; exit 2; }
	mkdir -p "$corpus"
	set -- "$corpus" fuzz/seeds/"$t"
	[ "$t" = spec ] && [ -d tests/corpus/spec ] && set -- "$@" tests/corpus/spec
	dict=""
	[ -f fuzz/dict/"$t".dict ] && dict=-dict=fuzz/dict/"$t".dict
	echo "== fuzz_$t for $secs s (log: $log)"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 -max_len="$(max_len "$t")" \
		-artifact_prefix="$dir/$t-" -print_final_stats=1 $dict "$@" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	cov=$(sed -n 's/^#[0-9]*.*cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	found=$(sed -n 's/.*Test unit written to //p' "$log" | grep -v -- '-slow-unit-' | tr '\n' ' ')
	if [ "$rc" -eq 0 ]; then
		line="fuzz_$t: ${runs:-?} executions, coverage ${cov:-?}: no crash"
		npass=$((npass + 1))
	else
		status=1
		nfail=$((nfail + 1))
		what=$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz: check failed' "$log")
		line="fuzz_$t: ${runs:-?} executions: FOUND (exit $rc): ${what:-see $log}; input: ${found:-see $log}"
		tail -n 40 "$log" | sed 's/^/    /'
	fi
	echo "$line"
	summary="$summary$line
"
done
echo "---- fuzz summary ($secs s each)"
printf '%s' "$summary"
echo "fuzz: $npass passed, $nfail failed"
exit "$status"
