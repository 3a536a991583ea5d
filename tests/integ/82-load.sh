#!/bin/bash
# 82-load.sh: xjkd under load (issue 9), with the seed's two real Tomcats:
# 10,000 concurrent keep-alive connections whose requests all come at once
# (more than the AJP pools hold: the rest wait for a connection), slowloris
# clients, a backend whose
# link flaps every 2 s under wrk, and afterwards xjkd's descriptors and
# resident set back near the baseline taken before the load.
. "$(dirname "$0")/lib.sh"
. "$XJK_ROOT/tools/failover/lib.sh"
. "$XJK_ROOT/tools/soak/lib.sh"

CONNS=10000
SLOW_CONNS=300
REQUEST_TIMEOUT_MS=2000
FLAPS=5
# Tolerances after the load (see docs/reliability.md): descriptors may
# differ from the baseline by a health check reconnecting; 8 MB of resident
# set is 2.5 % of what 10,000 connections take at their peak, so a leak of
# more than about 800 bytes per connection fails.
FD_SLACK=2
RSS_SLACK_KB=8192

if [ ! -x "$XJKD" ]; then
	not_ok "xjkd binary $XJKD exists"
	exit 1
fi
lab_up 2 || { not_ok "lab_up"; exit 1; }
lab_seed_tomcats || { not_ok "Tomcats start"; exit 1; }
soak_limits || { not_ok "limits raised in the lab"; exit 1; }
check "open-files limit allows $CONNS connections ($(ulimit -n))" test "$(ulimit -n)" -ge $((CONNS + 2000))
lb=$(lab_ip lb)

# xjkd on port 80 takes the connections, the flapping and the baseline. Its
# request timeout is long: the client writes its 10,000 first requests over
# seconds, or a minute on a busy machine. The one on port 81 has a short one
# for the slowloris part.
soak_conf "$LAB_DIR/main" 80 "XjkRequestTimeout 120000" "XjkKeepAliveTimeout 300000"
# The burst below waits for pooled connections. The default
# connection_acquire_timeout (10 s) covers it on a quiet machine (the longest
# wait measured 2.6 s), but a saturated one stretched it to 7.8 s: the test
# is about none being lost, so it gives them a minute. And the pools stay
# below Tomcat's maxThreads (200): with the default 512 connections per
# member, a burst occupies every Tomcat thread, the health check's CPing
# waits for one past its 500 ms, and members are declared down mid-burst
# (152 answers 503 in one run at load average 14).
for w in "${LAB_SEED_ROUTES[@]}"; do
	echo "worker.$w.connection_acquire_timeout=60000"
	echo "worker.$w.connection_pool_size=160"
done >>"$LAB_DIR/main/conf/workers.properties"
# The health check's timeout (500 ms) is a time bound on Tomcat's CPong, and
# stretches with XJK_SLOW: an ASan xjkd takes more of the two cores the
# Tomcats need, and mid-burst a CPong took up to 3.4 s (load average 15);
# both members then went down at once and their queued requests were
# answered 503 (2,735 and 5,547 of 10,000 in two of six runs; Tomcat had
# not answered, nothing was waiting unread in xjkd's socket).
echo "XjkHealthCheck * timeout=$((500 * XJK_SLOW))" >>"$LAB_DIR/main/xjk.conf"
soak_conf "$LAB_DIR/short" 81 "XjkRequestTimeout $REQUEST_TIMEOUT_MS" "XjkAdminListen 127.0.0.1:8098"
xjkd_start "$LAB_DIR/main/xjk.conf" 80 || { not_ok "xjkd starts (port 80)"; exit 1; }
main_pid=$XJKD_PID
xjkd_start "$LAB_DIR/short/xjk.conf" 81 || { not_ok "xjkd starts (port 81)"; exit 1; }
short_pid=$XJKD_PID

# The baseline: both members used and their idle connections timed out.
fo_load "$LAB_DIR/warm.load" --url "http://$lb/node.txt" --clients 4 --duration 2
sleep 3
fd0=$(soak_fds "$main_pid")
rss0=$(soak_rss_kb "$main_pid")
short_fd0=$(soak_fds "$short_pid")
echo "# baseline: $fd0 descriptors, VmRSS $rss0 kB"

# --- (1) 10,000 keep-alive connections at once, a request on each at once ---
out=$LAB_DIR/hold.out
# Every request is sent before the first answer is read: far more than the
# AJP pools hold (80 connections per member and event loop), so most wait
# for a pooled connection (connection_acquire_timeout), and the pools open
# no more connections at once than Tomcat's accept queue holds
# (docs/reliability.md).
soak_conns hold --host "$lb" --port 80 --conns $CONNS --hold 3 --inflight 0 --timeout 150 >"$out" &
client=$!
peak_fds=0
while lab_alive $client; do
	n=$(soak_fds "$main_pid")
	[ "$n" -gt $peak_fds ] && peak_fds=$n
	sleep 0.2
