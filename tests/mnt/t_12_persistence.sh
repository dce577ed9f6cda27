#!/bin/bash
# Jobs survive an unmount: jobs that succeeded, failed and were cancelled,
# a new job and a job with a rejected spec are recorded (the listing, and
# the bytes of each job's ls -A, status, log, wait, spec.json,
# options.json, and outputs, with cat's exit status), the daemon exits 0 on
# fusermount3 -u, and a second mount of the same store shows the same
# bytes. The new job can then still be started. A finished job's status
# that the store lost fails to open (EIO), never reads as empty.
. "$(dirname "$0")/lib.sh"

T=$LJ_TMP
write_spec_pass "$T/pass.json"
cat >"$T/opt.json" <<'EOF'
{
  "name": "marked",
  "options": {"mark": {"type": "string", "default": "!"}},
  "inputs":  {"words": {"format": "lines"}},
  "outputs": {"loud": {"from": "bang"}, "count": {"from": "n"}},
  "nodes": {
    "up":   {"op": "upper", "in": "words"},
    "bang": {"op": "replace", "in": "up", "pattern": "^(.*)$", "with": "\\1${mark}"},
    "n":    {"op": "count", "in": "words"}
  }
}
EOF
printf '{"mark": "?!"}\n' >"$T/opt.options.json"
cat >"$T/fail.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "f"}},
  "nodes":   {"f": {"op": "exec", "in": "x", "argv": ["sh", "-c", "cat; echo bad >&2; exit 3"]}}
}
EOF
cat >"$T/bad.json" <<'EOF'
{
  "inputs":  {"x": {"format": "lines"}},
  "outputs": {"y": {"from": "p"}},
  "nodes":   {"p": {"op": "pass", "in": "nope"}}
}
EOF
seq 1 500 >"$T/nums"
printf 'alpha\nbeta\n' >"$T/words"

lj_mount
new_job ok "$T/pass.json"
run_ok cp "$T/nums" "$MNT/ok/input/x"
new_job opt "$T/opt.json" "$T/opt.options.json"
run_ok cp "$T/words" "$MNT/opt/input/words"
run_ok mkdir "$MNT/failed" "$MNT/failed/input"
run_ok cp "$T/words" "$MNT/failed/input/x"
run_ok cp "$T/fail.json" "$MNT/failed/spec.json"
new_job cancelled "$T/pass.json"
exec 3>"$MNT/cancelled/input/x" || fail "cannot open cancelled/input/x"
printf 'partial\n' >&3
wait_size "$MNT/cancelled/output/y" 8
run_ok sh -c 'echo cancel > "$1"' sh "$MNT/cancelled/ctl"
exec 3>&-
run_ok mkdir "$MNT/fresh"
run_ok mkdir "$MNT/rejected"
expect_errno "Invalid argument" cp "$T/bad.json" "$MNT/rejected/spec.json"

wait_state ok succeeded
wait_state opt succeeded
wait_state failed failed
wait_state cancelled cancelled
sleep 0.5

# record DIR: snapshot of everything a user can read of the jobs
record() {
	local d=$1 j f rc
	mkdir -p "$d"
	timeout 10 ls "$MNT" >"$d/ls" || fail "ls $MNT failed"
	for j in ok opt failed cancelled fresh rejected; do
		timeout 10 ls -A "$MNT/$j" >"$d/$j.ls" || fail "ls -A $j failed"
		for f in status log spec.json options.json; do
			[ -e "$MNT/$j/$f" ] || continue
			timeout 10 cat "$MNT/$j/$f" >"$d/$j.$f" 2>&1 || fail "cat $j/$f failed"
		done
		case $j in
		fresh | rejected) ;;
		*) timeout 10 cat "$MNT/$j/wait" >"$d/$j.wait" 2>&1 || fail "cat $j/wait failed" ;;
		esac
		[ -d "$MNT/$j/output" ] || continue
		timeout 10 ls -A "$MNT/$j/output" >"$d/$j.outputs" || fail "ls $j/output failed"
		while read -r f; do
			timeout 10 cat "$MNT/$j/output/$f" >"$d/$j.out.$f" 2>"$d/$j.out.$f.err"
			rc=$?
			[ "$rc" -eq 124 ] && fail "cat $j/output/$f blocked on an ended job"
			echo "$rc" >"$d/$j.out.$f.rc"
		done <"$d/$j.outputs"
	done
}

record "$T/before"
assert_eq "$(cat "$T/before/ok.wait")" succeeded "ok/wait"
assert_eq "$(cat "$T/before/cancelled.wait")" cancelled "cancelled/wait"
assert_file_eq "$T/before/ok.out.y" "$T/nums" "ok/output/y"
assert_eq "$(cat "$T/before/failed.out.y.rc")" 1 "exit status of cat failed/output/y"
assert_eq "$(cat "$T/before/cancelled.out.y.rc")" 1 "exit status of cat cancelled/output/y"
for j in ok opt failed cancelled fresh rejected; do
	json_check "$T/before/$j.status" "$j/status"
done

lj_umount # fails unless the daemon exits 0
for j in ok opt failed cancelled fresh rejected; do
	[ -d "$STORE/jobs/$j" ] || fail "no $STORE/jobs/$j after the unmount"
done

lj_mount
record "$T/after"
for f in "$T"/before/*; do
	n=$(basename "$f")
	[ -e "$T/after/$n" ] || fail "after the remount, $n is missing (${n%%.*} was there before)"
	assert_file_eq "$T/after/$n" "$f" "$n after the remount"
done
for f in "$T"/after/*; do
	[ -e "$T/before/$(basename "$f")" ] || fail "after the remount, $(basename "$f") exists but did not before"
done
echo "all recorded bytes are the same after the remount"

# the new job can still be started
run_ok cp "$T/pass.json" "$MNT/fresh/spec.json"
run_ok cp "$T/words" "$MNT/fresh/input/x"
wait_state fresh succeeded
slurp "$MNT/fresh/output/y" "$T/fresh.out"
assert_file_eq "$T/fresh.out" "$T/words" "fresh/output/y after the remount"

# A finished job loaded from the store serves its status from there: if the
# store loses it, reading status fails (EIO) rather than reading empty.
cp "$STORE/jobs/ok/status.json" "$T/ok.status.json"
rm "$STORE/jobs/ok/status.json"
expect_errno "Input/output error" cat "$MNT/ok/status"
cp "$T/ok.status.json" "$STORE/jobs/ok/status.json"
slurp "$MNT/ok/status" "$T/ok.status.again"
assert_file_eq "$T/ok.status.again" "$T/before/ok.status" "ok/status with its status.json back"
echo "a status the store lost fails with EIO"

lj_umount
