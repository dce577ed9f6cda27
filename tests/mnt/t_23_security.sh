#!/bin/bash
# Security (DESIGN section 8), beyond t_15_security.sh; another uid is
# uid/gid 65534 through setpriv, the mount has -o allow_other:
#  - names: bad job names (mkdir), input tags (input/NAME of a new job),
#    .specs/NAME.json and ctl `end NAME` get EINVAL: leading dot, "...",
#    control characters (tab, newline, \001, \177), non-ASCII bytes, 256
#    bytes, spaces and colons; for ctl also "..", ".", "x/y", "../x";
#  - spec fields that look like paths (input tag "../x" or "..", node name
#    "a/b", ".." or "../../etc", output tag ".hidden" or "../../etc", use
#    "../x") make cp spec.json fail EINVAL with the JSON path in the error;
#    invoke of "../../etc/passwd" never runs anything;
#  - exec's cwd is exactly STORE/jobs/JOB (also for "x..y", a 255-byte name
#    and an invoked child job JOB.NODE), and nothing was created outside
#    STORE/jobs/<a listed job>/, STORE/specs/ and STORE/daemon.log, nor next
#    to the store;
#  - exec children hold only fds 0, 1 and 2: no /dev/fuse, no store file;
#  - other uids read a root job (status, log, output) but get EACCES/EPERM
#    for its input, ctl (cancel, end), spec.json, options.json, input/,
#    rmdir, rm -r, and for writing or removing .specs/ entries;
#  - exec from another uid is EPERM, also through {"use"} of a registered
#    exec spec, invoke of it, and a registered spec that invokes it; and it
#    never runs for that uid through invoke by other means: the spec name in
#    an option ("${s}", from its default or from options.json), a JSON
#    escape in the name ("rootex\u0065c"), or a restart after the invoked
#    spec was re-registered with exec. With -o exec=any it runs (control);
#  - another uid's invoke node can't remove or replace a root job that has
#    its child's name JOB.NODE (stopped or new);
#  - exec children (also one ignoring SIGTERM, and a grandchild) are gone
#    within a few seconds after fusermount3 -u; the daemon exits 0 and the
#    jobs are "interrupted" on the next mount.
# Each part runs in a subshell, so one failing part does not hide the next
# ones (the test still fails).
# timeout: 90
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || fail "this test acts as another uid with setpriv and must run as root"
command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
OTHER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
DENIED='Permission denied|Operation not permitted'
T=$LJ_TMP
chmod 755 "$T"
W=$T/w # files other uids read
mkdir -p "$W"
chmod 755 "$W"
UNIQ="$$$RANDOM"
SP=$T/sp # the store's parent: holds nothing but the store
mkdir -p "$SP"
STORE=$SP/store
long255=$(printf 'b%.0s' $(seq 255))
long256=$(printf 'c%.0s' $(seq 256))

part() {
	local name=$1
	shift
	echo "== $name"
	if ! ("$@"); then
		echo "-- part '$name' failed; going on with the next ones" >&2
		printf '%s\n' "$name" >>"$T/parts.failed"
	fi
}

