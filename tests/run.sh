#!/bin/bash
# Runs a test tier and ends with one summary line: "N passed, N failed".
#   tests/run.sh unit    cmocka binaries in build/tests/ (no root)
#   tests/run.sh integ   tests/integ/*.sh (root: BPF_PROG_RUN, netns, real Tomcats)
#   tests/run.sh all     both
# Integration scripts report each check as "ok - ..." or "not ok - ..." (see tests/integ/lib.sh).
# Set XJK_TESTS="name1 name2" to run only some integration scripts, XJK_OUT
# for another log directory than tests/out, XJK_TIMEOUT for another limit per
# script than 900 s.
# Sanitizer and valgrind reports (an ASan+UBSan build, or XJKD_WRAP=valgrind,
# see tests/integ/lib.sh) go to a directory per script instead of the
# processes' stderr, so a report of an xjkd running in the background is not
# lost in a log nobody reads: each report is a "not ok".
set -u
cd "$(dirname "$0")/.."
tier=${1:-all}
out=${XJK_OUT:-tests/out}
mkdir -p "$out"
passed=0
failed=0
reports=$(mktemp -d /tmp/xjk-reports.XXXXXX)
# Searchable by the unprivileged user xjkd may switch to (XjkUser).
chmod 755 "$reports"
trap 'rm -rf "$reports"' EXIT
asan_options=${ASAN_OPTIONS:-}
ubsan_options=${UBSAN_OPTIONS:-}
sanitized=$(ldd "${B:-build}/xjkd" 2>/dev/null | grep -c libasan)

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

# reports_begin NAME: a fresh report directory for NAME's processes.
reports_begin() {
	export XJK_REPORTS=$reports/$1
	mkdir -p "$XJK_REPORTS"
	chmod 1777 "$XJK_REPORTS"
	export ASAN_OPTIONS="log_path=$XJK_REPORTS/asan${asan_options:+:$asan_options}"
	export UBSAN_OPTIONS="log_path=$XJK_REPORTS/ubsan:halt_on_error=1:print_stacktrace=1${ubsan_options:+:$ubsan_options}"
}

# reports_check NAME: one result line for what sanitizers and valgrind
# reported while NAME ran (none without a sanitized build or a wrap, unless
# something failed); the reports are kept in tests/out/NAME.reports/.
reports_check() {
	local name=$1 bad n unfinished
	rm -rf "$out/$name.reports"
	# The sanitizers write a file only to report something (an error, a leak,
	# or their own failure), lib.sh keeps the logs that hold a UBSan report
	# (stderr.*), valgrind writes one per process and marks errors.
	bad=$(ls -d "$XJK_REPORTS"/asan.* "$XJK_REPORTS"/ubsan.* "$XJK_REPORTS"/stderr.* 2>/dev/null
		grep -l XJK-VALGRIND-ERROR "$XJK_REPORTS"/valgrind.* 2>/dev/null)
	if [ -n "$bad" ]; then
		cp -r "$XJK_REPORTS" "$out/$name.reports"
		echo "not ok - $name: no sanitizer or valgrind report # $(grep -h -m1 -A1 -E 'ERROR: |runtime error:|Sanitizer|XJK-VALGRIND-ERROR' $bad | grep -v XJK-VALGRIND-ERROR | head -1)"
		for f in $bad; do
			echo "# $out/$name.reports/${f##*/}:"
			grep -v -E '^==[0-9]+== *$' "$f" | head -40 | sed 's/^/# /'
		done
		return 1
	fi
	n=$(ls "$XJK_REPORTS" | grep -c '^valgrind\.')
	if [ "$n" != 0 ]; then
		# A process killed with SIGKILL (by the test, or left to lab_down) has no leak summary.
		unfinished=$(grep -L 'ERROR SUMMARY' "$XJK_REPORTS"/valgrind.* | wc -l)
		echo "ok - $name: valgrind found no error in $n xjkd processes ($unfinished killed before the leak check)"
	elif [ "$sanitized" != 0 ]; then
		echo "ok - $name: no sanitizer report"
	fi
	return 0
}

run_integ() {
	local s name log p f t0
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
		reports_begin "$name"
		t0=$SECONDS
		timeout --foreground -k 10 "${XJK_TIMEOUT:-900}" bash "$s" >"$log" 2>&1
		local rc=$?
		reports_check "$name" >>"$log"
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
		echo "# $name took $((SECONDS - t0)) s"
	done
}

case "$tier" in
unit) run_unit ;;
integ) run_integ ;;
all) run_unit; run_integ ;;
*) echo "usage: $0 unit|integ|all" >&2; exit 2 ;;
esac
echo "$passed passed, $failed failed"
# XJK_TALLY=FILE: make check's passes (plain, sanitized, valgrind) add up
# their counts there, so its last line is the whole run's.
if [ -n "${XJK_TALLY:-}" ]; then
	read -r tp tf 2>/dev/null <"$XJK_TALLY" || { tp=0; tf=0; }
	echo "$((tp + passed)) $((tf + failed))" >"$XJK_TALLY"
	echo "total: $((tp + passed)) passed, $((tf + failed)) failed"
fi
[ "$failed" = 0 ]
