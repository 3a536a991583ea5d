#!/bin/bash
# 60-admin.sh: operating xjkd (issue 8) in front of the seed's two real
# Tomcats: xjkctl over the control socket and the admin listener's POST
# actions change a worker's activation, lbfactor, counters and state, and
# the next requests follow; /metrics agrees with the requests the Tomcats
# logged; the token guards changes on a non-loopback listener; xjkctl reload
# rejects a broken configuration with its file:line.
. "$(dirname "$0")/lib.sh"

XJKCTL=$XJK_ROOT/${B:-build}/xjkctl
W1=tomcat-6.0.26-1
W2=tomcat-6.0.26-2
TOKEN=op-$RANDOM$RANDOM

lab_up 2 || { not_ok "lab_up"; exit 1; }
lab_seed_tomcats || { not_ok "seed Tomcats start"; exit 1; }
lb=$(lab_ip lb)
url=http://$lb
admin=http://$lb:8099
sock=$LAB_DIR/run/xjkd.sock
conf=$LAB_DIR/seed/xjk.conf
lab_seed_conf "$LAB_DIR/seed" 80
cat >>"$conf" <<-EOF
	XjkAdminListen $lb:8099
	XjkAdminToken $TOKEN
	XjkControlSocket $sock
EOF
xjkd_start "$conf" 80 || { not_ok "xjkd starts"; exit 1; }
log=$LAB_DIR/xjkd-80.log
check "control socket created" wait_for 5 test -S "$sock"
check "admin listener up" lab_wait_port lb 8099 5

ctl() {
	"$XJKCTL" -s "$sock" "$@"
}

# activation and state of worker $1, from /status.json
act_state() {
	ccurl "$admin/status.json" | jq -r --arg w "$1" '.workers[] | select(.name == $w) | .activation + " " + .state'
}

# metric NAME WORKER: the sample's value on /metrics
metric() {
	ccurl "$admin/metrics" | awk -v k="$1{worker=\"$2\",lb=\"controller\"}" '$1 == k { print $2 }'
}

# nodes N [CURL_ARGS]: N GETs of /node.txt; prints "node=count" pairs, sorted
nodes() {
	local n=$1 i
	shift
	for i in $(seq "$n"); do echo "url = \"$url/node.txt\""; done >"$LAB_DIR/n.curl"
	ccurl "$@" -K "$LAB_DIR/n.curl" | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }' | sed 's/ $//'
}

# post FORM [CURL_ARGS]: POST /action; prints the status code
post() {
	local form=$1
	shift
	ccurl -o "$LAB_DIR/post.out" -w '%{http_code}' "$@" --data "$form" "$admin/action"
}

sticky() {
	ccurl -b "JSESSIONID=0123456789ABCDEF0123456789ABCDEF.$1" "$url/node.txt"
}

# --- status ---
out=$(ctl status)
check "xjkctl status: exit 0" test $? = 0
check "xjkctl status lists both workers, active" \
	test "$(grep -cE "^($W1|$W2) +[0-9.:]+ +tomcat-6.0.26-[12] +ACT +OK" <<<"$out")" = 2
check "xjkctl status --json is JSON with two workers" test "$(ctl status --json | jq '.workers | length')" = 2
expect_eq "xjkctl members without XjkMembership" "cluster membership is not configured (XjkMembership)" "$(ctl members)"

# --- /metrics against the Tomcats' access logs ---
a1=$(access_count t1)
a2=$(access_count t2)
got=$(nodes 40)
d1=$(($(access_count t1) - a1))
d2=$(($(access_count t2) - a2))
echo "# 40 requests: $got (access logs: $d1, $d2)"
check "40 requests reached the two Tomcats" test $((d1 + d2)) = 40 -a "$d1" -gt 0 -a "$d2" -gt 0
expect_eq "/metrics: xjk_worker_requests_total of $W1 = its access log" "$d1" "$(metric xjk_worker_requests_total $W1)"
expect_eq "/metrics: xjk_worker_requests_total of $W2 = its access log" "$d2" "$(metric xjk_worker_requests_total $W2)"
expect_eq "/metrics: no errors" "0 0" "$(metric xjk_worker_errors_total $W1) $(metric xjk_worker_errors_total $W2)"
check "/metrics: bytes received counted" test "$(metric xjk_worker_bytes_received_total $W1)" -gt 0
expect_eq "/metrics: state OK is 1" 1 "$(ccurl "$admin/metrics" | awk -v k="xjk_worker_state{worker=\"$W1\",lb=\"controller\",state=\"OK\"}" '$1 == k { print $2 }')"
check "/metrics: Prometheus content type" bash -c "curl_out=\$(nsenter --net=/run/netns/$(lab_ns client) curl -sS -o /dev/null -w '%{content_type}' $admin/metrics); [[ \$curl_out == 'text/plain; version=0.0.4'* ]]"

