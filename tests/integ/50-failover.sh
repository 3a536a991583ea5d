#!/bin/bash
# 50-failover.sh: failure detection and failover (issue 3) with the seed's two
# real Tomcats behind xjkd in its default configuration (health checks on):
# slow responses, blackhole, frozen JVM, a sticky session on a frozen node,
# flapping, kill -9, and all members down. Each fault asserts the clients'
# outcome (no failed request, the slowest one) and the worker state as xjkd
# logs it ("worker NAME: OLD -> NEW (cause)"). Under a slow tool (XJK_SLOW)
# only the waits for a log line or a state stretch: the bounds on the slowest
# request and on detection come from xjkd's own timers (health check every
# 300 ms, 500 ms timeout), which valgrind does not stretch, so they stay.
. "$(dirname "$0")/lib.sh"
. "$XJK_ROOT/tools/failover/lib.sh"

if [ ! -x "$XJKD" ]; then
	not_ok "xjkd binary $XJKD exists"
	exit 1
fi
lab_up 2 || { not_ok "lab_up"; exit 1; }
lab_seed_tomcats || { not_ok "Tomcats start"; exit 1; }
lab_seed_conf "$LAB_DIR/seed" 80
xjkd_start "$LAB_DIR/seed/xjk.conf" 80 || { not_ok "xjkd starts"; exit 1; }
url=http://$(lab_ip lb)
log=$LAB_DIR/xjkd-80.log
w1=${LAB_SEED_ROUTES[0]}
w2=${LAB_SEED_ROUTES[1]}

# Logged once the health checks start, which is after the listener opens: a
# moment later, or seconds for an xjkd under valgrind.
check "health checks start with the defaults" wait_for $((5 * XJK_SLOW)) \
	grep -q "worker $w2: ajp health check every 300 ms, timeout 500 ms, rise 2, fall 2" "$log"

# transitions WORKER TO [AFTER_MS]: log lines of WORKER's moves to state TO
# (OK or ERR exactly; every worker here stays active, ACT).
transitions() {
	grep -E "worker $1: [A-Z/]+ -> $2/ACT" "$log" | while read -r day time rest; do
		local ms
		ms=$(date -d "${day#[} ${time%]}" +%s%3N)
		[ "$ms" -ge "${3:-0}" ] && echo "$rest"
	done
}

# assert_load NAME OUT MAX_MS: every request answered 200, none slower than MAX_MS.
assert_load() {
	local failed slowest requests
	requests=$(fo_stat "$2" requests)
	failed=$(fo_stat "$2" failed)
	slowest=$(fo_stat "$2" slowest_ms)
	echo "# $1: requests=$requests failed=$failed slowest=${slowest} ms"
	check "$1: requests were served (${requests:-0})" test "${requests:-0}" -gt 20
	expect_eq "$1: no failed request" 0 "${failed:-?}"
	check "$1: slowest request ${slowest:-?} ms <= $3 ms" test "${slowest:-999999}" -le "$3"
}

# down_within NAME WORKER T_FAULT MAX_MS [CAUSE]: WORKER went ERR within MAX_MS
# of the fault (for the reason CAUSE when given).
down_within() {
	local at
	at=$(fo_log_ms "$log" "worker $2: [A-Z/]+ -> ERR/ACT \(${5:-}" "$3")
	if [ -z "$at" ]; then
		not_ok "$1: $2 declared down" "no transition to ERR${5:+ ($5)} in the log"
		return
	fi
	echo "# $1: $2 declared down $((at - $3)) ms after the fault"
	check "$1: $2 declared down${5:+ by the $5} within $4 ms ($((at - $3)) ms)" \
		test $((at - $3)) -le "$4"
}

# has_transition WORKER TO [AFTER_MS]
has_transition() {
	test -n "$(transitions "$@")"
}

# back_ok NAME WORKER T_RESTORE: the health check brings WORKER back to OK.
back_ok() {
	local at
	if wait_for $((15 * XJK_SLOW)) has_transition "$2" OK "$3"; then
		at=$(fo_log_ms "$log" "worker $2: [A-Z/]+ -> OK/ACT \(health check" "$3")
		ok "$1: $2 back to OK by the health check ($((${at:-0} - $3)) ms after the repair)"
	else
		not_ok "$1: $2 back to OK" "$(tail -3 "$log")"
	fi
}

# routed_to ROUTE: the worker xjkd's route table sends ROUTE's sessions to
# (the table routes.c mirrors into the BPF map; read from this xjkd's
# /status.json, because the pinned map is host-wide and another xjkd on the
# host may have taken the pin; 70-splice and 95-demo read it with bpftool).
routed_to() {
	lab_exec lb curl -s --max-time 5 http://127.0.0.1:8099/status.json 2>/dev/null |
		jq -r --arg r "$1" '.lbs[].members[] | select(.worker == $r) | .routed_to'
}

# route_check NAME ROUTE WORKER: the route map sends ROUTE to WORKER.
route_check() {
	local got
	wait_for $((2 * XJK_SLOW)) test "$(routed_to "$2")" = "$3"
	got=$(routed_to "$2")
	expect_eq "$1: route table sends $2 to $3" "$3" "$got"
}

