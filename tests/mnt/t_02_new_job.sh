#!/bin/bash
# The tree of a job through its life: after mkdir only ctl log status wait;
# options.json, input/ and spec.json appear when written or made; output/,
# streams/ and graph.dot when the job starts; input/ then holds one file per
# declared tag (whether input/ was made before or not); status is valid JSON
# at every step; the log's lines have the documented format.
. "$(dirname "$0")/lib.sh"

# ls_is DIR "NAMES": `ls -A DIR` is exactly NAMES (space-separated, sorted)
ls_is() {
	local got
	got=$(timeout 10 ls -A "$1" 2>&1 | tr '\n' ' ')
	got=${got% }
	assert_eq "$got" "$2" "ls -A $1"
}

absent() {
	local f
	for f in "$@"; do
		[ -e "$MNT/$f" ] && fail "$f exists but should not (yet)"
		expect_errno "No such file or directory" stat "$MNT/$f"
	done
	return 0
}

RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'
is_time() {
	local v
	v=$(status_get "$1" "$2")
	echo "$v" | grep -qE "$RFC3339" || fail "$1/status: $2 is '$v', not an RFC 3339 time"
}

cat >"$LJ_TMP/spec.json" <<'EOF'
{
  "name": "two",
  "options": {"suffix": {"type": "string", "default": "!"}},
  "inputs":  {"a": {"format": "lines"}, "b": {"format": "lines"}},
  "outputs": {"A": {"from": "bang"}, "B": {"from": "lo"}},
  "nodes": {
    "up":   {"op": "upper", "in": "a"},
    "bang": {"op": "replace", "in": "up", "pattern": "^(.*)$", "with": "\\1${suffix}"},
    "lo":   {"op": "lower", "in": "b"}
  }
}
EOF
printf '{"suffix": "?"}\n' >"$LJ_TMP/options.json"
printf 'hello\nWorld\n' >"$LJ_TMP/a.txt"
printf 'Bye\nNOW\n' >"$LJ_TMP/b.txt"

lj_mount

# --- job 1: options, then mkdir input, then spec ---
run_ok mkdir "$MNT/fresh"
ls_is "$MNT/fresh" "ctl log status wait"
absent fresh/spec.json fresh/options.json fresh/input fresh/output fresh/streams fresh/graph.dot
timeout 10 ls -A "$MNT" | grep -qx fresh || fail "ls $MNT does not list fresh"
[ -d "$MNT/fresh" ] || fail "fresh is not a directory"
slurp "$MNT/fresh/status" "$LJ_TMP/st0.json" 10
json_check "$LJ_TMP/st0.json" "fresh/status of a new job"
assert_eq "$(json_get "$LJ_TMP/st0.json" job)" fresh "status job"
assert_eq "$(json_get "$LJ_TMP/st0.json" state)" new "status state after mkdir"
assert_eq "$(json_get "$LJ_TMP/st0.json" error)" null "status error after mkdir"
is_time fresh created
check_log_format "$MNT/fresh/log"

run_ok cp "$LJ_TMP/options.json" "$MNT/fresh/options.json"
ls_is "$MNT/fresh" "ctl log options.json status wait"
run_ok mkdir "$MNT/fresh/input"
ls_is "$MNT/fresh" "ctl input log options.json status wait"
ls_is "$MNT/fresh/input" ""
assert_eq "$(job_state fresh)" new "state before spec.json"

run_ok cp "$LJ_TMP/spec.json" "$MNT/fresh/spec.json"
assert_eq "$(job_state fresh)" running "state after an accepted spec.json"
ls_is "$MNT/fresh" "ctl graph.dot input log options.json output spec.json status streams wait"
ls_is "$MNT/fresh/input" "a b"
ls_is "$MNT/fresh/output" "A B"
[ -n "$(timeout 10 ls -A "$MNT/fresh/streams")" ] || fail "streams/ of a running job is empty"
is_time fresh started
slurp "$MNT/fresh/spec.json" "$LJ_TMP/spec.back"
json_check "$LJ_TMP/spec.back" "fresh/spec.json read back"
assert_eq "$(json_get "$LJ_TMP/spec.back" name)" two "spec.json read back: name"
slurp "$MNT/fresh/options.json" "$LJ_TMP/options.back"
json_check "$LJ_TMP/options.back" "fresh/options.json read back"
assert_eq "$(json_get "$LJ_TMP/options.back" suffix)" "?" "effective options: suffix"
head -c 7 "$(lj_snap "$MNT/fresh/graph.dot")" | grep -qx digraph ||
	fail "graph.dot does not start with 'digraph'"

run_ok cp "$LJ_TMP/a.txt" "$MNT/fresh/input/a"
run_ok cp "$LJ_TMP/b.txt" "$MNT/fresh/input/b"
wait_state fresh succeeded
printf 'HELLO?\nWORLD?\n' >"$LJ_TMP/A.expected"
printf 'bye\nnow\n' >"$LJ_TMP/B.expected"
slurp "$MNT/fresh/output/A" "$LJ_TMP/A.got"
slurp "$MNT/fresh/output/B" "$LJ_TMP/B.got"
assert_file_eq "$LJ_TMP/A.got" "$LJ_TMP/A.expected" "fresh/output/A"
assert_file_eq "$LJ_TMP/B.got" "$LJ_TMP/B.expected" "fresh/output/B"
is_time fresh ended
assert_eq "$(status_get fresh error)" null "status error of a succeeded job"
ls_is "$MNT/fresh" "ctl graph.dot input log options.json output spec.json status streams wait"
check_log_format "$MNT/fresh/log"
assert_match "$MNT/fresh/log" 'Z INFO  up: started' "fresh/log (node start line)"

# --- job 2: spec only, no input/ made before: input/ appears with the tags ---
run_ok mkdir "$MNT/fresh2"
run_ok cp "$LJ_TMP/spec.json" "$MNT/fresh2/spec.json"
assert_eq "$(job_state fresh2)" running "fresh2 state"
got=$(timeout 10 ls -A "$MNT/fresh2" | tr '\n' ' ')
for want in ctl graph.dot input log output spec.json status streams wait; do
	case " $got" in *" $want "*) ;; *) fail "ls -A fresh2 ($got) lacks $want" ;; esac
done
for name in $got; do
	case $name in
	ctl | graph.dot | input | log | options.json | output | spec.json | status | streams | wait) ;;
	*) fail "ls -A fresh2 ($got) has an unexpected entry '$name'" ;;
	esac
done
ls_is "$MNT/fresh2/input" "a b"
ls_is "$MNT/fresh2/output" "A B"
run_ok cp "$LJ_TMP/a.txt" "$MNT/fresh2/input/a"
run_ok cp "$LJ_TMP/b.txt" "$MNT/fresh2/input/b"
wait_state fresh2 succeeded
printf 'HELLO!\nWORLD!\n' >"$LJ_TMP/A2.expected"
slurp "$MNT/fresh2/output/A" "$LJ_TMP/A2.got"
assert_file_eq "$LJ_TMP/A2.got" "$LJ_TMP/A2.expected" "fresh2/output/A (default option)"

lj_umount
