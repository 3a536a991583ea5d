#!/bin/bash
# bench-xdp.sh: the XDP fast path's numbers, written to the "xdp" section of
# docs/performance.md:
#  1. per-packet cost under BPF_PROG_RUN, one packet per call (repeat = 1),
#     beside the xjk_noop counting program measured the same way in the same
#     run (tests/bpf/bench_xdp_progrun.c);
#  2. new TCP connections per second through the veth lab (client -> lb ->
#     t1..t3), for xjk's XDP L4 path (L2 DSR), nftables DNAT with numgen, and
#     HAProxy mode tcp, interleaved in rounds.
# Settings: XJK_BENCH_ROUNDS (3), XJK_BENCH_DURATION seconds per run (8),
# XJK_BENCH_CONC connections in flight (64), XJK_BENCH_CALLS (400000).
set -u
. "$(dirname "$0")/lib.sh"
BIN=$XJK_ROOT/${B:-build}/tests/bpf
XJKCTL=$XJK_ROOT/${B:-build}/xjkctl
ROUNDS=${XJK_BENCH_ROUNDS:-3}
DUR=${XJK_BENCH_DURATION:-8}
CONC=${XJK_BENCH_CONC:-64}
CALLS=${XJK_BENCH_CALLS:-400000}
PORT=8080
# the l4 agent and xjkctl pin in a directory of this run's own (agent/bpffs.h)
export XJK_BPF_DIR=/sys/fs/bpf/xjk-bench-$$

cleanup() {
	[ -n "${LAB_ID:-}" ] && lab_exec lb "$XJKCTL" detach eth0 >/dev/null 2>&1
	lab_down
	rm -rf "$XJK_BPF_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 1. BPF_PROG_RUN ----
progrun=$(mktemp)
"$BIN/bench_xdp_progrun" "$CALLS" >"$progrun" || {
	echo "bench-xdp: bench_xdp_progrun failed" >&2
	exit 1
}
mean() { awk -v n="$1" '$1 == n { print $2 }' "$progrun"; }
median() { awk -v n="$1" '$1 == n { print $3 }' "$progrun"; }
above() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }

# ---- 2. connections per second ----
lab_up 3 || exit 1
VIP=10.77.$LAB_ID.100
for i in 1 2 3; do
	lab_exec "t$i" "$XJK_ROOT/tools/xjk-dsr-backend.sh" add "$VIP"
	lab_bg "t$i" "$LAB_DIR/t$i.log" "$BIN/run_tcp" serve "t$i" "$PORT"
	lab_wait_port "t$i" "$PORT" 10 || exit 1
done
lab_exec client ip route add "$VIP/32" via "$(lab_ip lb)"
ip -n "$(lab_ns hub)" link set dev lb xdp obj "$XJK_ROOT/${B:-build}/bpf/xjk_noop.bpf.o" sec xdp
lab_exec lb sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
	net.ipv4.conf.eth0.send_redirects=0
T1=$(lab_ip t1) T2=$(lab_ip t2) T3=$(lab_ip t3)
echo "XjkL4Vip $VIP:$PORT tcp eth0 $T1 $T2 $T3" >"$LAB_DIR/xdp.conf"
cat >"$LAB_DIR/haproxy.cfg" <<EOF
global
	maxconn 8000
	nbthread 2
defaults
	mode tcp
	timeout connect 2s
	timeout client 10s
	timeout server 10s
frontend vip
	bind $(lab_ip lb):$PORT
	default_backend t
backend t
	balance roundrobin
	server t1 $T1:$PORT
	server t2 $T2:$PORT
	server t3 $T3:$PORT
EOF

start_xdp() {
	lab_bg lb "$LAB_DIR/agent.log" "$BIN/run_l4_agent" "$LAB_DIR/xdp.conf"
	sleep 1
	# the agent's stdin is /dev/null: it programs the maps and exits, the
	# pinned program keeps forwarding
	lab_exec lb "$XJKCTL" maps | grep -q "index 0 ring" && TARGET=$VIP
}
stop_xdp() {
	lab_exec lb "$XJKCTL" detach eth0 >/dev/null
}
start_nft() {
	lab_exec lb nft -f - <<EOF
table ip xjkbench {
	chain pre {
		type nat hook prerouting priority dstnat;
		ip daddr $VIP tcp dport $PORT dnat to numgen inc mod 3 map { 0 : $T1, 1 : $T2, 2 : $T3 }
	}
	chain post {
		type nat hook postrouting priority srcnat;
		ip daddr { $T1, $T2, $T3 } tcp dport $PORT masquerade
	}
}
EOF
	TARGET=$VIP
}
stop_nft() {
	lab_exec lb nft delete table ip xjkbench
}
start_haproxy() {
	lab_bg lb "$LAB_DIR/haproxy.log" haproxy -db -f "$LAB_DIR/haproxy.cfg"
	lab_wait_port lb "$PORT" 10 && TARGET=$(lab_ip lb)
}
stop_haproxy() {
	bench_fe_stop
}

