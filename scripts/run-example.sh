#!/bin/sh
# run-example.sh MOUNT EXAMPLE_DIR JOBNAME
#
# Runs one example of mnt-example/ on a mounted livejobfs, the way a user
# would: copies EXAMPLE_DIR/specs/*.json into MOUNT/.specs/, makes the job
# MOUNT/JOBNAME, copies options.json (if any) and then spec.json into it,
# streams each EXAMPLE_DIR/input/TAG into MOUNT/JOBNAME/input/TAG (after the
# spec, so they feed a running job), and waits for the end with
# `cat MOUNT/JOBNAME/wait`.
#
# Exit status: 0 only if the job's final state is `succeeded`; 1 otherwise
# (the reason and the last lines of the job's log go to stderr); 2 on bad usage.
# LIVEJOB_TIMEOUT (default 60) bounds, in seconds, each input copy and the wait.
set -eu

if [ "$#" -ne 3 ]; then
	echo "usage: $0 MOUNT EXAMPLE_DIR JOBNAME" >&2
	exit 2
fi
mnt=$1
dir=$2
job=$3
limit=${LIVEJOB_TIMEOUT:-60}

fail() {
	echo "run-example: $job: $*" >&2
	if [ -e "$mnt/$job/log" ]; then
		# The log has snapshot semantics: this read does not wait.
		timeout 10 tail -n 5 "$mnt/$job/log" >&2 || :
	fi
	exit 1
}

[ -d "$mnt" ] || fail "no mount at $mnt"
[ -f "$dir/spec.json" ] || fail "no spec.json in $dir"

# 1. Register the specs this example invokes.
for f in "$dir"/specs/*.json; do
	[ -f "$f" ] || continue
	name=${f##*/}
	if cmp -s "$f" "$mnt/.specs/$name"; then
		continue # already registered, same text
	fi
	cp "$f" "$mnt/.specs/$name" || fail "cannot register specs/$name"
done

# 2. Make the job; options before the spec: closing spec.json starts it.
mkdir "$mnt/$job" || fail "cannot make the job directory"
if [ -f "$dir/options.json" ]; then
	cp "$dir/options.json" "$mnt/$job/options.json" || fail "options.json rejected"
fi
cp "$dir/spec.json" "$mnt/$job/spec.json" || fail "spec.json rejected"

# 3. Stream the inputs in; each input ends when cp closes it.
for f in "$dir"/input/*; do
	[ -f "$f" ] || continue
	tag=${f##*/}
	timeout "$limit" cp "$f" "$mnt/$job/input/$tag" || fail "cannot write input/$tag"
done

# 4. Wait for the end: one line, the final state.
state=$(timeout "$limit" cat "$mnt/$job/wait") || fail "no final state within ${limit} s"
[ "$state" = succeeded ] || fail "ended $state"
exit 0
