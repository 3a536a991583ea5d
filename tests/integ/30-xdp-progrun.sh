#!/bin/bash
# 30-xdp-progrun.sh: BPF_PROG_RUN tests of the XDP fast path (crafted packets
# into the real program in this kernel). Runs in a throwaway namespace that
# holds a veth pair, the devmap target of the redirect case.
set -u
XJK_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$XJK_ROOT/${B:-build}/tests/bpf/test_xdp_progrun
NS=xjk-progrun-$$

cleanup() {
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x "$BIN" ]; then
	echo "not ok - $BIN is built"
	exit 1
fi
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add px0 type veth peer name px1
ip -n "$NS" link set px0 up
ip -n "$NS" link set px1 up
ifindex=$(ip -n "$NS" -o link show px0 | cut -d: -f1)
nsenter --net="/run/netns/$NS" -- "$BIN" "$ifindex"
