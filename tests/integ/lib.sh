# lib.sh: shared helpers of the integration scripts (sourced). Result lines
# that tests/run.sh counts, a trap that always takes the lab down, requests
# from the client namespace (curl, raw bytes, AJP), SHA-256 helpers and xjkd.
set -u
XJK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$XJK_ROOT/tools/lab/lab.sh"
XJKD=${XJKD:-$XJK_ROOT/${B:-build}/xjkd}
XJKD_BIN=$XJKD
# Where sanitizers and valgrind write their reports (tests/run.sh sets one
# directory per script and checks it).
export XJK_REPORTS=${XJK_REPORTS:-$XJK_ROOT/tests/out}

# XJKD_WRAP="tool args...": every xjkd a script starts, however it starts it,
# runs under the tool (make check-valgrind: valgrind). XJKD becomes a small
# script that execs the tool on the real binary, so xjkd keeps its pid.
# XJK_SLOW is the factor by which the few timing-bound checks stretch their
# bounds for such a run (1 otherwise).
XJK_SLOW=${XJK_SLOW:-1}
if [ -n "${XJKD_WRAP:-}" ]; then
	XJKD=$XJK_REPORTS/xjkd-wrap.$$
	printf '#!/bin/sh\nexec %s %q "$@"\n' "$XJKD_WRAP" "$XJKD_BIN" >"$XJKD"
	chmod 755 "$XJKD"
fi

# xjkd_stop_all: SIGTERM to every xjkd of the lab and a wait for it to exit,
# so valgrind and LeakSanitizer check for leaks (they cannot in a process
# killed with SIGKILL). A second SIGTERM skips the drain.
xjkd_stop_all() {
	local ns p pids="" i
	for ns in $(ip netns list | awk '{print $1}' | grep "^xjk$LAB_ID-"); do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$XJKD_BIN " && pids="$pids $p"
		done
	done
	[ -n "$pids" ] || return 0
	kill -TERM $pids 2>/dev/null
	for i in $(seq 300); do
		[ "$i" != 50 ] || kill -TERM $pids 2>/dev/null
		kill -0 $pids 2>/dev/null || return 0
		sleep 0.1
	done
	echo "# xjkd_stop_all: still running after 30 s:$pids" >&2
}

# keep_sanitizer_logs: copies the lab's logs that hold a sanitizer report to
# XJK_REPORTS. UBSan (gcc's runtime) ignores log_path and writes to stderr,
# which is a log in the lab's work directory that lab_down deletes.
keep_sanitizer_logs() {
	local f
	grep -rlIE 'runtime error:|ERROR: (Address|Leak)Sanitizer|Sanitizer has encountered' "$LAB_DIR" 2>/dev/null |
		while read -r f; do
			cp "$f" "$XJK_REPORTS/stderr.$$.${f//\//_}"
		done
}

# xjkd_instrumented: xjkd runs under a wrap or is an ASan build. Its resident
# set is then mostly the tool's (valgrind's shadow memory, ASan's quarantine),
# so bounds on xjkd's memory are not checked.
xjkd_instrumented() {
	[ -n "${XJKD_WRAP:-}" ] || ldd "$XJKD_BIN" 2>/dev/null | grep -q libasan
}

# Instrumented, lab_down (which kills with SIGKILL) first stops xjkd gently
# and keeps the reports; scripts that set their own EXIT trap call lab_down too.
if xjkd_instrumented; then
	eval "$(declare -f lab_down | sed '1s/^lab_down /lab_down_killing /')"
	lab_down() {
		if [ -n "$LAB_ID" ]; then
			xjkd_stop_all
			keep_sanitizer_logs
		fi
		lab_down_killing
	}
fi

ok() {
	echo "ok - $1"
}

# not_ok NAME [DETAIL]: the detail goes on the same line as a comment.
not_ok() {
	echo "not ok - $1${2:+ # $2}"
}

# check NAME cmd...: ok when cmd succeeds.
check() {
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name" "failed: $*"
	fi
}

# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "want '$2', got '$3'"
	fi
}

# Every BPF pin of the processes a script starts (xjkd, xjkctl, the l4
# agent) goes to a directory of the script's own (XjkBpfDir's default,
# agent/bpffs.h), removed with the lab: scripts running at once never take
# over each other's pins.
export XJK_BPF_DIR=/sys/fs/bpf/xjk-test-$$
eval "$(declare -f lab_down | sed '1s/^lab_down /lab_down_keep_pins /')"
lab_down() {
	lab_down_keep_pins
	rm -rf "$XJK_BPF_DIR"
}

