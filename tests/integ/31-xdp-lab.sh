#!/bin/bash
# 31-xdp-lab.sh: the XDP fast path with real TCP in a netns lab: client ->
# lb (xjk_xdp_lb on its veth, native mode, L2 DSR) -> backends t1..t4 (VIP on
# lo, tools/xjk-dsr-backend.sh). Checks the weighted split, that held
# connections survive adding a backend together with an agent restart, and
# that taking a backend down moves only the connections it had.
. "$(dirname "$0")/lib.sh"

BIN=$XJK_ROOT/${B:-build}/tests/bpf
XJKCTL=$XJK_ROOT/${B:-build}/xjkctl
PORT=8080
N_SPREAD=3000
N_HOLD=300

l4_cleanup() {
	[ -n "${LAB_ID:-}" ] && lab_exec lb "$XJKCTL" detach eth0 >/dev/null 2>&1
	lab_down
}
trap l4_cleanup EXIT

# agent_start CONF: the l4 agent in lb, commands on fd 7, output in agent.log.
agent_start() {
	rm -f "$LAB_DIR/agent.in"
	mkfifo "$LAB_DIR/agent.in"
	nsenter --net="/run/netns/$(lab_ns lb)" -- "$BIN/run_l4_agent" "$1" \
		<"$LAB_DIR/agent.in" >>"$LAB_DIR/agent.log" 2>&1 8>&- &
	AGENT_PID=$!
	exec 7>"$LAB_DIR/agent.in"
	wait_for 10 grep -q '^ready' "$LAB_DIR/agent.log"
}

agent_stop() {
	exec 7>&-
	wait "$AGENT_PID"
	: >"$LAB_DIR/agent.log"
}

# share_ok NAME COUNT TOTAL WANT_PERCENT: within 5 points of the wanted share.
share_ok() {
	awk -v c="$2" -v t="$3" -v w="$4" 'BEGIN { s = 100 * c / t; exit !(s >= w - 5 && s <= w + 5) }'
}

count_of() {
	awk -v n="$1" '$1 == n { print $2 }' "$2" | tail -1
}

lab_up 4 || { not_ok "lab up"; exit 1; }
VIP=10.77.$LAB_ID.100
for i in 1 2 3 4; do
	lab_exec "t$i" "$XJK_ROOT/tools/xjk-dsr-backend.sh" add "$VIP"
	lab_bg "t$i" "$LAB_DIR/t$i.log" "$BIN/run_tcp" serve "t$i" "$PORT"
	lab_wait_port "t$i" "$PORT" 10
done
lab_exec client ip route add "$VIP/32" via "$(lab_ip lb)"
# frames that XDP_TX sends out of lb's eth0 land on its peer, which needs an
# XDP program to receive them in native mode
ip -n "$(lab_ns hub)" link set dev lb xdp obj "$XJK_ROOT/${B:-build}/bpf/xjk_noop.bpf.o" sec xdp

T=(x "$(lab_ip t1)" "$(lab_ip t2)" "$(lab_ip t3)" "$(lab_ip t4)")
echo "XjkL4Vip $VIP:$PORT tcp eth0 ${T[1]} ${T[2]} ${T[3]}=2" >"$LAB_DIR/three.conf"
echo "XjkL4Vip $VIP:$PORT tcp eth0 ${T[1]} ${T[2]} ${T[3]}=2 ${T[4]}" >"$LAB_DIR/four.conf"

# a connection table pinned by an earlier version, which the load removes
mkdir -p "$XJK_BPF_DIR"
bpftool map create "$XJK_BPF_DIR/xjk_flows" type hash key 40 value 16 entries 16 name xjk_flows
if ! agent_start "$LAB_DIR/three.conf"; then
	not_ok "agent programs VIP $VIP:$PORT over t1 t2 t3=2" "$(cat "$LAB_DIR/agent.log")"
	exit 1
fi
ok "agent programs VIP $VIP:$PORT over t1 t2 t3=2"
check "the retired xjk_flows pin is gone" test ! -e "$XJK_BPF_DIR/xjk_flows"
lab_exec lb ip -d link show eth0 | grep -q 'xdp ' && ok "XDP in native mode on lb eth0" ||
	not_ok "XDP in native mode on lb eth0" "$(lab_exec lb ip -d link show eth0)"

lab_exec client "$BIN/run_tcp" spread "$VIP" "$PORT" "$N_SPREAD" >"$LAB_DIR/spread.txt"
cat "$LAB_DIR/spread.txt"
expect_eq "$N_SPREAD connections through the VIP, none failed" 0 "$(count_of failed "$LAB_DIR/spread.txt")"
for w in "t1 25" "t2 25" "t3 50"; do
	set -- $w
	c=$(count_of "$1" "$LAB_DIR/spread.txt")
	if share_ok "$1" "${c:-0}" "$N_SPREAD" "$2"; then
		ok "$1 got ${c:-0} of $N_SPREAD, $2% +-5 wanted"
	else
		not_ok "$1 got ${c:-0} of $N_SPREAD, $2% +-5 wanted"
	fi
