#!/bin/sh
# bench/run.sh - the livejobfs benchmarks (`make bench`).
#
# Prints a table - for each figure the livejobfs number, the baseline
# measured in the same run, their ratio, the goal and whether it is met -
# and writes it as markdown to bench/last-run.md. No figure fails the run:
# nothing here is a timed assertion. bench/README.md describes each figure.
#
# Environment:
#   LIVEJOBFS_BIN   the daemon (the Makefile exports it); default ./livejobfs
#   BENCH_ONLY      figures to run, e.g. "records small" (default: all):
#                   stream (or write, read), cpcat, records, small, latency,
#                   scale, idle, memory
#   BENCH_SCALE     size factor, e.g. 0.1 for a quick run (4 GiB -> 410 MiB,
#                   2,000 jobs -> 200, ...); default 1
#   BENCH_OUT       where the markdown goes; default bench/last-run.md
#   BENCH_TMPDIR    where the temp dir is made (needs 2 x 10 GiB free disk
#                   for the memory figure); default $TMPDIR or /tmp
#   BENCH_PERF=DIR  also profile the daemon with `perf record -g` during a
#                   second, untimed pass of the records and small figures;
#                   perf.data and the top symbols go to DIR
#   BENCH_KEEP=1    keep the temp dir (daemon logs, helpers) for debugging
#
# Needs: root (to mount a tmpfs; without it /dev/shm is used), fusermount3,
# cc, pkg-config and libfuse3-dev (for the passthrough baseline), strace
# (for the request sizes), timeout.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BIN=${LIVEJOBFS_BIN:-$ROOT/livejobfs}
SCALE=${BENCH_SCALE:-1}
ONLY=${BENCH_ONLY:-}
OUT_MD=${BENCH_OUT:-$HERE/last-run.md}
PERF_DIR=${BENCH_PERF:-}
EXAMPLES=/usr/share/doc/libfuse3-dev/examples
TUNABLES=glibc.malloc.mmap_threshold=16777216:glibc.malloc.trim_threshold=268435456
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# --- sizes --------------------------------------------------------------
# sc N: N times BENCH_SCALE, rounded, at least 1
sc() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s + 0.5); if (v < 1) v = 1; print v }'; }
STREAM_MIB=$(sc 4096)    # input write / output read
CP_MIB=$(sc 1024)        # cp then cat
REC_LINES=$(sc 5000000)  # records
SMALL_N=$(sc 2000)       # small jobs
LAT_N=$(sc 10000)        # latency samples
LAT_WARM=$(sc 1000)
SCALE_N=$(sc 10000)      # finished jobs in one mount
IDLE_N=$(sc 1000)        # live jobs held open
IDLE_SECS=10             # not scaled: the goal is per 10 s
MEM_MIB=$(sc 10240)      # memory
TMPFS_MIB=$((2 * STREAM_MIB + 1024))
[ "$TMPFS_MIB" -lt 4096 ] && TMPFS_MIB=4096

# --- state and cleanup -------------------------------------------------------
T=""
TMPFS=""
TMPFS_MOUNTED=0
MNT=""
PTMNT=""
DPID=""      # the livejobfs daemon now running (started by this script)
PTPID=""     # the passthrough daemon now running
DAEMONS=""   # every daemon pid this script started
BGPIDS=""    # helpers in the background (samplers, readers, holders, perf)
URING_PARAM=/sys/module/fuse/parameters/enable_uring
URING_WAS="" # enable_uring before this run, put back at the end
ROWS=()
NOTES=()

log() { printf '%s\n' "$*" >&2; }
note() { NOTES+=("$*"); log "note: $*"; }
row() { ROWS+=("$1|$2|$3|$4|$5|$6"); log "=> $1: livejobfs $2, baseline $3, ratio $4, goal $5: $6"; }

is_mounted() { [ -n "$1" ] && awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }

alive() {
	local s
	[ -n "$1" ] || return 1
	s=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

# wait_gone PID SECS: wait for a child to exit; kill -9 it after SECS.
# Returns 0 if it exited by itself.
wait_gone() {
	local pid=$1 n=$(($2 * 10))
	while alive "$pid" && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	if alive "$pid"; then
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	return 0
}

unmount_fuse() {
	local m=$1
	is_mounted "$m" || return 0
	timeout 20 fusermount3 -u "$m" 2>/dev/null && return 0
	sleep 0.5
	is_mounted "$m" || return 0
	timeout 20 fusermount3 -u "$m" 2>/dev/null && return 0
	timeout 20 fusermount3 -u -z "$m" 2>/dev/null
}

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM HUP
	for p in $BGPIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $BGPIDS; do
		wait_gone "$p" 5
	done
	unmount_fuse "$MNT"
	unmount_fuse "$PTMNT"
	for p in $DAEMONS; do
		wait_gone "$p" 10 || log "killed daemon $p, which did not exit after its unmount"
	done
	if [ "$TMPFS_MOUNTED" = 1 ]; then
		umount "$TMPFS" 2>/dev/null || { sleep 1; umount "$TMPFS" 2>/dev/null; } || umount -l "$TMPFS"
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "${BENCH_KEEP:-0}" = 1 ]; then
			log "kept $T"
		else
			rm -rf "$T"
		fi
	fi
	case $TMPFS in /dev/shm/*) rm -rf "$TMPFS" ;; esac
	[ -n "$URING_WAS" ] && echo "$URING_WAS" >"$URING_PARAM" 2>/dev/null
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

bg_add() { BGPIDS="$BGPIDS $1"; }
bg_del() {
	local p out=""
	for p in $BGPIDS; do [ "$p" = "$1" ] || out="$out $p"; done
	BGPIDS=$out
}

# --- numbers --------------------------------------------------------------------
now_ns() { date +%s%N; }
# mbps BYTES NS
mbps() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", b / (t / 1e9) / 1e6 }'; }
# secs NS
secs() { awk -v t="$1" 'BEGIN { printf "%.3f", t / 1e9 }'; }
# ratio A B -> A/B
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
# numcmp A OP B: a numeric comparison, exit 0 when true
numcmp() { awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
	if (op == "<") r = a < b; else if (op == "<=") r = a <= b;
	else if (op == ">") r = a > b; else r = a >= b; exit !r }'; }
yesno() { if "$@"; then echo yes; else echo NO; fi; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# cpu_ticks PID: utime + stime of the whole process, in clock ticks
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# cpu_ns PID: sum of the scheduler's run time of its live threads (ns)
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }
# idle_pct: the share of CPU time that was idle over the next second
idle_pct() {
	local a b
	a=$(head -n 1 /proc/stat)
	sleep 1
	b=$(head -n 1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '{ t = 0; for (i = 2; i <= NF; i++) t += $i; idle = $5 + $6
		if (NR == 1) { t0 = t; i0 = idle } else printf "%.0f", (t - t0) ? 100 * (idle - i0) / (t - t0) : 0 }'
}
# dd_bytes FILE: the byte count of dd's final report
dd_bytes() { awk '/bytes/ && /copied/ { b = $1 } END { print (b == "" ? 0 : b) }' "$1"; }
nfds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# stacks PID: the stacks (innermost 8 frames) of the threads of PID that are
# running, as one line, via gdb; the full dump goes to the logs
stacks() {
	local pid=$1 f=$T/logs/stacks.$1.txt tids t
	command -v gdb >/dev/null || return 0
	tids=$(for t in /proc/"$pid"/task/*; do
		[ "$(awk '{ print $3 }' "$t/stat" 2>/dev/null)" = R ] && echo "${t##*/}"
	done)
	timeout 60 gdb -p "$pid" -batch -ex 'thread apply all bt 8' >"$f" 2>&1 </dev/null
	[ -n "$tids" ] || tids=$(ls /proc/"$pid"/task 2>/dev/null)
	for t in $tids; do
		printf ' [running thread %s: %s]' "$t" "$(awk -v t="$t" '
			/^Thread / { on = index($0, "LWP " t ")") > 0; next }
			on && /^#[0-9]/ { sub(/^#[0-9]+ +/, ""); sub(/^0x[0-9a-f]+ in /, ""); printf "%s%s", sep, $1; sep = " < " }' "$f")"
	done
}

