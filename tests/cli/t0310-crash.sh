#!/usr/bin/env bash
# Reliability: `stet ingest` of the whole corpus killed with SIGKILL at
# random moments, several times: git fsck --strict is clean after each
# kill, and the run that finishes the work reaches the same tree as an
# uninterrupted run, and the key cache (journal and snapshot) agrees with
# main. Two and three runs started at once (--wait) leave
# the same tree as one run. A bare archive (no work tree) killed the same
# way reaches the same tree too.
. "$(dirname "$0")/lib.sh"
need_shared
POSTS=$STET_SHARED/corpus/posts

new_archive() {
	"$STET" init "$1" 2>/dev/null || return 1
	# frequent checkpoints, so that kills land between and inside them
	sed -i 's/^checkpoint: .*/checkpoint: 150/' "$1/stet.yaml" &&
	git -C "$1" -c user.name=test -c user.email=test@localhost commit -qam "checkpoint every 150"
}

new_archive "$TMP/whole"
t "an uninterrupted run" sh -c '"$1" -C "$2" ingest "$3" 2>/dev/null' _ "$STET" "$TMP/whole" "$POSTS"
want=$(git -C "$TMP/whole" rev-parse 'main^{tree}')

new_archive "$TMP/killed"
seed=${STET_SEED:-$$}
echo "kill moments from seed $seed"
RANDOM=$seed
for i in 1 2 3 4 5 6; do
	delay=$(printf '0.%03d' $((RANDOM % 1000)))
	[ $i -ge 4 ] && delay=$((1 + RANDOM % 3)).$((RANDOM % 10))
	# odd kills with a snapshot written every few hundred records, so
	# that some land while one is written (docs/format.md), small ones
	# over the big one too, and (the third) small ones over middle ones
	if [ $i = 3 ]; then
		STET_SNAPSHOT_AFTER=300 STET_SNAPSHOT_TOP=700 STET_SNAPSHOT_MID=1400 "$STET" -C "$TMP/killed" ingest "$POSTS" 2>/dev/null &
	elif [ $((i % 2)) = 1 ]; then
		STET_SNAPSHOT_AFTER=300 STET_SNAPSHOT_TOP=900 "$STET" -C "$TMP/killed" ingest "$POSTS" 2>/dev/null &
	else
		"$STET" -C "$TMP/killed" ingest "$POSTS" 2>/dev/null &
	fi
	pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	t "fsck --strict clean after kill $i (at ${delay}s)" git -C "$TMP/killed" fsck --strict --no-progress
	t "main is a valid commit after kill $i" git -C "$TMP/killed" rev-parse --verify -q 'main^{commit}'
done
t "the rerun finishes the work" sh -c 'STET_SNAPSHOT_AFTER=300 STET_SNAPSHOT_TOP=900 "$1" -C "$2" ingest "$3" 2>"$2/.git/rerun.err" || { tail -5 "$2/.git/rerun.err"; exit 1; }' _ "$STET" "$TMP/killed" "$POSTS"
t "the key cache agrees with main after the rerun" "$STET" -C "$TMP/killed" fsck
t "the rerun reaches the uninterrupted run's tree" sh -c '[ "$(git -C "$1" rev-parse "main^{tree}")" = "$2" ]' _ "$TMP/killed" "$want"
t "the work tree matches main after the rerun" sh -c '[ -z "$(git -C "$1" status --porcelain)" ]' _ "$TMP/killed"
t "a further run commits nothing" sh -c '
	before=$(git -C "$2" rev-parse main); "$1" -C "$2" ingest "$3" 2>/dev/null && [ "$(git -C "$2" rev-parse main)" = "$before" ]' \
	_ "$STET" "$TMP/killed" "$POSTS"

