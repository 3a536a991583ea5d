#!/bin/bash
# 20-ajp.sh: acceptance tests of xjkd as an HTTP -> AJP13 balancer (issue 2),
# with the seed's configuration in front of two real Tomcats (and a third
# one that requires an AJP secret).
. "$(dirname "$0")/lib.sh"

if [ ! -x "$XJKD" ]; then
	not_ok "xjkd binary $XJKD exists"
	exit 1
fi
lab_up 3 || { not_ok "lab_up"; exit 1; }
if ! lab_seed_tomcats || ! lab_tomcat_start t3 secure-node 8009 8080 secret=xjk-s3cret; then
	not_ok "Tomcats start"
	exit 1
fi

lb=$(lab_ip lb)
url=http://$lb
lab_seed_conf "$LAB_DIR/seed" 80
check "xjkd -t accepts the seed configuration" "$XJKD" -c "$LAB_DIR/seed/xjk.conf" -t
if ! xjkd_start "$LAB_DIR/seed/xjk.conf" 80; then
	not_ok "xjkd starts with the seed configuration"
	exit 1
fi
ok "xjkd starts with the seed configuration"

# Between groups of checks: a hung xjkd fails once here instead of making
# every later request wait for its timeout.
still_answers() {
	if ! ccurl --max-time 5 -o /dev/null "$url/node.txt"; then
		not_ok "xjkd still answers after: $1"
		exit 1
	fi
}

# --- plain requests ---
body=$(ccurl -w ' %{http_code}' "$url/node.txt" | tr -d '\n')
case $body in
"node=tomcat-6.0.26-"[12]" 200") ok "GET /node.txt" ;;
*) not_ok "GET /node.txt" "$body" ;;
esac
nodes=$(for i in $(seq 20); do ccurl "$url/node.txt"; done | sort -u | tr '\n' ' ')
expect_eq "requests without a session reach both nodes" "node=tomcat-6.0.26-1 node=tomcat-6.0.26-2 " "$nodes"
out=$(ccurl "$url/headers.do?a=1&b=two")
check "query string passed" grep -qx 'query=a=1&b=two' <<<"$out"
check "Tomcat sees the client's address" grep -q "^remote=$(lab_ip client):" <<<"$out"
check "Host header passed" grep -qx "header.host: $lb" <<<"$out"
expect_eq "status from Tomcat passed through" 503 "$(ccurl -o /dev/null -w '%{http_code}' "$url/status.do?code=503")"

still_answers "plain requests"
# --- request bodies ---
random_file "$LAB_DIR/up10m" $((10 << 20))
want="bytes=$((10 << 20)) sha256=$(sha256_of "$LAB_DIR/up10m")"
expect_eq "POST 10 MB with Content-Length" "$want" \
	"$(ccurl -H 'Expect:' -H 'Content-Type: application/octet-stream' --data-binary @"$LAB_DIR/up10m" "$url/upload.do")"
expect_eq "POST 10 MB chunked" "$want" \
	"$(ccurl -H 'Expect:' -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
		--data-binary @"$LAB_DIR/up10m" "$url/upload.do")"
random_file "$LAB_DIR/up1m" $((1 << 20))
out=$(ccurl -v --expect100-timeout 10 -H 'Expect: 100-continue' -H 'Content-Type: application/octet-stream' \
	--data-binary @"$LAB_DIR/up1m" "$url/upload.do" 2>"$LAB_DIR/expect.err")
check "Expect: 100-continue gets an interim 100" grep -q '^< HTTP/1.1 100' "$LAB_DIR/expect.err"
expect_eq "Expect: 100-continue body arrives" "bytes=$((1 << 20)) sha256=$(sha256_of "$LAB_DIR/up1m")" "$out"

still_answers "request bodies"
# --- response bodies ---
n=$((100 << 20))
lab_exec client curl -sS --max-time 60 --limit-rate 50M "$url/big.do?bytes=$n" | sha256sum | cut -d' ' -f1 >"$LAB_DIR/big.sha" &
reader=$!
rss_max=0
while kill -0 $reader 2>/dev/null; do
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$XJKD_PID/status" 2>/dev/null)
	[ "${rss:-0}" -gt $rss_max ] && rss_max=$rss
	sleep 0.1
done
expect_eq "100 MB streamed response intact" "$(pattern_sha256 $n)" "$(cat "$LAB_DIR/big.sha")"
echo "# xjkd VmRSS max while streaming: $rss_max kB"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$XJKD_PID/status")
if xjkd_instrumented; then
	echo "# RSS bounds not checked: the resident set is the sanitizer's or valgrind's"
