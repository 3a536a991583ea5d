# lib.sh: faults and measurements shared by the failover harness
# (tools/failover/run.sh) and the failover tests (tests/integ/5x-*.sh); sourced
# after the lab library. The lab runs the seed's two Tomcats (t1, t2).
#
#   fo_fault NODE kill|blackhole|freeze    fo_restore NODE kill|blackhole|freeze
#   fo_load OUT ARGS...     runs tools/failover/load.py in the client namespace
#   fo_stat OUT KEY         a value of load.py's summary line (requests, failed, ...)
#   fo_now_ms               wall clock in ms, as xjkd's log stamps it
#   fo_log_ms LOG PATTERN [AFTER_MS]  stamp (ms) of the first log line matching
#                           PATTERN (grep -E) at or after AFTER_MS; empty if none

FO_LOAD=$XJK_ROOT/tools/failover/load.py

fo_fault() {
	case $2 in
	kill) lab_tomcat_kill "$1" ;;
	blackhole) lab_blackhole "$1" ;;
	freeze) lab_tomcat_freeze "$1" ;;
	*) echo "fo_fault: unknown fault $2" >&2; return 1 ;;
	esac
}

# Undoes fo_fault; a killed seed node is started again with its seed settings.
fo_restore() {
	local i=${1#t}
	case $2 in
	kill) lab_tomcat_start "$1" "${LAB_SEED_ROUTES[$((i - 1))]}" "${LAB_SEED_AJP[$((i - 1))]}" \
		"${LAB_SEED_HTTP[$((i - 1))]}" ;;
	blackhole) lab_unblackhole "$1" ;;
	freeze) lab_tomcat_thaw "$1" ;;
	*) echo "fo_restore: unknown fault $2" >&2; return 1 ;;
	esac
}

fo_load() {
	local out=$1
	shift
	lab_exec client python3 "$FO_LOAD" "$@" >"$out" 2>&1
}

fo_stat() {
	sed -n "s/^S .*\b$2=\([^ ]*\).*/\1/p" "$1"
}

fo_now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

fo_log_ms() {
	local after=${3:-0}
	grep -E "$2" "$1" | while read -r day time _; do
		local ms
		ms=$(date -d "${day#[} ${time%]}" +%s%3N 2>/dev/null) || continue
		if [ "$ms" -ge "$after" ]; then
			echo "$ms"
			break
		fi
	done
}
