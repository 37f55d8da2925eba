#!/usr/bin/env bash
# The packs' multi-pack-index: written at the end of a run when 16 or more
# packs (and an eighth of those it covers) are not in it, valid for git;
# not written again for fewer; a lock left behind is a warning naming it,
# not a failure, and is removed once an hour old; one cut short does not
# stop a writing run (which searches it itself: src/store/odb.c); git gc
# afterwards leaves an archive stet reads and writes, and so does a repack
# whose deltas name their bases by id (which stet leaves to libgit2).
# Fewer than 16 packs git's does not cover (4 or more) go into stet's own
# (.git/stet/recent-midx, git's format), removed when git's is written
# again, and not used once it names a pack that git repack removed.
# The packs stet writes itself (src/store/pack.c): 70 versions of one
# article in one run's pack are deltas of one another, in chains of at
# most 50, and git reads every version back as it was committed.
. "$(dirname "$0")/lib.sh"
A=$TMP/archive
MIDX=$A/.git/objects/pack/multi-pack-index
"$STET" init "$A" 2>/dev/null
sed -i 's/^checkpoint: .*/checkpoint: 1/' "$A/stet.yaml" # a pack a commit
git -C "$A" -c user.name=test -c user.email=test@localhost commit -qam "a checkpoint a commit"

posts() { # folder first last
	mkdir -p "$1"
	for i in $(seq "$2" "$3"); do
		printf -- '---\ntitle: Pack test %d\ndate: 2024-02-03 10:00:00\nsource: Packs\n---\n<p>Article %d says %s.</p>\n' \
			"$i" "$i" "$(seq $((i * 7)) $((i * 7 + 20)) | tr '\n' ' ')" > "$1/$i.md"
	done
}
covers() { od -An -tu1 -j8 -N4 "$MIDX" | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}'; }
packs() { ls "$A/.git/objects/pack" | grep -c '\.idx$'; }

posts "$TMP/p1" 1 20
t "20 packs: a multi-pack-index of them, valid for git" sh -c '
	"$1" -C "$2" ingest "$3/p1" 2>/dev/null && [ -f "$4" ] && [ "$(od -An -tu1 -j8 -N4 "$4" | tr -d " ")" = 00020 ] &&
	git -C "$2" multi-pack-index verify && git -C "$2" fsck --strict --no-progress' _ "$STET" "$A" "$TMP" "$MIDX"
posts "$TMP/p2" 21 25
"$STET" -C "$A" ingest "$TMP/p2" 2>/dev/null
t "5 more packs: not written again" sh -c '[ "$1" = 20 ] && [ "$2" = 25 ]' _ "$(covers)" "$(packs)"
RECENT=$A/.git/stet/recent-midx
t "... but stet's own of those 5, valid for git (in a copy, as its multi-pack-index)" sh -c '
	[ "$(od -An -tu1 -j8 -N4 "$1" | tr -d " ")" = 0005 ] && cp -a "$2" "$3/copy" &&
	cp "$1" "$3/copy/.git/objects/pack/multi-pack-index" && git -C "$3/copy" multi-pack-index verify &&
	rm -rf "$3/copy"' _ "$RECENT" "$A" "$TMP"
posts "$TMP/p3" 26 40
"$STET" -C "$A" ingest "$TMP/p3" 2>/dev/null
t "16 or more: written again, over all the packs; stet's own removed" sh -c '[ "$1" = 40 ] && [ "$2" = 40 ] &&
	git -C "$3" multi-pack-index verify && [ ! -e "$4" ]' _ "$(covers)" "$(packs)" "$A" "$RECENT"
t "stet reads through it" sh -c '"$1" -C "$2" fsck 2>/dev/null && [ "$("$1" -C "$2" log | wc -l)" = 42 ] &&
	"$1" -C "$2" show "$(git -C "$2" ls-tree -r --name-only main | grep /pack-test-3-)" | grep -q "Article 3 says"' \
	_ "$STET" "$A"

touch "$MIDX.lock"
posts "$TMP/p4" 41 60
t "a lock left behind: a warning naming it, the run archived" sh -c '
	"$1" -C "$2" ingest "$3/p4" 2>"$3/err" && grep -q "warning: $4.lock: exists, so the multi-pack-index" "$3/err" &&
	grep -q "20 new" "$3/err"' _ "$STET" "$A" "$TMP" "$MIDX"
t "... and the index as it was; the 20 new packs in stet's own" sh -c '[ "$1" = 40 ] &&
	[ "$(od -An -tu1 -j8 -N4 "$2" | tr -d " ")" = 00020 ]' _ "$(covers)" "$RECENT"
