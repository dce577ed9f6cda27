#!/bin/bash
# A job whose exec node exits 3 fails: status state "failed" with error
# "boom: exit status 3", the log has "stderr: oops", cat of the output fails
# with "Input/output error", cat wait prints "failed". A reader blocked at
# the end of a live output when the job fails gets its bytes and then EIO.
# accept_exit turns a non-zero status into success.
. "$(dirname "$0")/lib.sh"

cat >"$LJ_TMP/boom.json" <<'EOF'
{
  "name": "boom",
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "boom"}},
  "nodes":   {"boom": {"op": "exec", "in": "x", "argv": ["sh", "-c", "echo oops >&2; exit 3"]}}
}
EOF
printf 'a\nb\n' >"$LJ_TMP/in.txt"
lj_mount

# The input is written (and ended) before the spec, so the job has all it
# needs from its start.
run_ok mkdir "$MNT/bad"
run_ok mkdir "$MNT/bad/input"
run_ok cp "$LJ_TMP/in.txt" "$MNT/bad/input/x"
run_ok cp "$LJ_TMP/boom.json" "$MNT/bad/spec.json"
wait_state bad failed
slurp "$MNT/bad/status" "$LJ_TMP/st.json" 10
json_check "$LJ_TMP/st.json" "bad/status"
err=$(json_get "$LJ_TMP/st.json" error)
case $err in
*"boom: exit status 3"*) ;;
*) fail "status error is '$err', expected it to contain 'boom: exit status 3'" ;;
esac
assert_contains "$MNT/bad/log" "stderr: oops" "bad/log"
assert_match "$MNT/bad/log" "ERROR .*exit status 3" "bad/log (an ERROR line with the exit status)"
check_log_format "$MNT/bad/log"
expect_errno "Input/output error" cat "$MNT/bad/output/y"
printf 'failed\n' >"$LJ_TMP/failed"
slurp "$MNT/bad/wait" "$LJ_TMP/wait.got" 10
assert_file_eq "$LJ_TMP/wait.got" "$LJ_TMP/failed" "cat bad/wait"

# A live failure: the exec copies one line, then fails; a cat blocked at
# the end of the output gets that line, then EIO.
cat >"$LJ_TMP/boom2.json" <<'EOF'
{
  "name": "boom2",
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "half"}},
  "nodes":   {"half": {"op": "exec", "in": "x",
                       "argv": ["sh", "-c", "read l; echo \"$l\"; read l; echo late >&2; exit 4"]}}
}
EOF
new_job bad2 "$LJ_TMP/boom2.json"
exec 3>"$MNT/bad2/input/x" || fail "cannot open bad2/input/x"
printf 'first\n' >&3
wait_size "$MNT/bad2/output/y" 6
nofd timeout 30 cat "$MNT/bad2/output/y" >"$LJ_TMP/r.out" 2>"$LJ_TMP/r.err" &
reader=$!
wait_size "$LJ_TMP/r.out" 6 10
sleep 0.3
lj_alive "$reader" || fail "cat of bad2/output/y ended while the job runs: $(cat "$LJ_TMP/r.err")"
printf 'second\n' >&3 # the exec reads it and exits 4
wait_state bad2 failed
wait_exit "$reader" 5 "the cat blocked on bad2/output/y after the job failed"
[ "$LJ_RC" -ne 0 ] || fail "the blocked cat exited 0 although the job failed"
grep -q "Input/output error" "$LJ_TMP/r.err" || fail "the blocked cat's error is not EIO: $(cat "$LJ_TMP/r.err")"
printf 'first\n' >"$LJ_TMP/first"
assert_file_eq "$LJ_TMP/r.out" "$LJ_TMP/first" "what the blocked cat printed before EIO"
exec 3>&-
assert_contains "$MNT/bad2/log" "stderr: late" "bad2/log"
case $(status_get bad2 error) in
*"half: exit status 4"*) ;;
*) fail "bad2 status error is '$(status_get bad2 error)', expected 'half: exit status 4'" ;;
esac

# accept_exit: exit status 3 is accepted
cat >"$LJ_TMP/ok3.json" <<'EOF'
{
  "name": "ok3",
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "c"}},
  "nodes":   {"c": {"op": "exec", "in": "x", "argv": ["sh", "-c", "cat; exit 3"], "accept_exit": [0, 3]}}
}
EOF
new_job ok3 "$LJ_TMP/ok3.json"
run_ok cp "$LJ_TMP/in.txt" "$MNT/ok3/input/x"
wait_state ok3 succeeded
slurp "$MNT/ok3/output/y" "$LJ_TMP/ok3.out"
assert_file_eq "$LJ_TMP/ok3.out" "$LJ_TMP/in.txt" "ok3/output/y"

lj_umount
