#!/bin/sh
# Installs the Debian packages xjk needs to build, test, demo and benchmark.
# Idempotent and quiet when everything is present. `--unit` asks only for what
# the unit tier needs, and never needs root when that is already installed.
set -e

BUILD="make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
       libnl-3-dev libnl-route-3-dev libcmocka-dev"
RUNTIME="iproute2 ethtool nftables curl jq procps psmisc default-jdk-headless
         tomcat10 libtomcat10-java apache2 libapache2-mod-jk haproxy nginx wrk
         chromium nodejs valgrind"

want=$BUILD
[ "$1" = "--unit" ] || want="$BUILD $RUNTIME"

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "xjk: missing packages:$missing; run 'sudo make deps'" >&2
		exit 1
	fi
	echo "xjk: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	# The packaged services are not used: the tests start their own instances.
	for s in tomcat10 apache2 haproxy nginx; do
		systemctl disable --now "$s" >/dev/null 2>&1 || service "$s" stop >/dev/null 2>&1 || true
	done
fi

if [ "$1" != "--unit" ] && [ "$(id -u)" = 0 ] && ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
exit 0
