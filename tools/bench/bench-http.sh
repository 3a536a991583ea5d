#!/bin/bash
# bench-http.sh: HTTP front ends side by side on a small static page: direct
# Tomcat, Apache + mod_jk (the seed's setup), HAProxy, nginx and xjkd with the
# seed's configuration. Writes the "http" section of docs/performance.md.
# Settings: see tools/bench/lib.sh (XJK_BENCH_*).
set -u
. "$(dirname "$0")/lib.sh"
bench_compare http "HTTP front ends, ${XJK_BENCH_URL:-/1k.html}"
