#!/bin/sh
# Install the Debian packages that husk's build, tests and benchmarks need.
# Does nothing when every package is already installed.
set -eu

BUILD="gcc make pkg-config clang llvm libbpf-dev libelf-dev zlib1g-dev
libseccomp-dev libcgroup-dev libjson-c-dev libmicrohttpd-dev libarchive-dev
libssl-dev libsqlite3-dev libhttp-parser-dev libcurl4-openssl-dev bpftool
libnftnl-dev libmnl-dev"
TEST="bats jq curl zip unzip python3 awscli bubblewrap iproute2 procps
util-linux cgroup-tools nftables groff-base"

missing=""
for p in $BUILD $TEST; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