else
	check "xjkd RSS stays under 64 MB while streaming 100 MB ($rss_max kB)" test "$rss_max" -gt 0 -a "$rss_max" -lt 65536
	check "xjkd peak RSS (VmHWM) under 64 MB (${hwm:-?} kB)" test "${hwm:-65536}" -lt 65536
fi
n=$((10 << 20))
expect_eq "10 MB chunked response intact" "$(pattern_sha256 $n)" \
	"$(ccurl "$url/big.do?bytes=$n&chunked=1" | sha256sum | cut -d' ' -f1)"

still_answers "response bodies"
# --- connections ---
expect_eq "keep-alive: three requests, one connection" "1 0 0" \
	"$(ccurl -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects} ' "$url/node.txt" "$url/node.txt" "$url/node.txt" | sed 's/ $//')"
resp=$(http_raw "$lb" 80 "GET /node.txt HTTP/1.1\r\nHost: $lb\r\n\r\nGET /headers.do?second=1 HTTP/1.1\r\nHost: $lb\r\nConnection: close\r\n\r\n" 5)
first=$(grep -an '^node=' <<<"$resp" | head -1 | cut -d: -f1)
second=$(grep -an '^query=second=1' <<<"$resp" | head -1 | cut -d: -f1)
check "pipelining: two requests in one write, both answered" test "$(grep -ac '^HTTP/1.1 200' <<<"$resp")" = 2
check "pipelining: answers in order" test -n "$first" -a -n "$second" -a "${first:-0}" -lt "${second:-0}"
resp=$(http_raw "$lb" 80 "HEAD /big.do?bytes=1000 HTTP/1.1\r\nHost: $lb\r\n\r\nGET /node.txt HTTP/1.1\r\nHost: $lb\r\nConnection: close\r\n\r\n" 5)
head1=${resp%%$'\r\n\r\n'*}
rest=${resp#*$'\r\n\r\n'}
check "HEAD: 200 with Content-Length 1000" grep -qi '^content-length: 1000' <<<"$head1"
check "HEAD: no body, next answer follows at once" test "${rest:0:12}" = "HTTP/1.1 200"

still_answers "connection handling"
# --- stickiness ---
jar=$LAB_DIR/jar
rm -f "$jar"
seq_out=$(for i in $(seq 10); do ccurl -b "$jar" -c "$jar" "$url/counter.do"; done)
node=$(head -1 <<<"$seq_out" | sed 's/^node=\([^ ]*\) .*/\1/')
check "sticky: ten requests, one node ($node)" test "$(grep -c "^node=$node count=" <<<"$seq_out")" = 10
expect_eq "sticky: count goes on 1..10" "$(seq 10 | tr '\n' ' ')" \
	"$(sed 's/.* count=\([0-9]*\) .*/\1/' <<<"$seq_out" | tr '\n' ' ')"
check "sticky: session route is the node's jvmRoute" test "$(grep -c "session=[0-9A-F]*\.$node\$" <<<"$seq_out")" = 10

still_answers "stickiness"
# --- lbfactor 1:3 ---
lab_seed_conf "$LAB_DIR/weights" 81
sed -i 's/^\(worker\.tomcat-6\.0\.26-2\.lbfactor *= *\)1/\13/' "$LAB_DIR/weights/conf/workers.properties"
if xjkd_start "$LAB_DIR/weights/xjk.conf" 81; then
	for i in $(seq 2000); do echo "url = \"http://$lb:81/node.txt\""; done >"$LAB_DIR/2000.curl"
	counts=$(ccurl -K "$LAB_DIR/2000.curl" | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
	n1=$(grep -o 'node=tomcat-6.0.26-1=[0-9]*' <<<"$counts" | cut -d= -f3)
	n2=$(grep -o 'node=tomcat-6.0.26-2=[0-9]*' <<<"$counts" | cut -d= -f3)
	check "lbfactor 1:3 over 2000 requests within 5 % ($counts)" \
		test "${n1:-0}" -ge 475 -a "${n1:-0}" -le 525 -a "${n2:-0}" -ge 1425 -a "${n2:-0}" -le 1575
	kill "$XJKD_PID"
else
	not_ok "xjkd starts with lbfactor 1:3"
fi

still_answers "lbfactor"
# --- requests that must not reach Tomcat ---
reached() {
	echo $(($(access_count t1) + $(access_count t2)))
}
before=$(reached)
expect_eq "unmapped URI (no dot) -> 404" 404 "$(ccurl -o /dev/null -w '%{http_code}' "$url/nodot")"
sleep 0.2
expect_eq "unmapped URI does not reach Tomcat" "$before" "$(reached)"

# bad NAME BYTES: answered 400, connection closed, nothing reaches Tomcat.
bad() {
	local before resp rc
	before=$(reached)
	resp=$(http_raw "$lb" 80 "$2" 3)
	rc=$?
	case $resp in
	"HTTP/1.1 400"*) ok "$1 -> 400" ;;
	*) not_ok "$1 -> 400" "$(head -1 <<<"$resp" | tr -d '\r')" ;;
	esac
	check "$1 -> connection closed" test $rc != 124
	sleep 0.2
	expect_eq "$1 -> nothing reaches Tomcat" "$before" "$(reached)"
}
h="Host: $lb\r\n"
bad "both Content-Length and Transfer-Encoding" \
	"POST /upload.do HTTP/1.1\r\n${h}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