# client_fail RC SECS ERRFILE: why a client failed; on a timeout, also the
# stacks of the daemon's running threads at that moment
client_fail() {
	case $1 in
	124 | 137) printf 'timed out after %s s%s' "$2" "$( [ -n "$DPID" ] && alive "$DPID" && stacks "$DPID")" ;;
	*) printf 'exit %s: %s' "$1" "$(head -c 300 "$3" | tr '\n' ' ')" ;;
	esac
}
# short_or SHORT CMD...: "FAIL: SHORT" when SHORT is set, else CMD's output
short_or() {
	local sh=$1
	shift
	if [ -n "$sh" ]; then echo "FAIL: $sh"; else "$@"; fi
}

# --- daemons --------------------------------------------------------------------
# lj_start STORE: mount livejobfs on $MNT with that store; DPID is its pid.
lj_start() {
	local store=$1 n=100
	mkdir -p "$store" "$MNT"
	DLOG=$T/logs/daemon.$(date +%s%N).log
	"$BIN" -f -o "store=$store${2:+,$2}" "$MNT" >>"$DLOG" 2>&1 &
	DPID=$!
	DAEMONS="$DAEMONS $DPID"
	while [ "$n" -gt 0 ]; do
		[ -e "$MNT/.env" ] && return 0
		alive "$DPID" || break
		sleep 0.1
		n=$((n - 1))
	done
	log "livejobfs did not mount within 10 s: $(tail -n 5 "$DLOG" | tr '\n' ' ')"
	lj_stop
	return 1
}

# lj_stop: unmount, wait <= 20 s for the daemon to exit (kill -9 after).
# Notes a daemon that does not exit or exits non-zero.
lj_stop() {
	local st
	[ -n "$DPID" ] || return 0
	unmount_fuse "$MNT"
	local n=200
	while alive "$DPID" && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	if alive "$DPID"; then
		note "${FIG:-?}: the daemon (pid $DPID) did not exit within 20 s of its unmount; killed with SIGKILL.$(stacks "$DPID")$(diag)"
		kill -9 "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	else
		wait "$DPID" 2>/dev/null
		st=$?
		[ "$st" -eq 0 ] || note "${FIG:-?}: the daemon exited with status $st after its unmount$(diag)"
	fi
	DPID=""
}

# diag: the end of the daemon's output, for notes
diag() { [ -n "${DLOG:-}" ] && [ -s "$DLOG" ] && printf ' [the daemon printed: %s]' "$(tail -n 3 "$DLOG" | tr '\n' ' ' | tr -s ' ' | cut -c1-400)"; }

pt_start() {
	local n=100
	mkdir -p "$PTMNT" "$TMPFS/pt"
	GLIBC_TUNABLES=$TUNABLES "$T/bin/passthrough_ll" -f -o "source=$TMPFS/pt,cache=never" "$PTMNT" \
		>>"$T/logs/passthrough.log" 2>&1 &
	PTPID=$!
	DAEMONS="$DAEMONS $PTPID"
	while [ "$n" -gt 0 ]; do
		is_mounted "$PTMNT" && return 0
		alive "$PTPID" || break
		sleep 0.1
		n=$((n - 1))
	done
	log "passthrough_ll did not mount: $(tail -n 5 "$T/logs/passthrough.log")"
	pt_stop
	return 1
}

pt_stop() {
	[ -n "$PTPID" ] || return 0
	unmount_fuse "$PTMNT"
	wait_gone "$PTPID" 20 || note "passthrough_ll did not exit after its unmount"
	PTPID=""
}

