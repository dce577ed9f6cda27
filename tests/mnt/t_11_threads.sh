#!/bin/bash
# The pool never sleeps waiting for input:
#  - threads=1: a 64-node chain (upper/lower alternating) over 20,000 lines
#    completes with the right output;
#  - threads=2: 1,000 jobs live at once (all 1,000 inputs held open by one
#    process): every job is running and has produced its output while its
#    input is still open; then all inputs close and all 1,000 succeed.
# timeout: 420
. "$(dirname "$0")/lib.sh"

ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 1100 ] || fail "cannot raise ulimit -n to 1100 (hard limit $(ulimit -Hn))"

# --- threads=1, 64-node chain ---
{
	printf '{\n  "name": "chain64",\n  "inputs": {"x": {"format": "lines"}},\n'
	printf '  "outputs": {"y": {"from": "n64"}},\n  "nodes": {\n'
	prev=x
	for i in $(seq 64); do
		if [ $((i % 2)) -eq 1 ]; then op=upper; else op=lower; fi
		[ $((i % 8)) -eq 3 ] && op=pass
		sep=,
		[ "$i" -eq 64 ] && sep=
		printf '    "n%d": {"op": "%s", "in": "%s"}%s\n' "$i" "$op" "$prev" "$sep"
		prev=n$i
	done
	printf '  }\n}\n'
} >"$LJ_TMP/chain.json"
for i in $(seq 20000); do printf 'Hello, World %d\n' "$i"; done >"$LJ_TMP/chain.in"
tr 'A-Z' 'a-z' <"$LJ_TMP/chain.in" >"$LJ_TMP/chain.expected"

lj_mount threads=1
assert_eq "$(json_get "$(lj_snap "$MNT/.env")" threads)" 1 ".env threads"
new_job chain "$LJ_TMP/chain.json"
run_ok cp "$LJ_TMP/chain.in" "$MNT/chain/input/x"
wait_state chain succeeded 120
slurp "$MNT/chain/output/y" "$LJ_TMP/chain.out"
assert_file_eq "$LJ_TMP/chain.out" "$LJ_TMP/chain.expected" "chain/output/y"
echo "64-node chain ok on threads=1"
lj_umount

# --- threads=2, 1,000 live jobs ---
N=1000
write_spec_pass "$LJ_TMP/spec.json"
lj_mount threads=2
assert_eq "$(json_get "$(lj_snap "$MNT/.env")" threads)" 2 ".env threads"
: >"$LJ_TMP/hold.list"
: >"$LJ_TMP/all.expected"
t0=$(now_ms)
for i in $(seq $N); do
	mkdir "$MNT/j$i" 2>"$LJ_TMP/mk.err" || fail "mkdir j$i failed: $(cat "$LJ_TMP/mk.err")"
	timeout 30 cp "$LJ_TMP/spec.json" "$MNT/j$i/spec.json" 2>"$LJ_TMP/mk.err" ||
		fail "cp spec.json to j$i failed: $(cat "$LJ_TMP/mk.err")"
	printf '%s\tline of job j%d\n' "$MNT/j$i/input/x" "$i" >>"$LJ_TMP/hold.list"
	printf 'line of job j%d\n' "$i" >>"$LJ_TMP/all.expected"
done
echo "$N jobs made in $(($(now_ms) - t0)) ms"

"$LJ_TOOL" hold "$LJ_TMP/hold.list" "$LJ_TMP/ready" "$LJ_TMP/go" >"$LJ_TMP/hold.out" 2>&1 &
holder=$!
deadline=$(($(now_ms) + 120000))
until [ -e "$LJ_TMP/ready" ]; do
	lj_alive "$holder" || fail "the holder of the $N inputs failed: $(cat "$LJ_TMP/hold.out")"
	[ "$(now_ms)" -lt "$deadline" ] || fail "opening and writing $N inputs took more than 120 s"
	sleep 0.1
done
echo "$N inputs open, one line written to each"

outs=()
stats=()
for i in $(seq $N); do
	outs+=("$MNT/j$i/output/y")
	stats+=("$MNT/j$i/status")
done
# every job produces its line while all inputs are still open
deadline=$(($(now_ms) + 120000))
while :; do
	timeout 60 stat -c %s "${outs[@]}" >"$LJ_TMP/sizes" 2>"$LJ_TMP/sizes.err" || fail "stat of the outputs failed: $(head -n 3 "$LJ_TMP/sizes.err")"
	i=0
	pending=0
	while read -r size; do
		i=$((i + 1))
		[ "$size" -eq "$(printf 'line of job j%d\n' "$i" | wc -c)" ] || pending=$((pending + 1))
	done <"$LJ_TMP/sizes"
	[ "$pending" -eq 0 ] && break
	[ "$(now_ms)" -lt "$deadline" ] || fail "$pending of $N outputs lack their line 120 s after their inputs were written"
	sleep 0.5
done
timeout 120 "$LJ_TOOL" jget state "${stats[@]}" >"$LJ_TMP/states" || fail "a status is not valid JSON: $(grep -m1 '^!' "$LJ_TMP/states")"
running=$(grep -cx running "$LJ_TMP/states")
[ "$running" -eq "$N" ] || fail "only $running of $N jobs are running with their inputs open: $(sort "$LJ_TMP/states" | uniq -c | tr '\n' ' ')"
lj_alive "$holder" || fail "the holder exited early: $(cat "$LJ_TMP/hold.out")"
echo "$N jobs live at once, each with its output so far"

touch "$LJ_TMP/go"
wait_exit "$holder" 120 "closing the $N inputs"
[ "$LJ_RC" -eq 0 ] || fail "closing the inputs failed: $(cat "$LJ_TMP/hold.out")"
grep -qx "closed $N (0 failed)" "$LJ_TMP/hold.out" || fail "holder: $(cat "$LJ_TMP/hold.out")"

deadline=$(($(now_ms) + 120000))
while :; do
	timeout 120 "$LJ_TOOL" jget state "${stats[@]}" >"$LJ_TMP/states" || fail "a status is not valid JSON: $(grep -m1 '^!' "$LJ_TMP/states")"
	done_n=$(grep -cx succeeded "$LJ_TMP/states")
	[ "$done_n" -eq "$N" ] && break
	[ "$(now_ms)" -lt "$deadline" ] || fail "only $done_n of $N jobs succeeded 120 s after their inputs closed: $(sort "$LJ_TMP/states" | uniq -c | tr '\n' ' ')"
	sleep 0.5
done
timeout 120 cat "${outs[@]}" >"$LJ_TMP/all.out" || fail "reading the $N outputs failed"
assert_file_eq "$LJ_TMP/all.out" "$LJ_TMP/all.expected" "the $N outputs, concatenated in job order"
echo "$N jobs succeeded on threads=2"

lj_umount
