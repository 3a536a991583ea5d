#!/bin/bash
# 95-demo.sh: the seed's scenario end to end (issue 7), by running tools/demo.sh
# (what `sudo make demo` runs) and checking the raw output it keeps: requests
# spread 1:1, a sticky session, wrk running through kill -9 of the session's
# Tomcat with no failed request while a client with a cookie jar keeps
# clicking, the counter continuous, the cookie's route rewritten, both route
# tables (xjkd's status endpoint, the kernel map via bpftool) moved, the L4 VIP
# following worker health. A run interrupted like Ctrl-C leaves nothing
# behind, and the demo runs twice in a row.
. "$(dirname "$0")/lib.sh"

DEMO=$XJK_ROOT/tools/demo.sh
OUT=$(mktemp -d /tmp/xjk-95-demo.XXXXXX)
R1=${LAB_SEED_ROUTES[0]}
R2=${LAB_SEED_ROUTES[1]}

# The lab id the demo printed for its balancer ("lb  10.77.ID.2").
demo_lab_id() {
	sed -n 's/.*| lb *10\.77\.\([0-9]*\)\.2 .*/\1/p' "$1" | head -1
}

# left_behind ID: what of lab ID still exists (namespaces, claim, work dir).
left_behind() {
	ip netns list | awk '{ print $1 }' | grep "^xjk$1-"
	ls -d "/run/xjk-lab/$1" "/tmp/xjk-lab$1" 2>/dev/null
}

# route_of FILE: the route (jvmRoute) after the dot of the session id in FILE.
route_of() {
	sed 's/^[^.]*\.//' "$1"
}

other_route() {
	[ "$1" = "$R1" ] && echo "$R2" || echo "$R1"
}

# --- Ctrl-C in the middle: everything goes away ---
out=$OUT/interrupted.out
set -m
XJK_DEMO_LOGS=$OUT/interrupted bash "$DEMO" >"$out" 2>&1 &
demo=$!
set +m
wait_for 150 grep -q '^4\. ' "$out"
kill -INT -- "-$demo"
wait "$demo"
rc=$?
id=$(demo_lab_id "$out")
expect_eq "Ctrl-C after xjkd started: the demo exits with 130" 130 "$rc"
check "Ctrl-C: the demo says it cleans up" grep -q "Interrupted; cleaning up" "$out"
check "Ctrl-C: lab $id left nothing behind" test -n "$id" -a -z "$(left_behind "$id")"

