#!/bin/bash
# bench-splice.sh: http workers (worker.X.type=http, issue 5) side by side,
# written to the "splice" section of docs/performance.md. Front ends in the
# lab's lb namespace, in front of the two Tomcats' HTTP connectors:
#   splice   xjkd, the pair spliced in the kernel (bpf/xjk_splice.bpf.c)
#   copy     the same xjkd copying the bytes itself (XJK_SPLICE=copy)
#   haproxy  HAProxy mode http, one thread (tools/bench/peers/haproxy.cfg)
#   direct   the client straight to t1's HTTP connector
# Two loads per front end and round: small keep-alive requests (wrk on
# XJK_BENCH_URL, req/s) and one 100 MB response (curl of /big.do, MB/s);
# xjkd's own CPU time (utime + stime from /proc/PID/stat) during each.
# Settings: XJK_BENCH_ROUNDS (3), XJK_BENCH_DURATION (10s), XJK_BENCH_WARMUP
# (2s), XJK_BENCH_CONNS (32), XJK_BENCH_URL (/1k.html).
set -u
. "$(dirname "$0")/lib.sh"
ROUNDS=${XJK_BENCH_ROUNDS:-3}
DURATION=${XJK_BENCH_DURATION:-10s}
WARMUP=${XJK_BENCH_WARMUP:-2s}
URL_PATH=${XJK_BENCH_URL:-/1k.html}
BIG=$((100 << 20))
FES="splice copy haproxy direct"
HZ=$(getconf CLK_TCK)
OUT=$XJK_ROOT/tests/out/bench-splice
BENCH_XJKD_PID=""

if [ ! -x "$XJKD" ]; then
	echo "bench-splice: $XJKD is not built" >&2
	exit 1
fi

