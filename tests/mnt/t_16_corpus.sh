#!/bin/bash
# The bad-input corpus (tests/corpus/, see its README.md) through a mount:
#  - every spec/ and regress/ case is copied with cp into JOB/spec.json:
#    cp must fail with EINVAL ("Invalid argument"), the job must stay new,
#    and the ERROR lines it adds to the job's log must hold each line of the
#    case's .expect (the place: a JSON path or "line N"). Cases without
#    options share one job (a refused spec leaves it new, ready for the next
#    one); a case with NAME.options.json gets a fresh job, options first
#    (when the options.json itself is refused, that cp fails EINVAL instead
#    and the spec is not copied).
#  - big cases made here: a spec over 1 MiB (EFBIG or EINVAL, "larger than
#    1 MiB"), 10,000 nodes ("more than 1024 nodes"), 100,000 levels of
#    nesting, a 1 MB node name.
#  - every ndjson/ case is copied into input/t of a job whose json input has
#    the case's schema: cp must fail with EINVAL and the log must have an
#    ERROR "input/t: ..." line holding the .expect text ("line 3: $.qty").
#  - the daemon stays alive throughout, and its VmRSS at the end stays under
#    100 MiB (400 MiB for a sanitized build; LJ_RSS_LIMIT_KB overrides).
# Cases listed in tests/corpus/regress/KNOWN_FAILING are skipped (they crash
# or exhaust the daemon) unless LJ_CORPUS_STRICT=1.
# timeout: 240
. "$(dirname "$0")/lib.sh"

C=${LJ_CORPUS_DIR:-$LJ_ROOT/tests/corpus}
T=$LJ_TMP
case $LIVEJOBFS_BIN in
*/san-*) limit=${LJ_RSS_LIMIT_KB:-409600} ;;
*) limit=${LJ_RSS_LIMIT_KB:-102400} ;;
esac
if [ ! -d "$C/spec" ] || [ ! -d "$C/ndjson" ]; then
	fail "no corpus at $C"
fi

declare -A KNOWN=()
if [ -z "${LJ_CORPUS_STRICT:-}" ] || [ "${LJ_CORPUS_STRICT:-}" = 0 ]; then
	while read -r name _; do
		case $name in '' | '#'*) continue ;; esac
		KNOWN[$name]=1
	done <"$C/regress/KNOWN_FAILING"
fi

NFAIL=0
FAILS=$T/fails.txt
: >"$FAILS"
# bad MSG: a failed case, reported at the end (the run goes on).
bad() {
	NFAIL=$((NFAIL + 1))
	[ "$NFAIL" -le 40 ] && printf '%s\n' "$*" >>"$FAILS"
	return 0
}

alive_or_fail() {
	lj_alive "$LJ_PID" || fail "the daemon died ($1)"
}

log_size() { stat -c %s "$MNT/$1/log"; }

# check_new_errors JOB OFFSET EXPECTFILE LABEL: the log of JOB past OFFSET
# has ERROR lines, and each line of EXPECTFILE is in one of them.
check_new_errors() {
	local job=$1 off=$2 exp=$3 label=$4 new=$T/new.log line
	timeout 10 tail -c +"$((off + 1))" "$MNT/$job/log" 2>/dev/null | grep ' ERROR ' >"$new"
	if [ ! -s "$new" ]; then
		bad "$label: no new ERROR line in $job/log"
		return
	fi
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		[ -n "$line" ] || continue
		grep -qF -- "$line" "$new" ||
			bad "$label: no ERROR line holds '$line'; the new ERROR lines: $(head -c 600 "$new")"
	done <"$exp"
}

# try_spec JOB FILE EXPECTFILE LABEL: cp FILE to JOB/spec.json must fail
# EINVAL (or EFBIG when $EFBIG_OK) and the log must name the place.
# Sets ACCEPTED=1 when the spec was taken (then JOB is running).
try_spec() {
	local job=$1 file=$2 exp=$3 label=$4 off rc
	ACCEPTED=0
	off=$(log_size "$job")
	timeout 30 cp "$file" "$MNT/$job/spec.json" 2>"$T/cp.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		bad "$label: cp spec.json succeeded; expected EINVAL"
		ACCEPTED=1
		return
	fi
	[ "$rc" -eq 124 ] && bad "$label: cp spec.json hung (killed after 30 s)"
	if ! grep -qF "Invalid argument" "$T/cp.err"; then
		if [ -z "${EFBIG_OK:-}" ] || ! grep -qF "File too large" "$T/cp.err"; then
			bad "$label: cp failed, but not with EINVAL: $(cat "$T/cp.err")"
		fi
	fi
	check_new_errors "$job" "$off" "$exp" "$label"
}

