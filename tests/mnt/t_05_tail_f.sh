#!/bin/bash
# tail -f follows a live output and the job's log: lines written one at a
# time into a delay job (input kept open) show up in tail -f's output one by
# one while the job runs; tail -f of the log shows the lines logged after it
# started (the job's end) and, in the end, exactly the log's bytes.
# (stdbuf -oL: tail writes to a file here, not to a terminal.)
. "$(dirname "$0")/lib.sh"

cat >"$LJ_TMP/spec.json" <<'EOF'
{
  "name": "slow",
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "d"}},
  "nodes":   {"d": {"op": "delay", "in": "x", "ms": 200}}
}
EOF
lj_mount
new_job tl "$LJ_TMP/spec.json"

lines_in() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

timeout 100 stdbuf -oL tail -n +1 -s 0.2 -f "$MNT/tl/output/y" >"$LJ_TMP/tail.out" 2>"$LJ_TMP/tail.err" &
tail_out=$!
timeout 100 stdbuf -oL tail -n +1 -s 0.2 -f "$MNT/tl/log" >"$LJ_TMP/taillog.out" 2>"$LJ_TMP/taillog.err" &
tail_log=$!
# the log already has lines (creation, spec accepted): tail shows them
deadline=$(($(now_ms) + 5000))
until [ -s "$LJ_TMP/taillog.out" ]; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "tail -f log showed nothing in 5 s: $(cat "$LJ_TMP/taillog.err")"
	sleep 0.1
done
log_at_start=$(stat -c %s "$LJ_TMP/taillog.out")

exec 3>"$MNT/tl/input/x" || fail "cannot open tl/input/x"
: >"$LJ_TMP/expected"
for i in 1 2 3 4 5; do
	printf 'tick %d\n' "$i" >&3 || fail "write $i to tl/input/x failed"
	printf 'tick %d\n' "$i" >>"$LJ_TMP/expected"
	deadline=$(($(now_ms) + 5000))
	until [ "$(lines_in "$LJ_TMP/tail.out")" -ge "$i" ]; do
		[ "$(now_ms)" -lt "$deadline" ] ||
			fail "tail -f output/y: line $i not shown within 5 s while the job runs (has $(lines_in "$LJ_TMP/tail.out") lines; stderr: $(cat "$LJ_TMP/tail.err"))"
		sleep 0.05
	done
	assert_eq "$(lines_in "$LJ_TMP/tail.out")" "$i" "lines shown by tail -f after $i written"
	assert_eq "$(job_state tl)" running "job state while line $i is shown"
	sleep 0.3
done
exec 3>&-
wait_state tl succeeded

# tail -f (polling every 0.2 s) must catch up with the whole log
deadline=$(($(now_ms) + 5000))
while :; do
	timeout 10 cat "$MNT/tl/log" >"$LJ_TMP/log.now" || fail "cannot read tl/log"
	cmp -s "$LJ_TMP/taillog.out" "$LJ_TMP/log.now" && break
	[ "$(now_ms)" -lt "$deadline" ] ||
		assert_file_eq "$LJ_TMP/taillog.out" "$LJ_TMP/log.now" "tail -f log (5 s after the job's end) vs cat log"
	sleep 0.2
done
[ "$(stat -c %s "$LJ_TMP/taillog.out")" -gt "$log_at_start" ] ||
	fail "tail -f log showed no line logged after it started (still $log_at_start bytes)"
assert_file_eq "$LJ_TMP/tail.out" "$LJ_TMP/expected" "tail -f output/y"
lj_alive "$tail_out" || fail "tail -f output/y ended by itself: $(cat "$LJ_TMP/tail.err")"
lj_alive "$tail_log" || fail "tail -f log ended by itself: $(cat "$LJ_TMP/taillog.err")"
kill "$tail_out" "$tail_log"
wait_exit "$tail_out" 5 "tail -f output/y after kill"
wait_exit "$tail_log" 5 "tail -f log after kill"

lj_umount
