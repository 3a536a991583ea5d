#!/bin/bash
# run.sh: the soak (make soak; issue 9). xjkd with the seed's configuration in
# front of the seed's two Tomcats, under mixed load for SOAK_MINUTES:
#   keepalive  wrk, 16 keep-alive connections, GET /node.txt
#   newconn    wrk, 8 connections, "Connection: close" on every request
#   post       wrk, 4 connections, POST of 64 kB to /upload.do
#   faults     every 30 s in turn: t2's link down and up three times (2 s
#              each), then kill -9 of t1 or t2 and its restart
# Every SOAK_SAMPLE_S seconds it samples xjkd's VmRSS, its descriptors and the
# generators' counts (wrk runs in 10 s rounds). It fails when xjkd dies or
# stops answering, or when RSS, descriptors or the error rate keep growing:
# the last third of the run is compared with the middle third (the first is
# warm-up), see check_growth. Writes SOAK_OUT/samples.tsv and summary.md.
#   SOAK_MINUTES   default 30
#   SOAK_SAMPLE_S  default 10
#   SOAK_OUT       default tests/out/soak
#   B / XJKD       the xjkd binary, as for the integration tests
set -u
. "$(cd "$(dirname "$0")/../.." && pwd)/tests/integ/lib.sh"
. "$XJK_ROOT/tools/failover/lib.sh"
. "$XJK_ROOT/tools/soak/lib.sh"

MINUTES=${SOAK_MINUTES:-30}
SAMPLE_S=${SOAK_SAMPLE_S:-10}
OUT=${SOAK_OUT:-$XJK_ROOT/tests/out/soak}
# Growth allowed from the middle third's median to the last third's: a pool
# of idle AJP connections and the allocator's free lists move both a little.
RSS_GROWTH_KB=8192
FD_GROWTH=64

