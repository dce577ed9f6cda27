#!/bin/bash
# Error paths, each with the errno the user sees (in cp's, mkdir's or the
# shell's message) and what the log and status say:
#  - rejected specs (cp spec.json fails EINVAL, the job stays new, status
#    "error" and an ERROR line of the job's log name the JSON path or line):
#    invalid JSON, unknown op, unknown stream, cycle, missing required
#    option, option out of range, bad enum value, bad tag and node names,
#    missing required param, unused input, unknown port, an invalid
#    regular expression and one glibc would take minutes to compile
#  - bad job names: mkdir fails EINVAL ('.x', chars outside [A-Za-z0-9._-],
#    256 bytes); 255 bytes and '-' '_' '.' are fine
#  - an NDJSON input whose line 3 breaks the schema: the write fails EINVAL,
#    records 1-2 are kept, the log names line 3
#  - rewriting spec.json after the start: EBUSY, the spec is unchanged
#  - writing an ended input, and an input of a succeeded job: EPIPE
#  - an invalid .specs/NAME.json: cp fails EINVAL, and it is not registered
. "$(dirname "$0")/lib.sh"

T=$LJ_TMP
lj_mount

# rejected JOB SPEC LOG_ERE STATUS_ERE [OPTIONS]: cp SPEC fails with EINVAL,
# the job stays new, an ERROR line of its log matches LOG_ERE and its status
# "error" matches STATUS_ERE.
rejected() {
	local job=$1 spec=$2 log_re=$3 st_re=$4 opts=${5:-} err
	echo "== $job"
	run_ok mkdir "$MNT/$job"
	[ -n "$opts" ] && run_ok cp "$opts" "$MNT/$job/options.json"
	expect_errno "Invalid argument" cp "$spec" "$MNT/$job/spec.json"
	assert_eq "$(job_state "$job")" new "$job: state after the rejected spec.json"
	err=$(status_get "$job" error)
	printf '%s\n' "$err" | grep -qE -- "$st_re" ||
		fail "$job: status error '$err' does not match /$st_re/"
	assert_match "$MNT/$job/log" "ERROR $log_re" "$job/log"
	for d in output streams graph.dot; do
		[ -e "$MNT/$job/$d" ] && fail "$job: $d exists although the spec was rejected"
	done
	return 0
}

# --- invalid JSON: the error is on line 3 ---
cat >"$T/s-json.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "p"}},,
  "nodes":   {"p": {"op": "pass", "in": "x"}}
}
EOF
rejected e-json "$T/s-json.json" 'job: spec\.json:.*(\bline 3\b|:3\b)' '(\bline 3\b|:3\b)'

# --- unknown operator ---
cat >"$T/s-op.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "p"}},
  "nodes":   {"p": {"op": "frobnicate", "in": "x"}}
}
EOF
rejected e-op "$T/s-op.json" 'job: spec\.json: nodes\.p\.op\b' 'nodes\.p\.op\b'

# --- regular expressions: one regcomp() rejects, one it would take minutes
# to compile (refused before it gets there, so this returns at once) ---
cat >"$T/s-re.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "g"}},
  "nodes":   {"g": {"op": "grep", "in": "x", "pattern": "a(b"}}
}
EOF
rejected e-re "$T/s-re.json" 'job: spec\.json: nodes\.g\.pattern: invalid regular expression' \
	'nodes\.g\.pattern: invalid regular expression'
cat >"$T/s-re2.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "g"}},
  "nodes":   {"g": {"op": "grep", "in": "x", "pattern": "a*(((){2,5}){4,}){3}"}}
}
EOF
rejected e-re2 "$T/s-re2.json" 'job: spec\.json: nodes\.g\.pattern: regular expression refused: .*empty string' \
	'nodes\.g\.pattern: regular expression refused'

# --- unknown stream: the exact line of the decisions ---
cat >"$T/s-stream.json" <<'EOF'
{
  "inputs":  {"dough": {"format": "lines"}},
  "outputs": {"pizza": {"from": "bake"}, "crust": {"from": "knead"}},
  "nodes": {
    "knead": {"op": "upper", "in": "dough"},
    "bake":  {"op": "pass", "in": "baek"}
  }
}
EOF
rejected e-stream "$T/s-stream.json" 'job: spec\.json: nodes\.bake\.in: unknown stream "baek"$' \
	'nodes\.bake\.in: unknown stream "baek"'
assert_match "$MNT/e-stream/log" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ERROR job: spec\.json: nodes\.bake\.in: unknown stream "baek"$' \
	"e-stream/log (the whole line)"
check_log_format "$MNT/e-stream/log"

# --- cycle a -> b -> a ---
cat >"$T/s-cycle.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "b"}},
  "nodes": {
    "a": {"op": "merge", "in": ["x", "b"]},
    "b": {"op": "pass", "in": "a"}
  }
}
EOF
rejected e-cycle "$T/s-cycle.json" 'job: spec\.json: nodes\b.*[Cc]ycle' '[Cc]ycle'

