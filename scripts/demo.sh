#!/bin/sh
# demo.sh - run by `make demo` after the build.
#
# Mounts the freshly built livejobfs on a temporary directory with a
# temporary store, runs every example of mnt-example/ (pizza first) with
# scripts/run-example.sh, and shows for each one its outputs (compared with
# the example's expected/ files), its final state and the end of its log.
# The live-delay example is followed with `tail -f` while it runs. Then it
# shows .env, the mount's top level and a graph.dot, and unmounts - always,
# also on failure or Ctrl-C - and removes the temporaries.
#
# Exit status: 0 when every example succeeded with its expected outputs.
# LIVEJOBFS_BIN overrides the daemon to run (the Makefile sets it).
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${LIVEJOBFS_BIN:-$root/livejobfs}
T=30 # seconds that any read which may block is allowed to take

if [ ! -x "$bin" ]; then
	echo "demo: $bin is missing: run make first" >&2
	exit 1
fi
if ! command -v fusermount3 >/dev/null 2>&1; then
	echo "demo: fusermount3 is missing (Debian package fuse3)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/livejobfs-demo.XXXXXX") || exit 1
mnt=$tmp/mnt
store=$tmp/store
mkdir "$mnt" "$store" || exit 1
daemon=
tailpid=

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	rc=$?
	trap - EXIT HUP INT TERM
	if [ -n "$tailpid" ]; then
		kill "$tailpid" 2>/dev/null
		wait "$tailpid" 2>/dev/null
	fi
	if [ -n "$daemon" ]; then
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null
		# After the unmount the daemon flushes the store and exits 0.
		i=0
		while kill -0 "$daemon" 2>/dev/null && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 "$daemon" 2>/dev/null; then
			echo "demo: the daemon (pid $daemon) did not exit: killing it" >&2
			kill "$daemon" 2>/dev/null
			sleep 1
			kill -9 "$daemon" 2>/dev/null
		fi
		wait "$daemon" 2>/dev/null
	fi
	# Never rm -r the mountpoint: rmdir fails (EBUSY) if it is still mounted.
	rm -rf "$store"
	rm -f "$tmp/daemon.out" "$tmp/out"
	if ! rmdir "$mnt" "$tmp" 2>/dev/null; then
		echo "demo: left $tmp behind" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '%s\n' "$*"; }
header() {
	say ""
	say "=== $* ==="
}

# Mount: the daemon in the foreground (-f), as a background job of ours.
"$bin" -f -o "store=$store" "$mnt" >"$tmp/daemon.out" 2>&1 &
daemon=$!
i=0
until [ -e "$mnt/.env" ]; do
	if ! kill -0 "$daemon" 2>/dev/null || [ "$i" -ge 100 ]; then
		echo "demo: $bin did not mount $mnt; its output:" >&2
		cat "$tmp/daemon.out" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done
say "livejobfs: mounted on $mnt, store $store"

# The examples, pizza first.
examples=pizza
for d in "$root"/mnt-example/*/; do
	name=$(basename "$d")
	[ "$name" = pizza ] || examples="$examples $name"
done

failed=
total=0

# show_output JOB TAG EXPECTED_DIR QUIET: captures output/TAG (the job has
# ended, so the read ends), prints it unless QUIET, compares it with
# expected/TAG (exact bytes) or expected/TAG.sorted (after sorting both).
# Returns 1 on a difference or a failed read.
show_output() {
	out=$mnt/$1/output/$2
	ok=0
	if [ -z "$4" ]; then
		say "--- output/$2"
	fi
	if ! timeout "$T" cat "$out" >"$tmp/out"; then
		ok=1
	fi
	[ -n "$4" ] || cat "$tmp/out"
	if [ -f "$3/$2" ]; then
		if cmp -s "$tmp/out" "$3/$2"; then
			say "    (output/$2 is as expected)"
		else
			say "    (output/$2 DIFFERS from expected/$2)"
			ok=1
		fi
	elif [ -f "$3/$2.sorted" ]; then
		if LC_ALL=C sort "$tmp/out" | cmp -s - "$3/$2.sorted"; then
			say "    (output/$2 is as expected, in some order)"
		else
			say "    (output/$2 DIFFERS from expected/$2.sorted once sorted)"
			ok=1
		fi
	fi
	return "$ok"
}

for name in $examples; do
	dir=$root/mnt-example/$name
	job=$name
	[ -f "$dir/spec.json" ] || continue
	total=$((total + 1))
	header "$name"
	[ -f "$dir/README.txt" ] && sed 's/^/  /' "$dir/README.txt"
	bad=

	# live-delay is watched with tail -f while it runs.
	follow=
	if [ "$name" = live-delay ]; then
		for e in "$dir"/expected/*; do
			follow=${e##*/}
			follow=${follow%.sorted}
			break
		done
	fi
	if [ -n "$follow" ]; then
		sh "$root/scripts/run-example.sh" "$mnt" "$dir" "$job" &
		runner=$!
		i=0
		while [ ! -e "$mnt/$job/output/$follow" ] && kill -0 "$runner" 2>/dev/null &&
			[ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if [ -e "$mnt/$job/output/$follow" ]; then
			say "--- tail -f $job/output/$follow (lines appear as the delay node passes them on)"
			timeout "$T" tail -n +1 -f "$mnt/$job/output/$follow" &
			tailpid=$!
		fi
		wait "$runner" || bad=1
		if [ -n "$tailpid" ]; then
			sleep 1 # let tail print the last lines
			kill "$tailpid" 2>/dev/null
			wait "$tailpid" 2>/dev/null
			tailpid=
		fi
	else
		sh "$root/scripts/run-example.sh" "$mnt" "$dir" "$job" || bad=1
	fi

	if [ -d "$mnt/$job/output" ]; then
		for f in "$mnt/$job/output"/*; do
			[ -e "$f" ] || continue
			tag=${f##*/}
			quiet=
			[ "$tag" = "$follow" ] && quiet=1
			show_output "$job" "$tag" "$dir/expected" "$quiet" || bad=1
		done
		for e in "$dir"/expected/*; do
			[ -e "$e" ] || continue
			tag=${e##*/}
			tag=${tag%.sorted}
			if [ ! -e "$mnt/$job/output/$tag" ]; then
				say "    (output/$tag is missing)"
				bad=1
			fi
		done
	fi

	if command -v jq >/dev/null 2>&1; then
		state=$(timeout "$T" cat "$mnt/$job/status" | jq -r '.state + (if .error then ": " + .error else "" end)')
	else
		state=$(timeout "$T" cat "$mnt/$job/wait")
	fi
	say "--- state: $state"
	say "--- tail -n 5 $job/log"
	timeout "$T" tail -n 5 "$mnt/$job/log"
	[ -z "$bad" ] || failed="$failed $name"
done

header "cat .env"
timeout "$T" cat "$mnt/.env"
header "ls (jobs; invoke's child jobs are named JOB.NODE)"
ls "$mnt"
if [ -e "$mnt/pizza/graph.dot" ]; then
	header "head -n 20 pizza/graph.dot"
	timeout "$T" head -n 20 "$mnt/pizza/graph.dot"
fi

say ""
if [ -n "$failed" ]; then
	say "demo: FAILED:$failed (of $total examples)"
	exit 1
fi
say "demo: all $total examples succeeded"
exit 0