write_spec_pass "$W/pass.json"
cat >"$W/rootexec.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "c"}},
  "nodes":   {"c": {"op": "exec", "in": "x", "argv": ["sh", "-c", "echo EXEC-RAN; cat"]}}
}
EOF
cat >"$W/wrap.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "w"}},
  "nodes":   {"w": {"op": "invoke", "in": "x", "spec": "rootexec"}}
}
EOF
# invoke_spec FILE NAME: input x -> invoke NAME as node p -> output y
invoke_spec() {
	cat >"$1" <<EOF
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "p"}},
  "nodes":   {"p": {"op": "invoke", "in": "x", "spec": "$2"}}
}
EOF
}
invoke_spec "$W/inv-rootexec.json" rootexec
invoke_spec "$W/inv-wrap.json" wrap
invoke_spec "$W/inv-later.json" later
invoke_spec "$W/inv-passreg.json" passreg
printf '{"use": "rootexec"}\n' >"$W/use-rootexec.json"
printf '{"use": "wrap"}\n' >"$W/use-wrap.json"
printf 'hello\n' >"$W/hello"
chmod 644 "$W"/*

lj_mount allow_other
run_ok cp "$W/rootexec.json" "$MNT/.specs/rootexec.json"
run_ok cp "$W/wrap.json" "$MNT/.specs/wrap.json"
run_ok cp "$W/pass.json" "$MNT/.specs/passreg.json"
run_ok cp "$W/pass.json" "$MNT/.specs/later.json"
[ "$(ls -A "$SP")" = store ] || fail "the store's parent holds more than the store: $(ls -A "$SP")"

# ---------------------------------------------------------------------------
names_part() {
	local n bad=(.x ... $'a\nb' $'a\tb' $'a\001b' $'a\177b' $'\377' $'caf\303\251' "a b" "a:b" "$long256")

	run_ok mkdir "$MNT/nj"
	run_ok mkdir "$MNT/nj/input"
	for n in "${bad[@]}"; do
		expect_errno "Invalid argument" mkdir "$MNT/$n"
		[ -e "$MNT/$n" ] && fail "job '$n' exists after the refused mkdir"
		expect_errno "Invalid argument" bash -c ': >"$1"' _ "$MNT/nj/input/$n"
		expect_errno "Invalid argument" cp "$W/pass.json" "$MNT/.specs/$n.json"
	done
	expect_errno "Invalid argument" cp "$W/pass.json" "$MNT/.specs/.json"
	[ -z "$(timeout 10 ls -A "$MNT/nj/input")" ] ||
		fail "nj/input lists files after the refused creates: $(timeout 10 ls -A "$MNT/nj/input" | od -c | head)"
	timeout 10 ls -A "$MNT/.specs" >"$T/specs.ls" || fail "cannot list .specs"
	printf 'later.json\npassreg.json\nrootexec.json\nwrap.json\n' >"$T/specs.want"
	sort "$T/specs.ls" >"$T/specs.sorted"
	assert_file_eq "$T/specs.sorted" "$T/specs.want" ".specs after the refused names"
	assert_eq "$(job_state nj)" new "nj state"

	# ctl end NAME on a running job
	new_job cj "$W/pass.json"
	for n in "${bad[@]}" .. . x/y ../x ../../etc "/etc/passwd"; do
		expect_errno "Invalid argument" bash -c 'printf "end %s\n" "$2" >"$1"' _ "$MNT/cj/ctl" "$n"
	done
	assert_eq "$(job_state cj)" running "cj state after the refused ctl lines"
	assert_eq "$(status_get cj inputs.x.ended)" false "cj input x ended after the refused ctl lines"
	run_ok cp "$W/hello" "$MNT/cj/input/x"
	wait_state cj succeeded
	slurp "$MNT/cj/output/y" "$T/cj.got"
	assert_file_eq "$T/cj.got" "$W/hello" "cj/output/y"
}
part "bad names: mkdir, input/NAME, .specs/NAME.json, ctl end NAME" names_part

# ---------------------------------------------------------------------------
# bad_spec JOB SECTION JSON-BODY: cp spec.json fails EINVAL, the job stays
# new and its error names SECTION.
bad_spec() {
	local job=$1 section=$2 err
	printf '{%s}\n' "$3" >"$T/$job.json"
	run_ok mkdir "$MNT/$job"
	expect_errno "Invalid argument" cp "$T/$job.json" "$MNT/$job/spec.json"
	assert_eq "$(job_state "$job")" new "$job state after the refused spec"
	err=$(status_get "$job" error)
	printf '%s\n' "$err" | grep -qF -- "$section" ||
		fail "$job: status error '$err' does not name '$section'"
	[ -e "$MNT/$job/output" ] && fail "$job: output/ exists although the spec was refused"
	return 0
}

spec_fields_part() {
	local P='"outputs": {"y": {"from": "p"}}, "nodes": {"p": {"op": "pass", "in": "x"}}'
	bad_spec sp-in1 'inputs.../x' '"inputs": {"../x": {}}, "outputs": {"y": {"from": "p"}}, "nodes": {"p": {"op": "pass", "in": "../x"}}'
	bad_spec sp-in2 'inputs' '"inputs": {"..": {}}, "outputs": {"y": {"from": "p"}}, "nodes": {"p": {"op": "pass", "in": ".."}}'
	bad_spec sp-in3 'inputs' '"inputs": {"/etc/passwd": {}}, "outputs": {"y": {"from": "p"}}, "nodes": {"p": {"op": "pass", "in": "/etc/passwd"}}'
	bad_spec sp-in4 'inputs' '"inputs": {"a\nb": {}}, "outputs": {"y": {"from": "p"}}, "nodes": {"p": {"op": "pass", "in": "a\nb"}}'
	bad_spec sp-node1 'nodes.a/b' '"inputs": {"x": {}}, "outputs": {"y": {"from": "a/b"}}, "nodes": {"a/b": {"op": "pass", "in": "x"}}'
	bad_spec sp-node2 'nodes' '"inputs": {"x": {}}, "outputs": {"y": {"from": ".."}}, "nodes": {"..": {"op": "pass", "in": "x"}}'
	bad_spec sp-node3 'nodes' '"inputs": {"x": {}}, "outputs": {"y": {"from": "../../etc"}}, "nodes": {"../../etc": {"op": "pass", "in": "x"}}'
	bad_spec sp-node4 'nodes' '"inputs": {"x": {}}, "outputs": {"y": {"from": "."}}, "nodes": {".": {"op": "pass", "in": "x"}}'
	bad_spec sp-node5 'nodes' "\"inputs\": {\"x\": {}}, \"outputs\": {\"y\": {\"from\": \"$long256\"}}, \"nodes\": {\"$long256\": {\"op\": \"pass\", \"in\": \"x\"}}"
	bad_spec sp-out1 'outputs..hidden' '"inputs": {"x": {}}, "outputs": {".hidden": {"from": "p"}}, "nodes": {"p": {"op": "pass", "in": "x"}}'
	bad_spec sp-out2 'outputs' '"inputs": {"x": {}}, "outputs": {"../../etc": {"from": "p"}}, "nodes": {"p": {"op": "pass", "in": "x"}}'
	bad_spec sp-out3 'outputs' '"inputs": {"x": {}}, "outputs": {"..": {"from": "p"}}, "nodes": {"p": {"op": "pass", "in": "x"}}'
	bad_spec sp-use1 'use' '"use": "../x"'
	bad_spec sp-use2 'use' '"use": "/etc/passwd"'
	bad_spec sp-use3 'use' '"use": ".."'
	bad_spec sp-use4 'use' '"use": "../specs/passreg"'

	# invoke of a path: refused at once, or the job fails; nothing runs
	local s st
	for s in ../../etc/passwd /etc/passwd .. ../specs/passreg; do
		invoke_spec "$T/inv-bad.json" "$s"
		run_ok mkdir "$MNT/sp-inv"
		if timeout 30 cp "$T/inv-bad.json" "$MNT/sp-inv/spec.json" 2>"$T/inv-bad.err"; then
			timeout 10 cp "$W/hello" "$MNT/sp-inv/input/x" 2>/dev/null
			st=$(timeout 15 cat "$MNT/sp-inv/wait") || fail "sp-inv (invoke \"$s\") did not end"
			[ "$st" = failed ] ||
				fail "a job invoking spec \"$s\" ended '$st' (expected the spec refused EINVAL, or the job failed)
$(job_diag sp-inv)"
		else
			grep -qF "Invalid argument" "$T/inv-bad.err" ||
				fail "cp of a spec invoking \"$s\" failed without EINVAL: $(cat "$T/inv-bad.err")"
		fi
		run_ok rm -r "$MNT/sp-inv"
	done

	# the spec's own name is only a name
	printf '{"name": "../../evil", %s}\n' '"inputs": {"x": {}}, '"$P" >"$T/sp-name.json"
	run_ok mkdir "$MNT/sp-name"
	timeout 30 cp "$T/sp-name.json" "$MNT/sp-name/spec.json" 2>/dev/null
	return 0
}
part "spec fields that look like paths" spec_fields_part

# ---------------------------------------------------------------------------
cwd_part() {
	local job want
	cat >"$T/pwd.json" <<'EOF'
{
  "outputs": {"y": {"from": "d"}},
  "nodes":   {"d": {"op": "exec", "argv": ["pwd"]}}
}
EOF
	for job in pw x..y "$long255"; do
		new_job "$job" "$T/pwd.json"
		wait_state "$job" succeeded
		want=$(cd "$STORE/jobs/$job" && pwd -P) || fail "no store directory $STORE/jobs/$job"
		printf '%s\n' "$want" >"$T/pwd.want"
		slurp "$MNT/$job/output/y" "$T/pwd.got"
		assert_file_eq "$T/pwd.got" "$T/pwd.want" "exec pwd of job ${job:0:20}"
	done
	# an invoked child job runs in its own directory
	cat >"$T/pwdreg.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "d"}},
  "nodes":   {"d": {"op": "exec", "in": "x", "argv": ["sh", "-c", "cat >/dev/null; pwd"]}}
}
EOF
	run_ok cp "$T/pwdreg.json" "$MNT/.specs/pwdreg.json"
	invoke_spec "$T/inv-pwd.json" pwdreg
	new_job ip "$T/inv-pwd.json"
	run_ok cp "$W/hello" "$MNT/ip/input/x"
	wait_state ip succeeded
	want=$(cd "$STORE/jobs/ip.p" && pwd -P) || fail "no store directory $STORE/jobs/ip.p"
	printf '%s\n' "$want" >"$T/pwd.want"
	slurp "$MNT/ip/output/y" "$T/pwd.got"
	assert_file_eq "$T/pwd.got" "$T/pwd.want" "exec pwd in the invoked child job ip.p"
	run_ok rm "$MNT/.specs/pwdreg.json"
}
part "exec cwd is STORE/jobs/JOB" cwd_part

# ---------------------------------------------------------------------------
store_part() {
	local jobs bad
	[ "$(ls -A "$SP")" = store ] || fail "the store's parent holds more than the store: $(ls -A "$SP")"
	timeout 10 ls -A "$MNT" | grep -v '^\.' >"$T/jobs.ls" || fail "cannot list the mount"
	find "$STORE" -mindepth 1 -printf '%P\n' >"$T/store.find"
	bad=$(awk -v jl="$T/jobs.ls" '
		BEGIN { while ((getline j < jl) > 0) job[j] = 1 }
		$0 == "daemon.log" || $0 == "jobs" || $0 == "specs" { next }
		/^specs\/[A-Za-z0-9_-][A-Za-z0-9._-]*\.json$/ { next }
		/^jobs\// { split($0, p, "/"); if (p[2] in job) next }
		{ print }' "$T/store.find")
	[ -z "$bad" ] || fail "the store holds paths outside STORE/jobs/<listed job>/, specs/ and daemon.log:
$(printf '%s\n' "$bad" | head -n 20)"
	grep -qE '(^|/)(evil|etc|passwd|\.hidden)$' "$T/store.find" &&
		fail "the store holds a path named after a refused spec field: $(grep -E '(^|/)(evil|etc|passwd|\.hidden)$' "$T/store.find")"
	return 0
}
part "nothing outside STORE/jobs/JOB" store_part

# ---------------------------------------------------------------------------
fd_part() {
	local pid="" deadline f bad
	cat >"$T/fd.json" <<'EOF'
{
  "outputs": {"y": {"from": "l"}},
  "nodes":   {"l": {"op": "exec", "argv": ["ls", "-l", "/proc/self/fd/"]}}
}
EOF
	new_job fd1 "$T/fd.json"
	wait_state fd1 succeeded
	slurp "$MNT/fd1/output/y" "$T/fd1.got"
	grep -qiE 'fuse' "$T/fd1.got" && fail "an exec child holds /dev/fuse:
$(cat "$T/fd1.got")"
	bad=$(grep -- '->' "$T/fd1.got" | awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "->") print $i }' |
		grep -vxE '[0-3]')
	[ -z "$bad" ] || fail "an exec child (ls) holds fds other than 0, 1, 2 and its own 3: $bad
$(cat "$T/fd1.got")"
	# a running child, seen from outside
	cat >"$T/fd2.json" <<EOF
{
  "outputs": {"y": {"from": "s"}},
  "nodes":   {"s": {"op": "exec", "argv": ["sleep", "30.$UNIQ"]}}
}
EOF
	new_job fd2 "$T/fd2.json"
	deadline=$(($(now_ms) + 5000))
	while [ -z "$pid" ]; do
		pid=$(pgrep -f "^sleep 30\.$UNIQ\$" | head -n 1)
		[ -n "$pid" ] && break
		[ "$(now_ms)" -lt "$deadline" ] || fail "the exec child 'sleep 30.$UNIQ' did not show up"
		sleep 0.05
	done
	for f in /proc/"$pid"/fd/*; do
		printf '%s -> %s\n' "${f##*/}" "$(readlink "$f")"
	done >"$T/fd2.got"
	grep -qi fuse "$T/fd2.got" && fail "the exec child holds /dev/fuse:
$(cat "$T/fd2.got")"
	grep -qF "$STORE" "$T/fd2.got" && fail "the exec child holds a store file:
$(cat "$T/fd2.got")"
	assert_eq "$(cut -d' ' -f1 "$T/fd2.got" | sort -n | tr '\n' ' ')" "0 1 2 " "fds of the exec child"
	run_ok sh -c 'echo cancel >"$1"' sh "$MNT/fd2/ctl"
	wait_state fd2 cancelled
}
part "exec children hold no daemon fd" fd_part

# ---------------------------------------------------------------------------
perm_part() {
	new_job rdone "$W/pass.json"
	run_ok cp "$W/hello" "$MNT/rdone/input/x"
	wait_state rdone succeeded
	new_job rlive "$W/pass.json"
	run_ok mkdir "$MNT/rnew"

	run_ok "${OTHER[@]}" cat "$MNT/rdone/status"
	run_ok "${OTHER[@]}" cat "$MNT/rdone/log"
	run_ok "${OTHER[@]}" cat "$MNT/rlive/status"
	run_ok "${OTHER[@]}" cat "$MNT/rnew/status"
	"${OTHER[@]}" timeout 10 cat "$MNT/rdone/output/y" >"$T/other.read" 2>&1 ||
		fail "uid 65534 cannot read rdone/output/y: $(cat "$T/other.read")"
	assert_file_eq "$T/other.read" "$W/hello" "rdone/output/y read by uid 65534"

	expect_errno "Permission denied" "${OTHER[@]}" sh -c 'echo intruder >>"$1"' sh "$MNT/rlive/input/x"
	expect_errno "Permission denied" "${OTHER[@]}" sh -c 'echo cancel >"$1"' sh "$MNT/rlive/ctl"
	expect_errno "Permission denied" "${OTHER[@]}" sh -c 'echo end x >"$1"' sh "$MNT/rlive/ctl"
	expect_errno_re "$DENIED" "${OTHER[@]}" rmdir "$MNT/rlive"
	expect_errno_re "$DENIED" "${OTHER[@]}" rm -rf "$MNT/rlive"
	expect_errno_re "$DENIED" "${OTHER[@]}" rm -rf "$MNT/rdone"
	expect_errno "Permission denied" "${OTHER[@]}" cp "$W/pass.json" "$MNT/rnew/spec.json"
	expect_errno "Permission denied" "${OTHER[@]}" sh -c 'echo "{}" >"$1"' sh "$MNT/rnew/options.json"
	expect_errno "Permission denied" "${OTHER[@]}" mkdir "$MNT/rnew/input"
	run_ok mkdir "$MNT/rnew/input"
	expect_errno "Permission denied" "${OTHER[@]}" sh -c 'echo x >"$1"' sh "$MNT/rnew/input/x"
	expect_errno "Permission denied" "${OTHER[@]}" cp "$W/pass.json" "$MNT/.specs/evil.json"
	expect_errno "Permission denied" "${OTHER[@]}" cp "$W/rootexec.json" "$MNT/.specs/passreg.json"
	expect_errno_re "$DENIED" "${OTHER[@]}" rm -f "$MNT/.specs/wrap.json"

	timeout 10 cmp -s "$MNT/.specs/passreg.json" "$W/pass.json" ||
		fail ".specs/passreg.json changed after uid 65534 tried to overwrite it"
	[ -e "$MNT/.specs/wrap.json" ] || fail ".specs/wrap.json is gone after uid 65534 tried to remove it"
	[ -e "$MNT/.specs/evil.json" ] && fail ".specs/evil.json was made by uid 65534"
	assert_eq "$(job_state rnew)" new "rnew state after the refused writes"
	[ -e "$MNT/rnew/spec.json" ] && fail "rnew/spec.json exists after uid 65534 was refused"
	[ -e "$MNT/rnew/input/x" ] && fail "rnew/input/x exists after uid 65534 was refused"
	assert_eq "$(job_state rdone)" succeeded "rdone state after the refused removal"
	assert_eq "$(job_state rlive)" running "rlive state after the refused writes"
	assert_eq "$(status_get rlive inputs.x.ended)" false "rlive input x ended after the refused ctl"
	printf 'root\n' >"$T/rootline"
	run_ok cp "$T/rootline" "$MNT/rlive/input/x"
	wait_state rlive succeeded
	slurp "$MNT/rlive/output/y" "$T/rlive.got"
	assert_file_eq "$T/rlive.got" "$T/rootline" "rlive/output/y (nothing from uid 65534)"
}
part "other uids read but do not write or remove" perm_part