# --- required option (no default) not given ---
cat >"$T/s-reqopt.json" <<'EOF'
{
  "options": {"word": {"type": "string"}},
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "g"}},
  "nodes":   {"g": {"op": "grep", "in": "x", "pattern": "${word}"}}
}
EOF
rejected e-reqopt "$T/s-reqopt.json" \
	'job: (spec|options)\.json: .*(word.*([Rr]equired|[Mm]issing)|([Rr]equired|[Mm]issing).*word)' 'word'

# --- option out of range ---
cat >"$T/s-range.json" <<'EOF'
{
  "options": {"size": {"type": "integer", "minimum": 20, "maximum": 50, "default": 30}},
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "t"}},
  "nodes":   {"t": {"op": "template", "in": "x", "text": "{line} ${size}cm"}}
}
EOF
printf '{"size": 99}\n' >"$T/o-range.json"
rejected e-range "$T/s-range.json" 'job: (spec|options)\.json: .*size.*(99|[Mm]ax|range|50)' 'size' "$T/o-range.json"

# --- option not in its enum ---
cat >"$T/s-enum.json" <<'EOF'
{
  "options": {"spice": {"type": "string", "enum": ["mild", "hot", "extra"], "default": "mild"}},
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "t"}},
  "nodes":   {"t": {"op": "template", "in": "x", "text": "{line} ${spice}"}}
}
EOF
printf '{"spice": "nuclear"}\n' >"$T/o-enum.json"
rejected e-enum "$T/s-enum.json" 'job: (spec|options)\.json: .*spice.*(nuclear|enum|one of|mild)' 'spice' "$T/o-enum.json"

# --- bad tag name, bad node name ---
cat >"$T/s-tag.json" <<'EOF'
{
  "inputs":  {"bad tag": {"format": "lines"}},
  "outputs": {"y": {"from": "p"}},
  "nodes":   {"p": {"op": "pass", "in": "bad tag"}}
}
EOF
rejected e-tag "$T/s-tag.json" 'job: spec\.json: .*bad tag' 'bad tag'
cat >"$T/s-node.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "n@de"}},
  "nodes":   {"n@de": {"op": "pass", "in": "x"}}
}
EOF
rejected e-node "$T/s-node.json" 'job: spec\.json: .*n@de' 'n@de'

# --- missing required param (grep without pattern) ---
cat >"$T/s-param.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "g"}},
  "nodes":   {"g": {"op": "grep", "in": "x"}}
}
EOF
rejected e-param "$T/s-param.json" 'job: spec\.json: nodes\.g\b.*pattern' 'nodes\.g\b.*pattern'

# --- unused input ---
cat >"$T/s-unused.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}, "z": {"format": "lines"}},
  "outputs": {"y": {"from": "p"}},
  "nodes":   {"p": {"op": "pass", "in": "x"}}
}
EOF
rejected e-unused "$T/s-unused.json" 'job: spec\.json: inputs\.z\b' 'inputs\.z\b'

# --- a port the operator lacks ---
cat >"$T/s-port.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "s.match"}, "w": {"from": "s.bogus"}},
  "nodes":   {"s": {"op": "split", "in": "x", "pattern": "a"}}
}
EOF
rejected e-port "$T/s-port.json" 'job: spec\.json: outputs\.w\b.*bogus' 'outputs\.w\b'

# --- bad job names ---
long255=$(printf 'b%.0s' $(seq 255))
long256=$(printf 'c%.0s' $(seq 256))
for name in .hidden ..x "a b" "a:b" "semi;colon" "star*" "tab	x" "$(printf 'caf\303\251')" "$long256"; do
	expect_errno "Invalid argument" mkdir "$MNT/$name"
	grep -q "mkdir: cannot create directory" "$T/expect.err" ||
		fail "mkdir '$name': unexpected message: $(cat "$T/expect.err")"
	[ -e "$MNT/$name" ] && fail "'$name' exists after a failed mkdir"
done
for name in "$long255" "A-z_0.9" "-lead" "x..y"; do
	run_ok mkdir -- "$MNT/$name"
	assert_eq "$(job_state "$name")" new "state of job '${name:0:20}...'"
done
[ "$(timeout 10 ls "$MNT" | grep -c '^b*$')" -eq 1 ] || fail "ls does not list the 255-byte job name once"

