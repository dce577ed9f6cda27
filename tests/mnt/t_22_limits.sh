#!/bin/bash
# Limits and resource exhaustion:
#  - -o max_jobs=N: mkdir of job N+1 fails EDQUOT and .log has an ERROR line
#    naming max_jobs; after rm -r of one job mkdir works again;
#  - -o max_job_bytes=N (K/M suffixes): the bytes of ALL streams of a job
#    (inputs, intermediate streams, outputs) count. An input write that would
#    pass the limit fails EFBIG and appends nothing (the writes around it are
#    kept), the job log says "input/TAG: write refused: ... max_job_bytes";
#    a node output that would pass it fails the job ("output refused: ...
#    max_job_bytes"), its readers get EIO. Bad values (abc, 10X, -5, 1.5M,
#    empty, max_jobs=-1, uring=maybe) make the daemon refuse to start: message on stderr,
#    non-zero exit, nothing mounted;
#  - a full store (a 4 MiB tmpfs): the writer of a too-big input gets ENOSPC,
#    that job fails with a log line naming the store write failure, earlier
#    jobs keep their bytes, the mount keeps serving (ls, .env, outputs), and
#    after rm -r of the big job a new job succeeds; all survives a remount;
#  - exec timeout_ms: ["sleep", ...] with timeout_ms 300 fails the job within
#    ~1 s ("timed out"), and the program is gone; a fast program is not hit;
#  - exec stderr flood (20 MB of "oops" lines, and 3 MB of empty lines): the
#    job log stays under 2 MiB, holds at most ~1 MiB of stderr lines and then
#    exactly one "the rest is not logged" marker; stdout is intact.
# timeout: 90
. "$(dirname "$0")/lib.sh"

T=$LJ_TMP
[ "$(id -u)" -eq 0 ] || fail "this test mounts a tmpfs as the store and must run as root"
command -v python3 >/dev/null || fail "python3 is missing"
UNIQ="$$$RANDOM"
SMALL=$T/small
ORIG_STORE=$STORE

# The tmpfs store must be unmounted after the daemon, before lib.sh's exit.
t22_cleanup() {
	local rc=$?
	trap - EXIT
	set +u
	[ -n "$LJ_PID" ] && lj_umount quiet
	if grep -qF " $SMALL tmpfs " /proc/self/mounts 2>/dev/null; then
		timeout 10 umount "$SMALL" 2>/dev/null || timeout 10 umount -l "$SMALL"
	fi
	(exit "$rc")
	lj_cleanup
}
trap t22_cleanup EXIT

# pwrite.py FILE SIZE...: one open(O_WRONLY), then one write() of SIZE bytes
# ("a"s ending in "\n") per argument; prints "SIZE ok N" or "SIZE ERRNONAME".
cat >"$T/pwrite.py" <<'EOF'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
for a in sys.argv[2:]:
    n = int(a)
    try:
        w = os.write(fd, b"a" * (n - 1) + b"\n")
        print(n, "ok", w, flush=True)
    except OSError as e:
        print(n, errno.errorcode.get(e.errno, str(e.errno)), flush=True)
try:
    os.close(fd)
    print("close ok")
except OSError as e:
    print("close", errno.errorcode.get(e.errno, str(e.errno)))
EOF

write_spec_pass "$T/pass.json"
cat >"$T/count.json" <<'EOF'
{
  "inputs":  {"x": {"format": "bytes"}},
  "outputs": {"y": {"from": "c"}},
  "nodes":   {"c": {"op": "count", "in": "x", "what": "bytes"}}
}
EOF
# four streams of the same size: x, p1, p2, p3 (= the output y)
cat >"$T/chain.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "p3"}},
  "nodes": {
    "p1": {"op": "pass", "in": "x"},
    "p2": {"op": "pass", "in": "p1"},
    "p3": {"op": "pass", "in": "p2"}
  }
}
EOF

# === max_jobs and max_job_bytes ==========================================
lj_mount max_jobs=3,max_job_bytes=64K

