#!/bin/bash
# 21-jkstatus.sh: a mod_jk status worker mounted with JkMount is served by
# xjkd itself (read-only HTML, ?mime=json, ?mime=txt), and shows what xjkd
# knows: a worker whose node refuses connections goes to ERR after one
# request, which gets 503 at once (health checks off, so the request is what
# finds out). No Tomcat needed: t1 runs nothing.
. "$(dirname "$0")/lib.sh"

lab_up 1 || { not_ok "lab_up"; exit 1; }
lb=$(lab_ip lb)
dir=$LAB_DIR/conf
mkdir -p "$dir"
cat >"$dir/workers.properties" <<WP
worker.list=node,jkstatus
worker.node.type=ajp13
worker.node.host=$(lab_ip t1)
worker.node.port=8009
worker.jkstatus.type=status
WP
cat >"$dir/xjk.conf" <<CONF
Listen $lb:80
JkWorkersFile workers.properties
JkMount /app/* node
JkMount /jkstatus jkstatus
XjkAdminListen off
XjkControlSocket off
XjkHealthCheck * off
CONF
xjkd_start "$dir/xjk.conf" 80 || { not_ok "xjkd starts"; exit 1; }

page=$(ccurl -w '\n%{http_code} %{content_type}' "http://$lb/jkstatus")
check "jkstatus: HTML page" grep -q '^200 text/html' <<<"$(tail -1 <<<"$page")"
check "jkstatus: the page lists the worker" grep -q '>node<' <<<"$page"
check "jkstatus: the page offers no actions" bash -c "! grep -q '<form' <<<\"\$1\"" _ "$page"

json=$(ccurl "http://$lb/jkstatus?mime=json")
expect_eq "jkstatus: JSON names the worker" node "$(jq -r '.workers[0].name' <<<"$json")"
expect_eq "jkstatus: worker idle at start" OK/IDLE "$(jq -r '.workers[0].state' <<<"$json")"

start=$(date +%s%N)
code=$(ccurl -o /dev/null -w '%{http_code}' "http://$lb/app/x.jsp")
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "request to a node that refuses connections: 503" 503 "$code"
check "... answered at once (${ms} ms)" test "$ms" -lt $((1000 * XJK_SLOW))
txt=$(ccurl "http://$lb/jkstatus?mime=txt")
check "jkstatus: text view shows the worker in ERR" grep -Eq '^node +.* ERR ' <<<"$txt"
expect_eq "HEAD /jkstatus has no body" 0 \
	"$(ccurl -I -o /dev/null -w '%{size_download}' "http://$lb/jkstatus")"
kill "$XJKD_PID"