rm -f "$MIDX.lock"

# a multi-pack-index cut short (damaged): a writing run reads the packs'
# own indexes instead (stet searches the multi-pack-index itself), archives
# a revision of an article whose versions are in old packs, and reads back
cp "$MIDX" "$TMP/midx.good"
head -c "$(($(stat -c %s "$MIDX") / 2))" "$TMP/midx.good" > "$MIDX"
mkdir -p "$TMP/p4b"
printf -- '---\ntitle: Pack test 3\ndate: 2024-02-03 10:00:00\nsource: Packs\n---\n<p>Article 3 says it was corrected.</p>\n' \
	> "$TMP/p4b/3.md"
t "a damaged multi-pack-index: the run archives a revision, every article reads back" sh -c '
	"$1" -C "$2" ingest "$3/p4b" 2>"$3/err" && grep -q "1 revision" "$3/err" &&
	"$1" -C "$2" show "$(git -C "$2" ls-tree -r --name-only main | grep /pack-test-3-)" | grep -q "it was corrected" &&
	"$1" -C "$2" log "$(git -C "$2" ls-tree -r --name-only main | grep /pack-test-3-)" | grep -c . | grep -qx 2 &&
	cp "$3/midx.good" "$4" && "$1" -C "$2" fsck 2>/dev/null' _ "$STET" "$A" "$TMP" "$MIDX"

git -C "$A" gc -q
posts "$TMP/p5" 61 80
t "after git gc, stet writes and reads the archive" sh -c '
	"$1" -C "$2" ingest "$3/p5" 2>/dev/null && "$1" -C "$2" fsck 2>/dev/null && git -C "$2" fsck --strict --no-progress &&
	{ [ ! -e "$4" ] || git -C "$2" multi-pack-index verify; } && [ "$("$1" -C "$2" log | wc -l)" = 83 ]' \
	_ "$STET" "$A" "$TMP" "$MIDX"

# packs git wrote with deltas against ids (REF_DELTA): stet reads its own
# packs' deltas and git gc's (against offsets) itself, and leaves these to
# libgit2's backend of the pack
git -C "$A" -c repack.useDeltaBaseOffset=false repack -q -a -d -f
mkdir -p "$TMP/p5b"
for i in $(seq 61 80); do
	printf -- '---\ntitle: Pack test %d\ndate: 2024-02-03 10:00:00\nsource: Packs\n---\n<p>Article %d says %s, corrected.</p>\n' \
		"$i" "$i" "$(seq $((i * 7)) $((i * 7 + 20)) | tr '\n' ' ')" > "$TMP/p5b/$i.md"
done
t "after a repack with deltas against ids, stet archives revisions and reads both versions" sh -c '
	"$1" -C "$2" ingest "$3/p5b" 2>"$3/err" && grep -q "20 revisions" "$3/err" && "$1" -C "$2" fsck 2>/dev/null &&
	git -C "$2" fsck --strict --no-progress && f=$(git -C "$2" ls-tree -r --name-only main | grep /pack-test-70-) &&
	"$1" -C "$2" show "$f" | grep -q ", corrected\.$" && "$1" -C "$2" show "$f@1" > "$3/first" &&
	grep -q "^Article 70 says" "$3/first" && ! grep -q "corrected" "$3/first"' _ "$STET" "$A" "$TMP"

# what killed runs left: a lock on the multi-pack-index and libgit2's
# temporary pack files an hour old or more are removed by the next run (a
# fresh one may be another process's, still writing), and so are stet's
# own temporary pack files, and the temporary files of the key cache and
# of stet's multi-pack-index (written only under stet's lock)
touch -d "2 hours ago" "$MIDX.lock"
printf 'PACK partial' > "$A/.git/objects/pack/pack_git2_0ld" && touch -d "2 hours ago" "$A/.git/objects/pack/pack_git2_0ld"
printf 'PACK partial' > "$A/.git/objects/pack/pack_git2_n3w"
printf 'PACK partial' > "$A/.git/objects/pack/tmp_stet_pack_k1lled"
printf 'stet-keys partial' > "$A/.git/stet/keys.tmp.424242"
printf 'MIDX partial' > "$A/.git/stet/recent-midx.tmp.424242"
posts "$TMP/p6" 81 100
t "what killed runs left is removed; a fresh temporary pack is not" sh -c '
	"$1" -C "$2" ingest "$3/p6" 2>"$3/err" && grep -q "20 new" "$3/err" &&
	grep -q "warning: $4.lock: left behind 1[0-9][0-9] minutes ago by a process that is gone; removed" "$3/err" &&
	[ ! -e "$4.lock" ] && [ -f "$4" ] && git -C "$2" multi-pack-index verify &&
	[ "$(od -An -tu1 -j8 -N4 "$4" | awk "{print \$4}")" = "$(ls "$2/.git/objects/pack" | grep -c "\.idx\$")" ] &&
	[ ! -e "$2/.git/objects/pack/pack_git2_0ld" ] && [ -e "$2/.git/objects/pack/pack_git2_n3w" ] &&
	[ ! -e "$2/.git/objects/pack/tmp_stet_pack_k1lled" ] && ! ls "$2/.git/objects/pack" | grep -q "^tmp_stet_" &&
	[ ! -e "$2/.git/stet/keys.tmp.424242" ] && [ ! -e "$2/.git/stet/recent-midx.tmp.424242" ] &&
	git -C "$2" fsck --strict --no-progress && [ "$("$1" -C "$2" log | wc -l)" = 123 ]' \
	_ "$STET" "$A" "$TMP" "$MIDX"