# perf_start NAME / perf_stop NAME: profile $DPID into $PERF_DIR
perf_start() {
	PERFPID=""
	[ -n "$PERF_DIR" ] || return 0
	perf record -g -p "$DPID" -o "$PERF_DIR/$1.perf.data" >"$PERF_DIR/$1.perf.log" 2>&1 &
	PERFPID=$!
	bg_add "$PERFPID"
	sleep 1
}
perf_stop() {
	[ -n "${PERFPID:-}" ] || return 0
	kill -INT "$PERFPID" 2>/dev/null
	wait_gone "$PERFPID" 60
	bg_del "$PERFPID"
	perf report -i "$PERF_DIR/$1.perf.data" --stdio --no-children --sort symbol 2>/dev/null |
		grep -v '^#' | grep -E '^ +[0-9.]+%' | head -n 25 | awk '{ print $1, $2, $3 }' >"$PERF_DIR/$1.top.txt"
	perf report -i "$PERF_DIR/$1.perf.data" --stdio --no-children --sort dso,symbol -g caller,0.5,callee --percent-limit 2 \
		2>/dev/null >"$PERF_DIR/$1.callers.txt"
	log "perf: $PERF_DIR/$1.top.txt"
	PERFPID=""
}

# --- specs --------------------------------------------------------------------
spec_pass() {
	printf '{"inputs": {"x": {"format": "%s"}}, "outputs": {"y": {"from": "p"}},\n "nodes": {"p": {"op": "pass", "in": "x"}}}\n' "$2" >"$1"
}

# newjob NAME SPECFILE: mkdir + cp spec.json (cp reports a close() error)
newjob() {
	mkdir "$MNT/$1" && timeout 30 cp "$2" "$MNT/$1/spec.json"
}

want() {
	local w
	[ -z "$ONLY" ] && return 0
	for w in $ONLY; do
		case $w in
		"$1") return 0 ;;
		write | read) [ "$1" = stream ] && return 0 ;;
		cp | cat) [ "$1" = cpcat ] && return 0 ;;
		esac
	done
	return 1
}

# =========================================================================
# Figures. Each one starts and stops its own daemons and adds its rows; a
# failure adds a FAIL row with the reason and the run goes on.
# =========================================================================

fig_stream() {
	FIG="stream"
	local bytes=$((STREAM_MIB * 1048576)) t0 t1 bw br lw lr got st size name_w name_r
	name_w="input write: $(human_mib "$STREAM_MIB"), dd bs=1M (MB/s)"
	name_r="output read: $(human_mib "$STREAM_MIB"), dd bs=1M (MB/s)"

	# baseline: libfuse's passthrough_ll, cache=never, over the tmpfs
	if pt_start; then
		t0=$(now_ns)
		timeout -k 5 900 dd if=/dev/zero of="$PTMNT/f" bs=1M count="$STREAM_MIB" 2>"$T/dd.log"
		st=$?
		t1=$(now_ns)
		got=$(dd_bytes "$T/dd.log")
		[ "$st" -eq 0 ] && [ "$got" -eq "$bytes" ] && bw=$(mbps "$bytes" $((t1 - t0)))
		t0=$(now_ns)
		timeout -k 5 900 dd if="$PTMNT/f" of=/dev/null bs=1M 2>"$T/dd.log"
		st=$?
		t1=$(now_ns)
		got=$(dd_bytes "$T/dd.log")
		[ "$st" -eq 0 ] && [ "$got" -eq "$bytes" ] && br=$(mbps "$bytes" $((t1 - t0)))
		rm -f "$PTMNT/f"
		pt_stop
	fi
	rm -rf "$TMPFS/pt"
	[ -n "${bw:-}" ] || note "stream: the passthrough baseline failed: $(tail -n 2 "$T/dd.log" | tr '\n' ' ')"

	# livejobfs: a pass job, the store on the tmpfs
	spec_pass "$T/pass.json" bytes
	if ! lj_start "$TMPFS/store-stream"; then
		row "$name_w" FAIL "${bw:--}" - "≥ 0.8" "FAIL: no mount"
		row "$name_r" FAIL "${br:--}" - "≥ 0.8" "FAIL: no mount"
		return
	fi
	if ! newjob big "$T/pass.json"; then
		row "$name_w" FAIL "${bw:--}" - "≥ 0.8" "FAIL: could not start the job$(diag)"
		lj_stop
		return
	fi
	t0=$(now_ns)
	timeout -k 5 900 dd if=/dev/zero of="$MNT/big/input/x" bs=1M count="$STREAM_MIB" 2>"$T/dd.log"
	st=$?
	t1=$(now_ns)
	got=$(dd_bytes "$T/dd.log")
	if [ "$st" -eq 0 ] && [ "$got" -eq "$bytes" ]; then
		lw=$(mbps "$bytes" $((t1 - t0)))
		row "$name_w" "$lw" "${bw:--}" "$(ratio "$lw" "${bw:-0}")" "≥ 0.8" \
			"$([ -n "${bw:-}" ] && yesno numcmp "$(ratio "$lw" "$bw")" ">=" 0.8 || echo -)"
	else
		row "$name_w" FAIL "${bw:--}" - "≥ 0.8" "FAIL: dd exit $st, $got bytes: $(tail -n 2 "$T/dd.log" | tr '\n' ' ')$(diag)"
	fi
	st=$(timeout 600 cat "$MNT/big/wait" 2>&1)
	size=$(stat -c %s "$MNT/big/output/y" 2>/dev/null)
	if [ "$st" != succeeded ] || [ "${size:-0}" -ne "$bytes" ]; then
		row "$name_r" FAIL "${br:--}" - "≥ 0.8" "FAIL: the job ended as '$st' with an output of ${size:-?} bytes$(diag)"
	else
		t0=$(now_ns)
		timeout -k 5 900 dd if="$MNT/big/output/y" of=/dev/null bs=1M 2>"$T/dd.log"
		st=$?
		t1=$(now_ns)
		got=$(dd_bytes "$T/dd.log")
		if [ "$st" -eq 0 ] && [ "$got" -eq "$bytes" ]; then
			lr=$(mbps "$bytes" $((t1 - t0)))
			row "$name_r" "$lr" "${br:--}" "$(ratio "$lr" "${br:-0}")" "≥ 0.8" \
				"$([ -n "${br:-}" ] && yesno numcmp "$(ratio "$lr" "$br")" ">=" 0.8 || echo -)"
		else
			row "$name_r" FAIL "${br:--}" - "≥ 0.8" "FAIL: dd exit $st, $got bytes: $(tail -n 2 "$T/dd.log" | tr '\n' ' ')$(diag)"
		fi
	fi
	timeout 120 rmdir "$MNT/big" || note "stream: rmdir of the job failed"
	lj_stop
	rm -rf "$TMPFS/store-stream"
}

