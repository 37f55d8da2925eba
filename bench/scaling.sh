#!/usr/bin/env bash
# Does a run cost more per article when the archive is large? Fills two
# archives with synthetic posts (bench/synthetic-articles.py, in chunks),
# then ingests the same batch of new synthetic posts into each (after a
# first batch that is not timed) and prints
# the cost per article, the fixed cost of a run that changes nothing (what
# loading the archive's state costs) and peak memory; then the cost per
# article over full cycles of the key cache (below, cycles()), which holds
# the snapshot writes that come every few runs. Goal (issue 5): big
# per-article cost <= 1.2x small, for both.
#   bench/scaling.sh [build/stet] [SMALL=10000] [BIG=1000000] [BATCH=2000] [bare|worktree] [feed|backfill]
# The archives' posts are dated at random over 2000-2024. The timed runs'
# new posts are dated as a feed delivers them (feed, the default: each
# run's posts are one new day's, from 2025-01-01 on, as a scheduled run
# over scrapers' output finds them), or at random over the same 25 years
# as the archive's (backfill: each run then rewrites ~2,000 day folders
# spread over the whole tree, and at 1,000,000 articles most of those
# folders exist already and are read, at 10,000 most do not).
# Filling takes time: about 1 ms an article on a 2-core machine (1,000,000
# in 853 s, the nineteenth session; 5 to 10 ms in the first ones). With
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
DATES=${6:-feed}
# dated DAY: generator options dating a set of posts from DAY on (feed)
case $DATES in
feed) dated() { echo "--dated $(date -u -d "2025-01-01 + $1 days" +%F) --per-day $BATCH"; } ;;
backfill) dated() { :; } ;;
*) echo "scaling.sh: DATES is feed or backfill, not '$DATES'" >&2; exit 2 ;;
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

SERIES=${STET_BENCH_SERIES:-20} # the fewest runs of full cycles at each size
# STET_BENCH_TRACE=FILE: each timed run of the cycles appended to FILE as
# "size step seconds [small] [middle] [big]" (the snapshots it wrote)
TRACE=${STET_BENCH_TRACE:-}
REPEAT=${STET_BENCH_REPEAT:-7} # batches timed, with kept archives
python3 "$GEN" "$inputs/batch" "$BATCH" --start 100000000 $(dated 1)
python3 "$GEN" "$inputs/warm" "$BATCH" --start 200000000 $(dated 0)
python3 "$GEN" "$inputs/probe" 1 --start 0
declare -A per fixed rss series times