# ---------------------------------------------------------------------------
# other_eperm JOB SPEC: uid 65534's cp of SPEC fails EPERM, the job stays new.
other_eperm() {
	run_ok "${OTHER[@]}" mkdir "$MNT/$1"
	expect_errno "Operation not permitted" "${OTHER[@]}" cp "$2" "$MNT/$1/spec.json"
	assert_eq "$(job_state "$1")" new "$1 state after the refused spec"
	assert_match "$MNT/$1/log" 'ERROR .*exec' "$1/log"
}

# no_exec JOB: uid 65534's job JOB (spec in place) must not run exec: it ends
# not succeeded, and neither it nor its child JOB.p ran the program.
no_exec() {
	local job=$1 st
	"${OTHER[@]}" timeout 10 cp "$W/hello" "$MNT/$job/input/x" >/dev/null 2>&1
	st=$(timeout 15 cat "$MNT/$job/wait") || fail "$job did not end within 15 s
$(job_diag "$job")"
	timeout 10 cat "$MNT/$job/output/y" >"$T/$job.out" 2>/dev/null
	if grep -q EXEC-RAN "$T/$job.out" ||
		{ [ -d "$MNT/$job.p" ] && timeout 10 cat "$MNT/$job.p/log" | grep -qF 'exec ['; }; then
		fail "uid 65534's job $job ran the registered exec spec as the daemon's user (state $st):
--- $job/output/y:
$(head -c 300 "$T/$job.out")
--- $job.p/log:
$(timeout 10 cat "$MNT/$job.p/log" 2>&1 | grep -E 'exec|ERROR' | head -n 5)"
	fi
	[ "$st" != succeeded ] || fail "uid 65534's job $job, whose invoke resolves to an exec spec, succeeded"
	return 0
}

