#!/bin/sh
# Installs what `make fuzz` needs beyond scripts/deps.sh: clang and the
# libFuzzer runtime (Debian 12: libclang-rt-14-dev), only when missing.
# FUZZ_CC names the compiler (default clang).
set -e
cc=${FUZZ_CC:-clang}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-deps.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Can $cc build and link a libFuzzer target with ASan and UBSan?
works() {
	command -v "$cc" >/dev/null 2>&1 || return 1
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
		>"$tmp/t.c"
	"$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/t" "$tmp/t.c" >"$tmp/log" 2>&1
}

works && exit 0
missing=""
for p in clang libclang-rt-14-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "fuzz-deps: $cc cannot build a libFuzzer target, although clang and" \
		"libclang-rt-14-dev are installed:" >&2
	cat "$tmp/log" >&2
	exit 1
fi
echo "fuzz-deps: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
works || {
	echo "fuzz-deps: $cc still cannot build a libFuzzer target:" >&2
	cat "$tmp/log" >&2
	exit 1
}