results=$LAB_DIR/rate.txt
: >"$results"
PEERS="xdp nft haproxy"
for r in $(seq "$ROUNDS"); do
	for p in $PEERS; do
		TARGET=""
		"start_$p"
		if [ -z "$TARGET" ]; then
			echo "bench-xdp: $p did not start" >&2
			exit 1
		fi
		out=$(lab_exec client "$BIN/run_tcp" rate "$TARGET" "$PORT" "$DUR" "$CONC")
		echo "$p $r $out" | tee -a "$results"
		"stop_$p"
	done
done

# ---- the section ----
section=$LAB_DIR/section.md
{
	echo "### XDP L4 fast path"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'). Written by tools/bench/bench-xdp.sh."
	echo
	echo "**Per-packet cost under BPF_PROG_RUN**, one packet per call (repeat = 1, so a frame"
	echo "rewritten by one run never feeds the next), kernel-reported time per call, $(awk '$1 == "noop" { print $4 }' "$progrun") calls per"
	echo "path in 20 interleaved rounds. *syn*: a new 5-tuple every call (VIP lookup, Maglev ring,"
	echo "insert into the 1M-entry connection table: cold memory every time); *syn_same*: one SYN"
	echo "again and again, as fixture-based benchmarks (Katran's) run it: the same work on warm"
	echo "memory; *established*: one flow, flow-cache hit; *established_10k*: segments of 10,000"
	echo "open flows in turn (flow cache and table read from cold memory, as with real traffic);"
	echo "*noop*: bpf/xjk_noop.bpf.c, a per-CPU counter and XDP_PASS."
	echo
	echo "| path | mean ns | median ns | mean above no-op | target above no-op |"
	echo "|---|---:|---:|---:|---:|"
	echo "| noop | $(mean noop) | $(median noop) | - | - |"
	echo "| established | $(mean established) | $(median established) | $(above "$(mean established)" "$(mean noop)") | 60 |"
	echo "| established_10k | $(mean established_10k) | $(median established_10k) | $(above "$(mean established_10k)" "$(mean noop)") | - |"
	echo "| syn_same | $(mean syn_same) | $(median syn_same) | $(above "$(mean syn_same)" "$(mean noop)") | 120 |"
	echo "| syn | $(mean syn) | $(median syn) | $(above "$(mean syn)" "$(mean noop)") | 120 |"
	echo
	echo "**New TCP connections per second** through the veth lab: client -> lb -> t1, t2, t3"
	echo "(tests/bpf/run_tcp.c: $CONC connections in flight, each connects, reads the backend's"
	echo "name and closes with RST), ${DUR}s per run, $ROUNDS interleaved rounds, medians."
	echo "xdp: xjk_xdp_lb native on lb's veth, L2 DSR (VIP on the backends' lo). nft: DNAT"
	echo "\`numgen inc mod 3\` plus masquerade (replies return through lb). haproxy: \`mode tcp\`,"
	echo "roundrobin, nbthread 2. Client, lb and backends share the machine's 2 cores"
	echo "(load average before the run: $LOAD)."
	echo
	echo "| balancer | conn/s (median) | vs nft | vs haproxy | per round |"
	echo "|---|---:|---:|---:|---|"
	for p in $PEERS; do
		awk -v p="$p" '$1 == p { print $4 }' "$results" | bench_median >"$LAB_DIR/$p.med"
	done
	for p in $PEERS; do
		m=$(cat "$LAB_DIR/$p.med")
		printf '| %s | %s | %s | %s | %s |\n' "$p" "$m" \
			"$(awk -v a="$m" -v b="$(cat "$LAB_DIR/nft.med")" 'BEGIN { printf "%.2fx", a / b }')" \
			"$(awk -v a="$m" -v b="$(cat "$LAB_DIR/haproxy.med")" 'BEGIN { printf "%.2fx", a / b }')" \
			"$(awk -v p="$p" '$1 == p { printf "%s%s", s, $4; s = ", " }' "$results")"
	done
	echo
	echo "- machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), Linux $(uname -r)"
	echo "- $(haproxy -v | head -1 | cut -d' ' -f1-3), $(nft --version)"
	echo "- xjk at commit $(git -C "$XJK_ROOT" rev-parse --short HEAD)"
} >"$section"
bench_write_section xdp "$section"
cat "$section"
rm -f "$progrun"
