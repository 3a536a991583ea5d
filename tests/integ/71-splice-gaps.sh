#!/bin/bash
# 71-splice-gaps.sh: the spliced path (http workers) where it meets the rest
# of xjkd, against the seed's two Tomcats' HTTP connectors:
#   - a member's activation flapping under keep-alive load: connections are
#     handed back by the kernel and routed again, and every answer the
#     clients read is a whole, well-formed HTTP/1.1 response;
#   - a member stopped while its answer is on the way and the next request
#     already sent: the answer arrives whole before the next member's;
#   - the access log: one line per spliced connection, when it is torn down,
#     with the worker and the bytes both ways;
#   - a member that accepts the connection and hangs up (FIN or RST) without
#     answering: a GET goes to the other member, a POST gets a 502, and the
#     member is marked failed;
#   - SIGTERM: the drain waits for a spliced answer in flight and closes idle
#     spliced connections, then xjkd exits;
#   - a member disabled in the middle of a POST body finishes it, and the
#     client's next request (at once, or after an idle close) goes elsewhere.
. "$(dirname "$0")/lib.sh"

XJKCTL=$XJK_ROOT/${B:-build}/xjkctl
if [ ! -x "$XJKD" ] || [ ! -x "$XJKCTL" ]; then
	not_ok "xjkd and xjkctl built ($XJKD)"
	exit 1
fi
lab_up 2 || { not_ok "lab_up"; exit 1; }
lab_seed_tomcats || { not_ok "Tomcats start"; exit 1; }

lb=$(lab_ip lb)
r1=${LAB_SEED_ROUTES[0]}
r2=${LAB_SEED_ROUTES[1]}
FAKE_PORT=8099

