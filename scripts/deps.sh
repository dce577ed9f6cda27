#!/bin/sh
# Installs the Debian packages livejobfs needs to build, test and mount,
# only those that are missing. Called by `make test` and `make demo`.
set -e
pkgs="libfuse3-dev fuse3 libjansson-dev libpcre2-dev liburing-dev libcmocka-dev pkg-config"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