echo "== max_jobs"
for j in m1 m2 m3; do run_ok mkdir "$MNT/$j"; done
expect_errno "Disk quota exceeded" mkdir "$MNT/m4"
[ -e "$MNT/m4" ] && fail "m4 exists after the refused mkdir"
assert_match "$MNT/.log" 'ERROR .*max_jobs' ".log after the refused mkdir of m4"
assert_eq "$(timeout 10 ls "$MNT" | grep -c '^m[0-9]$')" 3 "jobs listed after the refused mkdir"
run_ok rm -r "$MNT/m2"
[ -e "$MNT/m2" ] && fail "m2 still exists after rm -r"
run_ok mkdir "$MNT/m4"
assert_eq "$(job_state m4)" new "m4 state"
expect_errno "Disk quota exceeded" mkdir "$MNT/m5"
for j in m1 m3 m4; do run_ok rm -r "$MNT/$j"; done

echo "== max_job_bytes: input writes"
new_job qin "$T/count.json"
timeout 30 python3 "$T/pwrite.py" "$MNT/qin/input/x" 40000 30000 20000 >"$T/qin.out" 2>&1 ||
	fail "pwrite.py on qin/input/x failed: $(cat "$T/qin.out")"
printf '40000 ok 40000\n30000 EFBIG\n20000 ok 20000\nclose ok\n' >"$T/qin.expected"
assert_file_eq "$T/qin.out" "$T/qin.expected" "writes of 40000, 30000, 20000 bytes under max_job_bytes=64K"
assert_match "$MNT/qin/log" 'ERROR .*input/x: write refused: .*max_job_bytes' "qin/log"
wait_state qin succeeded
slurp "$MNT/qin/output/y" "$T/qin.got"
printf '60000\n' >"$T/qin.want"
assert_file_eq "$T/qin.got" "$T/qin.want" "qin/output/y (byte count of the kept writes)"
assert_eq "$(status_get qin inputs.x.bytes)" 60000 "qin status inputs.x.bytes"

echo "== max_job_bytes: cp of a too-big input"
new_job qcp "$T/count.json"
head -c 70000 /dev/urandom >"$T/70k"
expect_errno "File too large" cp "$T/70k" "$MNT/qcp/input/x"
assert_match "$MNT/qcp/log" 'ERROR .*input/x: write refused: .*max_job_bytes' "qcp/log"

# (max_jobs=3)
run_ok rm -r "$MNT/qin" "$MNT/qcp"

echo "== max_job_bytes: a chain within the limit (4 x 10000 bytes)"
seq 100000 | head -c 10000 >"$T/10k"
new_job chain1 "$T/chain.json"
run_ok cp "$T/10k" "$MNT/chain1/input/x"
wait_state chain1 succeeded
slurp "$MNT/chain1/output/y" "$T/chain1.got"
assert_file_eq "$T/chain1.got" "$T/10k" "chain1/output/y"

echo "== max_job_bytes: intermediate streams count (4 x 20000 bytes)"
seq 100000 | head -c 20000 >"$T/20k"
new_job chain2 "$T/chain.json"
run_ok cp "$T/20k" "$MNT/chain2/input/x"
wait_state chain2 failed
err=$(status_get chain2 error)
printf '%s\n' "$err" | grep -qE 'output refused: .*max_job_bytes' ||
	fail "chain2 status error '$err' does not say 'output refused: ... max_job_bytes'"
assert_match "$MNT/chain2/log" 'ERROR .*output refused: .*max_job_bytes' "chain2/log"
expect_errno "Input/output error" cat "$MNT/chain2/output/y"
lj_umount

