# shellcheck shell=bash
# tests/mnt/lib.sh - sourced (by bash) from every tests/mnt/t_*.sh.
#
# Environment:
#   LIVEJOBFS_BIN  the daemon to test (exported by the Makefile); default
#                  build/livejobfs of this repo
#   LJ_TMP         this test's temp dir (made by run.sh); made here if unset
#   LJ_TOOL        the ljtool helper (built by run.sh); built here if unset
#
# Provides:
#   MNT, STORE              the mount point and the store (under LJ_TMP)
#   lj_mount [OPTS]         start "$LIVEJOBFS_BIN" -f -o store=$STORE[,OPTS] $MNT
#                           in the background (pid in LJ_PID), wait <= 10 s
#   lj_umount               fusermount3 -u (then -u -z), wait <= 10 s for the
#                           daemon, kill -9 it if needed; fails the test unless
#                           the daemon exited 0 (status kept in LJ_STATUS)
#   fail MSG                report and end the test as failed
#   assert_eq ACTUAL EXPECTED [WHAT]
#   assert_file_eq GOT_FILE EXPECTED_FILE [WHAT]
#   assert_contains FILE TEXT [WHAT]      (fixed string; FILE read with a timeout)
#   assert_not_contains FILE TEXT [WHAT]
#   assert_match FILE ERE [WHAT]          (grep -E)
#   expect_errno MSG CMD...   CMD must fail and its stderr contain MSG
#                             (the strerror text, e.g. "Invalid argument")
#   expect_errno_re ERE CMD...  the same with an extended regex
#   run_ok CMD...             CMD must succeed within 60 s
#   wait_state JOB STATE [SECS]   poll JOB/status until its state is STATE
#   job_state JOB, status_get JOB KEY, json_get FILE KEY, json_check FILE
#   rss_kb PID, now_ms, slurp SRC DEST [SECS]
#   wait_exit PID SECS [WHAT]     wait for a background child; LJ_RC = status
#   wait_size FILE BYTES [SECS]   until st_size of FILE is BYTES
#   check_log_format FILE         every line is "TIMESTAMP LEVEL WHO: text"
#   nofd CMD...               exec CMD without this shell's fds on the mount:
#                             for background readers started while the test
#                             holds an input open (exec 3>JOB/input/x), which
#                             would otherwise keep the input from ending
#   write_spec_pass FILE [FORMAT]  input x -> pass p -> output y
#   new_job JOB SPECFILE [OPTIONSFILE]  mkdir + cp options + cp spec
# An EXIT trap kills the background children this test started, unmounts
# and kills (by pid) only the daemon this test started.

export LC_ALL=C
set -u

LJ_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LJ_ROOT=$(cd "$LJ_HERE/../.." && pwd)
LJ_NAME=$(basename "$0" .sh)
: "${LIVEJOBFS_BIN:=$LJ_ROOT/build/livejobfs}"
if [ -z "${LJ_TMP:-}" ]; then
	LJ_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lj-$LJ_NAME.XXXXXX") || exit 1
	chmod 755 "$LJ_TMP"
fi
MNT=$LJ_TMP/mnt
STORE=$LJ_TMP/store
LJ_PID=""
LJ_STATUS=""
LJ_DLOG=""
LJ_NMOUNT=0
LJ_MAIN=$$
cd "$LJ_TMP" || exit 1

now_ms() { date +%s%3N; }

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	printf '%s\n' "$*" >>"$LJ_TMP/FAILED"
	lj_daemon_diag >&2
	exit 1
}

# What the daemon printed: a sanitizer report from its start, else the tail.
lj_daemon_diag() {
	local re='ERROR: [A-Za-z]*Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'
	[ -n "$LJ_DLOG" ] && [ -s "$LJ_DLOG" ] || return 0
	if grep -qE "$re" "$LJ_DLOG"; then
		echo "--- sanitizer report of the daemon ($LJ_DLOG):"
		awk -v re="$re" '!on && $0 ~ re { on = 1 }
			on && /Shadow bytes around/ { exit }
			on { print; if (++n >= 50) exit }' "$LJ_DLOG"
	else
		echo "--- daemon stdout/stderr ($LJ_DLOG), last 15 lines:"
		tail -n 15 "$LJ_DLOG"
	fi
}

# Shows a file's bytes in a readable way, for failure messages.
show() {
	if [ ! -e "$1" ]; then
		echo "<$1 does not exist>"
	elif [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt 1500 ]; then
		head -c 1500 "$1" | od -c | head -n 40
		echo "... ($(stat -c %s "$1") bytes)"
	else
		od -c "$1" | head -n 60
	fi
}