done

# long-lived connections, then a fourth backend joins while the agent restarts
rm -f "$LAB_DIR/hold.in"
mkfifo "$LAB_DIR/hold.in"
nsenter --net="/run/netns/$(lab_ns client)" -- "$BIN/run_tcp" hold "$VIP" "$PORT" "$N_HOLD" \
	<"$LAB_DIR/hold.in" >"$LAB_DIR/hold.txt" 2>&1 7>&- &
exec 8>"$LAB_DIR/hold.in"
wait_for 20 grep -q '^failed' "$LAB_DIR/hold.txt"
expect_eq "$N_HOLD long-lived connections open" 0 "$(count_of failed "$LAB_DIR/hold.txt")"

agent_stop
if ! agent_start "$LAB_DIR/four.conf"; then
	not_ok "agent restarts with t4 added" "$(cat "$LAB_DIR/agent.log")"
	exit 1
fi
ok "agent restarts with t4 added"
grep -q "ring slots written" "$LAB_DIR/agent.log" && ok "restart rewrote only changed slots: $(grep 'ring slots' "$LAB_DIR/agent.log")" ||
	not_ok "restart logged its ring writes"
echo check >&8
wait_for 20 grep -q '^kept' "$LAB_DIR/hold.txt"
expect_eq "held connections survive the restart and the new backend" \
	"kept $N_HOLD moved 0 dead 0" "$(grep '^kept' "$LAB_DIR/hold.txt" | tail -1)"
lab_exec client "$BIN/run_tcp" spread "$VIP" "$PORT" 400 >"$LAB_DIR/spread4.txt"
c=$(count_of t4 "$LAB_DIR/spread4.txt")
[ "${c:-0}" -gt 0 ] && ok "new connections reach t4 ($c of 400)" || not_ok "new connections reach t4"

# Taking t2 down: the same client ports before and after. SYNs always ask the
# ring, so this measures the ring, not the connection table.
lab_exec client "$BIN/run_tcp" spread "$VIP" "$PORT" 1000 41000 | grep '^conn' >"$LAB_DIR/before.txt"
echo "down ${T[2]}" >&7
wait_for 10 grep -q '^done' "$LAB_DIR/agent.log"
lab_exec client "$BIN/run_tcp" spread "$VIP" "$PORT" 1000 41000 | grep '^conn' >"$LAB_DIR/after.txt"
read -r others moved gone <<<"$(join -j 2 -o 1.3,2.3 <(sort -k2 "$LAB_DIR/before.txt") <(sort -k2 "$LAB_DIR/after.txt") |
	awk '$1 != "t2" { o++; if ($1 != $2) m++ } $2 == "t2" { g++ } END { print o + 0, m + 0, g + 0 }')"
expect_eq "no new connection goes to t2 once it is down" 0 "$gone"
if [ "$others" -gt 500 ] && [ $((moved * 100)) -lt "$others" ]; then
	ok "taking t2 down moved $moved of $others connections of the other backends (< 1%)"
else
	not_ok "taking t2 down moved $moved of $others connections of the other backends"
fi
echo check >&8
wait_for 20 test "$(grep -c '^kept' "$LAB_DIR/hold.txt")" -ge 2
expect_eq "held connections, t2's included, keep their backend" \
	"kept $N_HOLD moved 0 dead 0" "$(grep '^kept' "$LAB_DIR/hold.txt" | tail -1)"
exec 8>&-

out=$(lab_exec lb "$XJKCTL" maps)
echo "$out"
echo "$out" | grep -q "drop_unresolved  0" && ok "every backend's MAC was resolved through netlink" ||
	not_ok "backends resolved" "$(echo "$out" | grep drop_unresolved)"
# the agent and xjkctl pinned in this script's directory (lib.sh), which
# xjkctl also reaches by --pin-dir without the environment
check "maps and the link are pinned in $XJK_BPF_DIR" \
	test -e "$XJK_BPF_DIR/xjk_flows4" -a -e "$XJK_BPF_DIR/xdp_link_eth0"
check "xjkctl --pin-dir $XJK_BPF_DIR maps reads them" bash -c \
	"env -u XJK_BPF_DIR '$XJKCTL' --pin-dir '$XJK_BPF_DIR' maps | grep -q '^  tx  *[1-9]'"
bad=$("$XJKCTL" --pin-dir /tmp/xjk maps 2>&1)
rc=$?
expect_eq "xjkctl rejects a pin directory outside /sys/fs/bpf" "2 yes" \
	"$rc $(grep -q 'directly in /sys/fs/bpf' <<<"$bad" && echo yes)"
agent_stop
check "xjkctl detach eth0 unpins everything" lab_exec lb "$XJKCTL" detach eth0
left=$(ls "$XJK_BPF_DIR" 2>/dev/null)
expect_eq "none of xjk_xdp's pins is left, nor the directory" "" "$left$(ls -d "$XJK_BPF_DIR" 2>/dev/null)"
