#!/usr/bin/env bash
# `stet ingest` of ../shared/corpus/posts into a fresh archive (one with a
# work tree, and a bare one, which writes no files), against
# `git fast-import` committing the same raw posts one commit each (stream
# from bench/fast-import-stream.py, written beforehand and not timed).
# Best of N runs each, and the median of the rounds' ratios: each round
# times the three in turn, so that a slow or quick minute of the VM falls
# on all of them (fast-import took 2.0-2.8 s on these machines). The goal
# (issues 3 and 5): half of fast-import's time.
#   bench/ingest-vs-fast-import.sh [build/stet] [runs]
set -euo pipefail
STET=$(realpath "${1:-build/stet}")
RUNS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${STET_SHARED:-$(cd "$HERE/../.." && pwd)/shared}
POSTS=$SHARED/corpus/posts
[ -d "$POSTS" ] || { echo "no corpus at $POSTS" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=$(ls "$POSTS" | wc -l)
python3 "$HERE/fast-import-stream.py" "$POSTS" > "$tmp/stream"

now() { date +%s.%N; }
best_fi=999999 best_stet=999999 best_bare=999999
ratios= bare_ratios=
# Each run writes into new folders; the old ones are removed at the end:
# thousands of files deleted just before a timed run make the kernel's
# inode allocation (ext4) several times slower for the files the next run
# makes, which only stet does (fast-import writes one pack).
for r in $(seq "$RUNS"); do
	git init -q "$tmp/fi$r"
	s=$(now); git -C "$tmp/fi$r" fast-import --quiet < "$tmp/stream"; e=$(now)
	t_fi=$(echo "$e - $s" | bc)
	best_fi=$(echo "t=$t_fi; if (t < $best_fi) t else $best_fi" | bc)
	"$STET" init "$tmp/st$r" 2>/dev/null
	sync
	s=$(now)
	/usr/bin/time -f %M -o "$tmp/rss" "$STET" -C "$tmp/st$r" ingest "$POSTS" >/dev/null 2>&1 || [ $? = 3 ]
	e=$(now)
	t_stet=$(echo "$e - $s" | bc)
	best_stet=$(echo "t=$t_stet; if (t < $best_stet) t else $best_stet" | bc)
	"$STET" init --bare "$tmp/bare$r" 2>/dev/null
	sync
	s=$(now)
	"$STET" -C "$tmp/bare$r" ingest "$POSTS" >/dev/null 2>&1 || [ $? = 3 ]
	e=$(now)
	t_bare=$(echo "$e - $s" | bc)
	best_bare=$(echo "t=$t_bare; if (t < $best_bare) t else $best_bare" | bc)
	ratios="$ratios $(echo "$t_stet / $t_fi" | bc -l)"
	bare_ratios="$bare_ratios $(echo "$t_bare / $t_fi" | bc -l)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
[ "$(git -C "$tmp/bare$RUNS" rev-parse 'main^{tree}')" = "$(git -C "$tmp/st$RUNS" rev-parse 'main^{tree}')" ] ||
	{ echo "the bare archive's tree differs from the other's" >&2; exit 1; }
ln -s "st$RUNS" "$tmp/st"
ln -s "fi$RUNS" "$tmp/fi"
commits=$(git -C "$tmp/st" rev-list --count main)
printf 'posts: %d\n' "$n"
printf 'git fast-import (raw posts, one commit each): %.2f s (%.0f posts/s)\n' "$best_fi" "$(echo "$n / $best_fi" | bc -l)"
printf 'stet ingest (canonicalize, decide, commit):    %.2f s (%.0f articles/s, %d commits)\n' "$best_stet" \
	"$(echo "$n / $best_stet" | bc -l)" "$((commits - 1))"
printf 'stet ingest, bare archive (no work tree):      %.2f s (%.0f articles/s)\n' "$best_bare" \
	"$(echo "$n / $best_bare" | bc -l)"
printf 'ratio stet/fast-import: %.2f (goal <= 0.5)\n' "$(echo "$best_stet / $best_fi" | bc -l)"
printf 'ratio stet --bare/fast-import: %.2f (goal <= 0.5)\n' "$(echo "$best_bare / $best_fi" | bc -l)"
# shellcheck disable=SC2086 # the ratios are words
printf 'median of the %d rounds, each taken in turn: %.2f, bare %.2f\n' "$RUNS" "$(median $ratios)" "$(median $bare_ratios)"
printf 'peak memory of the stet run: %d MB\n' "$(($(tail -1 "$tmp/rss") / 1024))"
printf 'archive .git: %s; fast-import .git: %s\n' "$(du -sh "$tmp/st/.git" | cut -f1)" "$(du -sh "$tmp/fi/.git" | cut -f1)"
