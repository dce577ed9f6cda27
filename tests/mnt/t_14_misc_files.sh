#!/bin/bash
# The special files:
#  - .env: valid JSON with version (the one of --version), store, threads
#    (as mounted) and every operator name;
#  - .ops/ lists every operator of DESIGN section 6, each with a non-empty doc
#    (.ops/exec mentions argv), read-only;
#  - .specs/: a valid spec registers (listed, reads back) and runs with
#    {"use": NAME};
#  - .log: log-format lines, snapshot reads, grows as jobs run;
#  - graph.dot starts with "digraph";
#  - ctl: `end TAG` ends an input (then writes fail EPIPE), `cancel` makes
#    the job cancelled (blocked and new readers get EIO, wait says
#    cancelled), an unknown command fails EINVAL.
. "$(dirname "$0")/lib.sh"

T=$LJ_TMP
OPS="pass exec upper lower grep replace head count template pick filter split merge concat delay invoke"
lj_mount threads=3

# --- .env ---
env=$(lj_snap "$MNT/.env")
json_check "$env" ".env"
version=$(json_get "$env" version)
case $version in "" | "!missing" | null) fail ".env has no version: $(cat "$env")" ;; esac
timeout 10 "$LIVEJOBFS_BIN" --version >"$T/version.out" 2>&1 || fail "livejobfs --version failed: $(cat "$T/version.out")"
grep -qF -- "$version" "$T/version.out" || fail "livejobfs --version ($(cat "$T/version.out")) does not show .env's version $version"
store=$(json_get "$env" store)
[ "$(realpath -m "$store")" = "$(realpath -m "$STORE")" ] || fail ".env store is '$store', expected $STORE"
assert_eq "$(json_get "$env" threads)" 3 ".env threads"
for op in $OPS; do
	grep -qF "\"$op\"" "$env" || fail ".env does not name the operator \"$op\": $(cat "$env")"
done
expect_errno_re "Permission denied|Read-only file system|Operation not permitted" \
	bash -c 'echo "{}" > "$1"' _ "$MNT/.env"

# --- .ops ---
timeout 10 ls -A "$MNT/.ops" >"$T/ops.ls" || fail "ls .ops failed"
for op in $OPS; do
	grep -qx "$op" "$T/ops.ls" || fail ".ops does not list $op: $(tr '\n' ' ' <"$T/ops.ls")"
	slurp "$MNT/.ops/$op" "$T/op.$op" 10
	[ -s "$T/op.$op" ] || fail ".ops/$op is empty"
done
assert_contains "$MNT/.ops/exec" argv ".ops/exec"
expect_errno_re "Permission denied|Read-only file system|Operation not permitted" \
	bash -c 'echo x >> "$1"' _ "$MNT/.ops/exec"

# --- .log: snapshot, grows ---
log0=$(stat -c %s "$MNT/.log")
check_log_format "$MNT/.log"

# --- .specs ---
cat >"$T/shout.json" <<'EOF'
{
  "name": "shout",
  "options": {"mark": {"type": "string", "default": "!"}},
  "inputs":  {"text": {"format": "lines"}},
  "outputs": {"loud": {"from": "bang"}},
  "nodes": {
    "up":   {"op": "upper", "in": "text"},
    "bang": {"op": "replace", "in": "up", "pattern": "^(.*)$", "with": "\\1${mark}"}
  }
}
EOF
run_ok cp "$T/shout.json" "$MNT/.specs/shout.json"
timeout 10 ls -A "$MNT/.specs" | grep -qx shout.json || fail "ls .specs does not list shout.json"
slurp "$MNT/.specs/shout.json" "$T/shout.back" 10
assert_file_eq "$T/shout.back" "$T/shout.json" ".specs/shout.json read back"
printf '{"use": "shout"}\n' >"$T/use.json"
printf '{"mark": "?"}\n' >"$T/use.options.json"
new_job used "$T/use.json" "$T/use.options.json"
printf 'hey\nyou\n' >"$T/used.in"
run_ok cp "$T/used.in" "$MNT/used/input/text"
wait_state used succeeded
printf 'HEY?\nYOU?\n' >"$T/used.expected"
slurp "$MNT/used/output/loud" "$T/used.got"
assert_file_eq "$T/used.got" "$T/used.expected" "used/output/loud (spec from .specs)"

