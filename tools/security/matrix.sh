#!/bin/bash
# matrix.sh: runs the request-smuggling matrix (cases.sh) against xjkd,
# HAProxy and nginx in a lab, each with its defaults in front of a backend on
# t1 (an AJP13 container for xjkd, an HTTP server for the peers; both are
# tools/hostile servers answering 200), and rewrites the table between the
# matrix markers of docs/security.md.
#   tools/security/matrix.sh [B=build dir via env]
set -u
. "$(dirname "$0")/../../tests/integ/lib.sh"
. "$XJK_ROOT/tools/security/cases.sh"
DOC=$XJK_ROOT/docs/security.md

lab_up 1 || exit 1
t1=$(lab_ip t1)
lb=$(lab_ip lb)
lab_bg t1 "$LAB_DIR/ajp.log" python3 "$XJK_ROOT/tools/hostile/ajp_hostile.py" 8009
lab_bg t1 "$LAB_DIR/http.log" python3 "$XJK_ROOT/tools/hostile/http_hostile.py" 8080
cat >"$LAB_DIR/xjk.conf" <<EOF
Listen $lb:80
JkWorkerProperty worker.list=app
JkWorkerProperty worker.app.host=$t1
JkWorkerProperty worker.app.port=8009
JkMount /* app
XjkMaxHeaderSize 8192
XjkControlSocket off
EOF
cat >"$LAB_DIR/haproxy.cfg" <<EOF
defaults
	mode http
	timeout connect 2s
	timeout client 5s
	timeout server 5s
frontend fe
	bind $lb:81
	default_backend be
backend be
	server s1 $t1:8080
EOF
mkdir -p "$LAB_DIR/nginx/logs"
cat >"$LAB_DIR/nginx/nginx.conf" <<EOF
pid $LAB_DIR/nginx/nginx.pid;
events {}
http {
	access_log off;
	upstream be { server $t1:8080; keepalive 8; }
	server {
		listen $lb:82;
		location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; }
	}
}
EOF
lab_bg lb "$LAB_DIR/xjkd.log" "$XJKD" -c "$LAB_DIR/xjk.conf"
lab_bg lb "$LAB_DIR/haproxy.log" haproxy -db -f "$LAB_DIR/haproxy.cfg"
lab_bg lb "$LAB_DIR/nginx.log" nginx -p "$LAB_DIR/nginx" -e "$LAB_DIR/nginx/error.log" \
	-c "$LAB_DIR/nginx/nginx.conf" -g 'daemon off;'
for p in 80 81 82; do
	lab_wait_port lb $p 10 || exit 1
done
lab_wait_port t1 8009 10 && lab_wait_port t1 8080 10 || exit 1

table=$LAB_DIR/table.md
{
	echo "| # | case | xjkd expected | xjkd | HAProxy $(haproxy -v | sed -n '1s/.*version \([^ ]*\).*/\1/p') | nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') |"
	echo "|---|---|---|---|---|---|"
	i=0
	while IFS= read -r name; do
		i=$((i + 1))
		row="| $i | $name | $(smuggle_expected "$name")"
		for p in 80 81 82; do
			row="$row | $(smuggle_probe client "$lb" $p "$name")"
		done
		echo "$row |"
	done < <(smuggle_names)
} >"$table"
cat "$table"
awk -v t="$table" '
	/<!-- matrix:begin -->/ { print; while ((getline l < t) > 0) print l; skip = 1; next }
	/<!-- matrix:end -->/ { skip = 0 }
	!skip' "$DOC" >"$DOC.new" && mv "$DOC.new" "$DOC"
