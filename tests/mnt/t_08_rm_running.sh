#!/bin/bash
# rm -r of a running job whose exec nodes run `sleep 1000.<unique>`: rm -r
# succeeds, the job is no longer listed, the sleeps (children of the
# daemon before) are gone within 5 s, and STORE/jobs/JOB is removed. The
# name can be used again for a new job afterwards.
. "$(dirname "$0")/lib.sh"

u1="1000.$$1"
u2="1000.$$2"
cat >"$LJ_TMP/spec.json" <<EOF
{
  "name": "sleepers",
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y1": {"from": "s1"}, "y2": {"from": "s2"}},
  "nodes": {
    "s1": {"op": "exec", "in": "x", "argv": ["sleep", "$u1"]},
    "s2": {"op": "exec", "in": "x", "argv": ["sleep", "$u2"]}
  }
}
EOF

# sleepers: pids of the processes with the argument 1000.<pid>[12]
# (a scan of /proc: procps may be missing)
sleepers() {
	grep -lsxzE "1000\\.$$[12]" /proc/[0-9]*/cmdline 2>/dev/null |
		sed 's|^/proc/||; s|/cmdline$||' | tr '\n' ' '
}

# is_descendant PID ANCESTOR
is_descendant() {
	local p=$1 i
	for i in $(seq 20); do
		lj_ppid "$p" || return 1
		p=$LJ_PPID
		[ "$p" = "$2" ] && return 0
		[ "$p" -le 1 ] && return 1
	done
	return 1
}

lj_mount
new_job doomed "$LJ_TMP/spec.json"
exec 3>"$MNT/doomed/input/x" || fail "cannot open doomed/input/x"
printf 'hello\n' >&3

deadline=$(($(now_ms) + 10000))
while [ "$(sleepers | wc -w)" -lt 2 ]; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "the two exec'd sleeps are not running after 10 s (found: $(sleepers))
$(job_diag doomed)"
	sleep 0.1
done
for p in $(sleepers); do
	is_descendant "$p" "$LJ_PID" || fail "sleep $p is not a descendant of the daemon $LJ_PID"
done
assert_eq "$(job_state doomed)" running "state before rm -r"
[ -d "$STORE/jobs/doomed" ] || fail "the job's store directory $STORE/jobs/doomed does not exist"

run_ok rm -r "$MNT/doomed"
exec 3>&-
[ -e "$MNT/doomed" ] && fail "$MNT/doomed still exists after rm -r"
timeout 10 ls -A "$MNT" | grep -qx doomed && fail "ls still lists doomed after rm -r"

deadline=$(($(now_ms) + 5000))
while [ -n "$(sleepers)" ]; do
	if [ "$(now_ms)" -ge "$deadline" ]; then
		left=$(sleepers)
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null # they were started for this test
		fail "exec children still alive 5 s after rm -r: $left"
	fi
	sleep 0.1
done
deadline=$(($(now_ms) + 5000))
while [ -e "$STORE/jobs/doomed" ]; do
	[ "$(now_ms)" -lt "$deadline" ] ||
		fail "$STORE/jobs/doomed still exists 5 s after rm -r: $(ls -A "$STORE/jobs/doomed")"
	sleep 0.1
done

# the name is free again, for a fresh job
run_ok mkdir "$MNT/doomed"
assert_eq "$(job_state doomed)" new "state of the new job with the old name"
write_spec_pass "$LJ_TMP/pass.json"
run_ok cp "$LJ_TMP/pass.json" "$MNT/doomed/spec.json"
printf 'again\n' >"$LJ_TMP/in"
run_ok cp "$LJ_TMP/in" "$MNT/doomed/input/x"
wait_state doomed succeeded
slurp "$MNT/doomed/output/y" "$LJ_TMP/out"
assert_file_eq "$LJ_TMP/out" "$LJ_TMP/in" "output of the new job named doomed"

lj_umount
