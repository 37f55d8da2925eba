#!/usr/bin/env bash
# Every performance figure of docs/performance.md in one run, side by side
# with its goal (issue 5). Needs ../shared (or STET_SHARED), git, python3,
# xmllint (libxml2-utils), bc and GNU time, and the default build
# (RelWithDebInfo: -O2):
#   cmake -S . -B build && cmake --build build -j2
#   bench/run-all.sh [build]
# STET_BENCH_BIG sets the large archive of the scaling benchmark, bare
# archives (default 1000000 articles: about 25 minutes to fill);
# STET_BENCH_WORKTREE_BIG=N measures archives with a work tree too (hours
# to fill at 300000: their git index grows); STET_BENCH_ARCHIVES=DIR keeps
# filled archives for later runs; STET_BENCH_TRACE=FILE appends every
# timed run of the key-cache cycles to FILE (scaling.sh: feed, then
# backfill).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(realpath "${1:-build}")
BIG=${STET_BENCH_BIG:-1000000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# a copy, so that rebuilding during a long run cannot change the binary
cp "$BUILD/stet" "$out/stet"

section() { printf '\n== %s\n' "$1"; }
# wait (up to 5 minutes) until making files is quick again: 1,000 small
# files in fresh folders take ~0.1 s on a settled file system, seconds
# right after a benchmark removed its archives
settle() {
	local d t i
	for i in $(seq 30); do
		d=$(mktemp -d)
		t=$( { /usr/bin/time -f %e python3 -c '
import os, sys
for i in range(1000):
    p = "%s/%d/%d" % (sys.argv[1], i % 40, i % 12)
    os.makedirs(p, exist_ok=True)
    open("%s/%d" % (p, i), "w").write("x" * 4000)
' "$d"; } 2>&1)
		rm -rf "$d"
		[ "$(echo "$t < 0.5" | bc)" = 1 ] && return 0
		sleep 10
	done
	echo "(the file system stayed slow: the figures below may be too)"
}
# the scaling benchmark first: on ext4 (these machines) making files is
# slow for minutes after many were deleted, which the other benchmarks do
# when they clean up; a run of it right after them measured its small
# archive 70 % slower. It deletes its own archives too: the others wait
# for the file system to settle (in the sixth session the corpus ingest
# with a work tree, right after it, took twice its time alone)
section "cost per article: bare archive of $BIG vs 10,000 articles, runs of one new day (feed)"
"$HERE/scaling.sh" "$out/stet" 10000 "$BIG" 2000 bare feed | tee "$out/scaling"
section "the same, runs dated at random over the archive's 25 years (backfill)"
"$HERE/scaling.sh" "$out/stet" 10000 "$BIG" 2000 bare backfill | tee "$out/scaling-backfill"
WBIG=${STET_BENCH_WORKTREE_BIG:-}
if [ -n "$WBIG" ]; then
	section "cost per article: archive with a work tree of $WBIG vs 10,000 articles"
	"$HERE/scaling.sh" "$out/stet" 10000 "$WBIG" 2000 worktree | tee "$out/scaling-wt"
fi
settle
section "canonicalize pages vs libxml2's parse alone"
"$HERE/canon-vs-parse.sh" "$out/stet" 7 | tee "$out/canon"
section "stet ingest vs git fast-import (the 2,906 corpus posts)"
"$HERE/ingest-vs-fast-import.sh" "$out/stet" 5 | tee "$out/ingest"
section "simhash index"
"$BUILD/stet-bench-index" 1000000 10000000 | tee "$out/index"

field() { grep -m1 "$2" "$out/$1" | grep -oE "$3" | head -1; }
section "summary"
printf '%-44s %12s   %s\n' "figure" "measured" "goal"
printf '%-44s %12s   %s\n' "canon / libxml2 parse" "$(field canon 'ratio' '[0-9]+\.[0-9]+')x" "<= 1.5x"
printf '%-44s %12s   %s\n' "  median of the pairs, taken in turn" "$(field canon 'median ratio' '[0-9]+\.[0-9]+$')x" ""
printf '%-44s %12s   %s\n' "stet ingest / git fast-import" "$(field ingest 'ratio stet/' '[0-9]+\.[0-9]+')x" "<= 0.5x"
printf '%-44s %12s   %s\n' "stet ingest, bare archive / git fast-import" "$(field ingest 'ratio stet --bare' '[0-9]+\.[0-9]+')x" "<= 0.5x"
printf '%-44s %12s   %s\n' "  median of the rounds, taken in turn" "$(field ingest 'median of the' 'turn: [0-9]+\.[0-9]+' | grep -oE '[0-9.]+$')x" ""
printf '%-44s %12s   %s\n' "  the same, bare archive" "$(field ingest 'median of the' 'bare [0-9]+\.[0-9]+' | grep -oE '[0-9.]+$')x" ""
printf '%-44s %12s   %s\n' "ingest of the corpus, seconds" "$(field ingest 'stet ingest (' '[0-9]+\.[0-9]+ s')" ""
printf '%-44s %12s   %s\n' "ingest of the corpus, bare archive, seconds" "$(field ingest 'stet ingest, bare' '[0-9]+\.[0-9]+ s')" ""
printf '%-44s %12s   %s\n' "peak memory, ingest of the corpus" "$(field ingest 'peak memory' '[0-9]+ MB')" ""
printf '%-44s %12s   %s\n' "per-article cost, bare, $BIG vs 10,000, feed" "$(field scaling 'per-article cost,' 'articles: [0-9]+\.[0-9]+' | grep -oE '[0-9.]+$')x" "<= 1.2x"
printf '%-44s %12s   %s\n' "  over full key-cache cycles" "$(field scaling 'full key-cache cycles,' 'articles: [0-9]+\.[0-9]+' | grep -oE '[0-9.]+$')x" "<= 1.2x"
printf '%-44s %12s   %s\n' "  backfill (worst case, no goal): one batch" "$(field scaling-backfill 'per-article cost,' 'articles: [0-9]+\.[0-9]+' | grep -oE '[0-9.]+$')x" ""
printf '%-44s %12s   %s\n' "  backfill: over full key-cache cycles" "$(field scaling-backfill 'full key-cache cycles,' 'articles: [0-9]+\.[0-9]+' | grep -oE '[0-9.]+$')x" ""
[ -z "$WBIG" ] || printf '%-44s %12s   %s\n' "per-article cost, work tree, $WBIG vs 10,000" "$(field scaling-wt 'per-article cost,' 'articles: [0-9]+\.[0-9]+' | grep -oE '[0-9.]+$')x" "<= 1.2x"
printf '%-44s %12s   %s\n' "peak memory, batch into $BIG" "$(grep 'peak memory' "$out/scaling" | tail -1 | grep -oE '[0-9]+ MB$')" ""
printf '%-44s %12s   %s\n' "index lookup at 1M (median)" "$(awk '$1==1000000 {print $2" µs"}' "$out/index")" "<= 5 µs"
printf '%-44s %12s   %s\n' "index lookup at 10M (median)" "$(awk '$1==10000000 {print $2" µs"}' "$out/index")" "<= 20 µs"
printf '%-44s %12s   %s\n' "index bytes per article at 10M" "$(awk '$1==10000000 {print $NF}' "$out/index")" "<= 48"
