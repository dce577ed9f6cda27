#!/bin/bash
# Crash safety. 20 rounds; in each, tests/mnt/crash.c makes 12 new jobs
# (pass; exec tr; exec sort; json filter/pick/template/count with a schema;
# a two-input chain of concat/upper/replace/grep/exec with options), one
# thread each, and feeds their inputs in chunks, a quarter of them slowly
# (still open at the kill); some jobs are cancelled with their inputs open
# and restarted, and a few jobs left interrupted by earlier rounds are
# restarted just before the kill. The daemon is killed with kill -9 at a
# different moment each round (50 ms .. 2.9 s after the client started),
# the dead mount is lazily unmounted (after the client has seen ENOTCONN and
# exited), and the same store is mounted again. The client keeps a journal
# (fsync'd, outside the mount) of every input whose close() returned 0,
# with its checksum, and of every job seen to succeed (`wait`), with the
# checksums of its status, log and outputs. After each remount
# `crash verify` checks, for every job so far (over 200 by the end):
# closed inputs read back byte for byte; succeeded jobs read the same
# status, log and outputs; jobs whose spec had been accepted and that had
# not ended are `interrupted`, with the reason in status and log. It then
# restarts (ctl `restart`) up to 2 jobs interrupted in that round (and any
# job left cancelled) and compares their outputs with a fresh job run with
# the same spec, options and stored inputs; restarted jobs that succeeded
# are compared the same way. Before the remount of round 10, the store is
# damaged: one succeeded job's status.json is cut to half, another's is
# overwritten with garbage, a third's is deleted: the mount still comes up,
# .log names each job and status.json, those three are interrupted (their
# log says why), restarting them gives their former outputs, and every
# other job is unaffected.
# After the rounds: a job with a 100 MiB output is killed right after
# `cat JOB/wait` printed succeeded, and must still be succeeded after the
# remount. Last, after a clean unmount, one succeeded job's spec.json is
# overwritten with garbage and another's largest stored stream file is cut
# to half: the mount comes up, .log names both jobs, and every other job
# is as before.
# CRASH_ROUNDS and CRASH_JOBS shorten it, CRASH_KEEP_GOING=1 goes on after
# a failed round (debugging).
# timeout: 240
. "$(dirname "$0")/lib.sh"

ROUNDS=${CRASH_ROUNDS:-20}
NJOBS=${CRASH_JOBS:-12}
DAMAGE_ROUND=$((ROUNDS / 2))
J=$LJ_TMP/journal
CRASH=$LJ_TMP/crash
: >"$J"

flags=$(pkg-config --cflags --libs jansson 2>/dev/null) || flags=-ljansson
# shellcheck disable=SC2086
cc -O1 -Wall -pthread -o "$CRASH" "$LJ_HERE/crash.c" $flags >"$LJ_TMP/crash.build" 2>&1 ||
	fail "cannot build tests/mnt/crash.c: $(cat "$LJ_TMP/crash.build")"

# A sanitizer report in any daemon's output (the killed ones included).
check_sanitizer() {
	local f
	for f in "$LJ_TMP"/daemon.*.out; do
		[ -e "$f" ] || continue
		if grep -qE 'ERROR: [A-Za-z]*Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer' "$f"; then
			LJ_DLOG=$f
			fail "sanitizer report in $f"
		fi
	done
}