# other_try JOB SPEC [OPTIONS]: uid 65534 submits SPEC: refused (EPERM or
# EINVAL), or accepted and then no_exec.
other_try() {
	run_ok "${OTHER[@]}" mkdir "$MNT/$1"
	[ -n "${3:-}" ] && run_ok "${OTHER[@]}" cp "$3" "$MNT/$1/options.json"
	if "${OTHER[@]}" timeout 30 cp "$2" "$MNT/$1/spec.json" 2>"$T/$1.err"; then
		no_exec "$1"
	else
		grep -qE 'Operation not permitted|Invalid argument' "$T/$1.err" ||
			fail "$1: cp spec.json failed, but not with EPERM or EINVAL: $(cat "$T/$1.err")"
	fi
	return 0
}

exec_part() {
	other_eperm u-use "$W/use-rootexec.json"
	other_eperm u-inv "$W/inv-rootexec.json"
	other_eperm u-wrap "$W/use-wrap.json"
	other_eperm u-inv2 "$W/inv-wrap.json"
	# root itself may
	new_job r-inv "$W/inv-rootexec.json"
	run_ok cp "$W/hello" "$MNT/r-inv/input/x"
	wait_state r-inv succeeded
	assert_contains "$MNT/r-inv/output/y" EXEC-RAN "r-inv/output/y (root's own invoke of rootexec)"
}
part "exec from another uid: EPERM through use and invoke" exec_part

