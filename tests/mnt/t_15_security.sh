#!/bin/bash
# Other uids (acting as uid/gid 65534 with setpriv; the suite runs as root):
#  - -o allow_other: they read a root-made job's status and output, but
#    cannot write its input or ctl, nor rmdir / rm -r it; they can make
#    their own jobs (owned by their uid) and run specs without exec; a spec
#    with exec from them is rejected with EPERM;
#  - -o allow_other,exec=any: their exec spec is accepted and runs;
#  - no allow_other: they cannot even list or stat the mount's contents.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || fail "this test acts as another uid with setpriv and must run as root"
command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
OTHER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
DENIED='Permission denied|Operation not permitted'
T=$LJ_TMP
chmod 755 "$T"

write_spec_pass "$T/pass.json"
cat >"$T/exec.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "c"}},
  "nodes":   {"c": {"op": "exec", "in": "x", "argv": ["cat"]}}
}
EOF
printf 'one\ntwo\n' >"$T/words"
chmod 644 "$T/pass.json" "$T/exec.json" "$T/words"
"${OTHER[@]}" cat "$T/words" >/dev/null 2>&1 || fail "uid 65534 cannot read $T/words (test setup)"

# --- allow_other ---
lj_mount allow_other
new_job rootjob "$T/pass.json"
run_ok cp "$T/words" "$MNT/rootjob/input/x"
wait_state rootjob succeeded
new_job rootlive "$T/pass.json"

run_ok "${OTHER[@]}" cat "$MNT/rootjob/status"
"${OTHER[@]}" timeout 10 cat "$MNT/rootjob/output/y" >"$T/other.read" 2>&1 ||
	fail "uid 65534 cannot read rootjob/output/y: $(cat "$T/other.read")"
assert_file_eq "$T/other.read" "$T/words" "rootjob/output/y read by uid 65534"
run_ok "${OTHER[@]}" cat "$MNT/rootjob/log"
run_ok "${OTHER[@]}" ls "$MNT" "$MNT/rootjob"

expect_errno_re "$DENIED" "${OTHER[@]}" sh -c 'echo intruder >> "$1"' sh "$MNT/rootlive/input/x"
expect_errno_re "$DENIED" "${OTHER[@]}" cp "$T/words" "$MNT/rootlive/input/x"
expect_errno_re "$DENIED" "${OTHER[@]}" sh -c 'echo cancel > "$1"' sh "$MNT/rootlive/ctl"
expect_errno_re "$DENIED" "${OTHER[@]}" cp "$T/exec.json" "$MNT/rootjob/spec.json"
expect_errno_re "$DENIED" "${OTHER[@]}" rmdir "$MNT/rootjob"
expect_errno_re "$DENIED" "${OTHER[@]}" rm -rf "$MNT/rootjob"
[ -d "$MNT/rootjob" ] || fail "rootjob is gone after uid 65534 tried to remove it"
assert_eq "$(job_state rootjob)" succeeded "rootjob state after the refused removal"
slurp "$MNT/rootjob/output/y" "$T/root.read"
assert_file_eq "$T/root.read" "$T/words" "rootjob/output/y after the refused removal"
assert_eq "$(job_state rootlive)" running "rootlive state after the refused writes"
printf 'root\n' >"$T/rootline"
run_ok cp "$T/rootline" "$MNT/rootlive/input/x"
wait_state rootlive succeeded
slurp "$MNT/rootlive/output/y" "$T/rootlive.out"
assert_file_eq "$T/rootlive.out" "$T/rootline" "rootlive/output/y (nothing from uid 65534)"

run_ok "${OTHER[@]}" mkdir "$MNT/userjob"
assert_eq "$(stat -c %u "$MNT/userjob")" 65534 "owner of the job made by uid 65534"
expect_errno "Operation not permitted" "${OTHER[@]}" cp "$T/exec.json" "$MNT/userjob/spec.json"
assert_eq "$(job_state userjob)" new "userjob state after its exec spec was refused"

run_ok "${OTHER[@]}" mkdir "$MNT/userpass"
run_ok "${OTHER[@]}" cp "$T/pass.json" "$MNT/userpass/spec.json"
run_ok "${OTHER[@]}" cp "$T/words" "$MNT/userpass/input/x"
wait_state userpass succeeded
slurp "$MNT/userpass/output/y" "$T/userpass.out"
assert_file_eq "$T/userpass.out" "$T/words" "userpass/output/y"
lj_umount

# --- allow_other,exec=any ---
lj_mount allow_other,exec=any
run_ok "${OTHER[@]}" mkdir "$MNT/userexec"
run_ok "${OTHER[@]}" cp "$T/exec.json" "$MNT/userexec/spec.json"
run_ok "${OTHER[@]}" cp "$T/words" "$MNT/userexec/input/x"
wait_state userexec succeeded
"${OTHER[@]}" timeout 10 cat "$MNT/userexec/output/y" >"$T/userexec.out" 2>&1 ||
	fail "uid 65534 cannot read userexec/output/y: $(cat "$T/userexec.out")"
assert_file_eq "$T/userexec.out" "$T/words" "userexec/output/y"
lj_umount

# --- no allow_other ---
lj_mount
expect_errno "Permission denied" "${OTHER[@]}" ls "$MNT"
expect_errno "Permission denied" "${OTHER[@]}" stat "$MNT/.env"
expect_errno "Permission denied" "${OTHER[@]}" cat "$MNT/rootjob/status"
expect_errno "Permission denied" "${OTHER[@]}" mkdir "$MNT/sneaky"
timeout 10 ls "$MNT" | grep -qx rootjob || fail "root cannot list rootjob on its own mount"
[ -e "$MNT/sneaky" ] && fail "sneaky was made by another uid without allow_other"
lj_umount
