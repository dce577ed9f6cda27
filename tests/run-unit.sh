#!/bin/sh
# tests/run-unit.sh - runs the cmocka unit-test binaries (make unit).
#
#   sh tests/run-unit.sh BIN...
#
# Runs each BIN (at most 300 s each), shows its cmocka output, counts it as
# passed when it exits 0, and ends with the line
# `unit: N passed, N failed` (N counts binaries); exits non-zero if any failed.
LC_ALL=C
export LC_ALL
npass=0
nfail=0
for bin in "$@"; do
	echo "== $bin"
	if [ ! -x "$bin" ]; then
		echo "FAIL $bin (not an executable file)"
		nfail=$((nfail + 1))
		continue
	fi
	timeout -k 5 300 "$bin" </dev/null 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		npass=$((npass + 1))
		echo "PASS $bin"
	else
		nfail=$((nfail + 1))
		case $rc in
		124 | 137) echo "FAIL $bin (timed out after 300 s)" ;;
		*) echo "FAIL $bin (exit status $rc)" ;;
		esac
	fi
done
echo "unit: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
