#!/bin/bash
# 23-loops.sh: client connections spread evenly over xjkd's event loops
# whichever loop's SO_REUSEPORT listener the kernel gave them to, and every
# loop serves the ones it was handed (the seed's configuration, two real
# Tomcats, XjkThreads 4).
. "$(dirname "$0")/lib.sh"

lab_up 2 || { not_ok "lab_up"; exit 1; }
lab_seed_tomcats || { not_ok "Tomcats start"; exit 1; }
lb=$(lab_ip lb)
lab_seed_conf "$LAB_DIR/seed" 80
# The held connections send nothing until the spread is known.
printf "XjkThreads 4\nXjkRequestTimeout %d\n" $((30000 * XJK_SLOW)) >>"$LAB_DIR/seed/xjk.conf"
xjkd_start "$LAB_DIR/seed/xjk.conf" 80 || { not_ok "xjkd starts with 4 event loops"; exit 1; }

# loop_clients: per epoll instance of xjkd that watches client connections
# (established sockets on port 80), how many it watches; sorted, one line.
loop_clients() {
	local fd t n
	lab_exec lb ss -tnHe state established '( sport = :80 )' | grep -o 'ino:[0-9]*' |
		cut -d: -f2 >"$LAB_DIR/client.ino"
	for fd in /proc/"$XJKD_PID"/fd/*; do
		[ "$(readlink "$fd")" = "anon_inode:[eventpoll]" ] || continue
		n=$(for t in $(awk '/^tfd:/ { print $2 }' "/proc/$XJKD_PID/fdinfo/${fd##*/}"); do
			readlink "/proc/$XJKD_PID/fd/$t" | tr -dc '0-9\n'
		done | grep -cxFf "$LAB_DIR/client.ino")
		[ "$n" -eq 0 ] || echo "$n"
	done | sort -n | paste -sd' '
}

# even_spread: four loops, 32 connections, at most one apart; the counts are
# left in $spread.
even_spread() {
	spread=$(loop_clients)
	echo "$spread" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i }
		END { exit !(NF == 4 && s == 32 && $NF - $1 <= 1) }'
}

# 32 connections opened one after another and held until the spread is
# known ($LAB_DIR/go), then a GET on each; the status lines are counted.
lab_exec client bash -c '
	for i in $(seq 32); do
		exec {fd}<>"/dev/tcp/$0/80" || exit 1
		fds+=("$fd")
	done
	for i in $(seq 600); do [ -e "$1" ] && break; sleep 0.1; done
	for fd in "${fds[@]}"; do printf "GET /1k.html HTTP/1.1\r\nHost: lb\r\n\r\n" >&"$fd"; done
	for fd in "${fds[@]}"; do read -r -t "$2" line <&"$fd" && echo "$line"; done' \
	"$lb" "$LAB_DIR/go" $((10 * XJK_SLOW)) >"$LAB_DIR/answers" &
client=$!
if wait_for $((10 * XJK_SLOW)) even_spread; then
	ok "32 connections spread over 4 event loops at most one apart ($spread)"
else
	not_ok "32 connections spread over 4 event loops at most one apart" "per loop: $spread"
fi
touch "$LAB_DIR/go"
wait "$client"
expect_eq "every connection, on whichever loop, answered 200" 32 \
	"$(grep -c '^HTTP/1.1 200' "$LAB_DIR/answers")"