# main moved during a run (a push, a commit): the run stops at its next
# checkpoint instead of moving main over it; the next run goes on from there
new_archive "$TMP/moved"
sed -i 's/^checkpoint: .*/checkpoint: 20/' "$TMP/moved/stet.yaml"
git -C "$TMP/moved" -c user.name=test -c user.email=test@localhost commit -qam "checkpoint every 20"
start=$(git -C "$TMP/moved" rev-parse main)
"$STET" -C "$TMP/moved" ingest "$POSTS" 2>"$TMP/moved.err" &
pid=$!
pushed=
push() { # a commit on main, made as a push would, if main is at $1
	local c
	c=$(git -C "$TMP/moved" -c user.name=other -c user.email=o@localhost commit-tree -p "$1" -m "made during the run" "$1^{tree}")
	git -C "$TMP/moved" update-ref refs/heads/main "$c" "$1" 2>/dev/null && pushed=$c
}
# once the run has moved main (its first checkpoint), while it goes on
while [ -z "$pushed" ] && kill -0 $pid 2>/dev/null; do
	m=$(git -C "$TMP/moved" rev-parse main)
	[ "$m" = "$start" ] || push "$m"
	sleep 0.01
done
wait $pid
rc=$?
[ -n "$pushed" ] || push "$(git -C "$TMP/moved" rev-parse main)" # the run was quicker: after it
t "a commit made on main during a run stays on main" sh -c '[ -n "$2" ] && git -C "$1" merge-base --is-ancestor "$2" main' _ "$TMP/moved" "$pushed"
t "the run stops (exit 1) saying main moved, or had finished before" sh -c '
	[ "$2" = 1 ] && grep -q "error: main moved during the run" "$3" || { [ "$2" = 0 ] && [ "$(git -C "$1" rev-parse main)" = "$4" ]; }' \
	_ "$TMP/moved" "$rc" "$TMP/moved.err" "$pushed"
t "the next run goes on from the new main" sh -c '"$1" -C "$2" ingest "$3" 2>/dev/null && "$1" -C "$2" fsck &&
	git -C "$2" merge-base --is-ancestor "$4" main && git -C "$2" fsck --strict --no-progress &&
	[ -z "$(git -C "$2" status --porcelain)" ]' _ "$STET" "$TMP/moved" "$POSTS" "$pushed"

# a bare archive: its stet.yaml changed in a clone and pushed
"$STET" init --bare "$TMP/bare" 2>/dev/null
git clone -q "$TMP/bare" "$TMP/bare-clone"
sed -i 's/^checkpoint: .*/checkpoint: 150/' "$TMP/bare-clone/stet.yaml"
(cd "$TMP/bare-clone" && git -c user.name=test -c user.email=test@localhost commit -qam "checkpoint every 150" &&
	git push -q origin main)
for i in 1 2 3; do
	delay=$((RANDOM % 3)).$((RANDOM % 10))
	STET_SNAPSHOT_AFTER=300 "$STET" -C "$TMP/bare" ingest "$POSTS" 2>/dev/null &
	pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	t "bare: fsck --strict clean after kill $i (at ${delay}s)" git -C "$TMP/bare" fsck --strict --no-progress
done
t "bare: the rerun finishes the work" sh -c '"$1" -C "$2" ingest "$3" 2>"$2/rerun.err" || { tail -5 "$2/rerun.err"; ls -la "$2" "$2/refs/heads" "$2/objects/pack" | grep -v "pack-"; exit 1; }' _ "$STET" "$TMP/bare" "$POSTS"
t "bare: the key cache agrees with main after the rerun" "$STET" -C "$TMP/bare" fsck
t "bare: the rerun reaches the uninterrupted run's tree" sh -c '[ "$(git -C "$1" rev-parse "main^{tree}")" = "$2" ]' _ "$TMP/bare" "$want"
t "bare: no work tree, no git index, no marker" sh -c '[ ! -e "$1/index" ] && [ ! -e "$1/stet/checkout-pending" ] && [ "$(git -C "$1" rev-parse --is-bare-repository)" = true ]' _ "$TMP/bare"

for n in 2 3; do
	new_archive "$TMP/conc$n"
	t "$n runs at once leave the tree of one" sh -c '
		pids=""
		for k in $(seq "$4"); do "$1" -C "$2" ingest --wait 600 "$3" 2>/dev/null & pids="$pids $!"; done
		for p in $pids; do wait $p || exit 1; done
		git -C "$2" fsck --strict --no-progress && [ "$(git -C "$2" rev-parse "main^{tree}")" = "$5" ]' \
		_ "$STET" "$TMP/conc$n" "$POSTS" "$n" "$want"
done
finish
