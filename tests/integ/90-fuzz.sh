#!/bin/bash
# 90-fuzz.sh: a short libFuzzer pass in CI: every harness in tests/fuzz/ for
# XJK_FUZZ_SECONDS (default 10) from its seed corpus. Long runs: make fuzz.
set -u
cd "$(dirname "$0")/../.."
b=${B:-build}
mkdir -p "$b"
if ! make -s B="$b" fuzz-build >"$b/fuzz-build.log" 2>&1; then
	echo "not ok - fuzz harnesses build"
	tail -20 "$b/fuzz-build.log"
	exit 1
fi
echo "ok - fuzz harnesses build"
tests/fuzz/run.sh "$b/fuzz" "${XJK_FUZZ_SECONDS:-10}"