# gaps_conf DIR PORT WORKER1 HOST1 PORT1 MORE_PROPS...: an lb of WORKER1 and
# the second Tomcat, with an access log and a control socket.
gaps_conf() {
	local dir=$1 port=$2 w1=$3 h1=$4 p1=$5
	shift 5
	mkdir -p "$dir/conf"
	cat >"$dir/xjk.conf" <<-CONF
		ServerRoot .
		Listen $lb:$port
		JkWorkersFile conf/workers.properties
		JkMount /* controller
		JkLogLevel info
		XjkAccessLog $dir/access.log
		XjkControlSocket $dir/xjkd.sock
		XjkDrainTimeout 10000
	CONF
	{
		echo "worker.list=controller"
		echo "worker.$w1.type=http"
		echo "worker.$w1.host=$h1"
		echo "worker.$w1.port=$p1"
		echo "worker.$r2.type=http"
		echo "worker.$r2.host=$(lab_ip t2)"
		echo "worker.$r2.port=${LAB_SEED_HTTP[1]}"
		echo "worker.controller.type=lb"
		echo "worker.controller.balance_workers=$w1,$r2"
		echo "worker.controller.sticky_session=1"
		printf '%s\n' "$@"
	} >"$dir/conf/workers.properties"
}

gaps_conf "$LAB_DIR/main" 80 "$r1" "$(lab_ip t1)" "${LAB_SEED_HTTP[0]}"
xjkd_start "$LAB_DIR/main/xjk.conf" 80 || { not_ok "xjkd starts"; exit 1; }
main_pid=$XJKD_PID
main_log=$LAB_DIR/xjkd-80.log
check "kernel splice loaded" wait_for 5 grep -q "kernel splice ready" "$main_log"

# --- activation flapping under keep-alive load ---
# Eight keep-alive clients read answers by their framing (Content-Length) and
# check each one: status line, length, body. Meanwhile r1 is disabled and
# enabled again every 150 ms, which hands spliced connections back to xjkd.
lab_exec client python3 - "$lb" 8 "$LAB_DIR/flap.go" >"$LAB_DIR/flap.out" 2>&1 <<-'PY' &
	import os, socket, sys, threading, time
	host, n, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	res = {"ok": 0, "bad": 0, "closed": 0}
	lock = threading.Lock()
	def count(k, detail=None):
	    with lock:
	        res[k] += 1
	        if detail and res[k] <= 3:
	            print("bad:", time.strftime("%H:%M:%S"), detail, flush=True)
	def one(s, buf):
	    s.sendall(b"GET /node.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	    while b"\r\n\r\n" not in buf:
	        d = s.recv(65536)
	        if not d:
	            return None, buf
	        buf += d
	    head, buf = buf.split(b"\r\n\r\n", 1)
	    lines = head.split(b"\r\n")
	    if not lines[0].startswith(b"HTTP/1.1 200 "):
	        return "status line %r" % lines[0][:60], b""
	    cl = [int(l.split(b":")[1]) for l in lines[1:] if l.lower().startswith(b"content-length:")]
	    if len(cl) != 1:
	        return "no Content-Length in %r" % head[:200], b""
	    while len(buf) < cl[0]:
	        d = s.recv(65536)
	        if not d:
	            return "cut body", b""
	        buf += d
	    body, buf = buf[:cl[0]], buf[cl[0]:]
	    if not body.startswith(b"node="):
	        return "body %r" % body[:60], b""
	    return "", buf
	def client():
	    while not os.path.exists(go + ".stop"):
	        try:
	            s = socket.create_connection((host, 80), timeout=10)
	        except OSError as e:
	            count("bad", "connect: %s" % e)
	            time.sleep(0.1)
	            continue
	        buf = b""
	        while not os.path.exists(go + ".stop"):
	            try:
	                err, buf = one(s, buf)
	            except OSError as e:
	                err = "socket: %s" % e
	            if err is None:
	                count("closed")
	                break
	            if err:
	                count("bad", err)
	                break
	            count("ok")
	        s.close()
	ts = [threading.Thread(target=client) for _ in range(n)]
	for t in ts:
	    t.start()
	open(go, "w").close()
	for t in ts:
	    t.join()
	print("ok=%d bad=%d closed=%d" % (res["ok"], res["bad"], res["closed"]), flush=True)
PY
flap_client=$!
wait_for 10 test -e "$LAB_DIR/flap.go"
takebacks_before=$(grep -c "does not take spliced requests now" "$main_log")
for i in $(seq 20); do
	"$XJKCTL" -s "$LAB_DIR/main/xjkd.sock" worker "$r1" disable >/dev/null
	sleep 0.15
	"$XJKCTL" -s "$LAB_DIR/main/xjkd.sock" worker "$r1" enable >/dev/null
	sleep 0.15
done
touch "$LAB_DIR/flap.go.stop"
wait "$flap_client"
summary=$(tail -1 "$LAB_DIR/flap.out")
echo "# flapping: $summary; $(grep '^bad:' "$LAB_DIR/flap.out" | head -3 | tr '\n' ' ')"
ok_n=$(sed -n 's/^ok=\([0-9]*\) .*/\1/p' <<<"$summary")
check "flapping: answers read (${ok_n:-0})" test "${ok_n:-0}" -gt 200
expect_eq "flapping: every answer whole and well-formed" 0 "$(sed -n 's/.* bad=\([0-9]*\) .*/\1/p' <<<"$summary")"
takebacks=$(($(grep -c "does not take spliced requests now" "$main_log") - takebacks_before))
check "flapping: spliced connections were handed back ($takebacks)" test "$takebacks" -gt 0
check "xjkd still running" lab_alive "$main_pid"

# --- the access log ---
lines_before=$(grep -c " splice " "$LAB_DIR/main/access.log" 2>/dev/null)
n=$((1 << 20))
got=$(lab_exec client curl -sS --max-time 30 -o /dev/null -w '%{size_download}' -H "X-Probe: 71" \
	"http://$lb/big.do?bytes=$n&probe=71")
expect_eq "a 1 MB answer through the splice" "$n" "$got"
check "the access log has the connection's line" wait_for 5 grep -q '"GET /big.do?bytes=[0-9]*&probe=71 HTTP/1.1"' "$LAB_DIR/main/access.log"
line=$(grep '"GET /big.do?bytes=[0-9]*&probe=71 HTTP/1.1"' "$LAB_DIR/main/access.log" | tail -1)
echo "# $line"
to_client=$(sed -n 's/.*" - \([0-9]*\) "-" "-" .*/\1/p' <<<"$line")
check "access log: bytes to the client ($to_client) cover the answer" test "${to_client:-0}" -gt "$n"
to_backend=$(sed -n 's/.* splice to_backend=\([0-9]*\)$/\1/p' <<<"$line")
check "access log: bytes to the backend ($to_backend) are the request's" test "${to_backend:-0}" -gt 50 -a "${to_backend:-0}" -lt 1000
check "access log: the worker is named" grep -Eq "\" - [0-9]+ \"-\" \"-\" ($r1|$r2) [0-9]+ splice " <<<"$line"
check "access log: a line for each connection of the flapping clients ($lines_before)" \
	test "${lines_before:-0}" -ge 8

# --- SIGTERM drains spliced connections ---
# An idle keep-alive connection, then an answer in flight (4 s); both spliced.
lab_exec client python3 - "$lb" >"$LAB_DIR/idle.out" 2>&1 <<-'PY' &
	import socket, sys, time
	s = socket.create_connection((sys.argv[1], 80), timeout=20)
	s.sendall(b"GET /node.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	buf = b""
	while b"node=" not in buf:
	    buf += s.recv(65536)
	print("answered", flush=True)
	t = time.time()
	while s.recv(65536):
	    pass
	print("closed after %.1f s" % (time.time() - t), flush=True)
PY
idle=$!
wait_for 10 grep -q answered "$LAB_DIR/idle.out"
lab_exec client curl -sS --max-time 20 -o "$LAB_DIR/slow.body" -w '%{http_code}' \
	"http://$lb/sleep.do?ms=4000" >"$LAB_DIR/slow.code" 2>&1 &
slow=$!
# Both are spliced once xjkd holds a backend connection for each.
backend_conns() {
	nsenter --net="/run/netns/$(lab_ns lb)" ss -Htn state established \
		"( dport = :${LAB_SEED_HTTP[0]} or dport = :${LAB_SEED_HTTP[1]} )" | wc -l
}
two_spliced() {
	[ "$(backend_conns)" -ge 2 ]
}
# xjkd outlives the answer in flight: it runs as long as curl waits for it.
outlived() {
	while kill -0 "$slow" 2>/dev/null; do
		lab_alive "$main_pid" || return 1
		sleep 0.1
	done
}
# The slow request is in xjkd's hands: two client connections (the idle one
# and curl's), none with bytes xjkd has not read.
slow_taken() {
	nsenter --net="/run/netns/$(lab_ns lb)" ss -Htn state established "( sport = :80 )" |
		awk '{ n++; q += $1 } END { exit !(n >= 2 && q == 0) }'
}
check "the slow request reached xjkd" wait_for 10 slow_taken
check "two spliced connections before SIGTERM" wait_for 10 two_spliced
check "the answer is in flight at SIGTERM" kill -0 "$slow"
kill -TERM "$main_pid"
check "SIGTERM: xjkd waits for the spliced answer in flight" outlived
wait "$slow"
expect_eq "SIGTERM: the spliced answer in flight completes" 200 "$(cat "$LAB_DIR/slow.code")"
wait "$idle"
check "SIGTERM: the idle spliced connection is closed ($(tail -1 "$LAB_DIR/idle.out"))" grep -q "^closed after" "$LAB_DIR/idle.out"
check "SIGTERM: xjkd exits once they are done, before the drain timeout" \
	wait_for $((5 * XJK_SLOW)) bash -c "! kill -0 $main_pid 2>/dev/null"
check "SIGTERM: no drain timeout" bash -c "! grep -q 'drain timeout' '$main_log'"

# --- the fake member ---
# splice_backend.py's "gaps" member: it answers xjkd's health check, answers
# /slow in pieces, and hangs up (FIN or RST) on any other request. Requests
# carry fake's session route.
lab_bg t1 "$LAB_DIR/fake.log" python3 -u "$XJK_ROOT/tests/integ/splice_backend.py" "$FAKE_PORT" gaps
lab_wait_port t1 "$FAKE_PORT" 10 || not_ok "the fake member listens"
gaps_conf "$LAB_DIR/fake" 81 fake "$(lab_ip t1)" "$FAKE_PORT"
xjkd_start "$LAB_DIR/fake/xjk.conf" 81 || { not_ok "xjkd starts with the fake member"; exit 1; }
fake_log=$LAB_DIR/xjkd-81.log
sock=$LAB_DIR/fake/xjkd.sock
wait_for 5 test -S "$sock"
# fake's state; ERR does not last: it answers the health check
fake_state() {
	"$XJKCTL" -s "$sock" status --json | jq -r '.workers[] | select(.name == "fake") | .state'
}
fake_ready() {
	case $(fake_state) in OK | ERR/REC) return 0 ;; *) return 1 ;; esac
}
# fake_between PID STARTED DONE ACTION...: once client PID has touched
# STARTED, runs xjkctl ACTION on fake's xjkd, touches DONE 0.1 s later and
# waits for the client.
fake_between() {
	local pid=$1 started=$2 done=$3
	shift 3
	wait_for 10 test -e "$started"
	"$XJKCTL" -s "$sock" "$@" >/dev/null
	sleep 0.1
	touch "$done"
	wait "$pid"
}
# How many times fake was marked failed for closing before it answered.
fake_marked() {
	grep -c "worker fake: .* -> ERR.*closed before answering" "$fake_log"
}
# --- a member stopped while its answer is on the way ---
# The client sends its next request before the answer has arrived in full
# (pipelining); the member is stopped in between, so the kernel hands that
# request to xjkd. The answer must arrive whole before the next member's.
lab_exec client python3 - "$lb" "$LAB_DIR/pipe" "$XJK_ROOT/tests/integ" >"$LAB_DIR/pipe.out" 2>&1 <<-'PY' &
	import os, socket, sys, time
	host, sig = sys.argv[1], sys.argv[2]
	sys.path.insert(0, sys.argv[3])
	from splice_client import answer
	s = socket.create_connection((host, 81), timeout=20)
	req = b"GET /%s HTTP/1.1\r\nHost: x\r\nCookie: JSESSIONID=A.fake\r\n\r\n"
	s.sendall(req % b"slow")
	buf = b""
	while b"\r\n\r\n" not in buf:
	    buf += s.recv(65536)
	open(sig + ".started", "w").close()
	while not os.path.exists(sig + ".stopped"):
	    time.sleep(0.01)
	s.sendall(req % b"node.txt")
	status, body, buf = answer(s, buf)
	print("first:", status, len(body), body == b"s" * 30000, flush=True)
	status, body, buf = answer(s, buf)
	print("second:", status, body.strip() if body else body, flush=True)
