#!/bin/bash
# 81-hostile.sh: backends that lie (tools/hostile/): bogus lengths, oversized
# packets, too many headers, header injection, stalls and closes mid-response,
# a second SEND_HEADERS. xjkd answers 502 (504 for a stall) while nothing has
# reached the client, cuts the connection when a response had started, marks
# the member in its log and /status.json, and keeps serving through a real
# Tomcat: an lb whose other member lies on every request loses no request.
. "$(dirname "$0")/lib.sh"
HOSTILE=$XJK_ROOT/tools/hostile

[ -x "$XJKD" ] || { not_ok "xjkd binary $XJKD exists"; exit 1; }
lab_up 2 || { not_ok "lab_up"; exit 1; }
lab_tomcat_start t1 tomcat-6.0.26-1 8009 8080 || { not_ok "Tomcat t1 starts"; exit 1; }
t1=$(lab_ip t1)
t2=$(lab_ip t2)
lb=$(lab_ip lb)
# t2: one AJP and one HTTP liar chosen per request by the URI, and one of
# each that lies on every request (lb members).
lab_bg t2 "$LAB_DIR/ajp-hostile.log" python3 "$HOSTILE/ajp_hostile.py" 8009
lab_bg t2 "$LAB_DIR/ajp-liar.log" python3 "$HOSTILE/ajp_hostile.py" --default bogus-length 8010
lab_bg t2 "$LAB_DIR/http-hostile.log" python3 "$HOSTILE/http_hostile.py" 8080
lab_bg t2 "$LAB_DIR/http-liar.log" python3 "$HOSTILE/http_hostile.py" --default close-first 8081
for p in 8009 8010 8080 8081; do
	lab_wait_port t2 $p 10 || { not_ok "hostile server on t2:$p"; exit 1; }
done

# One worker per AJP lie (h_MODE, mounted at /h/MODE): a worker that lied is
# in error for a while and answers 503 without trying, so each lie gets a
# fresh worker.
AJP_REFUSED="bogus-length bad-magic oversized too-many-headers header-crlf status-42
	unknown-type end-first close-first second-headers-first stall-headers"
