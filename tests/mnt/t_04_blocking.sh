#!/bin/bash
# Outputs are live streams: with the input kept open (exec 3>input/x),
# cat prints the bytes so far and then blocks (timeout 1 cat ends by the
# timeout, not by EOF); a second reader from offset 0 sees the same bytes;
# st_size is the bytes produced; an O_NONBLOCK read at the end fails EAGAIN;
# poll() says nothing to read at the end and readable once data arrives; a
# blocked cat gets the new data, and ends (status 0) when the input closes.
. "$(dirname "$0")/lib.sh"

write_spec_pass "$LJ_TMP/spec.json"
lj_mount
new_job blk "$LJ_TMP/spec.json"
out=$MNT/blk/output/y

exec 3>"$MNT/blk/input/x" || fail "cannot open blk/input/x for writing"
printf 'line1\n' >&3 || fail "write to blk/input/x failed"
wait_size "$out" 6
assert_eq "$(job_state blk)" running "state while the input is open"

printf 'line1\n' >"$LJ_TMP/exp1"
for reader in 1 2; do
	t0=$(now_ms)
	timeout 1 cat "$out" >"$LJ_TMP/r$reader" 2>"$LJ_TMP/r$reader.err"
	rc=$?
	[ "$rc" -eq 124 ] || fail "reader $reader: cat of a live output ended (exit $rc, after $(($(now_ms) - t0)) ms) instead of blocking: $(cat "$LJ_TMP/r$reader.err")"
	assert_file_eq "$LJ_TMP/r$reader" "$LJ_TMP/exp1" "reader $reader: bytes printed before it blocked"
done
assert_eq "$(stat -c %s "$out")" 6 "st_size of the output"

assert_eq "$("$LJ_TOOL" nbread "$out" 0)" "data 6" "O_NONBLOCK read at offset 0"
assert_eq "$("$LJ_TOOL" nbread "$out" 6)" "errno EAGAIN" "O_NONBLOCK read at the end"

res=$("$LJ_TOOL" poll "$out" 300)
assert_eq "$(echo "$res" | tr '\n' ' ')" "drained 6 timeout " "read until EAGAIN, then poll(300 ms) with no new data"

# a poll() and a cat waiting while the next line is written
nofd "$LJ_TOOL" poll "$out" 10000 >"$LJ_TMP/poll.out" 2>&1 &
poll_pid=$!
nofd timeout 30 cat "$out" >"$LJ_TMP/r3" 2>"$LJ_TMP/r3.err" &
cat_pid=$!
wait_size "$LJ_TMP/r3" 6
sleep 0.5
lj_alive "$poll_pid" || fail "poll() returned before any new data: $(cat "$LJ_TMP/poll.out")"
lj_alive "$cat_pid" || fail "cat ended while the input is open: $(cat "$LJ_TMP/r3.err")"

printf 'line2\n' >&3 || fail "second write to blk/input/x failed"
wait_exit "$poll_pid" 5 "poll() after new data arrived"
grep -q '^readable' "$LJ_TMP/poll.out" || fail "poll() did not report readable: $(cat "$LJ_TMP/poll.out")"
wait_size "$out" 12
wait_size "$LJ_TMP/r3" 12 5
lj_alive "$cat_pid" || fail "cat ended while the input is open: $(cat "$LJ_TMP/r3.err")"
assert_eq "$("$LJ_TOOL" nbread "$out" 12)" "errno EAGAIN" "O_NONBLOCK read at the new end"

exec 3>&- # ends the input stream
wait_exit "$cat_pid" 10 "the blocked cat after the input was closed"
[ "$LJ_RC" -eq 0 ] || fail "the blocked cat exited $LJ_RC at the end of the job: $(cat "$LJ_TMP/r3.err")"
printf 'line1\nline2\n' >"$LJ_TMP/exp2"
assert_file_eq "$LJ_TMP/r3" "$LJ_TMP/exp2" "what the blocked cat printed"
wait_state blk succeeded
slurp "$out" "$LJ_TMP/r4" 10
assert_file_eq "$LJ_TMP/r4" "$LJ_TMP/exp2" "cat of the ended output"
assert_eq "$(stat -c %s "$out")" 12 "st_size of the ended output"
assert_eq "$("$LJ_TOOL" nbread "$out" 12)" "eof" "O_NONBLOCK read at the end of an ended output"

lj_umount