# Kills the daemon with SIGKILL, lets the client notice, then cleans the
# dead mount (only after the client has exited: a lazy unmount would let
# it write into the empty mount point below).
crash_daemon() {
	local cpid=$1 pid=$LJ_PID deadline
	kill -KILL "$pid" || fail "kill -9 $pid failed"
	wait "$pid" 2>/dev/null
	LJ_PID=""
	deadline=$(($(now_ms) + 15000))
	while lj_alive "$cpid"; do
		if [ "$(now_ms)" -ge "$deadline" ]; then
			echo "--- the client's threads still running 15 s after the kill:"
			for t in /proc/"$cpid"/task/*; do
				echo "$t: $(cat "$t/wchan" 2>/dev/null) $(cut -d' ' -f3 "$t/stat" 2>/dev/null)"
			done
			kill -KILL "$cpid"
			fail "the client was still running 15 s after the daemon was killed (a syscall on the dead mount did not return)"
		fi
		sleep 0.05
	done
	wait "$cpid"
	LJ_RC=$?
	timeout 10 fusermount3 -u -z "$MNT" || fail "fusermount3 -u -z $MNT failed after the kill"
	for _ in $(seq 50); do
		timeout 5 mountpoint -q "$MNT" || break
		sleep 0.1
	done
	if [ -n "$(ls -A "$MNT" 2>/dev/null)" ]; then
		fail "after the lazy unmount, $MNT holds files: $(ls -A "$MNT" | head)"
	fi
}

# Damages three jobs that had succeeded (and remembers which in the
# journal); sets DAMAGED to their names.
damage_store() {
	local -a succ
	local f size
	mapfile -t succ < <(awk '$1 == "succ" { print $2 }' "$J" | sort -u | head -n 3)
	[ "${#succ[@]}" -eq 3 ] || fail "fewer than 3 jobs had succeeded by round $DAMAGE_ROUND: ${succ[*]}"
	f=$STORE/jobs/${succ[0]}/status.json
	[ -f "$f" ] || fail "no $f in the store"
	size=$(stat -c %s "$f")
	truncate -s $((size / 2)) "$f"
	f=$STORE/jobs/${succ[1]}/status.json
	[ -f "$f" ] || fail "no $f in the store"
	head -c 700 /dev/urandom | tr '\0{}' 'x][' >"$f"
	f=$STORE/jobs/${succ[2]}/status.json
	[ -f "$f" ] || fail "no $f in the store"
	rm -f "$f"
	for j in "${succ[@]}"; do echo "corrupt $j" >>"$J"; done
	DAMAGED="${succ[*]}"
	echo "damaged: ${succ[0]} (status.json cut to half), ${succ[1]} (garbage), ${succ[2]} (deleted)"
}

t_start=$(now_ms)
lj_mount
DAMAGED=""
for r in $(seq 0 $((ROUNDS - 1))); do
	# kill moments 50 ms .. 2.9 s, in a scrambled order
	delay_ms=$((50 + ((r * 7) % 20) * 150))
	CRASH_KILL_MS=$delay_ms "$CRASH" run "$MNT" "$J" "$r" "$NJOBS" "$LJ_TMP/restart.list" >"$LJ_TMP/run.$r.out" 2>&1 &
	cpid=$!
	sleep "$(awk -v m="$delay_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	lj_alive "$LJ_PID" || fail "round $r: the daemon died before it was killed (see $LJ_DLOG)"
	crash_daemon "$cpid"
	[ "$LJ_RC" -eq 0 ] || fail "round $r: the client saw unexpected errors before the kill:
$(cat "$LJ_TMP/run.$r.out")"
	check_sanitizer

	if [ "$r" -eq "$DAMAGE_ROUND" ]; then
		damage_store
	fi
	lj_mount
	echo "round $r: killed after $delay_ms ms ($(tail -n 1 "$LJ_TMP/run.$r.out")); so far $(grep -c '^spec' "$J") jobs started, $(grep -c '^closed' "$J") inputs closed, $(grep -c '^restart' "$J") restarts"
	if [ "$r" -eq "$DAMAGE_ROUND" ]; then
		for j in $DAMAGED; do
			f=$(lj_snap "$MNT/.log")
			grep -F -- "$j" "$f" | grep -qF "status.json" ||
				fail "after damaging $j's status.json, .log has no line naming $j and status.json; it ends:
$(tail -n 20 "$f")"
		done
		echo ".log reports each damaged job"
	fi
	timeout 120 "$CRASH" verify "$MNT" "$J" "$r" 2 "$LJ_TMP/restart.list" >"$LJ_TMP/verify.$r.out" 2>&1
	rc=$?
	head -n 40 "$LJ_TMP/verify.$r.out"
	[ "$rc" -eq 124 ] && fail "round $r: crash verify hung (killed after 120 s)"
	if [ "$rc" -ne 0 ]; then
		# CRASH_KEEP_GOING=1 (debugging): note it, go on with the rounds
		[ -n "${CRASH_KEEP_GOING:-}" ] || fail "round $r: verification failed (see above)"
		echo "round $r: verification failed (see above)" >>"$LJ_TMP/FAILED"
	fi
done

n=$(awk '$1 == "spec" { n++ } END { print n + 0 }' "$J")
echo "$n jobs started over $ROUNDS rounds; $(awk '$1 == "closed"' "$J" | wc -l) inputs closed"
[ "$ROUNDS" -lt 20 ] || [ "$n" -ge 200 ] ||
	fail "only $n jobs were started over $ROUNDS rounds, fewer than 200: the kill moments are too early"
check_sanitizer

# The moment right after `wait` said succeeded: a job with a 100 MiB output
# (so that flushing it to the store takes a while), kill -9 as soon as
# `cat JOB/wait` has printed succeeded; after the remount it must still be
# succeeded, with its whole output.
cat >"$LJ_TMP/big.json" <<'EOF'
{"inputs": {"x": {"format": "bytes"}}, "outputs": {"y": {"from": "p"}},
 "nodes": {"p": {"op": "pass", "in": "x"}}}
EOF
new_job late "$LJ_TMP/big.json"
run_ok dd if=/dev/zero of="$MNT/late/input/x" bs=1M count=100 conv=fsync status=none
st=$(timeout 60 cat "$MNT/late/wait")
kill -KILL "$LJ_PID"
wait "$LJ_PID" 2>/dev/null
LJ_PID=""
assert_eq "$st" succeeded "late/wait"
timeout 10 fusermount3 -u -z "$MNT" || fail "fusermount3 -u -z $MNT failed after the kill"
stored=$(grep -m1 '"state"' "$STORE/jobs/late/status.json" 2>&1)
lj_mount
st=$(job_state late)
[ "$st" = succeeded ] || fail "job late: 'cat late/wait' had printed succeeded, then the daemon was killed at once; after the remount the job is '$st'. Before the remount, its status.json in the store said: $stored
$(job_diag late)"
wait_size "$MNT/late/output/y" 104857600 5
echo "a job killed right after wait said succeeded is still succeeded"

# Other damage, after a clean unmount: one succeeded job's spec.json is
# overwritten with garbage, another's largest stored stream is cut to half.
# The mount comes up, .log names both jobs, and every other job is as
# before.
lj_umount
mapfile -t ok < <(awk '$1 == "succ" { print $2 }' "$J" | sort -u | tail -n 2)
[ "${#ok[@]}" -eq 2 ] || fail "fewer than 2 succeeded jobs to damage"
head -c 300 /dev/urandom >"$STORE/jobs/${ok[0]}/spec.json"
sf=$(ls -S "$STORE/jobs/${ok[1]}/streams/"* | head -n 1)
[ -f "$sf" ] || fail "no stream file under $STORE/jobs/${ok[1]}/streams/"
size=$(stat -c %s "$sf")
truncate -s $((size / 2)) "$sf"
echo "damaged: ${ok[0]} (spec.json garbage), ${ok[1]} (${sf#"$STORE"/} cut from $size to $((size / 2)) bytes)"
for j in "${ok[@]}"; do echo "damaged $j" >>"$J"; done
lj_mount
dl=$(lj_snap "$MNT/.log")
# what .log says from this mount on
awk '/ livejobfs: started/ { n = NR } { l[NR] = $0 } END { for (i = n; i <= NR; i++) print l[i] }' "$dl" >"$dl.last"
timeout 120 "$CRASH" verify "$MNT" "$J" "$ROUNDS" 0 >"$LJ_TMP/verify.last.out" 2>&1
rc=$?
head -n 40 "$LJ_TMP/verify.last.out"
[ "$rc" -eq 0 ] || fail "after damaging ${ok[*]}, verification of the other jobs failed (see above)"
grep -F -- "${ok[0]}" "$dl.last" | grep -qF "spec" ||
	fail "${ok[0]}'s spec.json was overwritten with garbage before the mount; .log has no line naming ${ok[0]} and spec.json:
$(cat "$dl.last")"
for f in status log; do
	timeout 10 cat "$MNT/${ok[0]}/$f" >/dev/null || fail "cannot read ${ok[0]}/$f (spec.json damaged)"
done
grep -qF -- "${ok[1]}" "$dl.last" ||
	fail "${ok[1]}'s stored stream ${sf#"$STORE"/} was cut from $size to $((size / 2)) bytes before the mount (a half-written file), but .log does not report ${ok[1]}; after the mount it says:
$(cat "$dl.last")
--- ${ok[1]}/status:
$(timeout 10 cat "$MNT/${ok[1]}/status" | head -c 1500)"
check_sanitizer
lj_umount
echo "done in $((($(now_ms) - t_start) / 1000)) s"