# a copy of archive $1 in $2 that runs can write: packs hard-linked (never
# written in place), every other file copied; the packs' pages read first,
# as cp -a does
copy_of() {
	rm -rf "$2"
	cp -al "$1" "$2"
	find "$2" -type f ! -path '*/objects/pack/pack-*' -exec sh -c 'cp -p "$1" "$1.c" && mv "$1.c" "$1"' _ {} \;
	cat "$2"/objects/pack/* "$2"/.git/objects/pack/* >/dev/null 2>&1 || true
	sync
}

# Full cycles of the key cache (docs/format.md): each on a fresh copy of
# archive n's filled state, from a big snapshot merge (forced, by a run
# of one article) to the run that next merges the big snapshot, batches
# of new posts in between; cycles until at least SERIES runs were timed.
# So every cost that comes now and then is in, at its own rate: the
# journal's growth, small snapshots written every few runs (growing to
# N/32 entries), middle ones every N/32 articles (growing to N/4), the big
# merge every N/4 articles (at 1,000,000 about 125 runs; at 10,000, with
# no small or middle snapshot, every 2 or 3). The two sizes'
# runs are taken in turn (cycle_step), the small one cycling on until the
# big one's cycles are done: this VM's speed swings by a third from one
# minute to the next, and the big size's cycle (~30 s) after the small
# one's once measured the swing (0.22 ms an article at 10,000 in a quick
# minute, 1.83x). Per size n: ctotal (seconds), cruns, ccycles, ctops,
# cmids, cslowest, cforced.
declare -A ctotal cruns ccycles ctops cmids cslowest cforced cstep cmost cgoing
cycle_start() {
	local n=$1 src s e
	[ -n "$KEEP" ] && src="$KEEP/$P$n" || src="$tmp/$P$n"
	copy_of "$src" "$tmp/cyc-$n"
	"$STET" -C "$tmp/cyc-$n" ingest "$inputs/warm" >/dev/null 2>&1
	# the forced merge: a run whose opening finds the journal past its
	# limit (0) and writes a big snapshot; its input is unchanged, so
	# it has no checkpoint to write another
	python3 "$GEN" "$inputs/one-$n-${ccycles[$n]}" 1 --start $((400000000 + ${ccycles[$n]}))
	"$STET" -C "$tmp/cyc-$n" ingest "$inputs/one-$n-${ccycles[$n]}" >/dev/null 2>&1
	s=$(now)
	STET_SNAPSHOT_AFTER=0 STET_SNAPSHOT_TOP=0 STET_SNAPSHOT_MID=0 "$STET" -C "$tmp/cyc-$n" ingest "$inputs/one-$n-${ccycles[$n]}" >/dev/null 2>&1
	e=$(now)
	cforced[$n]=$(echo "$e - $s" | bc)
	cmost[$n]=$(((n / 4 > 4096 ? n / 4 : 4096) * 2 / BATCH + 16)) # runs a cycle may take
	cgoing[$n]=1
}
# one timed run of size n's cycle (a new cycle begun first if none is
# going); true when the run merged the big snapshot, ending the cycle
cycle_step() {
	local n=$1 i sd before tbefore mbefore s e t wrote
	[ "${cgoing[$n]}" = 1 ] || cycle_start "$n"
	[ "$MODE" = bare ] && sd="$tmp/cyc-$n/stet" || sd="$tmp/cyc-$n/.git/stet"
	i=$((${cstep[$n]} + 1))
	cstep[$n]=$i
	[ -d "$inputs/series/$i" ] || python3 "$GEN" "$inputs/series/$i" "$BATCH" --start $((300000000 + i * BATCH)) $(dated $((i + 1)))
	before=$(ls "$sd" | grep '^snapshot-' || true)
	tbefore=$(ls "$sd" | grep '^top-' || true)
	mbefore=$(ls "$sd" | grep '^mid-' || true)
	s=$(now); "$STET" -C "$tmp/cyc-$n" ingest "$inputs/series/$i" >/dev/null 2>&1; e=$(now)
	t=$(echo "$e - $s" | bc)
	ctotal[$n]=$(echo "${ctotal[$n]} + $t" | bc)
	cslowest[$n]=$(echo "if ($t > ${cslowest[$n]}) $t else ${cslowest[$n]}" | bc)
	cruns[$n]=$((${cruns[$n]} + 1))
	# what the run wrote: " small", " middle", " big", or nothing
	wrote=""
	[ "$(ls "$sd" | grep '^top-' || true)" = "$tbefore" ] || wrote="$wrote small"
	[ "$(ls "$sd" | grep '^mid-' || true)" = "$mbefore" ] || wrote="$wrote middle"
	[ "$(ls "$sd" | grep '^snapshot-' || true)" = "$before" ] || wrote="$wrote big"
	case $wrote in *small*) ctops[$n]=$((${ctops[$n]} + 1)) ;; esac
	case $wrote in *middle*) cmids[$n]=$((${cmids[$n]} + 1)) ;; esac
	[ -z "$TRACE" ] || printf '%d %d %s%s\n' "$n" "$i" "$t" "$wrote" >>"$TRACE"
	if [ "${wrote%big}" != "$wrote" ]; then
		ccycles[$n]=$((${ccycles[$n]} + 1))
		cgoing[$n]=0
		return 0
	fi
	cmost[$n]=$((${cmost[$n]} - 1))
	[ "${cmost[$n]}" -gt 0 ] || { echo "scaling.sh: no big snapshot merge in a cycle's most runs at $n articles" >&2; exit 1; }
	return 1
}
cycles_both() {
	local n done_small=0 done_big=0
	for n in "$SMALL" "$BIG"; do
		ctotal[$n]=0 cruns[$n]=0 ccycles[$n]=0 ctops[$n]=0 cmids[$n]=0 cslowest[$n]=0 cforced[$n]=0 cstep[$n]=0 cgoing[$n]=0
	done
	while [ "$done_small" = 0 ] || [ "$done_big" = 0 ]; do
		if [ "$done_big" = 0 ] && cycle_step "$BIG" && [ "${cruns[$BIG]}" -ge "$SERIES" ]; then
			done_big=1
		fi
		if [ "$done_small" = 0 ] && cycle_step "$SMALL" && [ "${cruns[$SMALL]}" -ge "$SERIES" ] && [ "$done_big" = 1 ]; then
			done_small=1
		fi
	done
	rm -rf "$tmp/cyc-$SMALL" "$tmp/cyc-$BIG"
	for n in "$SMALL" "$BIG"; do
		series[$n]=$(echo "scale=6; ${ctotal[$n]} * 1000 / (${cruns[$n]} * $BATCH)" | bc)
		printf '%s archive of %d, %s dates: full key-cache cycles: %d runs of %d new articles in %d cycles, each from a big snapshot merge to the next: %.2f ms/article; %d runs wrote a small snapshot, %d a middle one; slowest run %.2f s (a big merge); a forced big merge alone %.2f s (last cycle)\n' \
			"$MODE" "$n" "$DATES" "${cruns[$n]}" "$BATCH" "${ccycles[$n]}" "${series[$n]}" "${ctops[$n]}" "${cmids[$n]}" "${cslowest[$n]}" "${cforced[$n]}"
	done
}
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
	# the copy stays until the end: deleting its thousands of files made
	# ext4's inode allocation slow for the next archive's run
done
[ "$SERIES" = 0 ] || cycles_both
# with kept archives, the same batch again into more copies (packs
# hard-linked, never written; their pages read first, as cp -a does), the
# sizes in turn: one batch on this VM varies by 15 % or more, and for
# minutes at a time, so the median counts
if [ -n "$KEEP" ]; then
	for r in $(seq 2 "$REPEAT"); do
		for n in "$SMALL" "$BIG"; do
			copy_of "$KEEP/$P$n" "$tmp/rep"
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
	printf '%s archive of %d, %s dates: batch of %d new articles: %.2f s, %.2f ms/article (median of: %s); empty run %.2f s; peak memory %d MB\n' \
		"$MODE" "$n" "$DATES" "$BATCH" "$t" "${per[$n]}" "${times[$n]}" "${fixed[$n]}" "$((rss[$n] / 1024))"
done
printf 'per-article cost, %s, %s dates, at %d vs %d articles: %.2f (goal <= 1.2)\n' "$MODE" "$DATES" "$BIG" "$SMALL" \
	"$(echo "${per[$BIG]} / ${per[$SMALL]}" | bc -l)"
[ "$SERIES" = 0 ] || printf 'per-article cost over full key-cache cycles, %s, %s dates, at %d vs %d articles: %.2f (goal <= 1.2)\n' "$MODE" "$DATES" \
	"$BIG" "$SMALL" "$(echo "${series[$BIG]} / ${series[$SMALL]}" | bc -l)"
