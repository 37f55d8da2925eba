#!/usr/bin/env bash
# Time `stet canon --body` over the extraction benchmark's pages against
# libxml2 parsing the same pages alone (`xmllint --html --noout`), each as
# one process over all pages, best of N runs. Prints both and the ratio.
# The goal (issue 2): canon within 1.5x of the parse alone.
#   bench/canon-vs-parse.sh [build/stet] [runs]
set -euo pipefail
STET=${1:-build/stet}
RUNS=${2:-7}
SHARED=${STET_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
PAGES=$SHARED/bench/extraction/html
[ -d "$PAGES" ] || { echo "no pages at $PAGES" >&2; exit 1; }
command -v xmllint >/dev/null || { echo "xmllint missing: apt-get install libxml2-utils" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$PAGES"/*.html.gz; do zcat "$f" > "$tmp/$(basename "$f" .gz)"; done
n=$(ls "$tmp" | wc -l)
bytes=$(cat "$tmp"/*.html | wc -c)

best() { # best wall time in seconds of RUNS runs of "$@"
	local b=999999 s e t
	for _ in $(seq "$RUNS"); do
		s=$(date +%s.%N)
		"$@" > /dev/null 2>&1 || true
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		b=$(echo "if ($t < $b) $t else $b" | bc)
	done
	echo "$b"
}
parse=$(best xmllint --html --noout "$tmp"/*.html)
canon=$(best "$STET" canon --body "$tmp"/*.html)
printf 'pages: %d (%.1f MB)\n' "$n" "$(echo "$bytes / 1000000" | bc -l)"
printf 'xmllint --html --noout: %.3f s\n' "$parse"
printf 'stet canon --body:      %.3f s\n' "$canon"
printf 'ratio canon/parse:      %.2f (goal <= 1.5)\n' "$(echo "$canon / $parse" | bc -l)"
