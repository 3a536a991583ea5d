#!/bin/bash
# bench-http.sh: HTTP front ends side by side on a small static page: direct
# Tomcat, Apache + mod_jk (the seed's setup), HAProxy, nginx and xjkd with the
# seed's configuration. Writes the "http" section of docs/performance.md.
# Settings: see tools/bench/lib.sh (XJK_BENCH_*).
#
# Two more front ends for an A/B in one run, measured only when listed in
# XJK_BENCH_FRONTENDS: xjkd_base runs the xjkd binary at $XJKD_BASE (another
# build) on the same configuration, xjkd_1loop this build with XjkThreads 1.
set -u
. "$(dirname "$0")/lib.sh"

fe_xjkd_base_start() {
	mkdir -p "$LAB_DIR/xjkd_base"
	bench_fe_run xjkd_base "${XJKD_BASE:?XJKD_BASE names the build to compare}" \
		-c "$LAB_DIR/seed/xjk.conf"
}

fe_xjkd_1loop_start() {
	mkdir -p "$LAB_DIR/xjkd_1loop"
	cp -r "$LAB_DIR/seed/." "$LAB_DIR/xjkd_1loop/" &&
		echo "XjkThreads 1" >>"$LAB_DIR/xjkd_1loop/xjk.conf" || return 1
	bench_fe_run xjkd_1loop "$XJKD" -c "$LAB_DIR/xjkd_1loop/xjk.conf"
}

bench_compare http "HTTP front ends, ${XJK_BENCH_URL:-/1k.html}"