# --- xjkctl worker: stop, disable, enable ---
expect_eq "xjkctl worker $W2 stop" "worker $W2: activation STP" "$(ctl worker $W2 stop)"
expect_eq "stopped: status shows STP" "STP OK" "$(act_state $W2)"
before=$(access_count t2)
expect_eq "stopped: 20 new requests all on $W1" "node=$W1=20" "$(nodes 20)"
expect_eq "stopped: a session of $W2 goes to $W1" "node=$W1" "$(sticky $W2)"
expect_eq "stopped: nothing reached $W2" "$before" "$(access_count t2)"
ctl worker $W2 disable >/dev/null
expect_eq "xjkctl worker $W2 disable: status shows DIS" "DIS OK" "$(act_state $W2)"
expect_eq "disabled: 20 new requests all on $W1" "node=$W1=20" "$(nodes 20)"
expect_eq "disabled: a session of $W2 still goes to $W2" "node=$W2" "$(sticky $W2)"
ctl worker $W2 enable >/dev/null
expect_eq "xjkctl worker $W2 enable: status shows ACT" "ACT OK" "$(act_state $W2)"
check "enabled: requests reach both again" grep -q "node=$W2=" <<<"$(nodes 20)"

# --- lbfactor, reset ---
expect_eq "xjkctl worker $W2 lbfactor 3" "worker $W2: lbfactor 3" "$(ctl worker $W2 lbfactor 3)"
expect_eq "lbfactor shown" 3 "$(ccurl "$admin/status.json" | jq --arg w $W2 '.workers[] | select(.name == $w) | .lbfactor')"
got=$(nodes 400)
n2=$(grep -o "node=$W2=[0-9]*" <<<"$got" | cut -d= -f3)
check "lbfactor 1:3 over 400 requests within 5 % ($got)" test "${n2:-0}" -ge 285 -a "${n2:-0}" -le 315
ctl worker $W2 lbfactor 1 >/dev/null
ctl worker $W1 reset >/dev/null
expect_eq "xjkctl worker $W1 reset: requests_total 0" 0 "$(metric xjk_worker_requests_total $W1)"
check "reset leaves $W2's counter" test "$(metric xjk_worker_requests_total $W2)" -gt 0

# --- forced recovery ---
ctl worker $W1 recover >"$LAB_DIR/rec.out" 2>&1
expect_eq "recover of a healthy worker refused" "xjkctl: worker $W1 is OK, not in error" "$(cat "$LAB_DIR/rec.out")"
lab_tomcat_freeze t2
check "frozen $W2 goes to ERR (health check)" wait_for 15 bash -c "[[ \"\$(nsenter --net=/run/netns/$(lab_ns client) curl -s $admin/status.json | jq -r '.workers[] | select(.name == \"$W2\") | .state')\" == ERR ]]"
expect_eq "xjkctl worker $W2 recover: ERR -> ERR/REC" "worker $W2: ERR/REC" "$(ctl worker $W2 recover)"
lab_tomcat_thaw t2
check "thawed $W2 back to OK" wait_for 15 bash -c "[[ \"\$(nsenter --net=/run/netns/$(lab_ns client) curl -s $admin/status.json | jq -r '.workers[] | select(.name == \"$W2\") | .state')\" == OK* ]]"

# --- bad requests ---
ctl worker nosuch stop 2>/dev/null
check "unknown worker: exit 1" test $? = 1
ctl worker $W1 explode 2>/dev/null
check "unknown action: exit 1" test $? = 1
"$XJKCTL" -s "$LAB_DIR/none.sock" status 2>/dev/null
check "no xjkd at the socket: exit 1" test $? = 1

# --- the admin listener's POST actions and the token ---
expect_eq "POST without token: 403" 403 "$(post "worker=$W1&action=stop")"
expect_eq "POST with a wrong token: 403" 403 "$(post "worker=$W1&action=stop&token=nope")"
expect_eq "refused POSTs changed nothing" "ACT OK" "$(act_state $W1)"
expect_eq "POST stop with the token: 303 to /" 303 "$(post "worker=$W1&action=stop&token=$TOKEN")"
expect_eq "POST stop: status shows STP" STP "$(act_state $W1 | cut -d' ' -f1)"
expect_eq "POST stop: requests follow" "node=$W2=10" "$(nodes 10)"
expect_eq "POST enable with Authorization: Bearer" 303 "$(post "worker=$W1&action=enable" -H "Authorization: Bearer $TOKEN")"
expect_eq "POST enable: status shows ACT" ACT "$(act_state $W1 | cut -d' ' -f1)"
expect_eq "POST from another origin: 403" 403 "$(post "worker=$W1&action=stop&token=$TOKEN" -H 'Origin: http://evil.example')"
expect_eq "POST lbfactor 2" 303 "$(post "worker=$W1&action=lbfactor&value=2&token=$TOKEN")"
expect_eq "POST lbfactor: shown" 2 "$(ccurl "$admin/status.json" | jq --arg w $W1 '.workers[] | select(.name == $w) | .lbfactor')"
expect_eq "POST reset: 303" 303 "$(post "worker=$W2&action=reset&token=$TOKEN")"
expect_eq "POST reset: counter 0" 0 "$(metric xjk_worker_requests_total $W2)"
expect_eq "POST recover of a healthy worker: 400" 400 "$(post "worker=$W2&action=recover&token=$TOKEN")"
expect_eq "POST unknown worker: 404" 404 "$(post "worker=nosuch&action=stop&token=$TOKEN")"
expect_eq "GET /nope: 404" 404 "$(ccurl -o /dev/null -w '%{http_code}' "$admin/nope")"
expect_eq "PUT /: 405" 405 "$(ccurl -o /dev/null -w '%{http_code}' -X PUT "$admin/")"
check "page: self-contained HTML with the workers and a token field" bash -c \
	"page=\$(nsenter --net=/run/netns/$(lab_ns client) curl -s $admin/); grep -q 'id=\"worker-$W1\"' <<<\"\$page\" && grep -q 'id=\"token\"' <<<\"\$page\" && ! grep -qE '(src|href)=\"https?:' <<<\"\$page\""

