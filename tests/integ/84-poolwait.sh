#!/bin/bash
# 84-poolwait.sh: requests that find every pooled AJP connection in use wait
# for one (connection_acquire_timeout), with the seed's two real Tomcats and
# one connection per member: waiters are served when a connection comes
# free, without using CPU meanwhile; past the timeout each member is given up
# and the lb answers 503; a client that hangs up while waiting never reaches
# a backend; a stop lets waiting requests finish.
. "$(dirname "$0")/lib.sh"

lab_up 2 || { not_ok "lab_up"; exit 1; }
lab_seed_tomcats || { not_ok "Tomcats start"; exit 1; }
lb=$(lab_ip lb)

# pool_conf DIR PORT ACQUIRE_MS: the seed's tree, one event loop, one AJP
# connection per member, the given connection_acquire_timeout.
pool_conf() {
	local w
	lab_seed_conf "$1" "$2" || return 1
	for w in "${LAB_SEED_ROUTES[@]}"; do
		printf 'worker.%s.connection_pool_size=1\nworker.%s.connection_acquire_timeout=%s\n' \
			"$w" "$w" "$3"
	done >>"$1/conf/workers.properties"
	printf 'worker.list=jkstatus\nworker.jkstatus.type=status\n' >>"$1/conf/workers.properties"
	echo 'JkMount /jkstatus jkstatus' >>"$1/conf/mod_jk.conf"
	printf 'XjkThreads 1\nXjkDrainTimeout 10000\n' >>"$1/xjk.conf"
}
pool_conf "$LAB_DIR/long" 80 3000
pool_conf "$LAB_DIR/short" 81 500
# Port 82: everything mounted on t1's plain ajp13 worker, no lb.
pool_conf "$LAB_DIR/plain" 82 500
sed -i "s/^JkMount \(.*\) controller/JkMount \1 ${LAB_SEED_ROUTES[0]}/" "$LAB_DIR/plain/conf/mod_jk.conf"
xjkd_start "$LAB_DIR/long/xjk.conf" 80 || { not_ok "xjkd starts (port 80)"; exit 1; }
long_pid=$XJKD_PID
xjkd_start "$LAB_DIR/short/xjk.conf" 81 || { not_ok "xjkd starts (port 81)"; exit 1; }
xjkd_start "$LAB_DIR/plain/xjk.conf" 82 || { not_ok "xjkd starts (port 82)"; exit 1; }

# get NAME URL: status and seconds into $LAB_DIR/NAME.
get() {
	ccurl -o /dev/null -w '%{http_code} %{time_total}\n' "$2" >"$LAB_DIR/$1" 2>/dev/null
}
status_of() {
	cut -d' ' -f1 "$LAB_DIR/$1"
}
# seconds_at_least NAME S
seconds_at_least() {
	awk -v s="$2" '{ exit !($2 >= s) }' "$LAB_DIR/$1"
}
seconds_below() {
	awk -v s="$2" '{ exit !($2 < s) }' "$LAB_DIR/$1"
}
# occupy PORT MS: one request on each member's only connection for MS.
occupy() {
	get "sleep-$1-a" "http://$lb:$1/sleep.do?ms=$2" &
	get "sleep-$1-b" "http://$lb:$1/sleep.do?ms=$2" &
	sleep 0.3
}
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

expect_eq "warm-up request answered" 200 "$(ccurl -o /dev/null -w '%{http_code}' "http://$lb/node.txt")"

# --- waiters are served once the connections come free ---
occupy 80 2000
for i in 1 2 3 4 5; do
	get "wait-$i" "http://$lb/node.txt?wait=$i" &
done
sleep 0.2
t0=$(cpu_ticks "$long_pid")
sleep 1
t1=$(cpu_ticks "$long_pid")
wait
expect_eq "both members' only connection was busy (sleepers answered)" "200 200" \
	"$(status_of sleep-80-a) $(status_of sleep-80-b)"
expect_eq "five waiting requests all answered 200" "200 200 200 200 200" \
	"$(for i in 1 2 3 4 5; do status_of "wait-$i"; done | xargs)"