B=$TMP/revised
"$STET" init --bare "$B" 2>/dev/null
mkdir -p "$TMP/rev"
for v in $(seq 70); do
	{
		printf -- '---\ntitle: One story, revised\ndate: 2024-03-04 08:00:00\nsource: Revisions\n---\n'
		printf '<p>Version %d. The council met on Monday to discuss the budget for the coming year.</p>\n' "$v"
		for k in $(seq "$v"); do printf '<p>Update %d: the vote on item %d was moved to %d March.</p>\n' "$k" "$k" "$((k % 28 + 1))"; done
	} > "$TMP/rev/v$(printf %03d "$v").md"
done
t "70 revisions in one run: one pack, deltas in chains of at most 50, valid for git" sh -c '
	"$1" -C "$2" ingest "$3/rev" 2>"$3/err" && grep -q "1 new, 69 revisions" "$3/err" &&
	[ "$(ls "$2/objects/pack" | grep -c "\.pack$")" = 1 ] &&
	git -C "$2" fsck --strict --full --no-progress &&
	git verify-pack -v "$2"/objects/pack/pack-*.idx > "$3/vp" &&
	grep -q "^chain length = 50: " "$3/vp" && ! grep -q "^chain length = \(5[1-9]\|[6-9][0-9]\|[0-9][0-9][0-9]\)" "$3/vp"' \
	_ "$STET" "$B" "$TMP"
t "... and every version reads back as committed" sh -c '
	path=$(git -C "$1" ls-tree -r --name-only main | grep one-story) && n=0 &&
	for c in $(git -C "$1" rev-list --reverse main -- "$path"); do
		n=$((n + 1))
		git -C "$1" show "$c:$path" > "$2/got" && grep -q "^Version $n\.$" "$2/got" &&
		[ "$(grep -c "^Update " "$2/got")" = "$n" ] || { echo "version $n"; exit 1; }
	done
	[ "$n" = 70 ]' _ "$B" "$TMP"
# stet's own multi-pack-index naming packs that git repack removed: not
# used (every pack is searched in its own index), the run archives and
# reads back, and the next one over the packs there replaces it
C=$TMP/repacked
"$STET" init "$C" 2>/dev/null
sed -i 's/^checkpoint: .*/checkpoint: 1/' "$C/stet.yaml"
git -C "$C" -c user.name=test -c user.email=test@localhost commit -qam "a checkpoint a commit"
posts "$TMP/c1" 1 6
"$STET" -C "$C" ingest "$TMP/c1" 2>/dev/null
cp "$C/.git/stet/recent-midx" "$TMP/recent.old"
git -C "$C" repack -q -a -d
cp "$TMP/recent.old" "$C/.git/stet/recent-midx"
posts "$TMP/c2" 7 12
t "stet's own naming packs git repack removed: not used; the run archives, reads back, and writes it again" sh -c '
	"$1" -C "$2" ingest "$3/c2" 2>"$3/err" && grep -q "6 new" "$3/err" && ! grep -q warning "$3/err" &&
	"$1" -C "$2" fsck 2>/dev/null && [ "$("$1" -C "$2" log | wc -l)" = 14 ] &&
	"$1" -C "$2" show "$(git -C "$2" ls-tree -r --name-only main | grep /pack-test-3-)" | grep -q "Article 3 says" &&
	! cmp -s "$2/.git/stet/recent-midx" "$3/recent.old" &&
	[ "$(od -An -tu1 -j8 -N4 "$2/.git/stet/recent-midx" | tr -d " ")" = "000$(ls "$2/.git/objects/pack" | grep -c "\.idx$")" ]' \
	_ "$STET" "$C" "$TMP"
finish