# --- graph.dot ---
slurp "$MNT/used/graph.dot" "$T/graph.dot" 10
[ "$(head -c 7 "$T/graph.dot")" = digraph ] || fail "graph.dot does not start with 'digraph': $(head -c 200 "$T/graph.dot")"
grep -q bang "$T/graph.dot" || fail "graph.dot does not mention the node bang: $(cat "$T/graph.dot")"

# --- ctl: end TAG ---
cat >"$T/two.json" <<'EOF'
{
  "inputs":  {"a": {"format": "lines"}, "b": {"format": "lines"}},
  "outputs": {"y": {"from": "m"}},
  "nodes":   {"m": {"op": "merge", "in": ["a", "b"]}}
}
EOF
new_job ends "$T/two.json"
run_ok bash -c 'echo "end a" > "$1"' _ "$MNT/ends/ctl"
expect_errno "Broken pipe" bash -c 'echo late >> "$1"' _ "$MNT/ends/input/a"
assert_eq "$(job_state ends)" running "ends: state with b still open"
exec 4>"$MNT/ends/input/b" || fail "cannot open ends/input/b"
printf 'b1\n' >&4 || fail "write to ends/input/b failed"
wait_size "$MNT/ends/output/y" 3
run_ok bash -c 'echo "end b" > "$1"' _ "$MNT/ends/ctl"
wait_state ends succeeded
(printf 'b2\n' >&4) 2>"$T/late.err" && fail "a write through an fd opened before 'end b' succeeded after the end"
grep -q "Broken pipe" "$T/late.err" || fail "write after 'end b': $(cat "$T/late.err")"
exec 4>&-
printf 'b1\n' >"$T/ends.expected"
slurp "$MNT/ends/output/y" "$T/ends.got"
assert_file_eq "$T/ends.got" "$T/ends.expected" "ends/output/y"

# --- ctl: cancel ---
write_spec_pass "$T/pass.json"
new_job stop "$T/pass.json"
exec 5>"$MNT/stop/input/x" || fail "cannot open stop/input/x"
printf 'l1\n' >&5
wait_size "$MNT/stop/output/y" 3
nofd timeout 30 cat "$MNT/stop/output/y" >"$T/stop.r" 2>"$T/stop.err" &
reader=$!
wait_size "$T/stop.r" 3 10
nofd timeout 30 cat "$MNT/stop/wait" >"$T/stop.wait" 2>&1 &
waiter=$!
sleep 0.3
lj_alive "$reader" || fail "cat stop/output/y ended before the cancel: $(cat "$T/stop.err")"
lj_alive "$waiter" || fail "cat stop/wait ended before the job did: $(cat "$T/stop.wait")"
run_ok bash -c 'echo cancel > "$1"' _ "$MNT/stop/ctl"
wait_state stop cancelled 10
wait_exit "$reader" 5 "the cat blocked on stop/output/y after cancel"
[ "$LJ_RC" -ne 0 ] || fail "the blocked cat exited 0 after cancel"
grep -q "Input/output error" "$T/stop.err" || fail "the blocked cat after cancel: $(cat "$T/stop.err")"
wait_exit "$waiter" 5 "cat stop/wait after cancel"
assert_eq "$(cat "$T/stop.wait")" cancelled "cat stop/wait"
expect_errno "Input/output error" cat "$MNT/stop/output/y"
assert_contains "$T/stop.r" l1 "what the blocked cat printed before EIO"
exec 5>&-

# --- ctl: unknown command ---
expect_errno "Invalid argument" bash -c 'echo frobnicate > "$1"' _ "$MNT/used/ctl"
expect_errno "Invalid argument" bash -c 'echo frobnicate > "$1"' _ "$MNT/ends/ctl"

# .log grew with all this
log1=$(stat -c %s "$MNT/.log")
[ "$log1" -gt "$log0" ] || fail ".log did not grow ($log0 -> $log1 bytes) while jobs ran"
# st_size is exact: a read between two equal stats returns that many bytes
for try in 1 2 3 4 5; do
	s1=$(stat -c %s "$MNT/.log")
	slurp "$MNT/.log" "$T/dlog" 5
	s2=$(stat -c %s "$MNT/.log")
	[ "$s1" = "$s2" ] && break
	sleep 0.2
done
[ "$s1" = "$s2" ] || fail ".log kept growing ($s1 -> $s2) with no job running"
assert_eq "$(stat -c %s "$T/dlog")" "$s1" "bytes read from .log vs its st_size"

lj_umount
