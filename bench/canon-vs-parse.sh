#!/usr/bin/env bash
# Time `stet canon --body` over the extraction benchmark's pages against
# libxml2 parsing the same pages alone (`xmllint --html --noout`), each as
# one process over all pages, best of N runs, the two taken in turn (this
# VM's speed swings by half from one second to the next: seven runs of
# one and then seven of the other measured the swing as often as the
# programs). Prints both, the ratio of the bests and the median of the
# ratios of each pair. The goal (issue 2): canon within 1.5x of the parse
# alone.
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

secs() { # wall time in seconds of "$@"
	local s e
	s=$(date +%s.%N)
	"$@" > /dev/null 2>&1 || true
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
parse=999999 canon=999999 ratios=
for _ in $(seq "$RUNS"); do
	p=$(secs xmllint --html --noout "$tmp"/*.html)
	c=$(secs "$STET" canon --body "$tmp"/*.html)
	parse=$(echo "if ($p < $parse) $p else $parse" | bc)
	canon=$(echo "if ($c < $canon) $c else $canon" | bc)
	ratios="$ratios $(echo "$c / $p" | bc -l)"
done
median=$(printf '%s\n' $ratios | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
printf 'pages: %d (%.1f MB)\n' "$n" "$(echo "$bytes / 1000000" | bc -l)"
printf 'xmllint --html --noout: %.3f s\n' "$parse"
printf 'stet canon --body:      %.3f s\n' "$canon"
printf 'ratio canon/parse:      %.2f (goal <= 1.5)\n' "$(echo "$canon / $parse" | bc -l)"
printf 'median ratio of the %d pairs: %.2f\n' "$RUNS" "$median"
