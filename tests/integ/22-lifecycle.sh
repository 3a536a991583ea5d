#!/bin/bash
# 22-lifecycle.sh: xjkd stops and reloads without losing a request: SIGTERM
# lets in-flight requests finish; SIGHUP hands over to a new process that
# inherits the listeners (five times under wrk load, zero errors); SIGUSR1
# reopens the log; a broken configuration is rejected with its FILE:LINE while
# the running one serves on; a reload executes the binary xjkd was started as,
# by its path, so after an upgrade that replaced the file, the new one.
. "$(dirname "$0")/lib.sh"

lab_up 2 || { not_ok "lab_up"; exit 1; }
lab_seed_tomcats || { not_ok "Tomcats start"; exit 1; }
lb=$(lab_ip lb)
conf=$LAB_DIR/seed/xjk.conf
pidfile=$LAB_DIR/xjkd.pid
lab_seed_conf "$LAB_DIR/seed" 80
printf 'XjkPidFile %s\nXjkDrainTimeout 10000\n' "$pidfile" >>"$conf"

xjkd_start "$conf" 80 || { not_ok "xjkd starts"; exit 1; }
log=$LAB_DIR/xjkd-80.log
current_pid() {
	cat "$pidfile"
}

# --- graceful stop ---
lab_exec client curl -sS --max-time 20 -o "$LAB_DIR/slow.out" -w '%{http_code}' \
	"http://$lb/sleep.do?ms=2000" >"$LAB_DIR/slow.code" &
slow=$!
sleep 0.5
kill -TERM "$XJKD_PID"
wait $slow
expect_eq "SIGTERM: the request in flight completes" 200 "$(cat "$LAB_DIR/slow.code")"
check "SIGTERM: xjkd exits after draining" wait_for $((5 * XJK_SLOW)) bash -c "! kill -0 $XJKD_PID 2>/dev/null"
if lab_exec client curl -s --max-time 2 "http://$lb/node.txt" >/dev/null 2>&1; then
	not_ok "SIGTERM: nothing listens once it is gone"
else
	ok "SIGTERM: nothing listens once it is gone"
fi

# --- reload under load ---
xjkd_start "$conf" 80 || { not_ok "xjkd restarts"; exit 1; }
first=$(current_pid)
lab_exec client wrk -t1 -c16 -d14s "http://$lb/1k.html" >"$LAB_DIR/wrk.out" 2>&1 &
load=$!
pids="$first"
for i in 1 2 3 4 5; do
	sleep 2
	before=$(current_pid)
	kill -HUP "$before"
	wait_for $((10 * XJK_SLOW)) bash -c "[ \"\$(cat $pidfile)\" != $before ]" || break
	pids="$pids $(current_pid)"
done
wait $load
cat "$LAB_DIR/wrk.out"
served=$(awk '/requests in/ { print $1 }' "$LAB_DIR/wrk.out")
check "reload under load: five new processes took over ($pids)" test "$(wc -w <<<"$pids")" -eq 6
check "reload under load: requests were served (${served:-0})" test "${served:-0}" -gt 1000
check "reload under load: no socket errors" bash -c "! grep -q 'Socket errors' $LAB_DIR/wrk.out"
check "reload under load: no non-2xx answers" bash -c "! grep -q 'Non-2xx' $LAB_DIR/wrk.out"
check "reload: the old processes have exited" \
	wait_for $((15 * XJK_SLOW)) bash -c "for p in $first; do kill -0 \$p 2>/dev/null && exit 1; done; exit 0"

# --- SIGUSR1 reopens the log (rotation) ---
serving=$(current_pid)
printf 'JkLogFile %s\n' "$LAB_DIR/error.log" >>"$conf"
kill -HUP "$serving"
wait_for $((10 * XJK_SLOW)) bash -c "[ \"\$(cat $pidfile)\" != $serving ]"
mv "$LAB_DIR/error.log" "$LAB_DIR/error.log.1"
kill -USR1 "$(current_pid)"
check "SIGUSR1: a new log file is opened after rotation" \
	wait_for $((5 * XJK_SLOW)) grep -q "log reopened" "$LAB_DIR/error.log"

