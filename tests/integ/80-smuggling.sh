#!/bin/bash
# 80-smuggling.sh: the request-smuggling and invalid-request matrix
# (tools/security/cases.sh) against xjkd: for each case the statuses xjkd
# answers and whether it closes the connection, and, over all cases, that
# only the requests xjkd answered 200 reached the backend (nothing smuggled
# past it). HAProxy's and nginx's answers: tools/security/matrix.sh,
# docs/security.md.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-hostile.sh"
. "$XJK_ROOT/tools/security/cases.sh"

[ -x "$XJKD" ] || { not_ok "xjkd binary $XJKD exists"; exit 1; }
hostile_lab_up || exit 1
lb=$(lab_ip lb)
echo "XjkMaxHeaderSize 8192" >>"$LAB_DIR/xjk.conf"
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