# The lab goes away whatever happens: normal end, failure, signal or timeout.
trap lab_down EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS cmd...: polls cmd every 0.2 s until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
}

# curl from the client namespace; -sS so errors still show in the log. A
# later --max-time overrides this one.
ccurl() {
	lab_exec client curl -sS --max-time 30 "$@"
}

# http_raw HOST PORT BYTES [TIMEOUT_S]: sends BYTES (printf %b escapes, so
# "\r\n" is CRLF) from the client namespace in one write and prints the
# answer. Returns 124 when the server still holds the connection open after
# TIMEOUT_S (default 3), otherwise the server closed it.
http_raw() {
	lab_exec client bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 2
		printf "%b" "$3" >&3
		timeout "$4" cat <&3' _ "$1" "$2" "$3" "${4:-3}"
}

# Lines logged by NODE's access log valve so far (requests that reached it).
access_count() {
	wc -l <"$(lab_tomcat_access_log "$1")"
}

sha256_of() {
	sha256sum "$1" | cut -d' ' -f1
}

# random_file PATH BYTES
random_file() {
	head -c "$2" /dev/urandom >"$1"
}

# SHA-256 of the first N bytes of /big.do's pattern ("0123456789abcdef" repeated).
pattern_sha256() {
	local block=$LAB_DIR/pattern.1m s=0123456789abcdef i
	if [ ! -f "$block" ]; then
		for i in $(seq 16); do s=$s$s; done
		printf '%s' "$s" >"$block"
	fi
	{ while cat "$block"; do :; done; } 2>/dev/null | head -c "$1" | sha256sum | cut -d' ' -f1
}

# AJP13 encoding (see docs of the protocol in shared/reference): big-endian
# int16, and strings as length, bytes, NUL.
ajp_u16() {
	printf "$(printf '\\x%02x\\x%02x' $(($1 >> 8)) $(($1 & 255)))"
}

ajp_str() {
	ajp_u16 ${#1}
	printf '%s\0' "$1"
}

# ajp_send HOST PORT FILE: sends FILE's bytes from the client namespace and
# prints the raw answer (Tomcat keeps AJP connections open: read 2 s).
ajp_send() {
	lab_exec client bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 2
		cat "$3" >&3
		timeout 2 cat <&3' _ "$1" "$2" "$3"
	return 0
}

# ajp_get HOST PORT URI [SECRET]: a FORWARD_REQUEST for GET URI; prints
# "status=N" (from SEND_HEADERS) and then the raw answer.
ajp_get() {
	local body=$LAB_DIR/ajp.body pkt=$LAB_DIR/ajp.pkt out=$LAB_DIR/ajp.out
	{
		printf '\x02\x02'
		ajp_str HTTP/1.1
		ajp_str "$3"
		ajp_str "$(lab_ip client)"
		printf '\xff\xff' # remote_host: null string
		ajp_str "$1"
		ajp_u16 80
		printf '\x00' # is_ssl
		ajp_u16 1
		printf '\xa0\x0b' # Host
		ajp_str "$1"
		if [ -n "${4:-}" ]; then
			printf '\x0c' # secret attribute
			ajp_str "$4"
		fi
		printf '\xff'
	} >"$body"
	{
		printf '\x12\x34'
		ajp_u16 "$(wc -c <"$body")"
		cat "$body"
	} >"$pkt"
	ajp_send "$1" "$2" "$pkt" >"$out"
	# 'A' 'B' len:2 then SEND_HEADERS (4) and the status as int16.
	od -An -tu1 -N7 "$out" | awk '$5 == 4 { print "status=" $6 * 256 + $7; exit } { print "status=none" }'
	cat "$out"
}

# xjkd_start CONF PORT: runs xjkd in the lb namespace in the foreground mode
# and waits for its listener. XJKD_PID is its pid.
xjkd_start() {
	lab_bg lb "$LAB_DIR/xjkd-$2.log" "$XJKD" -c "$1"
	XJKD_PID=$LAB_PID
	if ! lab_wait_port lb "$2" $((10 * XJK_SLOW)); then
		tail -n 20 "$LAB_DIR/xjkd-$2.log" >&2
		return 1
	fi
}