# --- a broken configuration is rejected ---
serving=$(current_pid)
line=$(($(wc -l <"$conf") + 1))
echo "NoSuchDirective on" >>"$conf"
kill -HUP "$serving"
check "invalid configuration: rejected with its FILE:LINE" \
	wait_for $((5 * XJK_SLOW)) grep -q "reload rejected: $conf:$line: " "$LAB_DIR/error.log"
sleep 0.5
expect_eq "invalid configuration: the running process stays" "$serving" "$(current_pid)"
check "invalid configuration: requests are still served" \
	grep -q node= <<<"$(ccurl --max-time 5 "http://$lb/node.txt")"
kill -TERM "$serving"
check "stop: xjkd exits" wait_for $((15 * XJK_SLOW)) bash -c "! kill -0 $serving 2>/dev/null"

# --- a reload after an upgrade runs the new binary ---
# xjkd started by a relative path from its own directory (under the same tool
# as the others, if any); the file is then replaced as a package upgrade does
# (a new file renamed over the old one), and the reload must map the new file,
# not the one the running process still maps (/proc/self/exe).
sed -i '$d' "$conf" # the broken line
sbin=$LAB_DIR/sbin
mkdir -p "$sbin"
cp "$XJKD_BIN" "$sbin/xjkd"
# ${XJKD_WRAP} unquoted: the tool's command line, split into its words.
lab_bg lb "$LAB_DIR/xjkd-upgrade.log" bash -c 'cd "$1" && shift && exec "$@"' _ "$sbin" \
	${XJKD_WRAP:-} ./xjkd -c "$conf"
old=$LAB_PID
check "upgrade: xjkd starts from $sbin/xjkd" wait_for $((10 * XJK_SLOW)) \
	bash -c "[ \"\$(cat $pidfile)\" = $old ] && nsenter --net=/run/netns/$(lab_ns lb) ss -Hltn 'sport = :80' | grep -q ."
# mapped_inode PID: the inode of the file PID maps as $sbin/xjkd.
mapped_inode() {
	awk -v p="$sbin/xjkd" '$6 == p { print $5; exit }' "/proc/$1/maps"
}
cp "$XJKD_BIN" "$sbin/xjkd.new"
mv -f "$sbin/xjkd.new" "$sbin/xjkd"
new_inode=$(stat -c %i "$sbin/xjkd")
check "upgrade: the running process maps the replaced file ($(mapped_inode "$old"), new file $new_inode)" \
	test -n "$(mapped_inode "$old")" -a "$(mapped_inode "$old")" != "$new_inode"
kill -HUP "$old"
wait_for $((10 * XJK_SLOW)) bash -c "[ \"\$(cat $pidfile)\" != $old ]"
upgraded=$(current_pid)
expect_eq "upgrade: the reloaded process maps the new file" "$new_inode" "$(mapped_inode "$upgraded")"
check "upgrade: the old process exits" wait_for $((15 * XJK_SLOW)) bash -c "! kill -0 $old 2>/dev/null"
check "upgrade: the reloaded process serves" \
	grep -q node= <<<"$(ccurl --max-time 5 "http://$lb/node.txt")"
# A binary gone (a package removed) fails the reload; the running one serves on.
rm "$sbin/xjkd"
kill -HUP "$upgraded"
check "binary gone: reload rejected with the path" wait_for $((5 * XJK_SLOW)) \
	grep -q "reload rejected: cannot execute $sbin/xjkd: No such file or directory" "$LAB_DIR/error.log"
expect_eq "binary gone: the running process stays" "$upgraded" "$(current_pid)"
check "binary gone: requests are still served" \
	grep -q node= <<<"$(ccurl --max-time 5 "http://$lb/node.txt")"
# Stopped here, not by lab_down: under a tool, its leak check runs at the exit.
kill -TERM "$upgraded"
check "upgrade: the reloaded process stops" wait_for $((15 * XJK_SLOW)) bash -c "! kill -0 $upgraded 2>/dev/null"
