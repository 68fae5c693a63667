#!/bin/sh
# Runs one libFuzzer harness for a while from its seeds; fails on any finding (crash, sanitizer report,
# leak, timeout of one input, out-of-memory).
# Usage: run_fuzzer.sh HARNESS SECONDS MAX_LEN CORPUS_DIR SEED_DIR ARTIFACT_DIR [libFuzzer options...]
# New inputs go to CORPUS_DIR, which is kept between runs; findings go to ARTIFACT_DIR.
set -e
harness=$1 seconds=$2 max_len=$3 corpus=$4 seeds=$5 artifacts=$6
shift 6
mkdir -p "$corpus" "$artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec "$harness" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$(basename "$harness")-" "$@" "$corpus" "$seeds"
