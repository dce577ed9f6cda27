#!/bin/bash
# A 2 GiB stream through a pass job: 2 GiB of /dev/urandom piped straight
# into `cp /dev/stdin JOB/input/x` while sha256sum reads the output live.
# The checksums match, the output's st_size is 2 GiB, the job succeeds, and
# the daemon's VmRSS (sampled every 0.2 s) and its VmHWM (peak) stay
# under 100 MiB
# (LJ_RSS_LIMIT_KB overrides; a sanitized build gets 400 MiB, since ASan's
# shadow memory and quarantine count in its RSS).
# timeout: 600
. "$(dirname "$0")/lib.sh"

SIZE=$((2 * 1024 * 1024 * 1024))
case $LIVEJOBFS_BIN in
*/san-*) limit=${LJ_RSS_LIMIT_KB:-409600} ;;
*) limit=${LJ_RSS_LIMIT_KB:-102400} ;;
esac

write_spec_pass "$LJ_TMP/spec.json" bytes
lj_mount
new_job big "$LJ_TMP/spec.json"

# RSS sampler
(
	while [ ! -e "$LJ_TMP/stop-rss" ]; do
		rss_kb "$LJ_PID" >>"$LJ_TMP/rss"
		sleep 0.2
	done
) &
sampler=$!

timeout 550 sha256sum <"$MNT/big/output/y" >"$LJ_TMP/out.sum" 2>"$LJ_TMP/out.err" &
reader=$!
mkfifo "$LJ_TMP/tee.fifo"
sha256sum <"$LJ_TMP/tee.fifo" >"$LJ_TMP/in.sum" &
insum=$!

t0=$(now_ms)
head -c "$SIZE" /dev/urandom | tee "$LJ_TMP/tee.fifo" |
	timeout 500 cp /dev/stdin "$MNT/big/input/x" 2>"$LJ_TMP/cp.err"
rcs=("${PIPESTATUS[@]}")
echo "2 GiB written in $(($(now_ms) - t0)) ms (pipeline status ${rcs[*]})"
[ "${rcs[2]}" -eq 0 ] || fail "cp /dev/stdin big/input/x failed (exit ${rcs[2]}): $(cat "$LJ_TMP/cp.err")"
if [ "${rcs[0]}" -ne 0 ] || [ "${rcs[1]}" -ne 0 ]; then
	fail "generating the input failed: ${rcs[*]}"
fi
wait_exit "$insum" 60 "sha256sum of the input"

wait_exit "$reader" 300 "sha256sum of big/output/y"
[ "$LJ_RC" -eq 0 ] || fail "reading big/output/y failed (exit $LJ_RC): $(cat "$LJ_TMP/out.err")"
echo "2 GiB read back $(($(now_ms) - t0)) ms after the start"
touch "$LJ_TMP/stop-rss"
wait_exit "$sampler" 5 "the RSS sampler"

wait_state big succeeded 60
assert_eq "$(stat -c %s "$MNT/big/output/y")" "$SIZE" "st_size of big/output/y"
assert_eq "$(cut -d' ' -f1 "$LJ_TMP/out.sum")" "$(cut -d' ' -f1 "$LJ_TMP/in.sum")" "sha256 of the output vs the input"

# the kernel's high-water mark catches a peak between two samples
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$LJ_PID/status")
echo "$hwm" >>"$LJ_TMP/rss"
samples=$(grep -c . "$LJ_TMP/rss")
max=$(sort -n "$LJ_TMP/rss" | tail -n 1)
echo "daemon VmRSS: max $max kB over $samples samples, VmHWM $hwm kB (limit $limit kB)"
[ "$samples" -ge 10 ] || fail "only $samples RSS samples of the daemon"
[ "$max" -lt "$limit" ] || fail "the daemon's VmRSS reached $max kB (limit $limit kB) while 2 GiB went through"

lj_umount