# reqsize STRACE_FILE PATH_PART SYSCALL: "COUNT x SIZE" - the number of
# SYSCALL calls on the fd opened on PATH_PART and their most common size
reqsize() {
	awk -v p="$2" -v sc="$3" '
		{ sub(/^[0-9]+ +/, "") }
		/^openat\(/ && index($0, p) && !/= -1/ { fd = $NF + 0; have = 1; next }
		/^copy_file_range\(/ && !/= -1/ { cfr++ }
		have && index($0, sc "(" fd ",") == 1 && match($0, /, [0-9]+\) +=/) {
			s = substr($0, RSTART + 2, RLENGTH - 2); sub(/\).*/, "", s)
			n++; c[s]++
		}
		END {
			best = ""; for (s in c) if (best == "" || c[s] > c[best]) best = s
			if (cfr) { printf "copy_file_range (%d calls)", cfr; if (n) printf " + "; }
			if (n) printf "%d %ss of %s", n, sc, best
			if (!n && !cfr) printf "?"
		}' "$1"
}
human_bytes() { awk -v b="$1" 'BEGIN {
	if (b >= 1048576 && b % 1048576 == 0) printf "%d MiB", b / 1048576
	else if (b >= 1024 && b % 1024 == 0) printf "%d KiB", b / 1024
	else printf "%s B", b }'; }
human_mib() { awk -v m="$1" 'BEGIN { if (m >= 1024 && m % 1024 == 0) printf "%d GiB", m / 1024; else printf "%d MiB", m }'; }
# prettify "N reads of 1048576" -> "N reads of 1 MiB"
pretty_req() {
	local s=$1 last
	last=${s##* }
	case $last in '' | *[!0-9]*) echo "$s" ;; *) echo "${s% *} $(human_bytes "$last")" ;; esac
}

fig_cpcat() {
	FIG="cpcat"
	local bytes=$((CP_MIB * 1048576)) t0 t1 base lj st size name
	name="cp then cat: $(human_mib "$CP_MIB") (MB/s over both)"
	head -c "$bytes" /dev/urandom >"$TMPFS/cpsrc" || { row "$name" FAIL - - report "FAIL: no source file"; return; }

	# baseline: cp then cat on the tmpfs
	t0=$(now_ns)
	timeout -k 5 600 cp "$TMPFS/cpsrc" "$TMPFS/cpdst" && timeout -k 5 600 cat "$TMPFS/cpdst" >/dev/null
	st=$?
	t1=$(now_ns)
	[ "$st" -eq 0 ] && base=$(mbps $((2 * bytes)) $((t1 - t0)))
	rm -f "$TMPFS/cpdst"

	spec_pass "$T/pass.json" bytes
	if ! lj_start "$TMPFS/store-cpcat"; then
		row "$name" FAIL "${base:--}" - report "FAIL: no mount"
		rm -f "$TMPFS/cpsrc"
		return
	fi
	if newjob cc "$T/pass.json"; then
		t0=$(now_ns)
		timeout -k 5 600 cp "$TMPFS/cpsrc" "$MNT/cc/input/x" 2>"$T/cp.err" &&
			timeout -k 5 600 cat "$MNT/cc/output/y" >"$TMPFS/cpcat.out" 2>>"$T/cp.err"
		st=$?
		t1=$(now_ns)
		size=$(stat -c %s "$TMPFS/cpcat.out" 2>/dev/null)
		if [ "$st" -eq 0 ] && cmp -s "$TMPFS/cpsrc" "$TMPFS/cpcat.out"; then
			lj=$(mbps $((2 * bytes)) $((t1 - t0)))
			row "$name" "$lj" "${base:--}" "$(ratio "$lj" "${base:-0}")" report -
		else
			row "$name" FAIL "${base:--}" - report "FAIL: exit $st, ${size:-?} bytes read back: $(head -c 200 "$T/cp.err")$(diag)"
		fi
		rm -f "$TMPFS/cpcat.out"
		timeout 60 rmdir "$MNT/cc"
	else
		row "$name" FAIL "${base:--}" - report "FAIL: could not start the job$(diag)"
	fi

	# request sizes: strace cp and cat on a smaller file, on both sides
	local rbytes=$((64 * 1048576)) lcp lcat bcp bcat met
	[ "$rbytes" -gt "$bytes" ] && rbytes=$bytes
	head -c "$rbytes" "$TMPFS/cpsrc" >"$TMPFS/rqsrc"
	if command -v strace >/dev/null && newjob rq "$T/pass.json"; then
		timeout 120 strace -f -e trace=openat,read,write,copy_file_range -o "$T/cp.strace" \
			cp "$TMPFS/rqsrc" "$MNT/rq/input/x"
		timeout 120 strace -e trace=openat,read,write -o "$T/cat.strace" cat "$MNT/rq/output/y" >/dev/null
		lcp=$(reqsize "$T/cp.strace" "rq/input/x" write)
		lcat=$(reqsize "$T/cat.strace" "rq/output/y" read)
		timeout 120 strace -f -e trace=openat,read,write,copy_file_range -o "$T/bcp.strace" \
			cp "$TMPFS/rqsrc" "$TMPFS/rqdst"
		timeout 120 strace -e trace=openat,read,write -o "$T/bcat.strace" cat "$TMPFS/rqdst" >/dev/null
		bcp=$(reqsize "$T/bcp.strace" "rqdst" write)
		bcat=$(reqsize "$T/bcat.strace" "rqdst" read)
		met=NO
		case "$lcp/$lcat" in *"writes of 1048576/"*"reads of 1048576") met=yes ;; esac
		row "request sizes on $(human_mib $((rbytes / 1048576))): cp, cat" \
			"cp: $(pretty_req "$lcp"); cat: $(pretty_req "$lcat")" \
			"cp: $(pretty_req "$bcp"); cat: $(pretty_req "$bcat")" - "1 MiB" "$met"
		rm -f "$TMPFS/rqdst"
		timeout 60 rmdir "$MNT/rq"
	else
		row "request sizes: cp, cat" FAIL - - "1 MiB" "FAIL: no strace or no job"
	fi
	rm -f "$TMPFS/rqsrc" "$TMPFS/cpsrc"
	lj_stop
	rm -rf "$TMPFS/store-cpcat"
}