echo "== bad option values"
for opt in max_job_bytes=abc max_job_bytes=10X max_job_bytes=-5 max_job_bytes=1.5M \
	max_job_bytes= max_jobs=-1 uring=maybe; do
	timeout -k 2 10 "$LIVEJOBFS_BIN" -f -o "store=$STORE,$opt" "$MNT" </dev/null \
		>"$T/bad.out" 2>"$T/bad.err"
	rc=$?
	if timeout 5 mountpoint -q "$MNT"; then
		timeout 10 fusermount3 -u -z "$MNT"
		fail "-o $opt: the daemon mounted (exit $rc); it should refuse to start"
	fi
	[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && fail "-o $opt: the daemon kept running; it should refuse to start"
	[ "$rc" -ne 0 ] || fail "-o $opt: the daemon exited 0; it should refuse to start"
	name=${opt%%=*}
	grep -qF "$name" "$T/bad.err" ||
		fail "-o $opt: the daemon's stderr does not name $name: $(head -c 500 "$T/bad.err")"
done

# === a full store ========================================================
echo "== full store (4 MiB tmpfs)"
mkdir -p "$SMALL"
timeout 10 mount -t tmpfs -o size=4m tmpfs "$SMALL" || fail "cannot mount a tmpfs on $SMALL"
STORE=$SMALL/store
lj_mount
seq 2000 >"$T/small.in"
new_job ok1 "$T/pass.json"
run_ok cp "$T/small.in" "$MNT/ok1/input/x"
wait_state ok1 succeeded
head -c 6000000 /dev/urandom >"$T/6m"
new_job big "$T/count.json"
expect_errno "No space left on device" cp "$T/6m" "$MNT/big/input/x"
wait_state big failed 15
err=$(status_get big error)
printf '%s\n' "$err" | grep -i 'store' | grep -qF 'No space left on device' ||
	fail "big status error '$err' does not name the store write failure (No space left on device)"
timeout 10 cat "$MNT/big/log" >"$T/big.log" 2>&1 || fail "cannot read big/log: $(cat "$T/big.log")"
grep -E '^[^ ]+ ERROR ' "$T/big.log" | grep -iE 'store' | grep -qF 'No space left on device' ||
	fail "big/log has no ERROR line naming the store write failure:
$(cat "$T/big.log")"
# the mount serves while the store is full
timeout 10 ls "$MNT" >"$T/ls.full" 2>&1 || fail "ls of the mount fails with a full store: $(cat "$T/ls.full")"
grep -qx ok1 "$T/ls.full" || fail "ls with a full store does not list ok1: $(cat "$T/ls.full")"
timeout 10 cat "$MNT/.env" >"$T/env.full" 2>&1 || fail "cat .env fails with a full store: $(cat "$T/env.full")"
json_check "$T/env.full" ".env with a full store"
slurp "$MNT/ok1/output/y" "$T/ok1.full"
assert_file_eq "$T/ok1.full" "$T/small.in" "ok1/output/y with a full store"
assert_eq "$(job_state ok1)" succeeded "ok1 state with a full store"
# free the space
run_ok rm -r "$MNT/big"
[ -e "$MNT/big" ] && fail "big still exists after rm -r"
new_job ok2 "$T/pass.json"
run_ok cp "$T/small.in" "$MNT/ok2/input/x"
wait_state ok2 succeeded
slurp "$MNT/ok2/output/y" "$T/ok2.got"
assert_file_eq "$T/ok2.got" "$T/small.in" "ok2/output/y after freeing the store"
slurp "$MNT/ok1/output/y" "$T/ok1.after"
assert_file_eq "$T/ok1.after" "$T/small.in" "ok1/output/y after freeing the store"
lj_umount
lj_mount
for j in ok1 ok2; do
	assert_eq "$(job_state $j)" succeeded "$j state after a remount"
	slurp "$MNT/$j/output/y" "$T/$j.remount"
	assert_file_eq "$T/$j.remount" "$T/small.in" "$j/output/y after a remount"
done
lj_umount
timeout 10 umount "$SMALL" || fail "cannot unmount the tmpfs $SMALL"
STORE=$ORIG_STORE

# === exec timeout_ms and stderr flood (and max_job_bytes=1M) ==============
lj_mount max_job_bytes=1M

echo "== max_job_bytes=1M"
new_job q1m "$T/count.json"
timeout 30 python3 "$T/pwrite.py" "$MNT/q1m/input/x" 700000 400000 300000 >"$T/q1m.out" 2>&1 ||
	fail "pwrite.py on q1m/input/x failed: $(cat "$T/q1m.out")"
printf '700000 ok 700000\n400000 EFBIG\n300000 ok 300000\nclose ok\n' >"$T/q1m.expected"
assert_file_eq "$T/q1m.out" "$T/q1m.expected" "writes of 700000, 400000, 300000 bytes under max_job_bytes=1M"
assert_match "$MNT/q1m/log" 'ERROR .*input/x: write refused: .*1048576.*max_job_bytes' "q1m/log"
wait_state q1m succeeded

echo "== timeout_ms"
cat >"$T/to.json" <<EOF
{
  "outputs": {"y": {"from": "s"}},
  "nodes":   {"s": {"op": "exec", "argv": ["sleep", "10.$UNIQ"], "timeout_ms": 300}}
}
EOF
run_ok mkdir "$MNT/to"
t0=$(now_ms)
run_ok cp "$T/to.json" "$MNT/to/spec.json"
timeout 15 cat "$MNT/to/wait" >"$T/to.wait" 2>&1 || fail "to/wait did not return: $(cat "$T/to.wait")"
t1=$(now_ms)
assert_eq "$(cat "$T/to.wait")" failed "to/wait"
[ $((t1 - t0)) -le 2000 ] || fail "the job with timeout_ms 300 took $((t1 - t0)) ms to fail (expected ~1 s)"
err=$(status_get to error)
printf '%s\n' "$err" | grep -qF 'timed out' || fail "to status error '$err' does not say 'timed out'"
assert_match "$MNT/to/log" 'ERROR .*timed out' "to/log"
deadline=$(($(now_ms) + 5000))
while pgrep -f "sleep 10\.$UNIQ" >/dev/null; do
	[ "$(now_ms)" -lt "$deadline" ] ||
		fail "the timed-out program still runs: $(pgrep -af "sleep 10\.$UNIQ")"
	sleep 0.1
done
cat >"$T/fast.json" <<'EOF'
{
  "outputs": {"y": {"from": "s"}},
  "nodes":   {"s": {"op": "exec", "argv": ["echo", "quick"], "timeout_ms": 5000}}
}
EOF
new_job fast "$T/fast.json"
wait_state fast succeeded
assert_contains "$MNT/fast/output/y" quick "fast/output/y"

# flood JOB SHELLCMD STDOUT: the exec node prints STDOUT after SHELLCMD
flood() {
	local job=$1 cmd=$2 f lines bytes markers after size
	cat >"$T/$job.json" <<EOF
{
  "outputs": {"y": {"from": "f"}},
  "nodes":   {"f": {"op": "exec", "argv": ["sh", "-c", "$cmd; echo done"]}}
}
EOF
	new_job "$job" "$T/$job.json"
	wait_state "$job" succeeded 40
	slurp "$MNT/$job/output/y" "$T/$job.out"
	printf 'done\n' >"$T/$job.want"
	assert_file_eq "$T/$job.out" "$T/$job.want" "$job/output/y"
	f=$LJ_TMP/$job.log
	timeout 30 cat "$MNT/$job/log" >"$f" || fail "cannot read $job/log"
	size=$(stat -c %s "$f")
	lines=$(grep -F ' f: stderr: ' "$f" | grep -vcF 'the rest is not logged')
	bytes=$(grep -F ' f: stderr: ' "$f" | grep -vF 'the rest is not logged' | wc -c)
	markers=$(grep -cF 'the rest is not logged' "$f")
	after=$(awk '/the rest is not logged/ { on = 1; next } on && / f: stderr: /' "$f" | wc -l)
	echo "$job: log $size bytes, $lines stderr lines ($bytes bytes), $markers marker(s)"
	[ "$size" -lt 2097152 ] ||
		fail "$job/log is $size bytes after a stderr flood (expected < 2 MiB): $lines stderr lines of $bytes bytes logged"
	[ "$bytes" -le 1153434 ] ||
		fail "$job/log holds $bytes bytes of stderr lines ($lines lines; expected at most ~1 MiB)"
	[ "$lines" -ge 1 ] || fail "$job/log holds no stderr line at all"
	[ "$markers" -eq 1 ] || fail "$job/log has $markers lines with 'the rest is not logged' (expected 1)"
	[ "$after" -eq 0 ] || fail "$job/log has $after stderr lines after the marker"
	check_log_format "$MNT/$job/log"
}
echo "== stderr flood: 20 MB of 'oops' lines"
flood flood1 'yes oops | head -c 20000000 >&2'
echo "== stderr flood: 3 MB of empty lines"
flood flood2 "yes '' | head -c 3000000 >&2"
lj_umount
