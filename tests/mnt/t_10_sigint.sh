#!/bin/bash
# SIGINT to a reader blocked at the end of a live output returns at once:
#  - a program with a SIGINT handler (no SA_RESTART): its read() fails
#    EINTR within 1 s (the daemon answers the interrupt);
#  - a plain cat with SIGINT's default action (Ctrl-C in a terminal) ends
#    within 1 s.
# The mount keeps working: the job then takes more input and succeeds.
. "$(dirname "$0")/lib.sh"

write_spec_pass "$LJ_TMP/spec.json"
lj_mount
new_job si "$LJ_TMP/spec.json"
out=$MNT/si/output/y
exec 3>"$MNT/si/input/x" || fail "cannot open si/input/x"
printf 'hello\n' >&3
wait_size "$out" 6

# interrupt PID WHAT: SIGINT, then the process must be gone within 1 s
interrupt() {
	local t0 dt
	t0=$(now_ms)
	kill -INT "$1" || fail "cannot signal $2"
	while lj_alive "$1"; do
		dt=$(($(now_ms) - t0))
		[ "$dt" -lt 5000 ] || fail "$2 still blocked 5 s after SIGINT"
		sleep 0.01
	done
	dt=$(($(now_ms) - t0))
	echo "$2 returned $dt ms after SIGINT"
	[ "$dt" -lt 1000 ] || fail "$2 took $dt ms to return after SIGINT (limit 1000 ms)"
}

# 1. read() with a SIGINT handler: EINTR
for round in 1 2; do
	nofd "$LJ_TOOL" intread "$out" >"$LJ_TMP/ir.$round" 2>&1 &
	pid=$!
	wait_size "$LJ_TMP/ir.$round" 6 10 # "got 6\n"
	sleep 0.5                           # now parked at the end
	lj_alive "$pid" || fail "intread ended before SIGINT: $(cat "$LJ_TMP/ir.$round")"
	interrupt "$pid" "a read() with a SIGINT handler (round $round)"
	wait "$pid"
	assert_eq "$(tail -n 1 "$LJ_TMP/ir.$round")" "EINTR 6" "how the blocked read() ended (round $round)"
done

# 2. plain cat, SIGINT with its default action
nofd env --default-signal=INT cat "$out" >"$LJ_TMP/cat.out" 2>&1 &
pid=$!
wait_size "$LJ_TMP/cat.out" 6 10
sleep 0.5
lj_alive "$pid" || fail "cat ended before SIGINT: $(cat "$LJ_TMP/cat.out")"
interrupt "$pid" "a blocked cat"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || fail "cat's exit status after SIGINT is $rc, expected 130 (killed by SIGINT)"

# the job and the mount go on
printf 'world\n' >&3 || fail "write after the interrupts failed"
exec 3>&-
wait_state si succeeded
printf 'hello\nworld\n' >"$LJ_TMP/expected"
slurp "$out" "$LJ_TMP/final"
assert_file_eq "$LJ_TMP/final" "$LJ_TMP/expected" "si/output/y"

lj_umount