# --- NDJSON input: line 3 breaks the schema ---
cat >"$T/s-nd.json" <<'EOF'
{
  "inputs":  {"t": {"format": "json", "schema": {"type": "object", "required": ["name"]}}},
  "outputs": {"y": {"from": "p"}},
  "nodes":   {"p": {"op": "pass", "in": "t"}}
}
EOF
printf '{"name":"a"}\n{"name":"b"}\n{"nope":1}\n{"name":"d"}\n' >"$T/nd.in"
printf '{"name":"a"}\n{"name":"b"}\n' >"$T/nd.expected"
new_job nd "$T/s-nd.json"
expect_errno "Invalid argument" cp "$T/nd.in" "$MNT/nd/input/t"
grep -q "error writing" "$T/expect.err" || fail "cp: the write should have failed: $(cat "$T/expect.err")"
timeout 10 cat "$MNT/nd/log" >"$T/nd.log" || fail "cannot read nd/log"
grep -E '(ERROR|WARN) ' "$T/nd.log" | grep -E '\bline 3\b|:3\b' | grep -q 'name' ||
	fail "nd/log has no ERROR/WARN line naming line 3 and the reason (required \"name\"):
$(cat "$T/nd.log")"
# cp closed the input: the stream ended with the 2 good records
wait_state nd succeeded
slurp "$MNT/nd/output/y" "$T/nd.got"
assert_file_eq "$T/nd.got" "$T/nd.expected" "nd/output/y (records before the bad line)"

# --- rewriting spec.json after the start: EBUSY ---
write_spec_pass "$T/pass.json"
new_job busy "$T/pass.json"
slurp "$MNT/busy/spec.json" "$T/busy.spec.before" 10
expect_errno "Device or resource busy" cp "$T/s-op.json" "$MNT/busy/spec.json"
expect_errno "Device or resource busy" bash -c 'echo "{}" > "$1"' _ "$MNT/busy/spec.json"
slurp "$MNT/busy/spec.json" "$T/busy.spec.after" 10
assert_file_eq "$T/busy.spec.after" "$T/busy.spec.before" "busy/spec.json after the refused rewrites"
assert_eq "$(job_state busy)" running "busy: state after the refused rewrites"
printf 'still\nfine\n' >"$T/busy.in"
run_ok cp "$T/busy.in" "$MNT/busy/input/x"
wait_state busy succeeded
slurp "$MNT/busy/output/y" "$T/busy.got"
assert_file_eq "$T/busy.got" "$T/busy.in" "busy/output/y"

# --- writing an ended input, then an input of a succeeded job: EPIPE ---
cat >"$T/s-two.json" <<'EOF'
{
  "inputs":  {"a": {"format": "lines"}, "b": {"format": "lines"}},
  "outputs": {"y": {"from": "m"}},
  "nodes":   {"m": {"op": "merge", "in": ["a", "b"]}}
}
EOF
printf 'a1\na2\n' >"$T/a.in"
printf 'b1\n' >"$T/b.in"
new_job ended "$T/s-two.json"
run_ok cp "$T/a.in" "$MNT/ended/input/a"
expect_errno "Broken pipe" cp "$T/a.in" "$MNT/ended/input/a"
expect_errno "Broken pipe" bash -c 'echo more >> "$1"' _ "$MNT/ended/input/a"
assert_eq "$(job_state ended)" running "ended: state with input b still open"
run_ok cp "$T/b.in" "$MNT/ended/input/b"
wait_state ended succeeded
slurp "$MNT/ended/output/y" "$T/ended.got"
LC_ALL=C sort "$T/ended.got" >"$T/ended.sorted"
printf 'a1\na2\nb1\n' >"$T/ended.expected"
assert_file_eq "$T/ended.sorted" "$T/ended.expected" "ended/output/y (sorted)"
expect_errno "Broken pipe" cp "$T/b.in" "$MNT/ended/input/b"
expect_errno "Broken pipe" bash -c 'echo late >> "$1"' _ "$MNT/ended/input/a"
slurp "$MNT/ended/output/y" "$T/ended.got2"
assert_file_eq "$T/ended.got2" "$T/ended.got" "ended/output/y after the refused writes"

# --- invalid .specs/NAME.json ---
expect_errno "Invalid argument" cp "$T/s-op.json" "$MNT/.specs/broken.json"
assert_match "$MNT/.log" 'ERROR .*nodes\.p\.op\b' ".log (the rejected .specs/broken.json)"
expect_errno "Invalid argument" cp "$T/s-json.json" "$MNT/.specs/broken2.json"
expect_errno "Invalid argument" cp "$T/pass.json" "$MNT/.specs/bad name.json"
timeout 10 ls -A "$MNT/.specs" >"$T/specs.ls" || fail "cannot list .specs"
grep -qE '^(broken|broken2|bad name)\.json$' "$T/specs.ls" &&
	fail ".specs lists a rejected spec: $(cat "$T/specs.ls")"
printf '{"use": "broken"}\n' >"$T/use-broken.json"
rejected e-use "$T/use-broken.json" 'job: spec\.json: .*broken' 'broken'

lj_umount
