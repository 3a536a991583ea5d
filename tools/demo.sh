#!/bin/bash
# demo.sh: the seed document's experiment, told step by step (`sudo make demo`).
# A throwaway netns lab: a client, the balancer (xjkd with the seed's
# mod_jk.conf and workers.properties, host addresses adapted) and the seed's
# two clustered Tomcats. Requests spread, a session sticks, its Tomcat is
# killed under load, the session carries on on the other one.
#
# Everything it measured stays in $XJK_DEMO_LOGS (default /tmp/xjk-demo), raw:
# wrk.txt, clicks.txt (the user's requests), status-*.json, routes-*.json,
# l4-*.txt, conf.diff and the logs of xjkd and both Tomcats.
# tests/integ/95-demo.sh runs this script and checks those files.
set -u
XJK_ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
. "$XJK_ROOT/tools/lab/lab.sh"
. "$XJK_ROOT/tools/failover/lib.sh"

XJKD=$XJK_ROOT/$B/xjkd
XJKCTL=$XJK_ROOT/$B/xjkctl
RUN_TCP=$XJK_ROOT/$B/tests/bpf/run_tcp
# where xjkd and xjkctl pin (XjkBpfDir's default; a test gives the demo its own)
BPF_DIR=${XJK_BPF_DIR:-/sys/fs/bpf/xjk}
LOGS=${XJK_DEMO_LOGS:-/tmp/xjk-demo}
ADMIN_PORT=8099
L4_PORT=7000
WRK_SECONDS=8
CLICKS=30
XJKD_PIDS=""
T_START=$SECONDS

R1=${LAB_SEED_ROUTES[0]}
R2=${LAB_SEED_ROUTES[1]}

step_no=0
step() {
	step_no=$((step_no + 1))
	printf '\n%d. %s\n' "$step_no" "$1"
}

# say TEXT...: a paragraph of explanation.
say() {
	echo "$*" | fold -s -w 76 | sed 's/^/   /'
}

# show: indents what it reads, so output stands apart from the explanation.
show() {
	sed 's/^/      | /'
}

die() {
	echo
	echo "demo failed: $*" >&2
	echo "logs: $LOGS" >&2
	exit 1
}

# Stops the xjkd processes gracefully (they unpin their maps), detaches the
# XDP program, keeps the Tomcat logs, and takes the lab down.
demo_cleanup() {
	local pid t
	trap - EXIT INT TERM
	[ -n "$LAB_ID" ] || return 0
	for pid in $XJKD_PIDS; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $XJKD_PIDS; do
		for _ in $(seq 50); do
			lab_alive "$pid" || break
			sleep 0.1
		done
	done
	lab_exec lb "$XJKCTL" detach eth0 >/dev/null 2>&1
	for t in t1 t2; do
		cp "$(lab_tomcat_log "$t")" "$LOGS/tomcat-$t.log" 2>/dev/null
		cp "$(lab_tomcat_access_log "$t")" "$LOGS/tomcat-$t-access.log" 2>/dev/null
	done
	lab_down
	echo
	echo "Lab removed. Logs and raw output: $LOGS"
}

# node_of ROUTE: the lab node running the Tomcat with jvmRoute ROUTE.
node_of() {
	case $1 in
	"$R1") echo t1 ;;
	"$R2") echo t2 ;;
	*) return 1 ;;
	esac
}

# The session cookie's value in the client's cookie jar.
cookie_of() {
	awk '$6 == "JSESSIONID" { print $7 }' "$1"
}

# xjkd's own route table, from its status endpoint.
routes_of_xjkd() {
	lab_exec client curl -sS --max-time 5 "http://$LB:$ADMIN_PORT/status.json" >"$1" &&
		jq -r '.lbs[] | .name as $lb | .members[] |
			"lb \($lb): sessions with route .\(.worker) go to \(.routed_to)"' "$1"
}

# The kernel's route map, as bpftool prints it (JSON, with BTF names).
routes_of_kernel() {
	bpftool -j map dump pinned "$BPF_DIR/routes" >"$1" &&
		jq -r '.[] | .formatted.value | "route .\(.route) -> worker \(.worker_name)"' "$1" | sort
}

# start_xjkd NAME CONF PORT: xjkd in the balancer's namespace.
start_xjkd() {
	lab_bg lb "$LOGS/$1.log" "$XJKD" -c "$2"
	XJKD_PIDS="$XJKD_PIDS $LAB_PID"
	lab_wait_port lb "$3" 10 || die "$1 did not start; see $LOGS/$1.log"
}

