#!/usr/bin/env bash
# `stet ingest` of ../shared/corpus/posts into a fresh archive, against
# `git fast-import` committing the same raw posts one commit each (stream
# from bench/fast-import-stream.py, written beforehand and not timed).
# Best of N runs each. The goal (issues 3 and 5): half of fast-import's time.
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
best_fi=999999 best_stet=999999
for r in $(seq "$RUNS"); do
	rm -rf "$tmp/fi" "$tmp/st"
	git init -q "$tmp/fi"
	s=$(now); git -C "$tmp/fi" fast-import --quiet < "$tmp/stream"; e=$(now)
	best_fi=$(echo "t=$e-$s; if (t < $best_fi) t else $best_fi" | bc)
	"$STET" init "$tmp/st" 2>/dev/null
	s=$(now)
	/usr/bin/time -f %M -o "$tmp/rss" "$STET" -C "$tmp/st" ingest "$POSTS" >/dev/null 2>&1 || [ $? = 3 ]
	e=$(now)
	best_stet=$(echo "t=$e-$s; if (t < $best_stet) t else $best_stet" | bc)
done
commits=$(git -C "$tmp/st" rev-list --count main)
printf 'posts: %d\n' "$n"
printf 'git fast-import (raw posts, one commit each): %.2f s (%.0f posts/s)\n' "$best_fi" "$(echo "$n / $best_fi" | bc -l)"
printf 'stet ingest (canonicalize, decide, commit):    %.2f s (%.0f articles/s, %d commits)\n' "$best_stet" \
	"$(echo "$n / $best_stet" | bc -l)" "$((commits - 1))"
printf 'ratio stet/fast-import: %.2f (goal <= 0.5)\n' "$(echo "$best_stet / $best_fi" | bc -l)"
printf 'peak memory of the stet run: %d MB\n' "$(($(tail -1 "$tmp/rss") / 1024))"
printf 'archive .git: %s; fast-import .git: %s\n' "$(du -sh "$tmp/st/.git" | cut -f1)" "$(du -sh "$tmp/fi/.git" | cut -f1)"
