#!/bin/bash
# run.sh: the failover harness of issue 3. In one lab with the seed's two
# Tomcats (session replication on), for each front end (xjkd with its
# defaults, Apache + mod_jk with the seed's workers.properties and mod_jk's
# defaults, HAProxy 2.6 with `check` and cookie stickiness) and each fault
# (kill -9, blackhole, SIGSTOP):
#   sticky    one client with a session, a request every 100 ms for 8 s; the
#             node holding the session is faulted 2 s in
#   parallel  8 clients without a session for 12 s; t2 is faulted 4 s in
# Every request is capped at 30 s. Counts failed requests, the slowest one,
# and session counter resets; writes the table into docs/failover.md.
#   XJK_FAILOVER_FRONTENDS  default "xjkd apache haproxy"
#   XJK_FAILOVER_FAULTS     default "kill blackhole freeze"
set -u
XJK_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$XJK_ROOT/tools/bench/lib.sh"
. "$XJK_ROOT/tools/failover/lib.sh"

FES=${XJK_FAILOVER_FRONTENDS:-xjkd apache haproxy}
FAULTS=${XJK_FAILOVER_FAULTS:-kill blackhole freeze}
OUT=$XJK_ROOT/tests/out/failover
RESULTS=$OUT/results

fe_haproxy_failover_start() {
	mkdir -p "$LAB_DIR/haproxy"
	bench_fill "$XJK_ROOT/tools/failover/haproxy.cfg" "$LAB_DIR/haproxy/haproxy.cfg"
	bench_fe_run haproxy haproxy -db -f "$LAB_DIR/haproxy/haproxy.cfg"
}

fe_start() {
	case $1 in
	haproxy) fe_haproxy_failover_start ;;
	*) "fe_$1_start" ;;
	esac
}

# node_of ROUTE: the lab node whose jvmRoute is ROUTE.
node_of() {
	if [ "$1" = "${LAB_SEED_ROUTES[0]}" ]; then echo t1; else echo t2; fi
}

# Both nodes up and answering, before each run.
nodes_ready() {
	local n
	for n in t1 t2; do
		lab_exec "$n" curl -fs -o /dev/null --max-time 2 \
			"http://$(lab_ip "$n"):${LAB_SEED_HTTP[${n#t} - 1]}/node.txt" || return 1
	done
}

# run_case FE FAULT SHAPE: one measurement; appends "FE FAULT SHAPE failed slowest_ms resets".
run_case() {
	local fe=$1 fault=$2 shape=$3 out=$OUT/$1-$2-$3.load load node route args
	fe_start "$fe" || { echo "$fe $fault $shape start-failed - -" >>"$RESULTS"; return; }
	if [ "$shape" = sticky ]; then
		args=(--url "$BENCH_FE_URL/counter.do" --clients 1 --interval 100 --duration 8 --session)
	else
		args=(--url "$BENCH_FE_URL/node.txt" --clients 8 --duration 12)
	fi
	fo_load "$out" "${args[@]}" --timeout 30 &
	load=$!
	if [ "$shape" = sticky ]; then
		sleep 2
		route=$(awk '$1 == "R" && $5 == 200 { print $6; exit }' "$out")
		node=$(node_of "$route")
	else
		sleep 4
		node=t2
	fi
	fo_fault "$node" "$fault"
	wait $load
	echo "$fe $fault $shape $(fo_stat "$out" failed) $(fo_stat "$out" slowest_ms) $(fo_stat "$out" resets)" |
		tee -a "$RESULTS"
	bench_fe_stop
	fo_restore "$node" "$fault" >/dev/null
	local deadline=$((SECONDS + 60))
	until nodes_ready || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
	# The cluster takes its member back (Tribes beacons every 500 ms).
	sleep 3
}

# cell FE FAULT SHAPE: "F failed, slowest S s" for the table.
cell() {
	awk -v fe="$1" -v f="$2" -v s="$3" '$1 == fe && $2 == f && $3 == s {
		if ($4 == "start-failed") { print "did not start"; exit }
		printf "%d failed, slowest %.2f s", $4, $5 / 1000
		if (s == "sticky") printf ", %d resets", $6
		exit }' "$RESULTS"
}

fe_title() {
	case $1 in
	xjkd) echo "xjk, defaults" ;;
	apache) echo "Apache 2.4 + mod_jk 1.2.48, defaults" ;;
	haproxy) echo "HAProxy 2.6, \`check\`, cookie stickiness" ;;
	esac
}

fault_title() {
	case $1 in
	kill) echo "kill -9" ;;
	blackhole) echo "blackhole" ;;
	freeze) echo "SIGSTOP" ;;
	esac
}

write_table() {
	local fe f shape
	for shape in sticky parallel; do
		if [ "$shape" = sticky ]; then
			echo "**Sticky single client** (a request every 100 ms, its node faulted 2 s in; resets = session counter restarts):"
		else
			echo "**8 parallel clients without a session** for 12 s, t2 faulted 4 s in:"
		fi
		echo
		printf '| front end |'
		for f in $FAULTS; do printf ' %s |' "$(fault_title "$f")"; done
		printf '\n|---|'
		for f in $FAULTS; do printf -- '---|'; done
		echo
		for fe in $FES; do
			printf '| %s |' "$(fe_title "$fe")"
			for f in $FAULTS; do printf ' %s |' "$(cell "$fe" "$f" "$shape")"; done
			echo
		done
		echo
	done
}

mkdir -p "$OUT"
: >"$RESULTS"
if [[ " $FES " == *" xjkd "* ]] && [ ! -x "$XJKD" ]; then
	echo "failover: build xjkd first ($XJKD)" >&2
	exit 1
fi
lab_up 2 || exit 1
trap lab_down EXIT
lab_seed_tomcats || exit 1
lab_seed_conf "$LAB_DIR/seed" 80 || exit 1
for fault in $FAULTS; do
	for fe in $FES; do
		for shape in sticky parallel; do
			echo "failover: $fe $fault $shape"
			run_case "$fe" "$fault" "$shape"
		done
	done
done
{
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), \`tools/failover/run.sh\`: one lab, the seed's two Tomcats"
	echo "(DeltaManager replication), each front end in turn in the lb namespace, clients"
	echo "(tools/failover/load.py) in the client namespace, every request capped at 30 s."
	echo "A failed request is one that did not end in a 200 (error status, reset, or the cap)."
	echo
	write_table
	bench_versions
} >"$OUT/section.md"
XJK_BENCH_DOC=$XJK_ROOT/docs/failover.md bench_write_section failover "$OUT/section.md"
cat "$OUT/section.md"