opt_bypass_part() {
	cat >"$W/b-opt.json" <<'EOF'
{
  "options": {"s": {"type": "string", "default": "rootexec"}},
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "p"}},
  "nodes":   {"p": {"op": "invoke", "in": "x", "spec": "${s}"}}
}
EOF
	cat >"$W/b-opt2.json" <<'EOF'
{
  "options": {"s": {"type": "string", "default": "passreg"}},
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "p"}},
  "nodes":   {"p": {"op": "invoke", "in": "x", "spec": "${s}"}}
}
EOF
	printf '{"s": "rootexec"}\n' >"$W/b-opt2.options.json"
	chmod 644 "$W"/b-opt*
}
opt_bypass_part
part "exec from another uid: invoke with the spec name in an option default" \
	other_try b-opt "$W/b-opt.json"
part "exec from another uid: invoke with the spec name in options.json" \
	other_try b-opt2 "$W/b-opt2.json" "$W/b-opt2.options.json"

esc_bypass_part() {
	invoke_spec "$W/b-esc.json" 'rootex\\u0065c'
	chmod 644 "$W/b-esc.json"
	other_try b-esc "$W/b-esc.json"
}
part "exec from another uid: invoke with a JSON escape in the spec name" esc_bypass_part

restart_part() {
	local st
	run_ok "${OTHER[@]}" mkdir "$MNT/b-rs"
	run_ok "${OTHER[@]}" cp "$W/inv-later.json" "$MNT/b-rs/spec.json"
	run_ok "${OTHER[@]}" sh -c 'echo cancel >"$1"' sh "$MNT/b-rs/ctl"
	wait_state b-rs cancelled
	# root re-registers "later", now with exec
	run_ok cp "$W/rootexec.json" "$MNT/.specs/later.json"
	if "${OTHER[@]}" timeout 30 sh -c 'echo restart >"$1"' sh "$MNT/b-rs/ctl" 2>"$T/b-rs.err"; then
		no_exec b-rs
	else
		grep -qE 'Operation not permitted|Invalid argument' "$T/b-rs.err" ||
			fail "b-rs: restart failed, but not with EPERM or EINVAL: $(cat "$T/b-rs.err")"
		st=$(job_state b-rs)
		[ "$st" != succeeded ] || fail "b-rs succeeded after a refused restart"
	fi
	return 0
}
part "exec from another uid: restart after the invoked spec gained exec" restart_part