done
wait $client
grep '^#' "$out"
hstat() {
	sed -n "s/^S .*\b$1=\([^ ]*\).*/\1/p" "$out"
}
echo "# xjkd held up to $peak_fds descriptors"
expect_eq "$CONNS connections open at once" $CONNS "$(hstat open)"
check "xjkd held them all at once ($peak_fds descriptors)" test $peak_fds -ge $CONNS
expect_eq "first request on each answered 200" $CONNS "$(hstat r1_ok)"
expect_eq "none closed by xjkd while held idle 3 s" 0 "$(hstat held_closed)"
expect_eq "second request on each (keep-alive reuse) answered 200" $CONNS "$(hstat r2_ok)"
# A burst that overflowed Tomcat's accept queue met the connect timeout on
# the SYN retransmission and had members declared down. (A health check may
# still time out on a saturated machine: member states are not checked.)
expect_eq "no connect timeout during the bursts" 0 "$(grep -c 'connect timeout' "$LAB_DIR/xjkd-80.log")"

# --- (2) slowloris: a header byte a second, never a whole head ---
slow=$LAB_DIR/slow.out
soak_conns slowloris --host "$lb" --port 81 --conns $SLOW_CONNS --interval 1 --duration 10 >"$slow" &
client=$!
sleep 0.5
fo_load "$LAB_DIR/slow.load" --url "http://$lb:81/node.txt" --clients 4 --duration 5
wait $client
sstat() {
	sed -n "s/^S .*\b$1=\([^ ]*\).*/\1/p" "$slow"
}
grep '^S ' "$slow" | sed 's/^S /# slowloris: /'
expect_eq "slowloris: $SLOW_CONNS connections open" $SLOW_CONNS "$(sstat open)"
expect_eq "slowloris: every one answered 408" $SLOW_CONNS "$(sstat got_408)"
expect_eq "slowloris: every one closed" 0 "$(sstat still_open)"
# Not before XjkRequestTimeout (the timers' granularity is 1 ms; 100 ms of
# slack for the clock reads), and within 3 s after it on a busy machine.
check "slowloris: closed after ${REQUEST_TIMEOUT_MS} ms ($(sstat close_min_ms)..$(sstat close_max_ms) ms)" \
	test "$(sstat close_min_ms)" -ge $((REQUEST_TIMEOUT_MS - 100)) -a "$(sstat close_max_ms)" -le $((REQUEST_TIMEOUT_MS + 3000))
read -r requests failed slowest <<<"$(for k in requests failed slowest_ms; do
	fo_stat "$LAB_DIR/slow.load" $k
done | tr '\n' ' ')"
echo "# normal requests during slowloris: requests=$requests failed=$failed slowest=$slowest ms"
check "normal requests during slowloris: served (${requests:-0})" test "${requests:-0}" -gt 20
expect_eq "normal requests during slowloris: none failed" 0 "${failed:-?}"
# One that had to wait for the slowloris connections to go would take the
# whole request timeout; 1.5 s leaves room for a busy machine below that.
check "normal requests during slowloris: slowest ${slowest:-?} ms <= 1500 ms" test "${slowest:-999999}" -le 1500

# --- (3) t2's link down and up every 2 s under wrk ---
flap=$LAB_DIR/flap.wrk
soak_wrk "$flap" -t2 -c32 -d$((FLAPS * 4))s --timeout 10s "http://$lb/node.txt" &
load=$!
for i in $(seq $FLAPS); do
	sleep 2
	lab_blackhole t2
	sleep 2
	lab_unblackhole t2
done
wait $load
requests=$(soak_wrk_stat "$flap" requests)
non2xx=$(soak_wrk_stat "$flap" non2xx)
errors=$(soak_wrk_stat "$flap" errors)
echo "# flapping: requests=$requests non-2xx=$non2xx socket-errors=$errors"
check "flapping: xjkd is still running" lab_alive "$main_pid"
check "flapping: requests served (${requests:-0})" test "${requests:-0}" -gt 1000
# Every GET whose member vanished is retried on the other one, since no
# byte of its answer had reached the client: none may fail for that. What
# cannot be retried is an answer cut between its head and END_RESPONSE, a
# window of a few microseconds per flap for /node.txt's one-segment answer:
# at most one per flap.
expect_eq "flapping: no answer other than 2xx" 0 "${non2xx:-?}"
check "flapping: socket errors ${errors:-?} <= one per flap ($FLAPS)" test "${errors:-999}" -le $FLAPS

# --- (4) back to the baseline ---
# Idle AJP connections time out after 2 s (soak_conf); the health check may
# be reconnecting to t2.
back_to_baseline() {
	test "$(soak_fds "$main_pid")" -le $((fd0 + FD_SLACK))
}
wait_for 15 back_to_baseline
fd1=$(soak_fds "$main_pid")
rss1=$(soak_rss_kb "$main_pid")
echo "# after the load: $fd1 descriptors (baseline $fd0), VmRSS $rss1 kB (baseline $rss0 kB)"
check "descriptors back to the baseline ($fd1, baseline $fd0, slack $FD_SLACK)" \
	test "$fd1" -le $((fd0 + FD_SLACK))
if xjkd_instrumented; then
	echo "# resident set not checked: ASan's allocator and valgrind keep freed memory"
else
	check "resident set back near the baseline ($rss1 kB, baseline $rss0 kB, slack $RSS_SLACK_KB kB)" \
		test "${rss1:-999999999}" -le $((rss0 + RSS_SLACK_KB))
fi
expect_eq "xjkd still serves" 200 "$(ccurl -o /dev/null -w '%{http_code}' "http://$lb/node.txt")"
short_fd1=$(soak_fds "$short_pid")
check "slowloris xjkd: descriptors back to its baseline ($short_fd1, baseline $short_fd0)" \
	test "$short_fd1" -le $((short_fd0 + FD_SLACK))