PY
fake_between $! "$LAB_DIR/pipe.started" "$LAB_DIR/pipe.stopped" worker fake stop
echo "# $(tr '\n' ' ' <"$LAB_DIR/pipe.out")"
expect_eq "stopped while answering: the answer arrives whole" "first: b'HTTP/1.1 200 OK' 30000 True" \
	"$(grep '^first:' "$LAB_DIR/pipe.out")"
expect_eq "stopped while answering: the next request is answered by $r2" "second: b'HTTP/1.1 200 ' b'node=$r2'" \
	"$(grep '^second:' "$LAB_DIR/pipe.out" | sed 's/200 [A-Za-z]*/200 /')"
"$XJKCTL" -s "$sock" worker fake enable >/dev/null

marked=$(fake_marked)
for how in fin rst; do
	out=$(ccurl -b "JSESSIONID=A.fake" "http://$lb:81/node.txt?$how")
	expect_eq "GET, the member hangs up ($how) without answering: served by $r2" "node=$r2" "$out"
	check "the fake member got that GET ($how)" grep -q "request: GET /node.txt?$how " "$LAB_DIR/fake.log"
	check "fake marked failed ($how)" test "$(fake_marked)" -gt "$marked"
	marked=$(fake_marked)
	[ "$(fake_state)" = ERR ] && "$XJKCTL" -s "$sock" worker fake recover >/dev/null
	wait_for 5 fake_ready
