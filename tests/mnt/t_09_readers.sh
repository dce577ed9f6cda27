#!/bin/bash
# 1,000 readers blocked on one mount do not stop it: 10 jobs with open
# inputs, 100 cats blocked on each output; meanwhile another job is made,
# fed and read to the end within seconds, the blocked jobs take more input,
# and ls/status still answer. Then the inputs end and all 1,000 cats exit 0
# with the complete output.
# timeout: 300
. "$(dirname "$0")/lib.sh"

ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
write_spec_pass "$LJ_TMP/spec.json"
lj_mount

declare -a wfd cats
for j in $(seq 10); do
	new_job "r$j" "$LJ_TMP/spec.json"
	exec {fd}>"$MNT/r$j/input/x" || fail "cannot open r$j/input/x"
	wfd[j]=$fd
	printf 'first r%d\n' "$j" >&"${wfd[j]}" || fail "write to r$j/input/x failed"
done
for j in $(seq 10); do
	wait_size "$MNT/r$j/output/y" "$(printf 'first r%d\n' "$j" | wc -c)"
done

mkdir "$LJ_TMP/c"
for j in $(seq 10); do
	for k in $(seq 100); do
		# (the readers must not inherit the input fds, or the inputs
		# would never end)
		(
			for fd in "${wfd[@]}"; do eval "exec $fd>&-"; done
			exec timeout 250 cat "$MNT/r$j/output/y"
		) >"$LJ_TMP/c/$j.$k" 2>"$LJ_TMP/c/$j.$k.err" &
		cats+=($!)
	done
done
echo "started ${#cats[@]} readers"

# every cat has printed the first line and is now blocked at the end
deadline=$(($(now_ms) + 60000))
while :; do
	n=0
	for f in "$LJ_TMP"/c/*.*[0-9]; do [ -s "$f" ] && n=$((n + 1)); done
	[ "$n" -eq 1000 ] && break
	[ "$(now_ms)" -lt "$deadline" ] || fail "only $n of 1000 readers got the first line within 60 s"
	sleep 0.2
done
sleep 1
n=0
for p in "${cats[@]}"; do lj_alive "$p" && n=$((n + 1)); done
[ "$n" -eq 1000 ] || fail "only $n of the 1000 readers are still blocked (the others ended early)"
echo "1000 readers blocked"

# the mount still serves everyone else
t0=$(now_ms)
run_ok timeout 5 ls "$MNT"
slurp "$MNT/r1/status" "$LJ_TMP/r1.status" 5
json_check "$LJ_TMP/r1.status" "r1/status"
new_job other "$LJ_TMP/spec.json"
seq 1 1000 >"$LJ_TMP/other.in"
run_ok cp "$LJ_TMP/other.in" "$MNT/other/input/x"
slurp "$MNT/other/output/y" "$LJ_TMP/other.out" 10
assert_file_eq "$LJ_TMP/other.out" "$LJ_TMP/other.in" "other/output/y"
wait_state other succeeded 10
dt=$(($(now_ms) - t0))
echo "another job made, fed and read in $dt ms"
[ "$dt" -lt 10000 ] || fail "another job took $dt ms with 1000 readers blocked"

# the blocked jobs still take input
for j in $(seq 10); do
	printf 'second r%d\n' "$j" >&"${wfd[j]}" || fail "second write to r$j/input/x failed"
done
for j in $(seq 10); do
	wait_size "$MNT/r$j/output/y" "$(printf 'first r%d\nsecond r%d\n' "$j" "$j" | wc -c)"
done
for j in $(seq 10); do
	fd=${wfd[j]}
	exec {fd}>&-
done

# all 1000 readers end with status 0 and the whole output
deadline=$(($(now_ms) + 60000))
for p in "${cats[@]}"; do
	while lj_alive "$p"; do
		[ "$(now_ms)" -lt "$deadline" ] || fail "reader $p still running 60 s after the inputs ended"
		sleep 0.05
	done
done
i=0
bad=0
for j in $(seq 10); do
	printf 'first r%d\nsecond r%d\n' "$j" "$j" >"$LJ_TMP/exp.$j"
	for k in $(seq 100); do
		wait "${cats[i]}"
		rc=$?
		i=$((i + 1))
		if [ "$rc" -ne 0 ] || ! cmp -s "$LJ_TMP/c/$j.$k" "$LJ_TMP/exp.$j"; then
			[ "$bad" -eq 0 ] && first_bad="reader $j.$k: exit $rc, stderr '$(cat "$LJ_TMP/c/$j.$k.err")', output: $(od -c "$LJ_TMP/c/$j.$k" | head -n 3)"
			bad=$((bad + 1))
		fi
	done
done
[ "$bad" -eq 0 ] || fail "$bad of 1000 readers failed; first: $first_bad"
for j in $(seq 10); do
	wait_state "r$j" succeeded 10
done
echo "1000 readers ended with status 0 and the whole output"

lj_umount
