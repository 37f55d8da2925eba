#!/usr/bin/env bash
# Does a run cost more per article when the archive is large? Fills two
# archives with synthetic posts (bench/synthetic-articles.py, in chunks),
# then ingests the same batch of new synthetic posts into each (after a
# first batch that is not timed) and prints
# the cost per article, the fixed cost of a run that changes nothing (what
# loading the archive's state costs) and peak memory. Goal (issue 5): big
# per-article cost <= 1.2x small.
#   bench/scaling.sh [build/stet] [SMALL=10000] [BIG=1000000] [BATCH=2000]
# Filling takes time: about 5 to 10 ms an article on a 2-core machine. With
# STET_BENCH_ARCHIVES=DIR the filled archives are kept in DIR/aN and reused
# by later runs (the batch always goes into a fresh copy), and the batch is
# timed STET_BENCH_REPEAT times (default 7) on fresh copies, the two sizes
# in turn (so that a slow minute of the VM falls on both): the median.
# The synthetic posts are written to /dev/shm when it is there
# (STET_BENCH_INPUTS=DIR puts them elsewhere), the archives under TMPDIR.
set -euo pipefail
STET=$(realpath "${1:-build/stet}")
SMALL=${2:-10000}
BIG=${3:-1000000}
BATCH=${4:-2000}
MODE=${5:-bare}
case $MODE in
bare) INIT="init --bare" P=b ;;
worktree) INIT=init P=a ;;
*) echo "scaling.sh: MODE is bare or worktree, not '$MODE'" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
GEN="$HERE/synthetic-articles.py"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stet-scaling.XXXXXX")
# the synthetic posts (46,000 files) go to memory (/dev/shm) where there
# is one: removing them from ext4 at the end left the file system slow
# to make files for the benchmarks after this one (docs/performance.md)
if [ -z "${STET_BENCH_INPUTS:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	STET_BENCH_INPUTS=/dev/shm
fi
inputs=$(mktemp -d "${STET_BENCH_INPUTS:-$tmp}/stet-scaling-inputs.XXXXXX")
trap 'rm -rf "$tmp" "$inputs"' EXIT
CHUNK=20000

now() { date +%s.%N; }
fill() { # archive count
	local a=$1 n=$2 done=0 k
	"$STET" $INIT "$a" >/dev/null 2>&1
	while [ "$done" -lt "$n" ]; do
		k=$((n - done < CHUNK ? n - done : CHUNK))
		rm -rf "$inputs/chunk"
		python3 "$GEN" "$inputs/chunk" "$k" --start "$done"
		"$STET" -C "$a" ingest "$inputs/chunk" >/dev/null 2>&1
		done=$((done + k))
	done
	rm -rf "$inputs/chunk"
}

SERIES=${STET_BENCH_SERIES:-20}
REPEAT=${STET_BENCH_REPEAT:-7} # batches timed, with kept archives
python3 "$GEN" "$inputs/batch" "$BATCH" --start 100000000
for i in $(seq "$SERIES"); do
	python3 "$GEN" "$inputs/series/$i" "$BATCH" --start $((300000000 + i * BATCH))
done
python3 "$GEN" "$inputs/warm" "$BATCH" --start 200000000
python3 "$GEN" "$inputs/probe" 1 --start 0
declare -A per fixed rss series amort times
KEEP=${STET_BENCH_ARCHIVES:-}
[ -z "$KEEP" ] || mkdir -p "$KEEP"
for n in "$SMALL" "$BIG"; do
	if [ -n "$KEEP" ] && [ -e "$KEEP/$P$n.filled" ]; then
		printf '%s archive of %d synthetic articles: kept in %s\n' "$MODE" "$n" "$KEEP/$P$n"
	else
		rm -rf "${KEEP:-$tmp}/$P$n"
		s=$(now); fill "${KEEP:-$tmp}/$P$n" "$n"; e=$(now)
		[ -z "$KEEP" ] || touch "$KEEP/$P$n.filled"
		printf '%s archive of %d synthetic articles filled in %.0f s\n' "$MODE" "$n" "$(echo "$e - $s" | bc)"
	fi
	if [ -n "$KEEP" ]; then
		rm -rf "$tmp/$P$n"
		cp -a "$KEEP/$P$n" "$tmp/$P$n"
		sync # the copy's own writing is not the run's
	fi
	# the first run after the copy is not timed: it meets the copy's cold
	# kernel state (a fresh copy of 300,000 files made it 30 % slower) and
	# not an archive in use
	"$STET" -C "$tmp/$P$n" ingest "$inputs/warm" >/dev/null 2>&1
	# a run that changes nothing: the archive's state loaded and checked
	s=$(now); "$STET" -C "$tmp/$P$n" ingest "$inputs/probe" >/dev/null 2>&1; e=$(now)
	fixed[$n]=$(echo "$e - $s" | bc)
	s=$(now)
	/usr/bin/time -f '%M' -o "$tmp/rss" "$STET" -C "$tmp/$P$n" ingest "$inputs/batch" >/dev/null 2>&1
	e=$(now)
	times[$n]=$(echo "$e - $s" | bc)
	rss[$n]=$(cat "$tmp/rss")
	[ "$MODE" = bare ] && sdir="$tmp/$P$n/stet" || sdir="$tmp/$P$n/.git/stet"
	total=0 slowest=0 snaps=0 tops=0 bigtime=0
	for i in $(seq "$SERIES"); do
		before=$(ls "$sdir" | grep '^snapshot-' || true)
		tbefore=$(ls "$sdir" | grep '^top-' || true)
		s=$(now); "$STET" -C "$tmp/$P$n" ingest "$inputs/series/$i" >/dev/null 2>&1; e=$(now)
		t=$(echo "$e - $s" | bc)
		total=$(echo "$total + $t" | bc)
		slowest=$(echo "if ($t > $slowest) $t else $slowest" | bc)
		if [ "$(ls "$sdir" | grep '^snapshot-' || true)" != "$before" ]; then
			snaps=$((snaps + 1))
			bigtime=$(echo "$bigtime + $t" | bc)
		fi
		[ "$(ls "$sdir" | grep '^top-' || true)" = "$tbefore" ] || tops=$((tops + 1))
	done
	if [ "$SERIES" -gt 0 ]; then
		series[$n]=$(echo "scale=6; $total * 1000 / ($SERIES * $BATCH)" | bc)
		printf '  series of %d more batches: %.2f ms/article; slowest run %.2f s; %d wrote a new big snapshot, %d a small one\n' \
			"$SERIES" "${series[$n]}" "$slowest" "$snaps" "$tops"
		amort[$n]=${series[$n]}
		if [ "$n" -ge 65536 ]; then
			# from 65,536 articles the big snapshot is merged once every
			# N/16 added articles (docs/format.md), which a series may not
			# reach: one merge timed (a run of one article), spread over them
			python3 "$GEN" "$inputs/one" 1 --start 400000000
			s=$(now)
			STET_SNAPSHOT_AFTER=0 STET_SNAPSHOT_TOP=0 "$STET" -C "$tmp/$P$n" ingest "$inputs/one" >/dev/null 2>&1
			e=$(now)
			t=$(echo "$e - $s" | bc)
			# the runs of the series that merged the big snapshot count as
			# ordinary runs (the mean of the others): the merge is counted
			# once, at its steady rate, not twice
			[ "$snaps" -lt "$SERIES" ] && other=$(echo "scale=6; ($total - $bigtime) / ($SERIES - $snaps)" | bc) ||
				other=$(echo "scale=6; $total / $SERIES" | bc)
			amort[$n]=$(echo "scale=6; ($total - $bigtime + $snaps * $other) * 1000 / ($SERIES * $BATCH) + $t * 1000 / ($n / 16)" | bc)
			printf '  a big snapshot merge (a run of one article): %.2f s, every %d added articles: %.3f ms/article with it (%d of the series merged it: counted as ordinary runs)\n' \
				"$t" "$((n / 16))" "${amort[$n]}" "$snaps"
		fi
	fi
	# the copy stays until the end: deleting its thousands of files made
	# ext4's inode allocation slow for the next archive's run
done
# with kept archives, the same batch again into more copies (packs
# hard-linked, never written; their pages read first, as cp -a does), the
# sizes in turn: one batch on this VM varies by 15 % or more, and for
# minutes at a time, so the median counts
if [ -n "$KEEP" ]; then
	for r in $(seq 2 "$REPEAT"); do
		for n in "$SMALL" "$BIG"; do
			rm -rf "$tmp/rep"
			cp -al "$KEEP/$P$n" "$tmp/rep"
			find "$tmp/rep" -type f ! -path '*/objects/pack/pack-*' -exec sh -c 'cp -p "$1" "$1.c" && mv "$1.c" "$1"' _ {} \;
			cat "$tmp/rep"/objects/pack/* >/dev/null
			sync
			"$STET" -C "$tmp/rep" ingest "$inputs/warm" >/dev/null 2>&1
			s=$(now); "$STET" -C "$tmp/rep" ingest "$inputs/batch" >/dev/null 2>&1; e=$(now)
			times[$n]="${times[$n]} $(echo "$e - $s" | bc)"
		done
	done
	rm -rf "$tmp/rep"
fi
for n in "$SMALL" "$BIG"; do
	t=$(echo "${times[$n]}" | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
	per[$n]=$(echo "scale=6; $t * 1000 / $BATCH" | bc)
	printf '%s archive of %d: batch of %d new articles: %.2f s, %.2f ms/article (median of: %s); empty run %.2f s; peak memory %d MB\n' \
		"$MODE" "$n" "$BATCH" "$t" "${per[$n]}" "${times[$n]}" "${fixed[$n]}" "$((rss[$n] / 1024))"
done
printf 'per-article cost, %s, at %d vs %d articles: %.2f (goal <= 1.2)\n' "$MODE" "$BIG" "$SMALL" \
	"$(echo "${per[$BIG]} / ${per[$SMALL]}" | bc -l)"
[ "$SERIES" = 0 ] || printf 'per-article cost over the series, %s, at %d vs %d articles: %.2f (goal <= 1.2)\n' "$MODE" \
	"$BIG" "$SMALL" "$(echo "${series[$BIG]} / ${series[$SMALL]}" | bc -l)"
[ "$SERIES" = 0 ] || printf 'per-article cost over the series with big snapshot merges spread, %s, at %d vs %d articles: %.2f (goal <= 1.2)\n' \
	"$MODE" "$BIG" "$SMALL" "$(echo "${amort[$BIG]} / ${amort[$SMALL]}" | bc -l)"