# ---------------------------------------------------------------------------

[ "$(id -u)" = 0 ] || { echo "The demo builds network namespaces: run it as root (sudo make demo)." >&2; exit 1; }
for f in "$XJKD" "$XJKCTL" "$RUN_TCP"; do
	[ -x "$f" ] || { echo "$f is missing: run make first (sudo make demo does)." >&2; exit 1; }
done
rm -rf "$LOGS"
mkdir -p "$LOGS"
# fd 3 is the terminal: a trap runs under the redirection of the command it
# interrupts, and the user should read what the cleanup says.
exec 3>&1
trap 'demo_cleanup >&3 2>&1' EXIT
trap 'echo >&3; echo "Interrupted; cleaning up." >&3; exit 130' INT TERM

echo "xjk demo: the seed's Apache + mod_jk + two Tomcats scenario, with xjkd as"
echo "the balancer. Logs and raw output go to $LOGS."

step "A throwaway lab of network namespaces"
lab_up 2 || die "could not create the lab"
LB=$(lab_ip lb)
URL=http://$LB
VIP=10.77.$LAB_ID.100
say "Four namespaces on one bridge, all removed when the demo ends:"
{
	echo "client    $(lab_ip client)   where the requests come from"
	echo "lb        $LB    the balancer: xjkd"
	echo "t1        $(lab_ip t1)   Tomcat 10, jvmRoute $R1 (AJP 8009, HTTP 8080)"
	echo "t2        $(lab_ip t2)   Tomcat 10, jvmRoute $R2 (AJP 9009, HTTP 9080)"
} | show

step "The seed's two Tomcats, clustered"
say "Each Tomcat runs the seed's <Cluster>: SimpleTcpCluster with DeltaManager," \
	"McastService on 228.0.0.4:45564 (frequency 500, dropTime 3000)," \
	"JvmRouteBinderValve, and a small distributable web app whose /counter.do" \
	"keeps a counter in the session. They start one after the other, so the" \
	"second one joins the first one's cluster (about half a minute)."
lab_seed_tomcats || die "the Tomcats did not start; see $LAB_DIR/t*/tomcat/logs"
echo "t1 ready in $(lab_tomcat_start_ms t1) ms, t2 ready in $(lab_tomcat_start_ms t2) ms" | show

step "xjkd with the seed's mod_jk.conf and workers.properties"
CONF=$LAB_DIR/seed
lab_seed_conf "$CONF" 80 || die "could not write the configuration"
cat >>"$CONF/xjk.conf" <<-EOF
	XjkAccessLog $LOGS/access.log
	XjkAdminListen $LB:$ADMIN_PORT
	XjkControlSocket $LAB_DIR/xjkd.sock
	XjkL4Vip $VIP:$L4_PORT tcp eth0 controller
EOF
(cd "$XJK_ROOT/conf/examples" && diff -ru seed "$CONF") >"$LOGS/conf.diff"
say "The seed's files (conf/examples/seed) are used as they are. The only" \
	"changes: 'localhost' becomes each Tomcat's address, xjkd listens on the" \
	"balancer's address, and four xjk-only lines: an access log, the status" \
	"endpoint, a control socket, and an L4 VIP for the last step. The diff:"
grep -E '^[-+][^-+]' "$LOGS/conf.diff" | show
# The XDP program bounces a VIP's packets back out of lb's eth0 (XDP_TX);
# their receiver, eth0's peer in the hub, takes frames only with an XDP
# program of its own.
ip -n "$(lab_ns hub)" link set dev lb xdp obj "$XJK_ROOT/$B/bpf/xjk_noop.bpf.o" sec xdp ||
	die "could not prepare the lab for XDP"
start_xjkd xjkd "$CONF/xjk.conf" 80
lab_wait_port lb "$ADMIN_PORT" 5 || die "xjkd's status endpoint did not come up"
say "xjkd runs (pid ${XJKD_PIDS# }); its log says:"
grep -E 'started|health check every' "$LOGS/xjkd.log" | cut -d' ' -f3- | show

step "Requests without a session spread by weight"
say "Both workers have lbfactor 1, so xjkd alternates them, as mod_jk does."
for _ in 1 2 3 4 5 6; do
	lab_exec client curl -sS --max-time 5 "$URL/node.txt"