# ---------------------------------------------------------------------------
collision_part() {
	local spec=$T/vic.json
	printf 'precious\n' >"$T/precious"
	new_job vic.n "$W/pass.json"
	run_ok cp "$T/precious" "$MNT/vic.n/input/x"
	wait_state vic.n succeeded
	run_ok mkdir "$MNT/vic.m"
	cat >"$spec" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "z"}},
  "nodes": {
    "n": {"op": "invoke", "in": "x", "spec": "passreg"},
    "m": {"op": "invoke", "in": "x", "spec": "passreg"},
    "z": {"op": "merge", "in": ["n", "m"]}
  }
}
EOF
	chmod 644 "$spec"
	run_ok "${OTHER[@]}" mkdir "$MNT/vic"
	"${OTHER[@]}" timeout 30 cp "$spec" "$MNT/vic/spec.json" 2>/dev/null
	"${OTHER[@]}" timeout 10 cp "$W/hello" "$MNT/vic/input/x" 2>/dev/null
	timeout 15 cat "$MNT/vic/wait" >/dev/null 2>&1
	[ -d "$MNT/vic.n" ] || fail "root's job vic.n is gone after uid 65534's job vic invoked node n"
	[ -d "$MNT/vic.m" ] || fail "root's job vic.m is gone after uid 65534's job vic invoked node m"
	assert_eq "$(stat -c %u "$MNT/vic.n")" 0 "owner of vic.n after uid 65534's job vic ran"
	assert_eq "$(stat -c %u "$MNT/vic.m")" 0 "owner of vic.m after uid 65534's job vic ran"
	assert_eq "$(job_state vic.n)" succeeded "vic.n state after uid 65534's job vic ran"
	assert_eq "$(job_state vic.m)" new "vic.m state after uid 65534's job vic ran"
	timeout 10 cat "$MNT/vic.n/output/y" >"$T/vic.n.got" 2>&1
	assert_file_eq "$T/vic.n.got" "$T/precious" "vic.n/output/y after uid 65534's job vic ran"
}
part "another uid's invoke child name can't replace a root job" collision_part