bad "two differing Content-Length" "POST /upload.do HTTP/1.1\r\n${h}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello"
bad "bad chunk size" "POST /upload.do HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
bad "obs-fold header" "GET /node.txt HTTP/1.1\r\n${h}X-Folded: a\r\n b\r\n\r\n"
bad "bare CR in a header" "GET /node.txt HTTP/1.1\r\n${h}X-Cr: a\rb\r\n\r\n"
bad "bad method token" "G@T /node.txt HTTP/1.1\r\n$h\r\n"
bad "bad HTTP version" "GET /node.txt HTTP/1.x\r\n$h\r\n"

still_answers "malformed requests"
# --- AJP secret (t3 requires xjk-s3cret) ---
secret_conf() {
	mkdir -p "$LAB_DIR/$1/conf"
	cp "$LAB_DIR/seed/conf/mod_jk.conf" "$LAB_DIR/$1/conf/"
	printf 'ServerRoot .\nListen %s:%s\nInclude conf/mod_jk.conf\n' "$lb" "$2" >"$LAB_DIR/$1/xjk.conf"
	cat >"$LAB_DIR/$1/conf/workers.properties" <<-PROPS
		worker.list=controller
		worker.t3.type=ajp13
		worker.t3.host=$(lab_ip t3)
		worker.t3.port=8009
		worker.t3.secret=$3
		worker.controller.type=lb
		worker.controller.balanced_workers=t3
	PROPS
}
secret_conf secret-ok 82 xjk-s3cret
secret_conf secret-bad 83 wrong
if xjkd_start "$LAB_DIR/secret-ok/xjk.conf" 82; then
	expect_eq "matching AJP secret accepted" "node=secure-node 200" "$(ccurl -w ' %{http_code}' "http://$lb:82/node.txt" | tr -d '\n')"
	kill "$XJKD_PID"
else
	not_ok "xjkd starts with a secret"
fi
if xjkd_start "$LAB_DIR/secret-bad/xjk.conf" 83; then
	expect_eq "wrong AJP secret: Tomcat's 403 passed through" 403 \
		"$(ccurl -o /dev/null -w '%{http_code}' "http://$lb:83/node.txt")"
	kill "$XJKD_PID"
else
	not_ok "xjkd starts with a wrong secret"
fi

still_answers "AJP secret"
# --- failover: kill -9 of one node under load ---
lab_exec client wrk -t1 -c8 -d6s "$url/node.txt" >"$LAB_DIR/wrk.out" 2>&1 &
load=$!
sleep 2
lab_tomcat_kill t2
wait $load
reqs=$(awk '/requests in/ { print $1 }' "$LAB_DIR/wrk.out")
check "kill -9 t2 under load: requests were served (${reqs:-0})" test "${reqs:-0}" -gt 100
check "kill -9 t2 under load: no non-2xx answers" bash -c "! grep -q 'Non-2xx' '$LAB_DIR/wrk.out'"
check "kill -9 t2 under load: no socket errors" bash -c "! grep -q 'Socket errors' '$LAB_DIR/wrk.out'"
grep -E 'Non-2xx|Socket errors|requests in' "$LAB_DIR/wrk.out" | sed 's/^/# /'
nodes=$(for i in $(seq 10); do ccurl "$url/node.txt"; done | sort | uniq -c | awk '{ print $2 "=" $1 }')
expect_eq "after the kill every GET is served by t1" "node=tomcat-6.0.26-1=10" "$nodes"