done
check "the retries were logged" grep -q "closed before answering (spliced request): sent to another member" "$fake_log"
code=$(ccurl -o /dev/null -w '%{http_code}' -b "JSESSIONID=A.fake" -H 'Content-Type: text/plain' \
	--data-binary 'not replayed' "http://$lb:81/node.txt?post")
expect_eq "POST, the member hangs up without answering: 502" 502 "$code"
check "the fake member got that POST" grep -q "request: POST /node.txt?post " "$LAB_DIR/fake.log"
check "fake marked failed after the POST" test "$(fake_marked)" -gt "$marked"

# --- a member disabled in the middle of a request body ---
# The client sends a POST's head and half its body, fake is disabled (the
# kernel hands the rest of the client's bytes up to xjkd), then the other
# half: the member that has the first half gets the second and answers. The
# connection does not stay with fake: the client's next request on it
# ("next", sent at once) goes to $r2, and ("idle") an answered connection
# that stays quiet is closed, so the client's next one is routed afresh.
# xjkd holds none of the first half: it paired the sockets in the same pass.
forwarded() {
	nsenter --net="/run/netns/$(lab_ns lb)" ss -Htn state established \
		"( sport = :81 or dport = :$FAKE_PORT )" | awk '{ q += $1 + $2 } END { exit q != 0 }'
}
handbacks() {
	grep -c "worker fake does not take spliced requests now" "$fake_log"
}
for after in next idle; do
	[ "$(fake_state)" = ERR ] && "$XJKCTL" -s "$sock" worker fake recover >/dev/null
	wait_for 5 fake_ready
	handbacks_before=$(handbacks)
	lab_exec client python3 - "$lb" "$LAB_DIR/mid-$after" "$XJK_ROOT/tests/integ" "$after" \
		$((5 * XJK_SLOW)) >"$LAB_DIR/mid-$after.out" 2>&1 <<-'PY' &
		import hashlib, os, socket, sys, time
		host, sig, after, quiet = sys.argv[1], sys.argv[2], sys.argv[4], int(sys.argv[5])
		sys.path.insert(0, sys.argv[3])
		from splice_client import answer
		body = os.urandom(1 << 20)
		s = socket.create_connection((host, 81), timeout=30)
		s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nCookie: JSESSIONID=A.fake\r\n"
		          b"Content-Length: %d\r\n\r\n" % len(body) + body[:len(body) // 2])
		open(sig + ".half", "w").close()
		while not os.path.exists(sig + ".disabled"):
		    time.sleep(0.01)
		get = b"GET /node.txt?mid-%s HTTP/1.1\r\nHost: x\r\n\r\n" % after.encode()
		try:
		    s.sendall(body[len(body) // 2:])
		    status, got, buf = answer(s, b"")
		    want = b"len=%d sha=%s" % (len(body), hashlib.sha256(body).hexdigest().encode())
		    print("answer:", "ok" if got == want else "%r %r" % (status, (got or b"")[:80]), flush=True)
		    if after == "idle":
		        s.settimeout(quiet)
		        t = time.time()
		        print("closed:", s.recv(1) == b"" and not buf, flush=True)
		        print("# closed after %.1f s" % (time.time() - t), flush=True)
		        s = socket.create_connection((host, 81), timeout=30)
		    s.sendall(get)
		    status, got, _ = answer(s, buf)
		    print("next:", got.strip() if got else status, flush=True)
		except OSError as e:
		    print("socket:", e, flush=True)
	PY
	mid=$!
	wait_for 10 test -e "$LAB_DIR/mid-$after.half"
	check "$after: the first half forwarded" wait_for 10 forwarded
	fake_between "$mid" "$LAB_DIR/mid-$after.half" "$LAB_DIR/mid-$after.disabled" worker fake disable
	grep '^#' "$LAB_DIR/mid-$after.out"
	expect_eq "$after: disabled in the middle of a request body: its member finishes it" \
		"answer: ok" "$(grep -v '^#' "$LAB_DIR/mid-$after.out" | head -1)"
	check "$after: the rest of the body was handed back by the kernel" \
		test "$(handbacks)" -gt "$handbacks_before"
	[ "$after" = idle ] && expect_eq "idle: xjkd closes the answered connection once idle" \
		"closed: True" "$(grep '^closed:' "$LAB_DIR/mid-$after.out")"
	expect_eq "$after: the client's next request is served by $r2" "next: b'node=$r2'" \
		"$(grep '^next:' "$LAB_DIR/mid-$after.out")"
	check "$after: the disabled member got no further request" \
		bash -c "! grep -q 'request: GET /node.txt?mid-$after' '$LAB_DIR/fake.log'"
	"$XJKCTL" -s "$sock" worker fake enable >/dev/null
done