# Diagnostics about a job, for failure messages.
job_diag() {
	local j=$1
	echo "--- $j/status:"
	timeout 5 cat "$MNT/$j/status" 2>&1 | head -c 3000
	echo
	echo "--- $j/log (last 20 lines):"
	timeout 5 cat "$MNT/$j/log" 2>&1 | tail -n 20
}

# lj_stat PID: sets LJ_STATF to the /proc/PID/stat fields after the command
# name (state ppid ...), without forking.
lj_stat() {
	local line
	LJ_STATF=""
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	LJ_STATF=${line##*) }
}

lj_alive() {
	lj_stat "$1" || return 1
	case $LJ_STATF in Z* | X*) return 1 ;; esac
	return 0
}

# lj_ppid PID: sets LJ_PPID.
lj_ppid() {
	local f
	LJ_PPID=""
	lj_stat "$1" || return 1
	f=${LJ_STATF#* }
	LJ_PPID=${f%% *}
}

lj_build_tool() {
	if [ -n "${LJ_TOOL:-}" ] && [ -x "$LJ_TOOL" ]; then
		return 0
	fi
	LJ_TOOL=$LJ_TMP/ljtool
	local flags
	flags=$(pkg-config --cflags --libs jansson 2>/dev/null) || flags=-ljansson
	# shellcheck disable=SC2086
	cc -O1 -o "$LJ_TOOL" "$LJ_HERE/ljtool.c" $flags >"$LJ_TMP/ljtool.build" 2>&1 ||
		fail "cannot build tests/mnt/ljtool.c: $(cat "$LJ_TMP/ljtool.build")"
}

lj_cleanup() {
	local rc=$? p kids="" left
	trap - EXIT
	set +u
	# background children of this shell (cats, tails, ...), never the daemon
	for p in $(jobs -p); do
		[ "$p" = "$LJ_PID" ] && continue
		if ! lj_ppid "$p" || [ "$LJ_PPID" != "$LJ_MAIN" ]; then
			continue
		fi
		lj_alive "$p" && kids="$kids $p"
	done
	if [ -n "$kids" ]; then
		# shellcheck disable=SC2086
		kill -TERM $kids 2>/dev/null
		sleep 0.3
		left=""
		for p in $kids; do lj_alive "$p" && left="$left $p"; done
		# shellcheck disable=SC2086
		[ -n "$left" ] && kill -KILL $left 2>/dev/null
	fi
	# this shell's own fds on the mount (exec 3>JOB/input/x) would keep
	# it busy
	for p in "/proc/$$/fd"/*; do
		case $(readlink "$p" 2>/dev/null) in
		"$MNT"/*) [ "${p##*/}" -gt 2 ] && eval "exec ${p##*/}>&-" ;;
		esac
	done 2>/dev/null
	[ -n "$LJ_PID" ] && lj_umount quiet
	[ -e "$LJ_TMP/FAILED" ] && [ "$rc" -eq 0 ] && rc=1
	exit "$rc"
}
trap lj_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

lj_mount() {
	local opts="store=$STORE" deadline rc
	[ -z "$LJ_PID" ] || fail "lj_mount: a daemon (pid $LJ_PID) is already mounted"
	[ -n "${1:-}" ] && opts="$opts,$1"
	[ -x "$LIVEJOBFS_BIN" ] || fail "LIVEJOBFS_BIN=$LIVEJOBFS_BIN is not an executable (run make)"
	[ -c /dev/fuse ] || fail "/dev/fuse is missing: mounted tests need FUSE"
	command -v fusermount3 >/dev/null || fail "fusermount3 is missing (package fuse3)"
	mkdir -p "$MNT" "$STORE"
	LJ_NMOUNT=$((LJ_NMOUNT + 1))
	LJ_DLOG=$LJ_TMP/daemon.$LJ_NMOUNT.out
	"$LIVEJOBFS_BIN" -f -o "$opts" "$MNT" </dev/null >"$LJ_DLOG" 2>&1 &
	LJ_PID=$!
	echo "$LJ_PID" >>"$LJ_TMP/daemon.pids"
	deadline=$(($(now_ms) + 10000))
	while :; do
		if ! lj_alive "$LJ_PID"; then
			wait "$LJ_PID"
			rc=$?
			LJ_PID=""
			fail "daemon exited with status $rc before the mount came up ($LIVEJOBFS_BIN -f -o $opts $MNT)"
		fi
		if timeout 5 mountpoint -q "$MNT" &&
			timeout 5 cat "$MNT/.env" >/dev/null 2>&1; then
			return 0
		fi
		[ "$(now_ms)" -ge "$deadline" ] &&
			fail "mount did not come up within 10 s ($LIVEJOBFS_BIN -f -o $opts $MNT)"
		sleep 0.1
	done
}

# lj_umount [quiet]: quiet (used by the EXIT trap) never fails the test.
lj_umount() {
	local quiet=${1:-} pid=$LJ_PID out deadline
	if [ -z "$pid" ]; then
		[ -n "$quiet" ] || fail "lj_umount: nothing is mounted"
		return 0
	fi
	if ! timeout 5 mountpoint -q "$MNT"; then
		echo "lj_umount: $MNT is no longer a mount point (daemon pid $pid)" >&2
	elif ! out=$(timeout 10 fusermount3 -u "$MNT" 2>&1); then
		echo "lj_umount: fusermount3 -u $MNT failed ($out); trying fusermount3 -u -z" >&2
		timeout 10 fusermount3 -u -z "$MNT" >&2
	fi
	deadline=$(($(now_ms) + 10000))
	while lj_alive "$pid" && [ "$(now_ms)" -lt "$deadline" ]; do
		sleep 0.05
	done
	if lj_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		LJ_PID=""
		LJ_STATUS=killed
		timeout 10 fusermount3 -u -z "$MNT" >/dev/null 2>&1
		[ -n "$quiet" ] || fail "daemon (pid $pid) did not exit within 10 s of the unmount: killed it"
		return 1
	fi
	wait "$pid"
	LJ_STATUS=$?
	LJ_PID=""
	if timeout 5 mountpoint -q "$MNT"; then
		timeout 10 fusermount3 -u -z "$MNT" >/dev/null 2>&1
		[ -n "$quiet" ] || fail "$MNT is still a mount point after the daemon exited"
	fi
	if [ "$LJ_STATUS" -ne 0 ]; then
		[ -n "$quiet" ] || fail "daemon exited with status $LJ_STATUS after fusermount3 -u (a clean unmount exits 0)"
		return 1
	fi
	return 0
}

assert_eq() {
	[ "$1" = "$2" ] ||
		fail "${3:-value}: got '$1', expected '$2'"
}

assert_file_eq() {
	cmp -s "$1" "$2" && return 0
	fail "${3:-$1}: bytes differ from $2 ($(stat -c %s "$1" 2>/dev/null) vs $(stat -c %s "$2" 2>/dev/null) bytes): $(cmp "$1" "$2" 2>&1 | head -n 1)
--- got:
$(show "$1")
--- expected:
$(show "$2")"
}

# Copies FILE (maybe on the mount) to a local temp file with a timeout.
lj_snap() {
	local dst=$LJ_TMP/snap.$RANDOM
	timeout 30 cat "$1" >"$dst" 2>"$dst.err" ||
		fail "cannot read $1 (exit $?): $(cat "$dst.err")"
	echo "$dst"
}

assert_contains() {
	local f
	f=$(lj_snap "$1") || exit 1
	grep -qF -- "$2" "$f" ||
		fail "${3:-$1}: does not contain '$2'; it holds:
$(head -c 3000 "$f")"
}

assert_not_contains() {
	local f
	f=$(lj_snap "$1") || exit 1
	if grep -qF -- "$2" "$f"; then
		fail "${3:-$1}: contains '$2' but should not; it holds:
$(head -c 3000 "$f")"
	fi
}

assert_match() {
	local f
	f=$(lj_snap "$1") || exit 1
	grep -qE -- "$2" "$f" ||
		fail "${3:-$1}: no line matches /$2/; it holds:
$(head -c 3000 "$f")"
}

expect_errno() {
	local msg=$1 rc
	shift
	timeout 30 "$@" >"$LJ_TMP/expect.out" 2>"$LJ_TMP/expect.err"
	rc=$?
	[ "$rc" -eq 124 ] && fail "'$*' hung (killed after 30 s); expected it to fail with '$msg'"
	[ "$rc" -ne 0 ] || fail "'$*' succeeded; expected it to fail with '$msg'"
	grep -qF -- "$msg" "$LJ_TMP/expect.err" ||
		fail "'$*' failed (exit $rc) but its stderr does not say '$msg': $(cat "$LJ_TMP/expect.err")"
	return 0
}

expect_errno_re() {
	local re=$1 rc
	shift
	timeout 30 "$@" >"$LJ_TMP/expect.out" 2>"$LJ_TMP/expect.err"
	rc=$?
	[ "$rc" -eq 124 ] && fail "'$*' hung (killed after 30 s); expected it to fail with /$re/"
	[ "$rc" -ne 0 ] || fail "'$*' succeeded; expected it to fail with /$re/"
	grep -qE -- "$re" "$LJ_TMP/expect.err" ||
		fail "'$*' failed (exit $rc) but its stderr does not match /$re/: $(cat "$LJ_TMP/expect.err")"
	return 0
}

run_ok() {
	local rc
	timeout 60 "$@" >"$LJ_TMP/run_ok.out" 2>"$LJ_TMP/run_ok.err"
	rc=$?
	[ "$rc" -eq 0 ] && return 0
	[ "$rc" -eq 124 ] && fail "'$*' hung (killed after 60 s)"
	fail "'$*' failed (exit $rc): $(cat "$LJ_TMP/run_ok.err")"
}

# slurp SRC DEST [SECS]: cat SRC > DEST, must end with status 0 in SECS (30).
slurp() {
	local rc
	timeout "${3:-30}" cat "$1" >"$2" 2>"$2.err"
	rc=$?
	[ "$rc" -eq 124 ] && fail "cat $1 did not end within ${3:-30} s (got $(stat -c %s "$2") bytes)"
	[ "$rc" -eq 0 ] || fail "cat $1 failed (exit $rc): $(cat "$2.err")"
	return 0
}

json_check() {
	local out
	out=$("$LJ_TOOL" jcheck "$1") || fail "${2:-$1} is not valid JSON: $out"
}

json_get() { "$LJ_TOOL" jget "$2" "$1"; }

# status_get JOB KEY: the value at KEY of a fresh read of JOB/status.
status_get() {
	local f=$LJ_TMP/status.$RANDOM.json v
	timeout 10 cat "$MNT/$1/status" >"$f" 2>&1 || fail "cannot read $1/status: $(cat "$f")"
	v=$("$LJ_TOOL" jget "$2" "$f") || fail "$1/status is not valid JSON: $v"
	echo "$v"
}

job_state() { status_get "$1" state; }

wait_state() {
	local job=$1 want=$2 secs=${3:-30} st="" deadline f=$LJ_TMP/wait_state.json
	deadline=$(($(now_ms) + secs * 1000))
	while :; do
		if timeout 10 cat "$MNT/$job/status" >"$f" 2>/dev/null; then
			st=$("$LJ_TOOL" jget state "$f")
			[ "$st" = "$want" ] && return 0
			case $st in
			succeeded | failed | cancelled | interrupted)
				fail "job $job ended '$st', expected '$want'
$(job_diag "$job")" ;;
			esac
		fi
		[ "$(now_ms)" -ge "$deadline" ] &&
			fail "job $job: state '$st' after $secs s, expected '$want'
$(job_diag "$job")"
		sleep 0.1
	done
}