# check_run N: one full run of the demo and its raw results.
check_run() {
	local n=$1 logs=$OUT/run$1 out=$OUT/run$1.out t0 rc id victim survivor first last k tv ts
	t0=$SECONDS
	XJK_DEMO_LOGS=$logs bash "$DEMO" >"$out" 2>&1
	rc=$?
	echo "# run $n: $((SECONDS - t0)) s"
	if [ "$rc" != 0 ]; then
		not_ok "run $n: the demo ends with status 0" "status $rc: $(tail -3 "$out" | tr '\n' ' ')"
		return
	fi
	ok "run $n: the demo ends with status 0"
	check "run $n: it took under 2 minutes ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 120

	expect_eq "run $n: 6 requests without a session spread 3:3" "3 node=$R1 3 node=$R2 " \
		"$(sort "$logs/spread.txt" | uniq -c | tr -s ' \n' '  ' | sed 's/^ //')"

	victim=$(route_of "$logs/cookie-before.txt")
	survivor=$(other_route "$victim")
	expect_eq "run $n: the session sticks, its counter 1 2 3" \
		"node=$victim count=1 node=$victim count=2 node=$victim count=3 " \
		"$(head -3 "$logs/session.txt" | cut -d' ' -f1-2 | tr '\n' ' ')"

	# wrk: ran through the kill, and nothing failed.
	check "run $n: wrk served requests ($(grep -o '[0-9]* requests in' "$logs/wrk.txt"))" \
		awk '/requests in/ { exit !($1 > 1000) }' "$logs/wrk.txt"
	expect_eq "run $n: wrk saw no socket error and no non-2xx answer" "" \
		"$(grep -E 'Socket errors|Non-2xx' "$logs/wrk.txt")"
	tv=t1 ts=t2
	[ "$victim" = "$R1" ] || { tv=t2 ts=t1; }
	check "run $n: wrk's requests reached the killed Tomcat before the kill" \
		test "$(grep -c ' /node.txt ' "$logs/tomcat-$tv-access.log")" -gt 10

	# The clicks: every one answered, the counter continuous across the kill.
	first=$(($(tail -1 "$logs/session.txt" | sed 's/.* count=\([0-9]*\) .*/\1/') + 1))
	last=$((first + $(wc -l <"$logs/clicks.txt") - 1))
	expect_eq "run $n: every click answered 200 by a node" "" \
		"$(grep -v '^node=[^ ]* count=[0-9]* session=[^ ]* http=200$' "$logs/clicks.txt")"
	expect_eq "run $n: the counter goes on $first..$last without a gap" "$(seq "$first" "$last" | tr '\n' ' ')" \
		"$(sed 's/.* count=\([0-9]*\) .*/\1/' "$logs/clicks.txt" | tr '\n' ' ')"
	k=$(cat "$logs/kill-at.txt")
	expect_eq "run $n: clicks before the kill went to $victim" "node=$victim" \
		"$(head -"$k" "$logs/clicks.txt" | cut -d' ' -f1 | sort -u)"
	expect_eq "run $n: the last click went to $survivor" "node=$survivor" \
		"$(tail -1 "$logs/clicks.txt" | cut -d' ' -f1)"

	expect_eq "run $n: the cookie's route is rewritten to $survivor, same id" \
		"$(sed "s/\.$victim\$/.$survivor/" "$logs/cookie-before.txt")" "$(cat "$logs/cookie-after.txt")"

	expect_eq "run $n: xjkd's route table before: each route to its own worker" "$R1=$R1 $R2=$R2 " \
		"$(jq -r '.lbs[0].members[] | "\(.worker)=\(.routed_to)"' "$logs/status-before.json" | tr '\n' ' ')"
	expect_eq "run $n: xjkd's route table after: $victim to $survivor" "$victim=$survivor $survivor=$survivor " \
		"$(jq -r '.lbs[0].members[] | "\(.worker)=\(.routed_to)"' "$logs/status-after.json" | sort | tr '\n' ' ')"
	expect_eq "run $n: bpftool route map before" "$R1=$R1 $R2=$R2 " \
		"$(jq -r '.[] | .formatted.value | "\(.route)=\(.worker_name)"' "$logs/routes-before.json" | sort | tr '\n' ' ')"
	expect_eq "run $n: bpftool route map after: $victim to $survivor" "$victim=$survivor $survivor=$survivor " \
		"$(jq -r '.[] | .formatted.value | "\(.route)=\(.worker_name)"' "$logs/routes-after.json" | sort | tr '\n' ' ')"

	expect_eq "run $n: L4 VIP with $victim's Tomcat dead: 20 connections to $ts" "$ts 20 failed 0 " \
		"$(tr '\n' ' ' <"$logs/l4-after-kill.txt")"
	check "run $n: L4 VIP after the restart: both nodes, none failed ($(tr '\n' ' ' <"$logs/l4-after-restart.txt"))" \
		awk -v a="$tv" -v b="$ts" '$1 == a && $2 > 0 { x = 1 } $1 == b && $2 > 0 { y = 1 } $1 == "failed" && $2 == 0 { z = 1 }
			END { exit !(x && y && z) }' "$logs/l4-after-restart.txt"
	check "run $n: HTTP traffic passed the XDP program" \
		awk '$1 == "pass_not_vip" { exit !($2 > 1000) }' "$logs/xjkctl-maps.txt"

	id=$(demo_lab_id "$out")
	check "run $n: lab $id left nothing behind" test -n "$id" -a -z "$(left_behind "$id")"
}

check_run 1
check_run 2
[ "${XJK_LAB_KEEP:-0}" = 1 ] || rm -rf "$OUT"