AJP_CUT="stall-mid-body close-mid-body chunk-lie second-headers"
conf=$LAB_DIR/hostile.conf
list=""
for mode in $AJP_REFUSED $AJP_CUT; do
	w=h_${mode//-/_}
	list=$list,$w
	printf 'worker.%s.host=%s\nworker.%s.port=8009\nworker.%s.reply_timeout=2000\n' \
		"$w" "$t2" "$w" "$w" >>"$LAB_DIR/workers.properties"
	echo "JkMount /h/$mode $w" >>"$LAB_DIR/mounts.conf"
done
cat >>"$LAB_DIR/workers.properties" <<EOF
worker.list=lb,hhostile,hlb$list
worker.good.host=$t1
worker.good.port=8009
worker.liar.host=$t2
worker.liar.port=8010
worker.lb.type=lb
worker.lb.balance_workers=good,liar
worker.hhostile.type=http
worker.hhostile.host=$t2
worker.hhostile.port=8080
worker.hhostile.reply_timeout=2000
worker.hgood.type=http
worker.hgood.host=$t1
worker.hgood.port=8080
worker.hliar.type=http
worker.hliar.host=$t2
worker.hliar.port=8081
worker.hlb.type=lb
worker.hlb.balance_workers=hgood,hliar
EOF
cat >"$conf" <<EOF
Listen $lb:80
JkWorkersFile $LAB_DIR/workers.properties
Include $LAB_DIR/mounts.conf
JkMount /node.txt lb
JkMount /x/* hhostile
JkMount /1k.html hlb
JkLogLevel info
XjkAdminListen $lb:8099
XjkControlSocket off
EOF
xjkd_start "$conf" 80 || { not_ok "xjkd starts"; exit 1; }
log=$LAB_DIR/xjkd-80.log
url=http://$lb

# get PATH: "STATUS CURL_EXIT BYTES" for one request
get() {
	local out
	rm -f "$LAB_DIR/body"
	out=$(lab_exec client curl -sS --max-time 10 -o "$LAB_DIR/body" -w '%{http_code}' "$url$1" 2>/dev/null)
	echo "$out $? $(cat "$LAB_DIR/body" 2>/dev/null | wc -c)"
}

state() {
	lab_exec client curl -sS --max-time 5 "http://$lb:8099/status.json" |
		jq -r --arg w "$1" '.workers[] | select(.name == $w) | .state'
}

# --- nothing reached the client yet: an error status, connection closed ---
for mode in $AJP_REFUSED; do
	got=$(get "/h/$mode")
	case $mode:$got in
	stall-headers:"504 0 "* | *:"502 0 "*) ok "AJP $mode: $got" ;;
	# a second SEND_HEADERS before any body: refused, or the first head
	# went out and the connection is cut
	second-headers-first:"200 18 "*) ok "AJP $mode: $got" ;;
	*) not_ok "AJP $mode answered 502 (504 for the stall)" "got status, curl exit, bytes: $got" ;;
	esac
	check "xjkd logs worker h_${mode//-/_}" grep -q "worker h_${mode//-/_}:" "$log"
done
check "header injection never reaches the client" bash -c "! grep -q evil '$LAB_DIR/body'"

# --- the response had started: the client sees it cut, never completed
# (status 000: xjkd had not flushed the head yet and closed without it) ---
for mode in $AJP_CUT; do
	got=$(get "/h/$mode")
	set -- $got
	if [ "$1" = 502 ] || { [ "$1" = 200 ] || [ "$1" = 000 ]; } && [ "$2" != 0 ] && [ "$3" -lt 1000 ]; then
		ok "AJP $mode: response cut ($got)"
	else
		not_ok "AJP $mode: response cut" "got status, curl exit, bytes: $got"
	fi
done

# --- http workers (spliced): refused before a byte went out, cut after ---
# The kernel splices the bytes: a close before the first response byte
# reaches the client as an empty reply (not a 502), and lies in the response
# head pass through as they are, as with HAProxy in tcp mode. Recorded, and
# xjkd must survive them (docs/security.md).
got=$(get /x/close-mid-body)
set -- $got
check "HTTP close mid-body: cut ($got)" test "$2" != 0 -a "$3" -lt 1000
for mode in close-first bogus-length two-lengths too-many-headers oversized bad-status stall-headers; do
	got=$(get "/x/$mode")
	echo "# HTTP $mode: $got"
done
check "xjkd alive after the http liars" lab_alive "$XJKD_PID"

# --- lb members that lie every time: no request lost, member marked ---
codes=$(for i in $(seq 20); do get /node.txt; done | awk '{ print $1 }' | sort | uniq -c | tr -s ' ' | tr '\n' ,)
expect_eq "20 GETs through lb with a lying AJP member all answer 200" " 20 200," "$codes"
liar=$(grep -c . "$LAB_DIR/ajp-liar.log")
check "the lying AJP member was tried ($liar requests)" test "$liar" -ge 1
st=$(state liar)
check "lying AJP member marked in /status.json (state $st)" test "${st#ERR}" != "$st"
check "lying AJP member marked in the log" grep -q "worker liar:" "$log"
# http lb: requests that met the closing member before it was marked got
# empty replies (see above); once marked, every request goes to Tomcat.
codes=$(for i in $(seq 20); do get /1k.html; done | awk '{ print $1 }' | sort | uniq -c | tr -s ' ' | tr '\n' ,)
echo "# http lb with a closing member, first 20 GETs: $codes"
st=$(state hliar)
check "closing HTTP member marked in /status.json (state $st)" test "${st#ERR}" != "$st"
codes=$(for i in $(seq 20); do get /1k.html; done | awk '{ print $1 }' | sort | uniq -c | tr -s ' ' | tr '\n' ,)
expect_eq "20 more GETs through the http lb after the mark all answer 200" " 20 200," "$codes"

check "xjkd still running" lab_alive "$XJKD_PID"
if grep -E "AddressSanitizer|runtime error|LeakSanitizer" "$log" >/dev/null; then
	not_ok "no sanitizer report in xjkd's log" "$(grep -m3 -E 'AddressSanitizer|runtime error' "$log")"
else
	ok "no sanitizer report in xjkd's log"
fi