# fault_case FAULT NODE WORKER MAX_MS DETECT_MS CAUSE: 8 clients for 6 s, the
# fault 2 s in, then the repair.
fault_case() {
	local out=$LAB_DIR/$1.load t_fault t_fix load
	fo_load "$out" --url "$url/node.txt" --clients 8 --duration 6 &
	load=$!
	sleep 2
	t_fault=$(fo_now_ms)
	fo_fault "$2" "$1"
	wait $load
	assert_load "$1 $2, 8 clients" "$out" "$4"
	down_within "$1 $2" "$3" "$t_fault" "$5" "$6"
	route_check "$1 $2 down" "$3" "$w1"
	# load.py stamps requests from its own start; the fault came 2 s in.
	expect_eq "$1 $2: requests started 1.5 s after the fault avoid $3" 0 \
		"$(awk -v w="$3" '$1 == "R" && $3 > 3500 && $6 == w' "$out" | wc -l)"
	t_fix=$(fo_now_ms)
	fo_restore "$2" "$1"
	back_ok "$1 $2" "$3" "$t_fix"
	route_check "$1 $2 back" "$3" "$3"
}

# --- slow responses are not failures ---
t0=$(fo_now_ms)
lab_exec client bash -c "for i in 1 2 3 4; do curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 '$url/sleep.do?ms=2500' & done; wait" \
	>"$LAB_DIR/slow.codes" &
slow=$!
fo_load "$LAB_DIR/slow.load" --url "$url/node.txt" --clients 4 --duration 4
wait $slow
expect_eq "slow: four 2.5 s requests answered 200" "200 200 200 200" "$(sort "$LAB_DIR/slow.codes" | tr '\n' ' ' | sed 's/ $//')"
assert_load "slow: other requests meanwhile" "$LAB_DIR/slow.load" 1000
expect_eq "slow: no worker left OK" "" "$(transitions '[^:]+' ERR "$t0")"

# --- blackhole and frozen JVM: nothing answers; the health check (or, for a
# blackhole, a request's connect timeout, whichever comes first) declares it down.
# With the defaults (every 300 ms + up to 10 % jitter, 500 ms timeout, fall 2)
# the verdict can take up to about 1.7 s after the fault, so 2 s is the bound:
# the issue's own target for the slowest request. ---
fault_case blackhole t2 "$w2" 2000 2000 ""
fault_case freeze t2 "$w2" 2000 2000 "health check"

# --- a sticky session on a frozen node carries on on the other one ---
out=$LAB_DIR/sticky.load
fo_load "$out" --url "$url/counter.do" --clients 1 --interval 100 --duration 5 --session &
load=$!
wait_for $((5 * XJK_SLOW)) grep -q '^R .* 200 ' "$out"
node=$(awk '$1 == "R" && $5 == 200 { print $6; exit }' "$out")
case $node in
"$w1") sticky_node=t1 ;;
*) sticky_node=t2 ;;
esac
sleep 1.5
t_fault=$(fo_now_ms)
fo_fault $sticky_node freeze
wait $load
assert_load "sticky session, its node ($node) frozen" "$out" 2000
expect_eq "sticky session: the counter never resets" 0 "$(fo_stat "$out" resets)"
check "sticky session: both nodes served it" grep -q "nodes=$w1,$w2" "$out"
down_within "sticky session" "$node" "$t_fault" 2000 "health check"
t_fix=$(fo_now_ms)
fo_restore $sticky_node freeze
back_ok "sticky session" "$node" "$t_fix"

# --- flapping: t2's link down and up every 2 s ---
t0=$(fo_now_ms)
fo_load "$LAB_DIR/flap.load" --url "$url/node.txt" --clients 8 --duration 10 &
load=$!
for i in 1 2; do
	sleep 1
	lab_blackhole t2
	sleep 2
	lab_unblackhole t2
	sleep 1
done
wait $load
assert_load "flapping t2" "$LAB_DIR/flap.load" 2500
downs=$(transitions "$w2" ERR "$t0" | wc -l)
ups=$(transitions "$w2" OK "$t0" | grep -c 'health check')
check "flapping: t2 went down twice ($downs) and came back twice ($ups)" test "$downs" -ge 2 -a "$ups" -ge 2
# last_state WORKER: the state its last logged transition went to.
last_state() {
	grep -E "worker $1: [A-Z/]+ -> " "$log" | tail -1 | sed 's/.* -> \([A-Z/]*\)\/ACT .*/\1/'
}
w2_ok() {
	test "$(last_state "$w2")" = OK
}
check "flapping: t2 ends OK" wait_for $((5 * XJK_SLOW)) w2_ok

# --- kill -9: refused connections, failover at once ---
fault_case_kill() {
	local out=$LAB_DIR/kill.load t_fault load
	fo_load "$out" --url "$url/node.txt" --clients 8 --duration 6 &
	load=$!
	sleep 2
	t_fault=$(fo_now_ms)
	fo_fault t2 kill
	wait $load
	assert_load "kill t2, 8 clients" "$out" 1000
	down_within "kill t2" "$w2" "$t_fault" 1000
	route_check "kill t2" "$w2" "$w1"
}
fault_case_kill

# --- all members down: 503 at once; back when one returns ---
fo_fault t1 kill
wait_for $((5 * XJK_SLOW)) has_transition "$w1" ERR
t=$(ccurl -o /dev/null -w '%{http_code} %{time_total}' "$url/node.txt")
expect_eq "all down: 503" 503 "${t%% *}"
check "all down: answered at once (${t#* } s)" awk -v s="${t#* }" 'BEGIN { exit !(s < 0.5) }'
t_fix=$(fo_now_ms)
fo_restore t1 kill
t_up=$(fo_now_ms)
back_ok "all down" "$w1" "$t_fix"
first_ok=""
for i in $(seq 50); do
	if [ "$(ccurl -o /dev/null -w '%{http_code}' "$url/node.txt")" = 200 ]; then
		first_ok=$(fo_now_ms)
		break
	fi
	sleep 0.1
done
check "all down: served again within 2 s of t1 answering ($((${first_ok:-0} - t_up)) ms)" \
	test -n "$first_ok" -a $((${first_ok:-0} - t_up)) -le 2000