# ---------------------------------------------------------------------------
# exec children die with the daemon (fusermount3 -u)
cat >"$T/k1.json" <<EOF
{"outputs": {"y": {"from": "s"}},
 "nodes": {"s": {"op": "exec", "argv": ["sleep", "1000.$UNIQ"]}}}
EOF
cat >"$T/k2.json" <<EOF
{"outputs": {"y": {"from": "s"}},
 "nodes": {"s": {"op": "exec", "argv": ["sh", "-c", "trap '' TERM; exec sleep 1001.$UNIQ"]}}}
EOF
cat >"$T/k3.json" <<EOF
{"outputs": {"y": {"from": "s"}},
 "nodes": {"s": {"op": "exec", "argv": ["sh", "-c", "sleep 1002.$UNIQ & wait"]}}}
EOF
echo "== exec children die with the daemon"
for k in k1 k2 k3; do new_job "$k" "$T/$k.json"; done
KRE="^sleep 100[012]\.$UNIQ\$"
deadline=$(($(now_ms) + 5000))
while [ "$(pgrep -f "$KRE" | wc -l)" -lt 3 ]; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "the 3 sleeps did not start: $(pgrep -af "$KRE")"
	sleep 0.05
done
lj_umount
deadline=$(($(now_ms) + 5000))
while pgrep -f "$KRE" >/dev/null; do
	[ "$(now_ms)" -lt "$deadline" ] ||
		fail "exec children outlive the daemon by 5 s: $(pgrep -af "$KRE")"
	sleep 0.1
done

# --- the next mount: interrupted jobs, and exec=any as the control ---
lj_mount allow_other,exec=any
for k in k1 k2 k3; do
	assert_eq "$(job_state $k)" interrupted "$k state after the unmount"
done
echo "== exec=any: uid 65534's invoke of the exec spec runs (control)"
run_ok "${OTHER[@]}" mkdir "$MNT/any-inv"
run_ok "${OTHER[@]}" cp "$W/inv-rootexec.json" "$MNT/any-inv/spec.json"
run_ok "${OTHER[@]}" cp "$W/hello" "$MNT/any-inv/input/x"
wait_state any-inv succeeded
assert_contains "$MNT/any-inv/output/y" EXEC-RAN "any-inv/output/y"
lj_umount

if [ -s "$T/parts.failed" ]; then
	echo "parts that failed:" >&2
	sed 's/^/  /' "$T/parts.failed" >&2
	exit 1
fi