REC_RE='GET /API/ITEMS/[0-9]+ STATUS=(404|5[0-9][0-9]) '
rec_gen() {
	awk -v n="$REC_LINES" 'BEGIN {
		split("200 200 200 304 200 404 200 500 200 503 201", st, " ")
		for (i = 0; i < n; i++)
			printf "2026-11-29T04:%02d:%02d.%03dZ host%02d GET /api/items/%d status=%d bytes=%d ua=curl/8.%d\n",
				int(i / 60000) % 60, int(i / 1000) % 60, i % 1000, i % 17, i * 7 % 100003,
				st[i % 11 + 1], i * 13 % 65536, i % 9
	}' >"$1"
}

rec_lj() { # rec_lj JOB: the timed livejobfs part; sets LJ_NS and LJ_COUNT
	local t0 t1
	t0=$(now_ns)
	if newjob "$1" "$T/rec.json" &&
		timeout -k 5 600 cp "$TMPFS/records.txt" "$MNT/$1/input/x" 2>"$T/rec.err" &&
		LJ_COUNT=$(timeout -k 5 600 cat "$MNT/$1/output/n" 2>>"$T/rec.err"); then
		t1=$(now_ns)
		LJ_NS=$((t1 - t0))
		return 0
	fi
	return 1
}

fig_records() {
	FIG="records"
	local t0 t1 bns bcount lns name st
	name="records: $REC_LINES lines, upper then grep -E then count (s)"
	rec_gen "$TMPFS/records.txt"
	log "records: $(wc -c <"$TMPFS/records.txt") bytes, $REC_LINES lines"

	t0=$(now_ns)
	# shellcheck disable=SC2016
	bcount=$(timeout -k 5 600 sh -c 'tr a-z A-Z <"$1" | grep -E "$2" | wc -l' sh "$TMPFS/records.txt" "$REC_RE")
	t1=$(now_ns)
	bns=$((t1 - t0))

	cat >"$T/rec.json" <<-EOF
		{"inputs": {"x": {"format": "lines"}},
		 "outputs": {"n": {"from": "c"}},
		 "nodes": {
		   "u": {"op": "upper", "in": "x"},
		   "g": {"op": "grep", "in": "u", "pattern": "$REC_RE"},
		   "c": {"op": "count", "in": "g"}}}
	EOF
	if ! lj_start "$TMPFS/store-records"; then
		row "$name" FAIL "$(secs "$bns")" - "≤ 1.0" "FAIL: no mount"
		rm -f "$TMPFS/records.txt"
		return
	fi
	if rec_lj rec; then
		lns=$LJ_NS
		if [ "$LJ_COUNT" != "$bcount" ]; then
			row "$name" "$(secs "$lns")" "$(secs "$bns")" "$(ratio "$lns" "$bns")" "≤ 1.0" \
				"WRONG: count $LJ_COUNT, the pipeline counts $bcount"
		else
			row "$name" "$(secs "$lns")" "$(secs "$bns")" "$(ratio "$lns" "$bns")" "≤ 1.0" \
				"$(yesno numcmp "$(ratio "$lns" "$bns")" "<=" 1.0)"
		fi
		log "records: $bcount matching lines"
	else
		st=$(timeout 10 cat "$MNT/rec/status" 2>/dev/null | head -c 400 | tr '\n' ' ')
		row "$name" FAIL "$(secs "$bns")" - "≤ 1.0" "FAIL: $(head -c 300 "$T/rec.err" | tr '\n' ' ') status: $st$(diag)"
	fi
	timeout 60 rmdir "$MNT/rec" 2>/dev/null
	if [ -n "$PERF_DIR" ]; then
		perf_start records
		rec_lj recperf || note "records: the profiled run failed"
		perf_stop records
		timeout 60 rmdir "$MNT/recperf" 2>/dev/null
	fi
	lj_stop
	rm -rf "$TMPFS/store-records" "$TMPFS/records.txt"
}

