#!/bin/bash
# FUSE over io_uring: with the fuse module's enable_uring on (this test turns
# it on and puts it back as it was), the daemon serves requests from one
# io_uring queue per CPU (its lj-uring threads) and everything a user does
# works as over /dev/fuse: cp and cat of a 64 MiB file byte for byte, a
# reader blocked at a live end woken by a write from another process,
# tail -f, 300 readers blocked at once (more than a queue's first entries),
# a failed job's EIO, rm -r of a running job, 50 small jobs, and a clean
# unmount; then -o uring=off keeps to /dev/fuse (no lj-uring thread). Needs root and a kernel built with
# FUSE over io_uring (Linux 6.14+); without them there is nothing to test.
. "$(dirname "$0")/lib.sh"

PARAM=/sys/module/fuse/parameters/enable_uring
if [ ! -w "$PARAM" ]; then
	echo "SKIP: $PARAM is not writable here (needs root and Linux 6.14+ with FUSE over io_uring)"
	exit 0
fi
was=$(cat "$PARAM")
restore_param() { echo "$was" >"$PARAM" 2>/dev/null; }
trap 'restore_param; lj_cleanup' EXIT
echo Y >"$PARAM" || fail "cannot turn $PARAM on"

ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
lj_mount
ncpu=$(getconf _NPROCESSORS_CONF)
nq=$(grep -lx lj-uring /proc/"$LJ_PID"/task/*/comm 2>/dev/null | wc -l)
[ "$nq" -eq "$ncpu" ] || fail "expected $ncpu lj-uring queue threads (one per CPU), found $nq"
echo "$nq io_uring queues"

# cp then cat, byte for byte (writes and 1 MiB reads through the rings)
write_spec_pass "$LJ_TMP/spec.json"
new_job big "$LJ_TMP/spec.json"
head -c $((64 << 20)) /dev/urandom >"$LJ_TMP/big.in"
run_ok cp "$LJ_TMP/big.in" "$MNT/big/input/x"
run_ok cp "$MNT/big/output/y" "$LJ_TMP/big.out"
assert_file_eq "$LJ_TMP/big.out" "$LJ_TMP/big.in" "big/output/y"
wait_state big succeeded 10

# a blocked reader is woken by a write from another process; tail -f follows
write_spec_pass "$LJ_TMP/lines.json" lines
new_job live "$LJ_TMP/lines.json"
exec 3>"$MNT/live/input/x" || fail "cannot open live/input/x"
nofd timeout 60 cat "$MNT/live/output/y" >"$LJ_TMP/cat.out" &
cat_pid=$!
nofd timeout 60 stdbuf -oL tail -n +1 -s 0.1 -f "$MNT/live/output/y" >"$LJ_TMP/tail.out" &
tail_pid=$!
sleep 0.3
lj_alive "$cat_pid" || fail "cat of a live output ended before any input"
echo "one line" >&3 || fail "write to live/input/x failed"
wait_size "$LJ_TMP/cat.out" 9 5
wait_size "$LJ_TMP/tail.out" 9 5
lj_alive "$cat_pid" || fail "cat ended while the input was still open"
exec 3>&-
wait_exit "$cat_pid" 10 "cat of live/output/y"
assert_eq "$LJ_RC" 0 "cat's exit status after the input ended"
kill "$tail_pid" 2>/dev/null

# 300 readers blocked at once, then all woken
new_job many "$LJ_TMP/lines.json"
exec 3>"$MNT/many/input/x" || fail "cannot open many/input/x"
mkdir "$LJ_TMP/r"
readers=()
for k in $(seq 300); do
	nofd timeout 100 cat "$MNT/many/output/y" >"$LJ_TMP/r/$k" &
	readers+=($!)
done
sleep 1
t0=$(now_ms)
run_ok timeout 5 ls "$MNT/many"
dt=$(($(now_ms) - t0))
[ "$dt" -lt 5000 ] || fail "ls took $dt ms with 300 readers blocked"
echo "wake up" >&3 || fail "write to many/input/x failed"
exec 3>&-
for p in "${readers[@]}"; do wait_exit "$p" 30 "a blocked reader"; done
n=0
for k in $(seq 300); do [ "$(cat "$LJ_TMP/r/$k")" = "wake up" ] && n=$((n + 1)); done
assert_eq "$n" 300 "readers that got the line"

# a failed job: the reader at the end gets EIO
cat >"$LJ_TMP/fail.json" <<'EOF'
{"inputs": {"x": {}}, "outputs": {"y": {"from": "e"}},
 "nodes": {"e": {"op": "exec", "in": "x", "argv": ["sh", "-c", "cat; exit 3"]}}}
EOF
new_job bad "$LJ_TMP/fail.json"
echo data >"$MNT/bad/input/x" || fail "write to bad/input/x failed"
wait_state bad failed 10
expect_errno "Input/output error" cat "$MNT/bad/output/y"

# rm -r of a running job
new_job gone "$LJ_TMP/lines.json"
exec 3>"$MNT/gone/input/x" || fail "cannot open gone/input/x"
run_ok rm -r "$MNT/gone"
exec 3>&-
[ ! -e "$MNT/gone" ] || fail "gone is still there after rm -r"

# small jobs, one after another
for i in $(seq 50); do
	mkdir "$MNT/s$i" || fail "mkdir s$i failed"
	cp "$LJ_TMP/lines.json" "$MNT/s$i/spec.json" || fail "spec of s$i refused"
	echo "job $i" >"$MNT/s$i/input/x" || fail "input of s$i failed"
	assert_eq "$(timeout 10 cat "$MNT/s$i/output/y")" "job $i" "s$i/output/y"
	rmdir "$MNT/s$i" || fail "rmdir s$i failed"
done

lj_umount
echo "unmounted, daemon exited $LJ_STATUS"

# -o uring=off: /dev/fuse alone, the same answers
lj_mount uring=off
nq=$(grep -lx lj-uring /proc/"$LJ_PID"/task/*/comm 2>/dev/null | wc -l)
assert_eq "$nq" 0 "lj-uring threads with -o uring=off"
new_job off "$LJ_TMP/lines.json"
echo "no ring" >"$MNT/off/input/x" || fail "write to off/input/x failed"
assert_eq "$(timeout 10 cat "$MNT/off/output/y")" "no ring" "off/output/y"
lj_umount
