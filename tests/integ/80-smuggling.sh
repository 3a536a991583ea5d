#!/bin/bash
# 80-smuggling.sh: the request-smuggling and invalid-request matrix
# (tools/security/cases.sh) against xjkd: for each case the statuses xjkd
# answers and whether it closes the connection, and, over all cases, that
# only the requests xjkd answered 200 reached the backend (nothing smuggled
# past it). HAProxy's and nginx's answers: tools/security/matrix.sh,
# docs/security.md.
. "$(dirname "$0")/lib.sh"
. "$XJK_ROOT/tools/security/cases.sh"

[ -x "$XJKD" ] || { not_ok "xjkd binary $XJKD exists"; exit 1; }
lab_up 1 || { not_ok "lab_up"; exit 1; }
lab_bg t1 "$LAB_DIR/backend.log" python3 "$XJK_ROOT/tools/hostile/ajp_hostile.py" 8009
lab_wait_port t1 8009 10 || { not_ok "AJP backend on t1"; exit 1; }
lb=$(lab_ip lb)
cat >"$LAB_DIR/xjk.conf" <<EOF
Listen $lb:80
JkWorkerProperty worker.list=app
JkWorkerProperty worker.app.host=$(lab_ip t1)
JkWorkerProperty worker.app.port=8009
JkMount /* app
XjkMaxHeaderSize 8192
XjkControlSocket off
EOF
xjkd_start "$LAB_DIR/xjk.conf" 80 || { not_ok "xjkd starts"; exit 1; }

answered=0
n=0
while IFS= read -r name; do
	n=$((n + 1))
	want=$(smuggle_expected "$name")
	got=$(smuggle_probe client "$lb" 80 "$name")
	expect_eq "smuggling: $name -> $want" "$want" "$got"
	answered=$((answered + $(grep -o 200 <<<"$got" | wc -l)))
done < <(smuggle_names)
check "the matrix has at least 40 cases ($n)" test "$n" -ge 40
expect_eq "only the requests answered 200 reached the backend" "$answered" "$(grep -c . "$LAB_DIR/backend.log")"
check "xjkd still running" lab_alive "$XJKD_PID"
