# lab.sh: the network-namespace lab that tests, the demo and the benchmarks
# run in (bash, sourced). One lab = a hub namespace holding a bridge, and one
# namespace per node (client, lb, t1, t2, ...) joined to it by a veth pair.
# Every name carries the lab id, so several labs run side by side.
#
#   XJK_LAB   lab id 1..254 (default: derived from $$, first free one)
#   lab_up [N]            create the lab with N Tomcat nodes (default 2)
#   lab_down              kill everything in the lab, delete it (idempotent)
#   lab_ns NODE / lab_ip NODE / lab_exec NODE cmd... / lab_bg NODE log cmd...
#   lab_wait_port NODE PORT [TIMEOUT_S]
# Tomcat, web app and seed configuration helpers: tomcat.sh, webapp.sh, seed.sh.

XJK_ROOT=${XJK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# Claims of lab ids, so two labs started at once never pick the same id.
LAB_CLAIMS=/run/xjk-lab
LAB_ID=""
LAB_DIR=""

# Takes id $1 for this shell; fails when a live process holds it.
lab_claim() {
	local claim=$LAB_CLAIMS/$1 owner
	mkdir -p "$LAB_CLAIMS"
	if ! mkdir "$claim" 2>/dev/null; then
		owner=$(cat "$claim/pid" 2>/dev/null)
		if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
			return 1
		fi
		# The owner died without lab_down: take over its leftovers.
		lab_down_id "$1"
		mkdir "$claim" 2>/dev/null || return 1
	fi
	echo $$ >"$claim/pid"
	LAB_ID=$1
}

lab_ns() {
	echo "xjk$LAB_ID-$1"
}

lab_ip() {
	case $1 in
	lb) echo "10.77.$LAB_ID.2" ;;
	client) echo "10.77.$LAB_ID.10" ;;
	t[0-9]*) echo "10.77.$LAB_ID.$((10 + ${1#t}))" ;;
	*) echo "lab_ip: unknown node $1" >&2; return 1 ;;
	esac
}

# nsenter rather than `ip netns exec`: the latter remounts /sys and hides
# /sys/fs/bpf from programs that use pinned maps.
lab_exec() {
	local ns
	ns=$(lab_ns "$1") || return 1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# Starts cmd in NODE in the background with output to LOG; the pid is left in
# LAB_PID. lab_down kills it with everything else in the lab's namespaces.
lab_bg() {
	local ns=$(lab_ns "$1") log=$2
	shift 2
	nsenter --net="/run/netns/$ns" -- "$@" >"$log" 2>&1 </dev/null &
	LAB_PID=$!
	# No job-control chatter ("Killed") in test logs when lab_down kills it.
	disown "$LAB_PID"
}

# True while PID runs; a zombie (killed, not yet reaped) counts as gone.
lab_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

lab_wait_port() {
	local node=$1 port=$2 deadline=$((SECONDS + ${3:-30}))
	until lab_exec "$node" ss -Hltn "sport = :$port" | grep -q .; do
		if [ $SECONDS -ge $deadline ]; then
			echo "lab: $node:$port not listening after ${3:-30}s" >&2
			return 1
		fi
		sleep 0.1
	done
}

# Adds NODE's namespace with eth0 on the hub's bridge.
lab_add_node() {
	local node=$1 ns hub=$(lab_ns hub)
	ns=$(lab_ns "$node")
	ip netns add "$ns" || return 1
	ip link add eth0 netns "$ns" type veth peer name "$node" netns "$hub" || return 1
	ip -n "$hub" link set "$node" master br0 up || return 1
	ip -n "$ns" link set lo up || return 1
	ip -n "$ns" addr add "$(lab_ip "$node")/24" dev eth0 || return 1
	ip -n "$ns" link set eth0 up || return 1
	# Tomcat's McastService sends through the route for 224/4.
	ip -n "$ns" route add 224.0.0.0/4 dev eth0 || return 1
	# veth computes no checksums when tx offload is on; XDP and raw
	# receivers then see bad ones.
	lab_exec "$node" ethtool -K eth0 tx off >/dev/null
}

# A test shell killed with SIGKILL (say by a runner's timeout) cannot run its
# trap; this watcher, outside the lab's namespaces, takes the lab down once
# the shell that claimed it is gone and the claim is still that shell's.
lab_reaper() {
	local id=$1 owner=$2 fd
	# Inherited pipes (a caller's $(...), a runner's output) must not stay
	# open in this long-lived process, or their readers never see EOF.
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		if [ "$fd" -gt 2 ] && [ "$fd" != 255 ]; then
			eval "exec $fd>&-"
		fi
	done
	while kill -0 "$owner" 2>/dev/null; do
		sleep 1
	done
	if [ "$(cat "$LAB_CLAIMS/$id/pid" 2>/dev/null)" = "$owner" ]; then
		lab_down_id "$id"
	fi
}

lab_up() {
	local n=${1:-2} id i hub
	if [ -n "${XJK_LAB:-}" ]; then
		lab_claim "$XJK_LAB" || { echo "lab: id $XJK_LAB is in use" >&2; return 1; }
	else
		id=$(($$ % 200 + 20))
		until lab_claim $id; do
			id=$((id % 254 + 1))
		done
	fi
	lab_reaper "$LAB_ID" $$ >/dev/null 2>&1 </dev/null &
	disown $!
	LAB_DIR=/tmp/xjk-lab$LAB_ID
	rm -rf "$LAB_DIR"
	mkdir -p "$LAB_DIR"
	hub=$(lab_ns hub)
	ip netns add "$hub" || return 1
	ip -n "$hub" link add br0 type bridge || return 1
	# Without an IGMP querier, snooping may stop forwarding the cluster's
	# multicast; a lab bridge has no use for it.
	ip -n "$hub" link set br0 type bridge mcast_snooping 0 || return 1
	ip -n "$hub" link set br0 up || return 1
	lab_add_node client || return 1
	lab_add_node lb || return 1
	for i in $(seq 1 "$n"); do
		lab_add_node "t$i" || return 1
	done
}

# Removes everything of lab $1 (namespaces, processes in them, work dir, claim).
lab_down_id() {
	local id=$1 ns pids
	for ns in $(ip netns list | awk '{print $1}' | grep "^xjk$id-"); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		if [ -n "$pids" ]; then
			kill -9 $pids 2>/dev/null
			for _ in $(seq 50); do
				kill -0 $pids 2>/dev/null || break
				sleep 0.1
			done
		fi
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "/tmp/xjk-lab$id" "$LAB_CLAIMS/$id"
}

lab_down() {
	[ -n "$LAB_ID" ] || return 0
	if [ "${XJK_LAB_KEEP:-0}" = 1 ] && [ -d "$LAB_DIR" ]; then
		mkdir -p "${TMPDIR:-/tmp}/xjk-kept" && cp -a "$LAB_DIR" "${TMPDIR:-/tmp}/xjk-kept/" 2>/dev/null
	fi
	lab_down_id "$LAB_ID"
	return 0
}

. "$XJK_ROOT/tools/lab/webapp.sh"
. "$XJK_ROOT/tools/lab/tomcat.sh"
. "$XJK_ROOT/tools/lab/seed.sh"