# --- pinned BPF maps, as bpftool sees them ---
maps=$(ccurl "$admin/status.json" | jq -r '.bpf_maps[] | "\(.name) \(.max_entries)"')
echo "$maps" | sed 's/^/# map /'
check "status lists the pinned maps (splice's routes and wstate)" bash -c "grep -q '^routes ' <<<'$maps' && grep -q '^wstate ' <<<'$maps'"
mismatch=""
while read -r name max; do
	[ -n "$name" ] || continue
	want=$(bpftool -j map show pinned "$XJK_BPF_DIR/$name" 2>/dev/null | jq .max_entries)
	[ "$want" = "$max" ] || mismatch="$mismatch $name($max/$want)"
done <<<"$maps"
expect_eq "every listed map's size agrees with bpftool" "" "$mismatch"

# --- reload through the control socket ---
cp "$conf" "$conf.good"
echo "XjkNoSuchDirective 1" >>"$conf"
line=$(wc -l <"$conf")
ctl reload >"$LAB_DIR/reload.out" 2>&1
rc=$?
check "xjkctl reload of a broken configuration: exit 1" test $rc = 1
check "the rejection names file:line ($(cat "$LAB_DIR/reload.out"))" grep -q "$conf:$line: unknown directive 'XjkNoSuchDirective'" "$LAB_DIR/reload.out"
check "the running xjkd goes on" lab_alive "$XJKD_PID"
expect_eq "and serves" 200 "$(ccurl -o /dev/null -w '%{http_code}' "$url/node.txt")"
cp "$conf.good" "$conf"
expect_eq "xjkctl reload of a good configuration" "configuration valid, new process starting" "$(ctl reload)"
check "the old process exits" wait_for 40 bash -c "! kill -0 $XJKD_PID 2>/dev/null"
check "the new process answers on the control socket" wait_for 10 "$XJKCTL" -s "$sock" status
check "the new process serves the status page" wait_for 10 bash -c "nsenter --net=/run/netns/$(lab_ns client) curl -sf -o /dev/null $admin/status.json"
grep -E 'admin|control|reload' "$log" | tail -5 | sed 's/^/# /'

# --- make install honours PREFIX and DESTDIR ---
dest=$LAB_DIR/dest
make -s -C "$XJK_ROOT" B="${B:-build}" install DESTDIR="$dest" PREFIX=/opt/xjk >"$LAB_DIR/install.out" 2>&1
check "make install DESTDIR PREFIX=/opt/xjk" test $? = 0
missing=""
for f in opt/xjk/sbin/xjkd opt/xjk/sbin/xjkctl opt/xjk/share/man/man8/xjkd.8 opt/xjk/share/man/man8/xjkctl.8 \
	opt/xjk/share/man/man5/xjk.conf.5 lib/systemd/system/xjkd.service etc/xjk/xjk.conf etc/xjk/workers.properties; do
	[ -s "$dest/$f" ] || missing="$missing $f"
done
expect_eq "installed files" "" "$missing"
expect_eq "the unit starts the installed xjkd" "ExecStart=/opt/xjk/sbin/xjkd -c /etc/xjk/xjk.conf" \
	"$(grep '^ExecStart=' "$dest/lib/systemd/system/xjkd.service")"
check "the installed xjkd accepts the installed configuration" "$dest/opt/xjk/sbin/xjkd" -t -c "$dest/etc/xjk/xjk.conf"
check "the man pages format without warnings" bash -c "for m in $dest/opt/xjk/share/man/man*/*; do [ -z \"\$(MANWIDTH=80 man --warnings -l \$m 2>&1 >/dev/null)\" ] || exit 1; done"
