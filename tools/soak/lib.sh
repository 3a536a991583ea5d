# lib.sh: helpers shared by the load test (tests/integ/82-load.sh) and the
# soak (tools/soak/run.sh); sourced after the lab library (and, for the
# failover faults, tools/failover/lib.sh). The lab runs the seed's two Tomcats.
#
#   soak_limits             raise the open-files limit of this shell (its
#                           children, xjkd and the clients, inherit it) and the
#                           namespaces' accept queue and client port range
#   soak_conf DIR PORT [DIRECTIVE...]   the seed's xjk.conf tree for port PORT,
#                           idle pooled AJP connections closed after 2 s, and
#                           extra xjk.conf lines
#   soak_fds PID / soak_rss_kb PID      open descriptors, resident set (kB)
#   soak_wrk OUT ARGS...    wrk in the client namespace, output to OUT
#   soak_wrk_stat OUT requests|non2xx|errors   from wrk's report
#   soak_conns ARGS...      tools/soak/conns.py in the client namespace

SOAK_CONNS=$XJK_ROOT/tools/soak/conns.py

soak_limits() {
	# Raising the hard limit needs CAP_SYS_RESOURCE, which a container may
	# not grant; the existing hard limit is then the ceiling.
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	lab_exec lb sysctl -qw net.core.somaxconn=16384 net.ipv4.tcp_max_syn_backlog=16384 &&
		lab_exec client sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
}

soak_conf() {
	local dir=$1 port=$2 line
	shift 2
	lab_seed_conf "$dir" "$port" || return 1
	# Without a pool timeout idle AJP connections stay for good (mod_jk's
	# default too), and the descriptor count would say nothing about leaks.
	for w in "${LAB_SEED_ROUTES[@]}"; do
		echo "worker.$w.connection_pool_timeout=2"
	done >>"$dir/conf/workers.properties"
	for line in "$@"; do
		echo "$line"
	done >>"$dir/xjk.conf"
}

soak_fds() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

soak_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

soak_wrk() {
	local out=$1
	shift
	lab_exec client wrk "$@" >"$out" 2>&1
}

# Requests wrk completed, answers that were not 2xx/3xx, and socket errors
# (connect, read, write and timeout together).
soak_wrk_stat() {
	case $2 in
	requests) sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$1" ;;
	non2xx) sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1" | grep . || echo 0 ;;
	errors) sed -n 's/^ *Socket errors: *//p' "$1" | tr -cs '0-9' '\n' | awk '{ s += $1 } END { print s + 0 }' ;;
	esac
}

soak_conns() {
	lab_exec client python3 "$SOAK_CONNS" "$@"
}