done >"$LOGS/spread.txt"
nl -w1 -s': GET /node.txt -> ' "$LOGS/spread.txt" | show
sort "$LOGS/spread.txt" | uniq -c | awk '{ printf "%s: %d of 6\n", $2, $1 }' | show

step "A session sticks to its Tomcat"
JAR=$LOGS/cookies.txt
say "A browser-like client (curl with a cookie jar) asks /counter.do three times."
for _ in 1 2 3; do
	lab_exec client curl -sS --max-time 5 -b "$JAR" -c "$JAR" "$URL/counter.do"
done >"$LOGS/session.txt"
show <"$LOGS/session.txt"
COOKIE_BEFORE=$(cookie_of "$JAR")
echo "$COOKIE_BEFORE" >"$LOGS/cookie-before.txt"
SESSION_ROUTE=${COOKIE_BEFORE#*.}
VICTIM=$(node_of "$SESSION_ROUTE") || die "unexpected session id $COOKIE_BEFORE"
say "Tomcat appended its jvmRoute to the session id: JSESSIONID=$COOKIE_BEFORE." \
	"xjkd reads the part after the dot and sends the session to $SESSION_ROUTE" \
	"every time. Its route table (from http://$LB:$ADMIN_PORT/status.json):"
routes_of_xjkd "$LOGS/status-before.json" | show

step "The kernel's route map"
say "xjkd keeps the same table in a BPF hash map pinned at" \
	"$BPF_DIR/routes, with BTF, so bpftool prints its fields by name." \
	"It is the one source of sticky routing: for these AJP workers, and in the" \
	"kernel for http workers whose bytes it splices between sockets" \
	"(bpftool -j map dump pinned $BPF_DIR/routes, two fields shown):"
routes_of_kernel "$LOGS/routes-before.json" | tee "$LOGS/routes-before.txt" | show

step "Kill -9 the session's Tomcat, under load"
say "Now wrk sends /node.txt requests over 8 connections for $WRK_SECONDS s, while" \
	"the user keeps clicking /counter.do (every 0.2 s). Two seconds in, the" \
	"Tomcat holding the session ($SESSION_ROUTE on $VICTIM) is killed with" \
	"kill -9: no goodbye, its connections just die."
lab_exec client wrk -t1 -c8 -d"${WRK_SECONDS}s" --latency "$URL/node.txt" >"$LOGS/wrk.txt" 2>&1 &
wrk_pid=$!
# One line per click: the answer (or curl's error) and the HTTP status.
lab_exec client bash -c 'for i in $(seq "$3"); do
		r=$(curl -sS --max-time 5 -b "$1" -c "$1" -w " http=%{http_code}" "$2/counter.do" 2>&1)
		echo "${r//$'"'"'\n'"'"'/}"
		sleep 0.2
	done' _ "$JAR" "$URL" "$CLICKS" >"$LOGS/clicks.txt" &
clicks_pid=$!
sleep 2
kill_at=$(wc -l <"$LOGS/clicks.txt")
t_kill=$(date +%s%3N)
lab_tomcat_kill "$VICTIM" || die "could not kill the Tomcat on $VICTIM"
echo "$kill_at" >"$LOGS/kill-at.txt"
wait "$clicks_pid" "$wrk_pid"
say "The user's clicks around the kill:"
{
	sed -n "$((kill_at - 2)),${kill_at}p" "$LOGS/clicks.txt"
	echo "------- kill -9 of the Tomcat on $VICTIM -------"
	sed -n "$((kill_at + 1)),$((kill_at + 4))p" "$LOGS/clicks.txt"
	echo "... $(($(wc -l <"$LOGS/clicks.txt") - kill_at - 4)) more, the last one:"
	tail -1 "$LOGS/clicks.txt"
} | sed 's/ session=[^ ]*//' | show
down=$(grep -m1 -E "worker $SESSION_ROUTE: [A-Z/]+ -> ERR" "$LOGS/xjkd.log")
if [ -n "$down" ]; then
	t_down=$(date -d "$(echo "$down" | cut -c2-24)" +%s%3N)
	say "xjkd noticed $((t_down - t_kill)) ms after the kill:"
	echo "$down" | cut -d' ' -f3- | show
fi
say "And wrk, which kept hammering the balancer through the kill:"
grep -E 'requests in|Socket errors|Non-2xx' "$LOGS/wrk.txt" | sed 's/^ *//' | show
failed=$(awk '/Socket errors/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 } /Non-2xx/ { s += $5 } END { print s + 0 }' "$LOGS/wrk.txt")
[ "$failed" = 0 ] && say "No failed request: no socket error, no non-2xx answer." ||
	say "wrk saw $failed failed requests: see $LOGS/wrk.txt."

step "The session lives on, under a new name"
COOKIE_AFTER=$(cookie_of "$JAR")
echo "$COOKIE_AFTER" >"$LOGS/cookie-after.txt"
{
	echo "before the kill: JSESSIONID=$COOKIE_BEFORE"
	echo "after the kill:  JSESSIONID=$COOKIE_AFTER"
} | show
say "The DeltaManager had copied the session (and its counter) to the other" \
	"Tomcat all along. When the first request with the old id arrived there," \
	"JvmRouteBinderValve changed the id's suffix to its own jvmRoute and sent" \
	"the new cookie, so the next requests go straight to it. The counter went" \
	"on without a gap: no second login."

step "The route tables after the kill"
say "xjkd's table: sessions of the dead Tomcat go to the survivor. The rules" \
	"are mod_jk's: its redirect, else a member of its domain (here 'tomcat-6'," \
	"the part of the routes before the first dot), else the lb's choice:"
routes_of_xjkd "$LOGS/status-after.json" | show
say "And the kernel route map, again from bpftool:"
for _ in $(seq 25); do
	routes_of_kernel "$LOGS/routes-after.json" >"$LOGS/routes-after.txt"
	cmp -s "$LOGS/routes-before.txt" "$LOGS/routes-after.txt" || break
	sleep 0.2
done
show <"$LOGS/routes-after.txt"

step "Bonus: the XDP L4 fast path (a separate VIP, not the HTTP path)"
say "xjkd attached its XDP program to the balancer's eth0 for the VIP" \
	"$VIP:$L4_PORT (the XjkL4Vip line). Packets to any other address or port," \
	"like the HTTP traffic above, pass through untouched. The VIP's members are" \
	"the controller's workers with their lbfactor; the kernel picks one per" \
	"connection and the backend answers the client directly (direct server" \
	"return). A tiny TCP server on each node answers with its name. The VIP" \
	"follows xjkd's worker health, so ${VICTIM}'s server gets nothing now that" \
	"its Tomcat is dead, though that server itself still runs:"
for t in t1 t2; do
	lab_exec "$t" "$XJK_ROOT/tools/xjk-dsr-backend.sh" add "$VIP" >/dev/null
	lab_bg "$t" "$LOGS/l4-server-$t.log" "$RUN_TCP" serve "$t" "$L4_PORT"
	lab_wait_port "$t" "$L4_PORT" 5 || die "the L4 test server on $t did not start"
done
lab_exec client ip route add "$VIP/32" via "$LB"
lab_exec client "$RUN_TCP" spread "$VIP" "$L4_PORT" 20 >"$LOGS/l4-after-kill.txt"
sed 's/^/20 connections: /' "$LOGS/l4-after-kill.txt" | show
say "Start the dead Tomcat again: xjkd's health check brings it back, in the" \
	"HTTP balancer and in the VIP's ring alike."
fo_restore "$VICTIM" kill || die "could not restart the Tomcat on $VICTIM"
for _ in $(seq 50); do
	grep -qE "worker $SESSION_ROUTE: [A-Z/]+ -> OK" "$LOGS/xjkd.log" && break
	sleep 0.2
done
sleep 0.5
lab_exec client "$RUN_TCP" spread "$VIP" "$L4_PORT" 20 >"$LOGS/l4-after-restart.txt"
sed 's/^/20 connections: /' "$LOGS/l4-after-restart.txt" | show
lab_exec lb "$XJKCTL" maps >"$LOGS/xjkctl-maps.txt" 2>&1
say "The program's verdict counters (xjkctl maps): 'tx' are the VIP's packets" \
	"sent on to a Tomcat node, 'pass_not_vip' everything else, the HTTP" \
	"requests included, handed to the balancer's own stack:"
grep -E '^ *(tx|pass_not_vip) ' "$LOGS/xjkctl-maps.txt" | sed 's/^ *//' | show

echo
echo "Done in $((SECONDS - T_START)) s. What you saw: requests spread 1:1, a session"
echo "stuck to its Tomcat, the Tomcat died under load, and the user carried on"
echo "with the same counter on the other one, without a failed request."
