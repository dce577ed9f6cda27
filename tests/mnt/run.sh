#!/bin/sh
# tests/mnt/run.sh - runs the mounted tests (make mounted).
#
#   sh tests/mnt/run.sh [NAME...]    NAME: a test name or a prefix (t_04)
#
# Each tests/mnt/t_*.sh runs (sorted) under `timeout -k 5 LIMIT` (120 s, or
# the number on a `# timeout: N` line of the test) with bash, in its own
# temp dir (LJ_TMP), against the daemon "$LIVEJOBFS_BIN". Prints PASS/FAIL
# per test (the tail of its output on failure) and, as its last line,
# `mounted: N passed, N failed`; exits non-zero if any test failed.
# LJ_KEEP=1 keeps the temp dirs.
LC_ALL=C
export LC_ALL
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${LIVEJOBFS_BIN:=$root/build/livejobfs}"
export LIVEJOBFS_BIN

base=$(mktemp -d "${TMPDIR:-/tmp}/livejobfs-mnt.XXXXXX") || {
	echo "mounted: 0 passed, 1 failed"
	exit 1
}
chmod 755 "$base"

# The helper every test uses: built once here (lib.sh builds it itself
# when a test runs alone, and fails the test if it cannot).
LJ_TOOL=$base/ljtool
flags=$(pkg-config --cflags --libs jansson 2>/dev/null) || flags=-ljansson
# shellcheck disable=SC2086
if cc -O1 -o "$LJ_TOOL" "$here/ljtool.c" $flags >"$base/ljtool.build" 2>&1; then
	export LJ_TOOL
else
	echo "run.sh: cannot build tests/mnt/ljtool.c:" >&2
	cat "$base/ljtool.build" >&2
	unset LJ_TOOL
fi

[ -x "$LIVEJOBFS_BIN" ] || echo "run.sh: warning: LIVEJOBFS_BIN=$LIVEJOBFS_BIN is not executable" >&2

# After a test: kill (by pid) a daemon it started that is still alive, and
# lazily unmount anything still mounted under its temp dir.
reap() {
	dir=$1
	if [ -f "$dir/daemon.pids" ]; then
		while read -r pid; do
			[ -d "/proc/$pid" ] || continue
			exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
			case $exe in
			"$LIVEJOBFS_BIN"*) echo "run.sh: killing leftover daemon $pid" >&2
				kill -KILL "$pid" 2>/dev/null ;;
			esac
		done <"$dir/daemon.pids"
	fi
	awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts |
		while read -r m; do
			echo "run.sh: lazy unmount of leftover mount $m" >&2
			timeout 10 fusermount3 -u -z "$m" 2>/dev/null ||
				timeout 10 umount -l "$m" 2>/dev/null
		done
}

# selected NAME [PATTERN...]: no pattern selects every test.
selected() {
	n=$1
	shift
	[ $# -eq 0 ] && return 0
	for p in "$@"; do
		case $n in "$p"*) return 0 ;; esac
	done
	return 1
}

npass=0
nfail=0
for t in "$here"/t_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	selected "$name" "$@" || continue
	limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n 1)
	[ -n "$limit" ] || limit=120
	dir=$base/$name
	mkdir -p "$dir"
	chmod 755 "$dir"
	t0=$(date +%s%N)
	(cd "$dir" && LJ_TMP=$dir exec timeout -k 5 "$limit" bash "$t") \
		</dev/null >"$dir/output.txt" 2>&1
	rc=$?
	t1=$(date +%s%N)
	reap "$dir"
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	if [ "$rc" -eq 0 ] && [ ! -e "$dir/FAILED" ]; then
		npass=$((npass + 1))
		echo "PASS $name ($secs s)"
	else
		nfail=$((nfail + 1))
		why="exit status $rc"
		[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && why="timed out after $limit s"
		echo "FAIL $name ($why, $secs s)"
		tail -n 40 "$dir/output.txt" | sed 's/^/    /'
	fi
	[ -n "${LJ_KEEP:-}" ] || rm -rf --one-file-system "$dir"
done
if [ -n "${LJ_KEEP:-}" ]; then
	echo "run.sh: temp dirs kept in $base" >&2
else
	rm -rf --one-file-system "$base"
fi
[ $((npass + nfail)) -gt 0 ] || {
	echo "run.sh: no test ran" >&2
	nfail=1
}
echo "mounted: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
