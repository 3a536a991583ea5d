# lib-membership.sh: helpers of the membership and relay tests (sourced after
# lib.sh): timing in milliseconds and the xjk-members tool in a lab node.

MEMBERS=$XJK_ROOT/${B:-build}/xjk-members

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# since_ms T0_MS TIMEOUT_MS cmd...: polls cmd every 50 ms; prints the ms from
# T0_MS to its success, or -1 when TIMEOUT_MS after T0_MS passed first.
since_ms() {
	local t0=$1 limit=$2
	shift 2
	until "$@"; do
		if [ $(($(now_ms) - t0)) -gt "$limit" ]; then
			echo -1
			return 1
		fi
		sleep 0.05
	done
	echo $(($(now_ms) - t0))
}

gone() {
	! lab_alive "$1"
}

# members_start NODE NAME DIRECTIVE...: runs xjk-members in NODE with output
# in $LAB_DIR/NAME.out; its pid goes into MEMBERS_PID.
members_start() {
	local node=$1 name=$2
	shift 2
	lab_bg "$node" "$LAB_DIR/$name.out" "$MEMBERS" "$@"
	MEMBERS_PID=$LAB_PID
	wait_for 5 grep -qs '^listening$' "$LAB_DIR/$name.out"
}

# stats_after NAME N: NAME printed more than N "stats" lines.
stats_after() {
	[ "$(grep -c '^stats ' "$LAB_DIR/$1.out")" -gt "$2" ]
}

# members_dump PID NAME: makes the tool print its table and counters, and
# waits for them.
members_dump() {
	local n
	n=$(grep -c '^stats ' "$LAB_DIR/$2.out")
	kill -USR1 "$1"
	wait_for 2 stats_after "$2" "$n"
}

# members_stat NAME COUNTER: the counter from NAME's latest "stats" line.
members_stat() {
	grep '^stats ' "$LAB_DIR/$1.out" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
