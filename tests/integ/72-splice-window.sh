#!/bin/bash
# 72-splice-window.sh: an answer that arrives between the two sockhash
# insertions of a pairing (the backend's, then the client's). gdb stops xjkd
# right before it inserts the client socket, the backend answers meanwhile,
# and xjkd goes on: the verdict program finds no client to redirect to and
# hands the answer up, and every later byte of the backend with it (held).
# The client must get that answer whole, then the answers to the next
# requests on the same connection (a GET, and a POST whose body the kernel
# still moves to the backend), and xjkd must not cut the connection.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$XJKD" ]; then
	not_ok "xjkd binary $XJKD exists"
	exit 1
fi
# valgrind runs xjkd's code on its own synthetic CPU, where gdb's breakpoint
# is never hit (make check-valgrind runs SAN_INTEG's scripts).
if [ -n "${XJKD_WRAP:-}" ]; then
	echo "# skipped: gdb cannot stop an xjkd under XJKD_WRAP"
	exit 0
fi
if ! command -v gdb >/dev/null; then
	not_ok "gdb installed"
	exit 1
fi
lab_up 1 || { not_ok "lab_up"; exit 1; }
lb=$(lab_ip lb)
PORT=8098

# The backend answers each request at once (splice_backend.py's "window").
lab_bg t1 "$LAB_DIR/backend.log" python3 -u "$XJK_ROOT/tests/integ/splice_backend.py" "$PORT" window
lab_wait_port t1 "$PORT" 10 || not_ok "the backend listens"

mkdir -p "$LAB_DIR/conf"
cat >"$LAB_DIR/xjk.conf" <<-CONF
	ServerRoot $LAB_DIR
	Listen $lb:80
	JkWorkersFile conf/workers.properties
	JkMount /* be
	JkLogLevel info
CONF
cat >"$LAB_DIR/conf/workers.properties" <<-PROPS
	worker.list=be
	worker.be.type=http
	worker.be.host=$(lab_ip t1)
	worker.be.port=$PORT
PROPS
xjkd_start "$LAB_DIR/xjk.conf" 80 || { not_ok "xjkd starts"; exit 1; }
log=$LAB_DIR/xjkd-80.log
check "kernel splice loaded" wait_for 5 grep -q "kernel splice ready" "$log"

# gdb stops xjkd at its second sockhash insertion (BPF_NOEXIST, in %rcx at
# libbpf's bpf_map_update_elem): the backend socket is in, the client's not.
# It lets xjkd go once the test touches $LAB_DIR/go.
gdb -q -batch -p "$XJKD_PID" -ex 'set pagination off' -ex 'handle all nostop noprint pass' \
	-ex 'break *bpf_map_update_elem if $rcx == 1' -ex 'ignore 1 1' \
	-ex "shell touch $LAB_DIR/armed" -ex continue \
	-ex "shell touch $LAB_DIR/paused; while [ ! -e $LAB_DIR/go ]; do sleep 0.05; done" \
	-ex 'delete' -ex detach >"$LAB_DIR/gdb.log" 2>&1 &
gdb_pid=$!
check "gdb holds xjkd" wait_for $((10 * XJK_SLOW)) test -e "$LAB_DIR/armed"

N=$((1 << 20))
lab_exec client python3 - "$lb" "$N" "$XJK_ROOT/tests/integ" >"$LAB_DIR/client.out" 2>&1 <<-'PY' &
	import hashlib, socket, sys
	host, n = sys.argv[1], int(sys.argv[2])
	sys.path.insert(0, sys.argv[3])
	from splice_client import answer
	s = socket.create_connection((host, 80), timeout=60)
	buf = b""
	def pattern(k):
	    return (bytes(range(251)) * (k // 251 + 1))[:k]
	def get(k):
	    global buf
	    s.sendall(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % k)
	    status, body, buf = answer(s, buf)
	    if status and status.startswith(b"HTTP/1.1 200 ") and body == pattern(k):
	        return "ok"
	    return "%r, %d bytes" % (status, len(body or b""))
	print("first:", get(n), flush=True)
	print("second:", get(n), flush=True)
	data = bytes(range(256)) * 4096
	try:
	    s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
	    status, body, buf = answer(s, buf)
	except OSError as e:
	    body = "socket: %s" % e
	want = b"len=%d sha=%s" % (len(data), hashlib.sha256(data).hexdigest().encode())
	print("post:", "ok" if body == want else body, flush=True)
PY
client=$!
check "xjkd stopped between the two insertions" wait_for $((10 * XJK_SLOW)) test -e "$LAB_DIR/paused"
# The answer is on its way once the backend has read the request.
check "the backend got the request meanwhile" wait_for 10 grep -q "^request: GET /$N " "$LAB_DIR/backend.log"
sleep 0.5
touch "$LAB_DIR/go"
wait "$gdb_pid"
wait "$client"
echo "# $(tr '\n' ' ' <"$LAB_DIR/client.out")"
expect_eq "the answer from the window arrives whole" "first: ok" "$(grep '^first:' "$LAB_DIR/client.out")"
expect_eq "the next answer on the connection arrives whole" "second: ok" "$(grep '^second:' "$LAB_DIR/client.out")"
expect_eq "a POST body on the connection reaches the backend whole" "post: ok" "$(grep '^post:' "$LAB_DIR/client.out")"
# stats $1: the verdict program's counter $1 for the backend, over the CPUs
stats() {
	bpftool -j map dump pinned "$XJK_BPF_DIR/xjk_sp_stats" |
		jq "[.[] | .formatted | select(.key == 0) | .values[].value.$1] | add"
}
passed=$(stats passed_msgs)
check "the verdict program handed the backend's bytes up ($passed skbs)" test "${passed:-0}" -gt 0
moved=$(stats to_backend_bytes)
check "the kernel moved the POST body to the backend ($moved bytes)" test "${moved:-0}" -ge $((1 << 20))
check "xjkd did not cut the connection" bash -c "! grep -q 'spliced connection closed' '$log'"
check "xjkd still running" lab_alive "$XJKD_PID"
