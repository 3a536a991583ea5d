#!/bin/bash
# Runs a test tier and ends with one summary line: "N passed, N failed".
#   tests/run.sh unit    cmocka binaries in build/tests/ (no root)
#   tests/run.sh integ   tests/integ/*.sh (root: BPF_PROG_RUN, netns, real Tomcats)
#   tests/run.sh all     both
# Integration scripts report each check as "ok - ..." or "not ok - ..." (see tests/integ/lib.sh).
# Set XJK_TESTS="name1 name2" to run only some integration scripts.
set -u
cd "$(dirname "$0")/.."
tier=${1:-all}
out=tests/out
mkdir -p "$out"
passed=0
failed=0

run_unit() {
	local t log p f
	for t in "${B:-build}"/tests/test_*; do
		[ -x "$t" ] || continue
		log="$out/$(basename "$t").log"
		"$t" >"$log" 2>&1
		local rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		p=${p:-0}
		f=${f:-0}
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$f" != 0 ]; then
			echo "FAIL unit $(basename "$t") ($f failed)"
			grep -E '^\[  (FAILED|ERROR)|Failure|error' "$log" | head -20
		else
			echo "ok   unit $(basename "$t") ($p tests)"
		fi
	done
}

run_integ() {
	local s name log p f
	if [ "$(id -u)" != 0 ]; then
		echo "integration tests need root (network namespaces, BPF)" >&2
		failed=$((failed + 1))
		return
	fi
	for s in tests/integ/[0-9]*.sh; do
		name=$(basename "$s" .sh)
		if [ -n "${XJK_TESTS:-}" ] && ! [[ " $XJK_TESTS " == *" ${name#*-} "* || " $XJK_TESTS " == *" $name "* ]]; then
			continue
		fi
		log="$out/$name.log"
		echo "---- $name"
		timeout --foreground -k 10 900 bash "$s" >"$log" 2>&1
		local rc=$?
		p=$(grep -c '^ok - ' "$log")
		f=$(grep -c '^not ok - ' "$log")
		grep -E '^(not )?ok - ' "$log"
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			echo "not ok - $name exited with status $rc"
			tail -20 "$log"
			f=1
		elif [ "$f" != 0 ]; then
			tail -30 "$log"
		fi
		passed=$((passed + p))
		failed=$((failed + f))
	done
}

case "$tier" in
unit) run_unit ;;
integ) run_integ ;;
all) run_unit; run_integ ;;
*) echo "usage: $0 unit|integ|all" >&2; exit 2 ;;
esac
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
