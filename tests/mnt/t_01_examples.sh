#!/bin/bash
# Every example of mnt-example/ runs through scripts/run-example.sh on a
# fresh mount: each expected/TAG equals output/TAG byte for byte (both sides
# sorted with LC_ALL=C sort for expected/TAG.sorted), `cat wait` says
# succeeded, and status is valid JSON with "state": "succeeded".
# timeout: 420
. "$(dirname "$0")/lib.sh"

n=0
for dir in "$LJ_ROOT"/mnt-example/*/; do
	dir=${dir%/}
	[ -f "$dir/spec.json" ] || continue
	ex=$(basename "$dir")
	n=$((n + 1))
	echo "== example $ex"
	lj_mount
	LIVEJOB_TIMEOUT=60 timeout 150 sh "$LJ_ROOT/scripts/run-example.sh" "$MNT" "$dir" "$ex" \
		>"$LJ_TMP/run.$ex.out" 2>"$LJ_TMP/run.$ex.err"
	rc=$?
	[ "$rc" -eq 0 ] || fail "example $ex: scripts/run-example.sh exited $rc:
$(cat "$LJ_TMP/run.$ex.err")
$(job_diag "$ex")"

	nexp=0
	for e in "$dir"/expected/*; do
		[ -f "$e" ] || continue
		nexp=$((nexp + 1))
		tag=$(basename "$e")
		got=$LJ_TMP/got.$ex.$tag
		case $tag in
		*.sorted)
			tag=${tag%.sorted}
			slurp "$MNT/$ex/output/$tag" "$got.raw"
			LC_ALL=C sort "$got.raw" >"$got"
			LC_ALL=C sort "$e" >"$got.expected"
			assert_file_eq "$got" "$got.expected" "example $ex: output/$tag (sorted)"
			;;
		*)
			slurp "$MNT/$ex/output/$tag" "$got"
			assert_file_eq "$got" "$e" "example $ex: output/$tag"
			;;
		esac
		echo "   output/$tag ok"
	done
	[ "$nexp" -gt 0 ] || fail "example $ex has no expected/ file"

	printf 'succeeded\n' >"$LJ_TMP/succeeded"
	slurp "$MNT/$ex/wait" "$LJ_TMP/wait.$ex" 10
	assert_file_eq "$LJ_TMP/wait.$ex" "$LJ_TMP/succeeded" "example $ex: cat wait"
	slurp "$MNT/$ex/status" "$LJ_TMP/status.$ex.json" 10
	json_check "$LJ_TMP/status.$ex.json" "example $ex: status"
	assert_eq "$(json_get "$LJ_TMP/status.$ex.json" state)" succeeded "example $ex: status state"
	assert_eq "$(json_get "$LJ_TMP/status.$ex.json" job)" "$ex" "example $ex: status job"
	lj_umount
done
[ "$n" -gt 0 ] || fail "no example (DIR/spec.json) found in $LJ_ROOT/mnt-example/"
echo "$n examples ok"
