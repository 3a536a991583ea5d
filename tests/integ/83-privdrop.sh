#!/bin/bash
# 83-privdrop.sh: XjkUser (agent/privdrop.c): after startup xjkd runs as the
# user with only the kept capabilities on its control thread and none on its
# data threads, still serves, and a reload (re-exec) comes up the same way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-hostile.sh"
[ -x "$XJKD" ] || { not_ok "xjkd binary $XJKD exists"; exit 1; }
user=xjk-test$$
useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || { not_ok "useradd"; exit 1; }
trap 'lab_down; userdel "$user" 2>/dev/null' EXIT
hostile_lab_up || exit 1
lb=$(lab_ip lb)
echo "XjkUser $user" >>"$LAB_DIR/xjk.conf"
xjkd_start "$LAB_DIR/xjk.conf" 80 || { not_ok "xjkd starts"; exit 1; }
uid=$(id -u "$user")
kept=000000c000001400 # net_bind_service, net_admin, perfmon, bpf

# verify PID: uid, control thread's capabilities, data threads' capabilities
verify() {
	expect_eq "$2: runs as $user" "$uid" "$(awk '/^Uid:/ { print $2 $3 $4 $5 == $2 $2 $2 $2 ? $2 : "mixed" }' "/proc/$1/status")"
	expect_eq "$2: control thread keeps only $kept" "$kept $kept $kept" \
		"$(awk '/^Cap(Eff|Bnd|Amb):/ { printf "%s%s", s, $2; s = " " }' "/proc/$1/status")"
	expect_eq "$2: data threads have no capability" "" \
		"$(for t in /proc/$1/task/*; do [ "${t##*/}" = "$1" ] || awk '/^CapEff:/ { print $2 }' "$t/status"; done | grep -v '^0*$')"
	expect_eq "$2: serves" "200" "$(ccurl -o /dev/null -w '%{http_code}' "http://$lb/ok")"
}
# xjkd listens before it drops (a slowed one, under valgrind, visibly so):
# its log says when it has.
check "started: xjkd says it dropped to $user" \
	wait_for $((10 * XJK_SLOW)) grep -q "running as $user " "$LAB_DIR/xjkd-80.log"
verify "$XJKD_PID" "started"
kill -HUP "$XJKD_PID"
check "reload: old process exits" wait_for $((10 * XJK_SLOW)) bash -c "! kill -0 $XJKD_PID 2>/dev/null"
new=$(lab_exec lb ss -Hltnp "sport = :80" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
check "reload: a new xjkd listens" test -n "$new"
[ -n "$new" ] && verify "$new" "reloaded"