fig_small() {
	FIG="small"
	local base lj name out rc rt
	name="small jobs: $SMALL_N one after another (jobs/s)"
	timeout 300 "$T/bin/smalljobs" base 20 >/dev/null 2>&1 # warm-up
	out=$(timeout -k 5 600 "$T/bin/smalljobs" base "$SMALL_N" 2>"$T/small.err")
	base=$(printf '%s\n' "$out" | sed -n 's/^RESULT .*rate=\([0-9.]*\).*/\1/p')
	[ -n "$base" ] || note "small: the baseline failed: $(head -c 300 "$T/small.err")"
	if ! lj_start "$TMPFS/store-small"; then
		row "$name" FAIL "${base:--}" - "≥ 2000/s, > baseline" "FAIL: no mount"
		return
	fi
	timeout 300 "$T/bin/smalljobs" lj "$MNT" 20 drop w >/dev/null 2>&1 # warm-up
	out=$(timeout -k 5 120 "$T/bin/smalljobs" lj "$MNT" "$SMALL_N" 2>"$T/small.err")
	rc=$?
	# What the machine allows: each job waits for 17 FUSE round trips.
	rt=$(timeout 60 "$T/bin/smalljobs" rt "$MNT" 20000 2>/dev/null |
		sed -n 's/^RESULT .*us=\([0-9.]*\).*/\1/p')
	[ -n "$rt" ] && note "small: a FUSE round trip (stat of .env) takes $rt µs on this machine; a job waits for 17 of them, so round trips alone allow at most $(awk -v u="$rt" 'BEGIN { printf "%.0f", 1e6 / (17 * u) }') jobs/s" 
	lj=$(printf '%s\n' "$out" | sed -n 's/^RESULT .*rate=\([0-9.]*\).*/\1/p')
	if [ -n "$lj" ]; then
		row "$name" "$lj" "${base:--}" "$(ratio "$lj" "${base:-0}")" "≥ 2000/s, > baseline" \
			"$(if numcmp "$lj" ">=" 2000 && [ -n "$base" ] && numcmp "$lj" ">" "$base"; then echo yes; else echo NO; fi)"
	else
		row "$name" FAIL "${base:--}" - "≥ 2000/s, > baseline" "FAIL: $(client_fail "$rc" 120 "$T/small.err")$(diag)"
	fi
	if [ "$(cat "$URING_PARAM" 2>/dev/null)" = Y ] && lj_stop && lj_start "$TMPFS/store-small-dev" uring=off; then
		timeout 300 "$T/bin/smalljobs" lj "$MNT" 20 drop w >/dev/null 2>&1 # warm-up
		out=$(timeout -k 5 120 "$T/bin/smalljobs" lj "$MNT" "$SMALL_N" 2>/dev/null)
		rt=$(timeout 60 "$T/bin/smalljobs" rt "$MNT" 20000 2>/dev/null |
			sed -n 's/^RESULT .*us=\([0-9.]*\).*/\1/p')
		note "small: over /dev/fuse alone (-o uring=off) the same jobs run at $(printf '%s\n' "$out" | sed -n 's/^RESULT .*rate=\([0-9.]*\).*/\1/p') jobs/s, a round trip taking ${rt:-?} µs"
		rm -rf "$TMPFS/store-small-dev"
	fi
	if [ -n "$PERF_DIR" ]; then
		perf_start small
		timeout -k 5 120 "$T/bin/smalljobs" lj "$MNT" "$SMALL_N" drop p >/dev/null 2>&1 ||
			note "small: the profiled run failed"
		perf_stop small
	fi
	lj_stop
	rm -rf "$TMPFS/store-small"
}

fig_latency() {
	FIG="latency"
	local out med p99 name_m name_p rc
	name_m="live latency, 3-node job: median of $LAT_N (µs)"
	name_p="live latency, 3-node job: p99 (µs)"
	cat >"$T/lat.json" <<-'EOF'
		{"inputs": {"x": {"format": "lines"}},
		 "outputs": {"y": {"from": "p"}},
		 "nodes": {
		   "u": {"op": "upper", "in": "x"},
		   "l": {"op": "lower", "in": "u"},
		   "p": {"op": "pass", "in": "l"}}}
	EOF
	if ! lj_start "$TMPFS/store-latency" || ! newjob lat "$T/lat.json"; then
		row "$name_m" FAIL - - "< 100" "FAIL: no mount or no job$(diag)"
		lj_stop
		return
	fi
	out=$(timeout -k 5 300 "$T/bin/latency" "$MNT/lat" "$LAT_WARM" "$LAT_N" 2>"$T/lat.err")
	rc=$?
	med=$(printf '%s\n' "$out" | sed -n 's/^RESULT .*median_us=\([0-9.]*\).*/\1/p')
	p99=$(printf '%s\n' "$out" | sed -n 's/^RESULT .*p99_us=\([0-9.]*\).*/\1/p')
	if [ -n "$med" ]; then
		row "$name_m" "$med" - - "< 100" "$(yesno numcmp "$med" "<" 100)"
		row "$name_p" "$p99" - - "< 1000" "$(yesno numcmp "$p99" "<" 1000)"
		note "$(tail -n 1 "$T/lat.err")"
	else
		row "$name_m" FAIL - - "< 100" "FAIL: $(client_fail "$rc" 300 "$T/lat.err")$(diag)"
	fi
	timeout 60 rmdir "$MNT/lat" 2>/dev/null
	lj_stop
	rm -rf "$TMPFS/store-latency"
}