# An lb of two http workers named after the Tomcats' jvmRoutes.
splice_conf() {
	local dir=$LAB_DIR/xjkd-http r1=${LAB_SEED_ROUTES[0]} r2=${LAB_SEED_ROUTES[1]}
	mkdir -p "$dir"
	cat >"$dir/xjk.conf" <<-CONF
		ServerRoot $dir
		Listen $(lab_ip lb):80
		JkWorkersFile $dir/workers.properties
		JkMount /* controller
		JkLogLevel info
	CONF
	cat >"$dir/workers.properties" <<-PROPS
		worker.list=controller
		worker.$r1.type=http
		worker.$r1.host=$(lab_ip t1)
		worker.$r1.port=${LAB_SEED_HTTP[0]}
		worker.$r2.type=http
		worker.$r2.host=$(lab_ip t2)
		worker.$r2.port=${LAB_SEED_HTTP[1]}
		worker.controller.type=lb
		worker.controller.balance_workers=$r1,$r2
	PROPS
}

fe_splice_start() {
	mkdir -p "$LAB_DIR/splice"
	bench_fe_run splice "$XJKD" -c "$LAB_DIR/xjkd-http/xjk.conf" || return 1
	BENCH_XJKD_PID=$LAB_PID
	# Without the BPF side xjkd would copy: that is not this front end.
	grep -q "kernel splice ready" "$LAB_DIR/splice/stdout.log"
}

fe_copy_start() {
	mkdir -p "$LAB_DIR/copy"
	bench_fe_run copy env XJK_SPLICE=copy "$XJKD" -c "$LAB_DIR/xjkd-http/xjk.conf" || return 1
	BENCH_XJKD_PID=$LAB_PID
}

# CPU ticks xjkd used so far (0 for front ends that are not xjkd).
xjkd_ticks() {
	if [ -n "$BENCH_XJKD_PID" ]; then
		# Fields after the command name, which ends with ") ".
		sed 's/.*) //' "/proc/$BENCH_XJKD_PID/stat" | awk '{ print $12 + $13 }'
	else
		echo 0
	fi
}

now_s() {
	date +%s.%N
}

# One 100 MB response from FE's URL; prints "MB/s" (2^20 bytes), 0 when the
# transfer failed or came short.
big_mbps() {
	lab_exec client curl -sS --max-time 120 -o /dev/null -w '%{size_download} %{speed_download}\n' \
		"$1/big.do?bytes=$BIG" | awk -v n="$BIG" '{ printf "%.1f\n", ($1 == n ? $2 / 1048576 : 0) }'
}

# percent CPU_TICKS SECONDS: share of one core.
percent() {
	awk -v t="$1" -v s="$2" -v hz="$HZ" 'BEGIN { printf "%.1f", (s > 0 ? 100 * t / hz / s : 0) }'
}

# ratio A B
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else printf "n/a" }'
}

# median FE FIELD: the median of column FIELD of FE's result lines.
median() {
	awk -v fe="$1" -v f="$2" '$1 == fe { print $f }' "$OUT/results" | bench_median
}

per_round() {
	awk -v fe="$1" -v f="$2" '$1 == fe { printf "%s%s", sep, $f; sep = ", " }' "$OUT/results"
}

mkdir -p "$OUT"
: >"$OUT/results"
: >"$OUT/notes"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
lab_up 2 || exit 1
trap lab_down EXIT
lab_seed_tomcats accesslog=false heap=256m || exit 1
splice_conf
# The JIT warms both Tomcats' request paths before anything is compared.
for t in 1 2; do
	url=http://$(lab_ip "t$t"):${LAB_SEED_HTTP[$((t - 1))]}
	bench_wrk "$url$URL_PATH" 5s "$OUT/warmup-t$t.txt" >/dev/null
	big_mbps "$url" >/dev/null
done

# results: fe round rps p99 errors wrk_cpu% mbps big_cpu%
list=($FES)
for r in $(seq "$ROUNDS"); do
	# Round r starts with the r-th front end, so drift spreads evenly.
	k=$(((r - 1) % ${#list[@]}))
	for fe in "${list[@]:k}" "${list[@]:0:k}"; do
		BENCH_XJKD_PID=""
		if ! "fe_${fe}_start"; then
			bench_fe_stop
			echo "- $fe failed to start in round $r." >>"$OUT/notes"
			continue
		fi
		bench_wrk "$BENCH_FE_URL$URL_PATH" "$WARMUP" "$OUT/$fe-warmup-$r.txt" >/dev/null
		t0=$(xjkd_ticks) s0=$(now_s)
		m=$(bench_wrk "$BENCH_FE_URL$URL_PATH" "$DURATION" "$OUT/$fe-$r.txt")
		t1=$(xjkd_ticks) s1=$(now_s)
		mbps=$(big_mbps "$BENCH_FE_URL")
		t2=$(xjkd_ticks) s2=$(now_s)
		line="$fe $r $m $(percent $((t1 - t0)) "$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')")"
		line="$line $mbps $(percent $((t2 - t1)) "$(awk -v a="$s1" -v b="$s2" 'BEGIN { print b - a }')")"
		echo "bench-splice: round $r: $line"
		echo "$line" >>"$OUT/results"
		bench_fe_stop
	done
done

# cpu_cell FE FIELD: the median CPU share for xjkd's front ends, "-" for the others.
cpu_cell() {
	case $1 in
	splice | copy) echo "$(median "$1" "$2")%" ;;
	*) echo "-" ;;
	esac
}

{
	echo "### http workers: kernel splice"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'). Written by tools/bench/bench-splice.sh. One lab: client -> lb ->"
	echo "t1, t2 (Tomcat HTTP connectors), each in its own network namespace on one bridge."
	echo "*splice*: xjkd with an lb of two \`type=http\` workers, connections paired in the kernel"
	echo "(sockhash + sk_skb verdict); *copy*: the same xjkd copying the bytes itself"
	echo "(\`XJK_SPLICE=copy\`); *haproxy*: HAProxy mode http, one thread, round robin over t1, t2;"
	echo "*direct*: client -> t1's HTTP connector (one Tomcat, where the others balance over two)."
	echo "$ROUNDS interleaved rounds (each round starts with the next front end), medians shown."
	echo "Everything shares the machine's $(nproc) cores, wrk and curl included (load average before"
	echo "the run: $LOAD), so compare ratios rather than absolute numbers."
	echo
	echo "**Small keep-alive requests**: \`wrk -t1 -c${XJK_BENCH_CONNS:-32} -d$DURATION\` on \`$URL_PATH\` after a"
	echo "$WARMUP warm-up. xjkd CPU: its utime + stime over the run, as a share of one core."
	echo
	echo "| front end | req/s (median) | p99 ms | vs haproxy | vs direct | errors | xjkd CPU | req/s per round |"
	echo "|---|---:|---:|---:|---:|---:|---:|---|"
	for fe in $FES; do
		rps=$(median "$fe" 3)
		printf '| %s | %.0f | %s | %s | %s | %d | %s | %s |\n' "$fe" "$rps" "$(median "$fe" 4)" \
			"$(ratio "$rps" "$(median haproxy 3)")" "$(ratio "$rps" "$(median direct 3)")" \
			"$(awk -v fe="$fe" '$1 == fe { s += $5 } END { print s + 0 }' "$OUT/results")" \
			"$(cpu_cell "$fe" 6)" "$(per_round "$fe" 3)"
	done
	echo
	echo "**100 MB responses**: one \`curl\` of \`/big.do?bytes=$BIG\` per front end and round, MB/s"
	echo "(2^20 bytes; 0 = the transfer failed or came short). xjkd CPU as above, over the transfer."
	echo
	echo "| front end | MB/s (median) | vs direct | vs haproxy | xjkd CPU | MB/s per round |"
	echo "|---|---:|---:|---:|---:|---|"
	for fe in $FES; do
		mbps=$(median "$fe" 7)
		printf '| %s | %s | %s | %s | %s | %s |\n' "$fe" "$mbps" "$(ratio "$mbps" "$(median direct 7)")" \
			"$(ratio "$mbps" "$(median haproxy 7)")" "$(cpu_cell "$fe" 8)" "$(per_round "$fe" 7)"
	done
	echo
	echo "Targets (issue 5): small requests >= 1.5x HAProxy, splice measured"
	echo "$(ratio "$(median splice 3)" "$(median haproxy 3)"); 100 MB >= 0.9x direct, splice measured"
	echo "$(ratio "$(median splice 7)" "$(median direct 7)")."
	echo
	cat "$OUT/notes"
	bench_versions
} >"$OUT/section.md"
bench_write_section splice "$OUT/section.md"
cat "$OUT/section.md"
