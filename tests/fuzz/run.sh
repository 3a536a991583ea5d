#!/bin/bash
# run.sh FUZZ_DIR SECONDS: runs every harness built in FUZZ_DIR for SECONDS
# each, starting from its seed corpus, and prints one "ok - " / "not ok - "
# line per harness (the integration runner counts them). A crash leaves its
# input in FUZZ_DIR/crash-NAME-* and the report in FUZZ_DIR/NAME.log.
set -u
cd "$(dirname "$0")/../.."
dir=$1
secs=$2
rc=0
for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	name=${name#fuzz_}
	work=$dir/corpus/$name
	mkdir -p "$work"
	# -rss_limit_mb: a leak or a runaway allocation is a finding, not an OOM kill.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$dir/crash-$name-" "$work" "tests/fuzz/corpus/$name" \
		>"$dir/$name.log" 2>&1
	status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$name.log")
	cov=$(grep -o 'cov: [0-9]*' "$dir/$name.log" | tail -1)
	if [ $status = 0 ]; then
		echo "ok - fuzz $name: ${secs}s, ${runs:-?} runs, ${cov:-cov: ?}, no crash"
	else
		echo "not ok - fuzz $name: exit $status, see $dir/$name.log"
		grep -E 'ERROR|SUMMARY|property failed|Test unit written' "$dir/$name.log" | head -5
		rc=1
	fi
done
exit $rc