fig_scale() {
	FIG="scale"
	local store=$TMPFS/store-scale fd0 fd1 rss0 rss1 t0 t1 rc made short="" ls_ns=() n per ok=1 mount_ns count
	local name_ls name_rss name_mnt med
	name_ls="scale: ls -l of the root, $SCALE_N finished jobs (s)"
	name_rss="scale: daemon RSS per finished job (bytes)"
	name_mnt="scale: mount a store of $SCALE_N jobs (s)"
	if ! lj_start "$store"; then
		row "$name_ls" FAIL - - "< 0.5" "FAIL: no mount"
		return
	fi
	cat "$MNT/.env" >/dev/null
	sleep 0.5
	rss0=$(rss_kb "$DPID")
	fd0=$(nfds "$DPID")
	t0=$(now_ns)
	timeout -k 5 300 "$T/bin/smalljobs" lj "$MNT" "$SCALE_N" keep f >/dev/null 2>"$T/scale.err"
	rc=$?
	t1=$(now_ns)
	fd1=$(nfds "$DPID")
	note "scale: the daemon had $fd0 open fds after mounting, $fd1 after making the jobs (its limit: $(awk '/Max open files/ { print $4 }' "/proc/$DPID/limits"))"
	made=$(timeout 120 ls "$MNT" 2>/dev/null | grep -c '^f[0-9]')
	if [ "$rc" -ne 0 ]; then
		# measure what there is, and say why it is short
		note "scale: making $SCALE_N jobs failed after $made: $(client_fail "$rc" 300 "$T/scale.err")"
		short="only $made of $SCALE_N jobs could be made (see the notes); measured with those"
		if [ "$made" -lt 1 ] || ! alive "$DPID"; then
			row "$name_ls" FAIL - - "< 0.5" "FAIL: $short$(diag)"
			lj_stop
			rm -rf "$store"
			return
		fi
	else
		note "scale: made $SCALE_N finished jobs in $(secs $((t1 - t0))) s"
	fi
	sleep 1
	rss1=$(rss_kb "$DPID")
	per=$(awk -v a="$rss0" -v b="$rss1" -v n="$made" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')
	note "scale: daemon VmRSS $rss0 kB before, $rss1 kB with $made finished jobs"
	for _ in 1 2 3; do
		t0=$(now_ns)
		timeout -k 5 120 ls -l "$MNT" >"$T/ls.out" 2>"$T/ls.err" || ok=0
		t1=$(now_ns)
		ls_ns+=($((t1 - t0)))
	done
	n=$(grep -c '^d' "$T/ls.out")
	med=$(printf '%s\n' "${ls_ns[@]}" | sort -n | sed -n 2p)
	if [ "$ok" = 1 ] && [ "$n" -ge "$made" ]; then
		row "$name_ls" "$(secs "$med")" - - "< 0.5" "$(short_or "$short" yesno numcmp "$(secs "$med")" "<" 0.5)"
	else
		row "$name_ls" FAIL - - "< 0.5" "FAIL: ls -l listed $n job directories: $(head -c 200 "$T/ls.err")"
	fi
	row "$name_rss" "$per" - - "< 4096" "$(short_or "$short" yesno numcmp "$per" "<" 4096)"

	t0=$(now_ns)
	lj_stop
	t1=$(now_ns)
	note "scale: unmounting took $(secs $((t1 - t0))) s"

	# a fresh mount of the store holding them: from exec until .env is readable
	mkdir -p "$MNT"
	DLOG=$T/logs/daemon.remount.log
	t0=$(now_ns)
	"$BIN" -f -o "store=$store" "$MNT" >>"$DLOG" 2>&1 &
	DPID=$!
	DAEMONS="$DAEMONS $DPID"
	mount_ns=""
	for _ in $(seq 6000); do # <= 60 s
		if [ -e "$MNT/.env" ]; then
			mount_ns=$(($(now_ns) - t0))
			break
		fi
		alive "$DPID" || break
		sleep 0.005
	done
	if [ -n "$mount_ns" ]; then
		count=$(timeout 60 ls "$MNT" | grep -c '^f[0-9]')
		if [ "$count" -eq "$made" ]; then
			row "$name_mnt" "$(secs "$mount_ns")" - - "< 1" "$(short_or "$short" yesno numcmp "$(secs "$mount_ns")" "<" 1)"
		else
			row "$name_mnt" "$(secs "$mount_ns")" - - "< 1" "WRONG: $count of $made jobs after the mount"
		fi
		sleep 1
		note "scale: after the remount the daemon's VmRSS is $(rss_kb "$DPID") kB and it has $(nfds "$DPID") open fds; its .env: $(timeout 10 cat "$MNT/.env" | tr -d ' \n' | grep -o '"job_states":{[^}]*}')"
	else
		row "$name_mnt" FAIL - - "< 1" "FAIL: not mounted after 60 s$(diag)"
	fi
	lj_stop
	rm -rf "$store"
}

fig_idle() {
	FIG="idle"
	local hpid c0 c1 n0 n1 cpu name rss
	name="idle: daemon CPU in ${IDLE_SECS} s, $IDLE_N live jobs (s)"
	if ! lj_start "$TMPFS/store-idle"; then
		row "$name" FAIL - - "< 0.05" "FAIL: no mount"
		return
	fi
	"$T/bin/holdopen" "$MNT" h "$IDLE_N" >"$T/hold.out" 2>"$T/hold.err" &
	hpid=$!
	bg_add "$hpid"
	for _ in $(seq 1200); do # <= 120 s
		grep -q ready "$T/hold.out" 2>/dev/null && break
		alive "$hpid" || break
		sleep 0.1
	done
	if ! grep -q ready "$T/hold.out"; then
		row "$name" FAIL - - "< 0.05" "FAIL: holding $IDLE_N inputs open: $(head -c 300 "$T/hold.err")$(diag)"
	else
		sleep 1
		c0=$(cpu_ticks "$DPID")
		n0=$(cpu_ns "$DPID")
		sleep "$IDLE_SECS"
		c1=$(cpu_ticks "$DPID")
		n1=$(cpu_ns "$DPID")
		rss=$(rss_kb "$DPID")
		cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
		row "$name" "$cpu" - - "< 0.05" "$(yesno numcmp "$cpu" "<" 0.05)"
		note "idle: utime+stime grew by $((c1 - c0)) ticks ($CLK_TCK/s); the live threads' schedstat run time by $(awk -v a="$n0" -v b="$n1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }') s; VmRSS $rss kB and $(nfds "$DPID") open fds with $IDLE_N live jobs"
	fi
	kill "$hpid" 2>/dev/null
	wait_gone "$hpid" 10
	bg_del "$hpid"
	[ "$(timeout 60 cat "$MNT/h0/wait" 2>/dev/null)" = succeeded ] ||
		note "idle: job h0 did not end as succeeded once its input was closed"
	lj_stop
	rm -rf "$TMPFS/store-idle"
}

fig_memory() {
	FIG="memory"
	local bytes=$((MEM_MIB * 1048576)) need avail store=$T/disk/store spid rpid t0 t1 st got max hwm name_r name_h
	name_r="memory: $(human_mib "$MEM_MIB") through a pass job, max VmRSS (MiB)"
	name_h="memory: same, VmHWM (MiB)"
	need=$((2 * MEM_MIB + 1024))
	avail=$(df -Pm "$T" | awk 'NR == 2 { print $4 }')
	if [ "${avail:-0}" -lt "$need" ]; then
		row "$name_r" skipped - - "< 64" "skipped: not enough disk ($avail MiB free in $T, $need needed)"
		return
	fi
	spec_pass "$T/pass.json" bytes
	if ! lj_start "$store" || ! newjob mem "$T/pass.json"; then
		row "$name_r" FAIL - - "< 64" "FAIL: no mount or no job$(diag)"
		lj_stop
		return
	fi
	: >"$T/rss"
	(
		while [ ! -e "$T/stop-rss" ]; do
			rss_kb "$DPID" >>"$T/rss"
			sleep 0.2
		done
	) &
	spid=$!
	bg_add "$spid"
	timeout -k 5 1800 dd if="$MNT/mem/output/y" of=/dev/null bs=1M 2>"$T/memr.log" &
	rpid=$!
	bg_add "$rpid"
	t0=$(now_ns)
	timeout -k 5 1800 dd if=/dev/zero of="$MNT/mem/input/x" bs=1M count="$MEM_MIB" 2>"$T/memw.log"
	st=$?
	wait "$rpid"
	bg_del "$rpid"
	t1=$(now_ns)
	touch "$T/stop-rss"
	wait_gone "$spid" 5
	bg_del "$spid"
	got=$(dd_bytes "$T/memr.log")
	hwm=$(hwm_kb "$DPID")
	max=$(sort -n "$T/rss" | tail -n 1)
	if [ "$st" -eq 0 ] && [ "$got" -eq "$bytes" ]; then
		max=$(awk -v k="$max" 'BEGIN { printf "%.1f", k / 1024 }')
		hwm=$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')
		row "$name_r" "$max" - - "< 64" "$(yesno numcmp "$max" "<" 64)"
		row "$name_h" "$hwm" - - "< 64" "$(yesno numcmp "$hwm" "<" 64)"
		note "memory: $(grep -c . "$T/rss") RSS samples; written and read back concurrently at $(mbps "$bytes" $((t1 - t0))) MB/s (store on disk)"
	else
		row "$name_r" FAIL - - "< 64" "FAIL: writer exit $st, $got of $bytes bytes read back: $(tail -n 1 "$T/memw.log") / $(tail -n 1 "$T/memr.log")$(diag)"
	fi
	timeout 300 rmdir "$MNT/mem" 2>/dev/null || note "memory: rmdir of the job failed"
	lj_stop
	rm -rf "$store"
}