[ -x "$XJKD" ] || { echo "soak: no xjkd at $XJKD (make B=... all)" >&2; exit 1; }
mkdir -p "$OUT"
rm -f "$OUT"/*.chunks "$OUT"/*.last "$OUT"/samples.tsv "$OUT"/faults.log "$OUT"/xjkd.log "$OUT"/summary.md

GEN_PIDS=()
soak_stop() {
	local p
	for p in "${GEN_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap 'soak_stop; lab_down' EXIT

lab_up 2 || exit 1
lab_seed_tomcats || exit 1
soak_limits || exit 1
lb=$(lab_ip lb)
soak_conf "$LAB_DIR/soak" 80
xjkd_start "$LAB_DIR/soak/xjk.conf" 80 || exit 1
pid=$XJKD_PID
t_end=$(($(date +%s) + MINUTES * 60))

# gen NAME WRK_ARGS...: wrk in 10 s rounds until the end; one line per round
# in NAME.chunks: "end_s requests non2xx socket_errors".
gen() {
	local name=$1 last=$OUT/$1.last
	shift
	while [ "$(date +%s)" -lt $t_end ]; do
		soak_wrk "$last" -t1 -d10s --timeout 10s "$@"
		echo "$(date +%s) $(soak_wrk_stat "$last" requests) $(soak_wrk_stat "$last" non2xx)" \
			"$(soak_wrk_stat "$last" errors)" >>"$OUT/$name.chunks"
	done
}

# 64 kB of body, the same each time.
head -c 49152 /dev/urandom | base64 -w0 >"$LAB_DIR/post.body"
cat >"$LAB_DIR/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/octet-stream"
local f = io.open("$LAB_DIR/post.body", "rb")
wrk.body = f:read("*a")
f:close()
EOF

faults() {
	local round=0 node
	while [ $(($(date +%s) + 40)) -lt $t_end ]; do
		sleep 30
		round=$((round + 1))
		if [ $((round % 2)) = 1 ]; then
			echo "$(date +%s) flap t2" >>"$OUT/faults.log"
			for _ in 1 2 3; do
				lab_blackhole t2
				sleep 2
				lab_unblackhole t2
				sleep 2
			done
		else
			node=t$((round / 2 % 2 + 1))
			echo "$(date +%s) kill $node" >>"$OUT/faults.log"
			fo_fault "$node" kill
			fo_restore "$node" kill >>"$OUT/faults.log" 2>&1 ||
				echo "$(date +%s) restart of $node failed" >>"$OUT/faults.log"
		fi
	done
}

gen keepalive -c16 "http://$lb/node.txt" &
GEN_PIDS+=($!)
gen newconn -c8 -H "Connection: close" "http://$lb/node.txt" &
GEN_PIDS+=($!)
gen post -c4 -s "$LAB_DIR/post.lua" "http://$lb/upload.do" &
GEN_PIDS+=($!)
faults &
GEN_PIDS+=($!)

# sums NAME...: total requests, non-2xx and socket errors of the rounds so far.
sums() {
	local name
	for name in "$@"; do
		cat "$OUT/$name.chunks" 2>/dev/null
	done | awk '{ r += $2; n += $3; e += $4 } END { printf "%d %d %d", r, n, e }'
}

printf 't_s\trss_kb\tfds\trequests\tnon2xx\terrors\n' >"$OUT/samples.tsv"
t0=$(date +%s)
dead=""
while [ "$(date +%s)" -lt $t_end ]; do
	sleep "$SAMPLE_S"
	if ! lab_alive "$pid"; then
		dead="xjkd died $(($(date +%s) - t0)) s in"
		break
	fi
	read -r r n e <<<"$(sums keepalive newconn post)"
	printf '%d\t%s\t%s\t%d\t%d\t%d\n' $(($(date +%s) - t0)) "$(soak_rss_kb "$pid")" \
		"$(soak_fds "$pid")" "$r" "$n" "$e" >>"$OUT/samples.tsv"
done
wait "${GEN_PIDS[@]}" 2>/dev/null
GEN_PIDS=()
serving=$(ccurl --max-time 10 -o /dev/null -w '%{http_code}' "http://$lb/node.txt")
cp "$LAB_DIR/xjkd-80.log" "$OUT/xjkd.log"

# check_growth: compares the thirds of samples.tsv; prints the summary's
# table rows and "FAIL ..." lines.
check_growth() {
	awk -F'\t' -v rss_slack=$RSS_GROWTH_KB -v fd_slack=$FD_GROWTH '
		NR == 1 { next }
		{ t[++n] = $1; rss[n] = $2; fd[n] = $3; req[n] = $4; bad[n] = $5 + $6 }
		function median(a, lo, hi,   i, j, k, v, tmp) {
			k = 0
			for (i = lo; i <= hi; i++) v[++k] = a[i]
			for (i = 2; i <= k; i++)
				for (j = i; j > 1 && v[j - 1] > v[j]; j--) { tmp = v[j]; v[j] = v[j - 1]; v[j - 1] = tmp }
			return k ? v[int((k + 1) / 2)] : 0
		}
		function maxof(a, lo, hi,   i, m) {
			m = a[lo]
			for (i = lo; i <= hi; i++) if (a[i] > m) m = a[i]
			return m
		}
		# Error rate of the samples lo..hi: errors over requests in that span.
		function rate(lo, hi,   r, b) {
			r = req[hi] - (lo > 1 ? req[lo - 1] : 0)
			b = bad[hi] - (lo > 1 ? bad[lo - 1] : 0)
			return r > 0 ? b / r : 0
		}
		END {
			if (n < 6) { print "FAIL only " n " samples"; exit }
			a = int(n / 3); b = int(2 * n / 3)
			split("1 " a + 1 " " b + 1, lo, " "); split(a " " b " " n, hi, " ")
			split("warm-up middle last", name, " ")
			for (i = 1; i <= 3; i++)
				printf "| %s (%d-%d s) | %d / %d / %d | %d / %d / %d | %.4f %% |\n", name[i],
					t[lo[i]], t[hi[i]], median(rss, lo[i], hi[i]), maxof(rss, lo[i], hi[i]),
					rss[hi[i]], median(fd, lo[i], hi[i]), maxof(fd, lo[i], hi[i]), fd[hi[i]],
					100 * rate(lo[i], hi[i])
			if (median(rss, b + 1, n) > median(rss, a + 1, b) + rss_slack)
				print "FAIL RSS grows: median " median(rss, a + 1, b) " -> " median(rss, b + 1, n) " kB"
			if (median(fd, b + 1, n) > median(fd, a + 1, b) + fd_slack)
				print "FAIL descriptors grow: median " median(fd, a + 1, b) " -> " median(fd, b + 1, n)
			# The faults cost some requests (POSTs cut by a kill cannot be
			# retried); a failure rate that doubles is more than that.
			if (rate(b + 1, n) > 2 * rate(a + 1, b) + 0.001)
				printf "FAIL error rate grows: %.4f %% -> %.4f %%\n", 100 * rate(a + 1, b), 100 * rate(b + 1, n)
		}' "$OUT/samples.tsv"
}

rows=$(check_growth)
fails=$(grep '^FAIL' <<<"$rows")
[ -n "$dead" ] && fails="FAIL $dead"$'\n'"$fails"
[ "$serving" = 200 ] || fails="FAIL xjkd does not answer at the end (status '$serving')"$'\n'"$fails"
{
	echo "# Soak of $(date -u -d "@$t0" '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "$MINUTES minutes, a sample every $SAMPLE_S s; xjkd $XJKD ($(git -C "$XJK_ROOT" rev-parse --short HEAD 2>/dev/null)), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "| load | requests | non-2xx | socket errors |"
	echo "|---|---|---|---|"
	for g in keepalive newconn post; do
		read -r r n e <<<"$(sums $g)"
		echo "| $g | $r | $n | $e |"
	done
	echo
	echo "Faults: $(grep -c ' flap ' "$OUT/faults.log" 2>/dev/null) flap rounds of t2 (3 x 2 s down), $(grep -c ' kill ' "$OUT/faults.log" 2>/dev/null) kill -9 with restart."
	echo
	echo "xjkd's warnings by kind (xjkd.log):"
	echo
	# Without the stamp and the request's URI, so that alike lines count together.
	grep '\[warn\] worker ' "$OUT/xjkd.log" | sed -E 's/^\[[^]]*\] \[warn\] //; s# (/|https?:)[^ ]*\)$#)#' |
		sort | uniq -c | sort -rn | sed 's/^ */    /'
	echo
	echo "| third | VmRSS kB median / max / last | descriptors median / max / last | non-2xx + socket errors |"
	echo "|---|---|---|---|"
	grep -v '^FAIL' <<<"$rows"
	echo
	if [ -n "$(tr -d '\n' <<<"$fails")" ]; then
		echo "Verdict: FAIL"
		grep . <<<"$fails" | sed 's/^FAIL /- /'
	else
		echo "Verdict: pass (RSS and descriptors of the last third within $RSS_GROWTH_KB kB / $FD_GROWTH of the middle third's medians, error rate not doubled, xjkd serving at the end)"
	fi
} >"$OUT/summary.md"
cat "$OUT/summary.md"
[ -z "$(tr -d '\n' <<<"$fails")" ]