lj_mount
for f in "$C"/registered/*.json; do
	run_ok cp "$f" "$MNT/.specs/"
done

# ---- spec/ and regress/ ----
shared=c1
run_ok mkdir "$MNT/$shared"
nspec=0
nskip=0
nopt=0
for f in "$C"/spec/*.json "$C"/regress/*.json; do
	case $f in *.options.json) continue ;; esac
	name=$(basename "$f" .json)
	dir=$(basename "$(dirname "$f")")
	label=$dir/$name
	if [ -n "${KNOWN[$name]:-}" ]; then
		echo "SKIPPED $label: a known bug (regress/KNOWN_FAILING)"
		nskip=$((nskip + 1))
		continue
	fi
	exp=${f%.json}.expect
	[ -f "$exp" ] || { bad "$label: no .expect file"; continue; }
	nspec=$((nspec + 1))
	opts=${f%.json}.options.json
	if [ -f "$opts" ]; then
		nopt=$((nopt + 1))
		job=o$nopt
		run_ok mkdir "$MNT/$job"
		off=$(log_size "$job")
		if ! timeout 30 cp "$opts" "$MNT/$job/options.json" 2>"$T/cp.err"; then
			# options.json refused on its own: that is where the error is
			grep -qF "Invalid argument" "$T/cp.err" ||
				bad "$label: cp options.json failed, but not with EINVAL: $(cat "$T/cp.err")"
			timeout 10 tail -c +"$((off + 1))" "$MNT/$job/log" | grep -q ' ERROR job: options\.json: ' ||
				bad "$label: options.json refused without an ERROR 'options.json: ' log line"
			continue
		fi
		try_spec "$job" "$f" "$exp" "$label"
	else
		try_spec "$shared" "$f" "$exp" "$label"
		if [ "$ACCEPTED" = 1 ]; then
			# the shared job took it: carry on with a fresh one
			timeout 10 sh -c "echo cancel > '$MNT/$shared/ctl'" 2>/dev/null
			shared=c$((nspec + 1))
			run_ok mkdir "$MNT/$shared"
		fi
	fi
	[ $((nspec % 100)) -eq 0 ] && alive_or_fail "after $nspec spec cases, at $label"
done
alive_or_fail "after the spec cases"
assert_eq "$(job_state c1)" new "c1: state after the refused specs"
echo "spec cases: $nspec copied, $nskip skipped"

# ---- big cases, made here ----
big=$T/big.json
# over 1 MiB: a 1.1 MB description
{
	printf '{\n  "description": "'
	head -c 1100000 /dev/zero | tr '\0' 'd'
	printf '",\n  "inputs": {"x": {}},\n  "outputs": {"y": {"from": "p"}},\n'
	printf '  "nodes": {"p": {"op": "pass", "in": "x"}}\n}\n'
} >"$big"
echo "larger than 1 MiB" >"$T/big.expect"
EFBIG_OK=1 try_spec "$shared" "$big" "$T/big.expect" "big/over-1MiB"
# 10,000 nodes, a chain
{
	printf '{\n  "inputs": {"x": {"format": "lines"}},\n  "outputs": {"y": {"from": "n9999"}},\n  "nodes": {\n'
	printf '    "n0": {"op": "pass", "in": "x"}'
	seq 1 9999 | awk '{ printf ",\n    \"n%d\": {\"op\": \"pass\", \"in\": \"n%d\"}", $1, $1 - 1 }'
	printf '\n  }\n}\n'
} >"$big"
echo "nodes: more than 1024 nodes" >"$T/big.expect"
try_spec "$shared" "$big" "$T/big.expect" "big/10000-nodes"
# 100,000 levels of arrays in a param (line 5), and of objects in a schema
{
	printf '{\n  "inputs": {"x": {}},\n  "outputs": {"y": {"from": "p"}},\n'
	printf '  "nodes": {"p": {"op": "pass", "in": "x", "junk":\n'
	head -c 100000 /dev/zero | tr '\0' '['
	head -c 100000 /dev/zero | tr '\0' ']'
	printf '}}\n}\n'
} >"$big"
echo "spec.json: line 5" >"$T/big.expect"
try_spec "$shared" "$big" "$T/big.expect" "big/deep-arrays"
{
	printf '{"inputs": {"x": {"format": "json", "schema":\n'
	yes '{"items":' | head -n 100000 | tr -d '\n'
	printf '{}'
	head -c 100000 /dev/zero | tr '\0' '}'
	printf '}}, "outputs": {"y": {"from": "x"}}}\n'
} >"$big"
echo "spec.json: line 2" >"$T/big.expect"
try_spec "$shared" "$big" "$T/big.expect" "big/deep-objects"
# a 1,000,000-byte node name
{
	printf '{"inputs": {"x": {}}, "outputs": {"y": {"from": "x"}}, "nodes": {"'
	head -c 1000000 /dev/zero | tr '\0' 'n'
	printf '": {"op": "pass", "in": "x"}}}\n'
} >"$big"
echo "nodes.nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...: invalid name" >"$T/big.expect"
try_spec "$shared" "$big" "$T/big.expect" "big/1MB-node-name"
rm -f "$big"
alive_or_fail "after the big cases"

# ---- ndjson/ ----
nnd=0
for f in "$C"/ndjson/*.ndjson; do
	name=$(basename "$f" .ndjson)
	label=ndjson/$name
	if [ -n "${KNOWN[$name]:-}" ]; then
		echo "SKIPPED $label: a known bug (regress/KNOWN_FAILING)"
		continue
	fi
	nnd=$((nnd + 1))
	job=nd$nnd
	schema=${f%.ndjson}.schema
	{
		printf '{"inputs": {"t": {"format": "json"'
		if [ -f "$schema" ]; then
			printf ', "schema": '
			cat "$schema"
		fi
		printf '}},\n "outputs": {"y": {"from": "p"}},\n "nodes": {"p": {"op": "pass", "in": "t"}}}\n'
	} >"$T/nd-spec.json"
	run_ok mkdir "$MNT/$job"
	if ! timeout 30 cp "$T/nd-spec.json" "$MNT/$job/spec.json" 2>"$T/cp.err"; then
		bad "$label: the spec with its schema was refused: $(cat "$T/cp.err")"
		continue
	fi
	off=$(log_size "$job")
	timeout 30 cp "$f" "$MNT/$job/input/t" 2>"$T/cp.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		bad "$label: cp to input/t succeeded; expected EINVAL"
	elif ! grep -qF "Invalid argument" "$T/cp.err"; then
		bad "$label: cp to input/t failed, but not with EINVAL: $(cat "$T/cp.err")"
	fi
	IFS= read -r want <"${f%.ndjson}.expect"
	timeout 10 tail -c +"$((off + 1))" "$MNT/$job/log" | grep -F ' ERROR job: input/t: ' |
		grep -qF -- "$want" ||
		bad "$label: no 'ERROR job: input/t: ...$want...' line in $job/log: $(timeout 10 tail -c +"$((off + 1))" "$MNT/$job/log" | head -c 600)"
	[ $((nnd % 50)) -eq 0 ] && alive_or_fail "after $nnd ndjson cases, at $label"
done
alive_or_fail "after the ndjson cases"
echo "ndjson cases: $nnd"

# ---- the daemon: alive, memory bounded ----
rss=$(rss_kb "$LJ_PID")
echo "daemon VmRSS after the corpus: ${rss} kB (limit $limit kB)"
[ -n "$rss" ] || fail "cannot read VmRSS of the daemon (pid $LJ_PID)"
[ "$rss" -lt "$limit" ] || fail "daemon VmRSS is $rss kB after the corpus, limit $limit kB"
run_ok cat "$MNT/.env"

if [ "$NFAIL" -gt 0 ]; then
	fail "$NFAIL corpus cases failed through the mount (first 40):
$(cat "$FAILS")"
fi
lj_umount