check "a waiting request was answered after the connection came free ($(cat "$LAB_DIR/wait-1"))" \
	seconds_at_least wait-1 1.2
# A waiter sleeps on a timer until a connection is released: no polling.
# 1 s of one busy core would be 100 ticks.
check "xjkd used no CPU while the requests waited ($((t1 - t0)) ticks in 1 s)" test $((t1 - t0)) -le 5

# --- past connection_acquire_timeout on every member: 503 ---
# states NAME: each member's state, as jkstatus shows it to $LAB_DIR/NAME.json
states() {
	ccurl "http://$lb:81/jkstatus?mime=json" >"$LAB_DIR/$1.json" &&
		jq -r '[.workers[] | select(.type == "ajp13") | .state] | join(" ")' "$LAB_DIR/$1.json"
}
occupy 81 3000
get busy "http://$lb:81/node.txt?busy=1" &
busy_pid=$!
sleep 0.25
states queued >/dev/null
expect_eq "jkstatus: the request waiting for a connection is counted" 1 \
	"$(jq '[.workers[].waiting] | add' "$LAB_DIR/queued.json")"
wait $busy_pid
expect_eq "no connection within connection_acquire_timeout on either member: 503" 503 "$(status_of busy)"
# 500 ms on each member, one after the other.
check "503 after waiting on both members ($(cat "$LAB_DIR/busy"))" \
	bash -c "awk '{ exit !(\$2 >= 0.9 && \$2 < 2.5) }' $LAB_DIR/busy"
expect_eq "jkstatus: both members OK/BUSY, nothing waiting" "OK/BUSY OK/BUSY 0" \
	"$(states busy) $(jq '[.workers[].waiting] | add' "$LAB_DIR/busy.json")"
wait
expect_eq "jkstatus: OK again once a request on each succeeded" "OK OK" "$(states after-busy)"

# A plain ajp13 worker waits once: no lb member to try next.
get plain-sleep "http://$lb:82/sleep.do?ms=2000" &
sleep 0.3
get plain-wait "http://$lb:82/node.txt?plain=1"
wait
expect_eq "plain worker: the sleeper was answered" 200 "$(status_of plain-sleep)"
expect_eq "plain worker: no connection within connection_acquire_timeout: 503" 503 "$(status_of plain-wait)"
check "plain worker: 503 after one wait of 500 ms ($(cat "$LAB_DIR/plain-wait"))" \
	bash -c "awk '{ exit !(\$2 >= 0.4 && \$2 < 0.9) }' $LAB_DIR/plain-wait"

# Two pipelined requests: the second is taken up after the first's 503,
# with no further event from the client.
occupy 81 4000
http_raw "$lb" 81 "GET /node.txt?p=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /node.txt?p=2 HTTP/1.1\r\nHost: x\r\n\r\n" 4 >"$LAB_DIR/pipelined"
wait
expect_eq "pipelined requests: both answered 503 in turn" 2 "$(grep -c '^HTTP/1.1 503' "$LAB_DIR/pipelined")"

# --- a client that hangs up while waiting leaves the queue ---
occupy 80 1500
for i in 1 2 3; do
	ccurl --max-time 0.5 -o /dev/null "http://$lb/node.txt?gone=$i" 2>/dev/null &
done
wait
sleep 1
gone=0
for node in t1 t2; do
	gone=$((gone + $(grep -c 'gone=' "$(lab_tomcat_access_log "$node")")))
done
expect_eq "requests whose clients hung up while waiting never reached a Tomcat" 0 "$gone"
get after "http://$lb/node.txt?after=1"
expect_eq "the next request is served" 200 "$(status_of after)"
check "... without waiting ($(cat "$LAB_DIR/after"))" seconds_below after 0.5

# --- SIGTERM: a waiting request is still answered, then xjkd exits ---
occupy 80 1500
get drain "http://$lb/node.txt?drain=1" &
waiter=$!
sleep 0.3
kill -TERM "$long_pid"
wait $waiter
wait
expect_eq "SIGTERM: the waiting request is answered" 200 "$(status_of drain)"
check "SIGTERM: xjkd exits after draining" wait_for $((5 * XJK_SLOW)) bash -c "! kill -0 $long_pid 2>/dev/null"