# =========================================================================
# main
# =========================================================================
[ -x "$BIN" ] || { log "bench: no daemon at $BIN (run make first)"; exit 1; }
T=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/ljbench.XXXXXX") || exit 1
chmod 755 "$T"
mkdir -p "$T/bin" "$T/logs" "$T/mnt" "$T/ptmnt" "$T/disk"
MNT=$T/mnt
PTMNT=$T/ptmnt
[ -n "$PERF_DIR" ] && mkdir -p "$PERF_DIR" && PERF_DIR=$(cd "$PERF_DIR" && pwd)

# a copy of the daemon, so that a rebuild during the run changes nothing
BIN_MTIME=$(stat -c '%y' "$BIN" | cut -d. -f1)
cp "$BIN" "$T/bin/livejobfs" || exit 1
BIN_ORIG=$BIN
BIN=$T/bin/livejobfs

# helpers
for h in smalljobs latency holdopen; do
	cc -O2 -Wall -o "$T/bin/$h" "$HERE/$h.c" 2>"$T/logs/cc-$h.log" ||
		{ log "bench: cannot build bench/$h.c: $(cat "$T/logs/cc-$h.log")"; exit 1; }
done
# shellcheck disable=SC2046
if ! cc -O2 -I"$EXAMPLES" -o "$T/bin/passthrough_ll" "$EXAMPLES/passthrough_ll.c" \
	$(pkg-config --cflags --libs fuse3) 2>"$T/logs/cc-passthrough.log"; then
	note "cannot build $EXAMPLES/passthrough_ll.c (libfuse3-dev): the stream baselines are missing"
fi

# the tmpfs for the stores and the baselines
TMPFS=$T/tmpfs
mkdir -p "$TMPFS"
if mount -t tmpfs -o "size=${TMPFS_MIB}m" tmpfs "$TMPFS" 2>/dev/null; then
	TMPFS_MOUNTED=1
else
	rmdir "$TMPFS"
	TMPFS=$(mktemp -d /dev/shm/ljbench.XXXXXX) || exit 1
	note "could not mount a tmpfs (not root?): using $TMPFS on /dev/shm"
fi

STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
T_START=$(now_ns)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
IDLE0=$(idle_pct)
# livejobfs serves requests over io_uring where the kernel allows it
# (fs/uring.c); the fuse module has that off by default, so the run turns it
# on (as root) and puts it back at the end. The passthrough baseline (libfuse
# 3.14) never asks for it.
if [ -w "$URING_PARAM" ]; then
	URING_WAS=$(cat "$URING_PARAM")
	echo Y >"$URING_PARAM" 2>/dev/null || URING_WAS=""
fi
if [ "$(cat "$URING_PARAM" 2>/dev/null)" = Y ]; then
	TRANSPORT="FUSE over io_uring (the fuse module's enable_uring turned on for the run)"
else
	TRANSPORT="/dev/fuse (no FUSE over io_uring here: $URING_PARAM is off or missing, or not root)"
fi
log "bench: daemon $BIN_ORIG, scale $SCALE, temp dir $T, tmpfs ${TMPFS_MIB} MiB, requests over $TRANSPORT"
want stream && fig_stream
want cpcat && fig_cpcat
want records && fig_records
want small && fig_small
want latency && fig_latency
want scale && fig_scale
want idle && fig_idle
want memory && fig_memory
T_END=$(now_ns)

# --- the table ------------------------------------------------------------------
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
	echo "# livejobfs benchmarks"
	echo
	echo "Run $STARTED, commit $commit (plus any uncommitted changes), scale $SCALE, $(secs $((T_END - T_START))) s."
	echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), libfuse $(pkg-config --modversion fuse3 2>/dev/null)."
	echo "Daemon: $BIN_ORIG (built $BIN_MTIME). Load average at the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg); CPU idle over 1 s at the start: $IDLE0 %, at the end: $(idle_pct) % (numbers from a busy machine are not comparable)."
	echo "Stores on a tmpfs except for the memory figure (disk). MB/s = 10^6 bytes/s. Ratio = livejobfs / baseline."
	echo "livejobfs requests over $TRANSPORT."
	echo
	echo "| figure | livejobfs | baseline | ratio | goal | met? |"
	echo "|---|---|---|---|---|---|"
	for r in "${ROWS[@]}"; do
		echo "| ${r//|/ | } |"
	done
	if [ "${#NOTES[@]}" -gt 0 ]; then
		echo
		echo "Notes:"
		echo
		for n in "${NOTES[@]}"; do
			echo "- $n"
		done
	fi
} >"$T/table.md"
echo
cat "$T/table.md"
cp "$T/table.md" "$OUT_MD" && log "written to $OUT_MD"
exit 0