wait_exit() {
	local pid=$1 secs=$2 deadline
	deadline=$(($(now_ms) + secs * 1000))
	while lj_alive "$pid"; do
		[ "$(now_ms)" -ge "$deadline" ] && fail "${3:-process $pid} still running after $secs s"
		sleep 0.05
	done
	wait "$pid"
	LJ_RC=$?
}

wait_size() {
	local f=$1 want=$2 secs=${3:-20} deadline size=""
	deadline=$(($(now_ms) + secs * 1000))
	while :; do
		size=$(timeout 10 stat -c %s "$f" 2>&1)
		[ "$size" = "$want" ] && return 0
		[ "$(now_ms)" -ge "$deadline" ] &&
			fail "st_size of $f is '$size' after $secs s, expected $want"
		sleep 0.05
	done
}

# The job and daemon log line format: 2026-11-29T04:35:01.123Z INFO  knead: started
LJ_LOG_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (INFO |WARN |ERROR|DEBUG) [^ ]+: '

check_log_format() {
	local f bad
	f=$(lj_snap "$1") || exit 1
	[ -s "$f" ] || fail "$1 is empty"
	bad=$(grep -vnE -- "$LJ_LOG_RE" "$f" | head -n 3)
	[ -z "$bad" ] || fail "$1: lines not in the format 'YYYY-MM-DDTHH:MM:SS.mmmZ LEVEL WHO: text':
$bad"
}

nofd() {
	local p n
	for p in "/proc/$BASHPID/fd"/*; do
		n=${p##*/}
		[ "$n" -gt 2 ] 2>/dev/null || continue
		case $(readlink "$p" 2>/dev/null) in
		"$MNT"/*) eval "exec $n>&-" ;;
		esac
	done
	exec "$@"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

write_spec_pass() {
	cat >"$1" <<EOF
{
  "name": "passthrough",
  "inputs":  {"x": {"format": "${2:-lines}"}},
  "outputs": {"y": {"from": "p"}},
  "nodes":   {"p": {"op": "pass", "in": "x"}}
}
EOF
}

new_job() {
	run_ok mkdir "$MNT/$1"
	[ -n "${3:-}" ] && run_ok cp "$3" "$MNT/$1/options.json"
	run_ok cp "$2" "$MNT/$1/spec.json"
}

lj_build_tool
