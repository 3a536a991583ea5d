#!/bin/bash
# 10-lab.sh: the lab itself: namespaces and addresses, two real Tomcats that
# answer on HTTP and AJP, form a Tribes cluster and replicate sessions, the
# failure knobs (freeze, blackhole, kill), parallel labs, and lab_down.
. "$(dirname "$0")/lib.sh"

lab_up 2 || { not_ok "lab_up"; exit 1; }
ok "lab_up (id $LAB_ID)"

for node in client lb t1 t2; do
	check "namespace $(lab_ns "$node") has $(lab_ip "$node") on eth0" \
		lab_exec "$node" bash -c "ip -4 -o addr show dev eth0 to $(lab_ip "$node")/32 | grep -q ."
done
# refused FROM TO PORT: TO's kernel answered a connect with RST.
refused() {
	lab_exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$(lab_ip "$2")/$3" 2>&1 | grep -q refused
}
# Nothing listens yet, so a refusal proves the path across the bridge.
check "client reaches t2 across the bridge" refused client t2 1
check "lb reaches t1 across the bridge" refused lb t1 1

if ! lab_seed_tomcats; then
	not_ok "seed Tomcats start"
	exit 1
fi
ok "seed Tomcats start"
echo "# start ms: t1 $(lab_tomcat_start_ms t1), t2 $(lab_tomcat_start_ms t2)"

t1=$(lab_ip t1)
t2=$(lab_ip t2)
expect_eq "t1 HTTP 8080 /node.txt" "node=tomcat-6.0.26-1" "$(ccurl "http://$t1:8080/node.txt")"
expect_eq "t2 HTTP 9080 /node.txt" "node=tomcat-6.0.26-2" "$(ccurl "http://$t2:9080/node.txt")"
expect_eq "/1k.html is 1024 bytes" 1024 "$(ccurl -o /dev/null -w '%{size_download}' "http://$t1:8080/1k.html")"

cpong=$(printf '\x12\x34\x00\x01\x0a' >"$LAB_DIR/cping" && ajp_send "$t1" 8009 "$LAB_DIR/cping" | od -An -tx1 | tr -d ' \n')
expect_eq "t1 AJP 8009 CPONG" 4142000109 "$cpong"
out=$(ajp_get "$t2" 9009 /node.txt | tr -d '\0')
case $out in
"status=200"*node=tomcat-6.0.26-2*) ok "t2 AJP 9009 GET /node.txt" ;;
*) not_ok "t2 AJP 9009 GET /node.txt" "$(head -c 200 <<<"$out" | tr -c '[:print:]' .)" ;;
esac

# Tribes logs "Replication member added:[...tcp://{10, 77, id, 12}:4000..." .
member_seen() {
	grep -q "member added.*{${2//./, }}:4000" "$(lab_tomcat_log "$1")"
}
check "t1 sees t2 as a cluster member" wait_for 10 member_seen t1 "$t2"
check "t2 sees t1 as a cluster member" wait_for 10 member_seen t2 "$t1"

# A session made on t1 is read on t2: same id, count goes on, route changes
# (JvmRouteBinderValve rewrites the suffix).
first=$(ccurl "http://$t1:8080/counter.do")
sid=${first##*session=}
sid=${sid%%.*}
expect_eq "session created on t1" "node=tomcat-6.0.26-1 count=1 session=$sid.tomcat-6.0.26-1" "$first"
# Replication is asynchronous (channelSendOptions=8). Until it arrives t2
# answers with a new session of its own, so retry until t2 knows the id.
known_on_t2() {
	second=$(ccurl -H "Cookie: JSESSIONID=$sid.tomcat-6.0.26-1" "http://$t2:9080/counter.do")
	[[ $second == *"session=$sid."* ]]
}
wait_for 5 known_on_t2
expect_eq "session replicated t1 -> t2 (count goes on, route rewritten)" \
	"node=tomcat-6.0.26-2 count=2 session=$sid.tomcat-6.0.26-2" "$second"
grep -q "counter.do" "$(lab_tomcat_access_log t2)"
check "access log records requests" test $? = 0

lab_tomcat_freeze t2
if lab_exec client curl -s --max-time 1 -o /dev/null "http://$t2:9080/node.txt"; then
	not_ok "frozen t2 does not answer"
else
	ok "frozen t2 does not answer"
fi
lab_tomcat_thaw t2
expect_eq "thawed t2 answers" "node=tomcat-6.0.26-2" "$(ccurl "http://$t2:9080/node.txt")"

lab_blackhole t2
code=$(lab_exec client curl -s --max-time 1 -o /dev/null -w '%{http_code}' "http://$t2:9080/node.txt")
expect_eq "blackholed t2 times out" 000 "$code"
lab_unblackhole t2
expect_eq "unblackholed t2 answers" "node=tomcat-6.0.26-2" "$(ccurl --retry 3 --retry-connrefused "http://$t2:9080/node.txt")"
check "unblackhole restores the multicast route" lab_exec t2 ip route get 228.0.0.4 >/dev/null

check "graceful stop of t1" lab_tomcat_stop t1
member_gone() {
	grep -q "member disappeared.*{${t1//./, }}:4000" "$(lab_tomcat_log t2)"
}
check "t2 logs t1 leaving the cluster" wait_for 10 member_gone
lab_tomcat_kill t2
check "kill -9 t2 closes its ports" wait_for 5 refused client t2 9080

# A second lab beside this one: its own names, bridge and addresses.
other=$( (
	XJK_LAB=""
	lab_up 1 >/dev/null 2>&1 || exit 1
	echo "$LAB_ID $(ip netns list | grep -c "^xjk$LAB_ID-")"
	lab_down
))
read -r other_id other_ns <<<"$other"
check "second lab runs beside the first (id ${other_id:-none}, ${other_ns:-0} namespaces)" \
	test "${other_id:-$LAB_ID}" != "$LAB_ID" -a "${other_ns:-0}" = 4
check "second lab removed" test "$(ip netns list | grep -c "^xjk${other_id:-x}-")" = 0

# A lab whose shell dies by SIGKILL (no trap runs) is still taken down.
bash -c '. "$1/tools/lab/lab.sh"; XJK_LAB=""; lab_up 1 && echo "$LAB_ID" && exec sleep 60' _ "$XJK_ROOT" \
	>"$LAB_DIR/killed-lab" 2>&1 &
victim=$!
disown $victim
wait_for 10 grep -q '^[0-9]' "$LAB_DIR/killed-lab"
victim_id=$(grep '^[0-9]' "$LAB_DIR/killed-lab")
kill -9 $victim
gone() {
	[ "$(ip netns list | grep -c "^xjk$victim_id-")" = 0 ] && [ ! -e "/tmp/xjk-lab$victim_id" ]
}
if [ -n "$victim_id" ]; then
	check "a lab whose shell was SIGKILLed is taken down within 10 s (id $victim_id)" wait_for 10 gone
else
	not_ok "a lab whose shell was SIGKILLed is taken down" "it did not come up: $(head -c 200 "$LAB_DIR/killed-lab")"
fi

id=$LAB_ID
dir=$LAB_DIR
lab_down
check "lab_down removes namespaces" test "$(ip netns list | grep -c "^xjk$id-")" = 0
check "lab_down removes the work dir" test ! -e "$dir"
check "lab_down twice is harmless" lab_down
