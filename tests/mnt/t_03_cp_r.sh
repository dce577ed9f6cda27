#!/bin/bash
# `cp -r myjob MNT/newname` into a new name. cp -r copies a directory's
# entries sorted by inode number, so the order is arranged by creating the
# source entries in that order and checked with `ls -Ui`:
#   job 1: input/ (with its files) and options.json before spec.json: one
#          cp -r does it all (DESIGN.md section 4, "A new job").
#   job 2: spec.json first. Once the spec is accepted input/ exists with one
#          file per tag, so the kernel answers cp's mkdir with EEXIST before
#          the daemon is asked (README "cp -r and the order of entries"):
#          the documented two-step copy (inputs first, then the spec) works.
# Both jobs must succeed with the right output.
. "$(dirname "$0")/lib.sh"

write_spec() {
	cat >"$1" <<'EOF'
{
  "name": "shout",
  "options": {"mark": {"type": "string", "default": "!"}},
  "inputs":  {"words": {"format": "lines"}},
  "outputs": {"loud": {"from": "bang"}},
  "nodes": {
    "up":   {"op": "upper", "in": "words"},
    "bang": {"op": "replace", "in": "up", "pattern": "^(.*)$", "with": "\\1${mark}"}
  }
}
EOF
}

ino() { stat -c %i "$1"; }

# check_order DIR FIRST SECOND...: inode numbers increase in that order
check_order() {
	local d=$1 prev="" cur p
	shift
	echo "ls -Ui $d:"
	ls -Ui "$d" | sed 's/^/    /'
	for p in "$@"; do
		cur=$(ino "$d/$p")
		if [ -n "$prev" ] && [ "$cur" -le "$prev" ]; then
			return 1
		fi
		prev=$cur
	done
	return 0
}

printf 'one\ntwo\nthree\n' >"$LJ_TMP/words"

# --- source 1: input/ and options.json before spec.json ---
for try in $(seq 20); do
	src1=$LJ_TMP/src1.$try
	mkdir -p "$src1/input"
	cp "$LJ_TMP/words" "$src1/input/words"
	printf '{"mark": "!!"}\n' >"$src1/options.json"
	write_spec "$src1/spec.json"
	check_order "$src1" input options.json spec.json && break
	src1=""
done
[ -n "$src1" ] || fail "could not make a source dir whose inode order is input < options.json < spec.json"

# --- source 2: spec.json before input/ (no options: defaults) ---
for try in $(seq 20); do
	src2=$LJ_TMP/src2.$try
	mkdir -p "$src2"
	write_spec "$src2/spec.json"
	mkdir "$src2/input"
	cp "$LJ_TMP/words" "$src2/input/words"
	check_order "$src2" spec.json input && break
	src2=""
done
[ -n "$src2" ] || fail "could not make a source dir whose inode order is spec.json < input"

lj_mount

[ -e "$MNT/copied1" ] && fail "copied1 exists before cp -r"
run_ok cp -r "$src1" "$MNT/copied1"
wait_state copied1 succeeded
printf 'ONE!!\nTWO!!\nTHREE!!\n' >"$LJ_TMP/expected1"
slurp "$MNT/copied1/output/loud" "$LJ_TMP/got1"
assert_file_eq "$LJ_TMP/got1" "$LJ_TMP/expected1" "copied1/output/loud (inputs copied before spec.json)"

run_ok mkdir "$MNT/copied2"
run_ok cp -r "$src2/input" "$MNT/copied2/"
run_ok cp "$src2/spec.json" "$MNT/copied2/"
wait_state copied2 succeeded
printf 'ONE!\nTWO!\nTHREE!\n' >"$LJ_TMP/expected2"
slurp "$MNT/copied2/output/loud" "$LJ_TMP/got2"
assert_file_eq "$LJ_TMP/got2" "$LJ_TMP/expected2" "copied2/output/loud (two-step copy)"

lj_umount
