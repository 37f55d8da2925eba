#!/usr/bin/env bash
# A bare archive (stet init --bare): a bare git repository, no work tree
# and no git index; stet.yaml is the one committed on main. The same
# inputs give the same commits' tree as an archive with a work tree; every
# command reads it; its settings, their warnings and errors come from
# main's stet.yaml; a relative hook path is from the archive's folder.
. "$(dirname "$0")/lib.sh"
B=$TMP/news.git
W=$TMP/worktree
EX=$STET_SRC/examples
G="git -c user.name=test -c user.email=test@localhost"

t "init --bare makes a bare repository with stet.yaml on main" sh -c '
	"$1" init --bare "$2" 2>"$3/err" && grep -q "bare archive created" "$3/err" &&
	[ "$(git -C "$2" rev-parse --is-bare-repository)" = true ] &&
	git -C "$2" cat-file -e main:stet.yaml && [ ! -e "$2/index" ] && [ ! -e "$2/stet.yaml" ]' _ "$STET" "$B" "$TMP"
t "init --bare again is refused" expect_exit 1 "$STET" init --bare "$B"
t "the first ingest archives the examples" sh -c '
	"$1" -C "$2" ingest "$3" 2>"$4/err" && grep -q "3 new" "$4/err"' _ "$STET" "$B" "$EX" "$TMP"
"$STET" init "$W" 2>/dev/null
"$STET" -C "$W" ingest "$EX" 2>/dev/null
t "the same tree as an archive with a work tree" sh -c '
	[ "$(git -C "$1" rev-parse "main^{tree}")" = "$(git -C "$2" rev-parse "main^{tree}")" ]' _ "$B" "$W"
t "no article file and no git index in the archive's folder" sh -c '
	[ ! -e "$1/index" ] && [ ! -e "$1/stet/checkout-pending" ] &&
	for p in $(git -C "$1" ls-tree -r --name-only main); do
		[ "$p" = stet.yaml ] && continue; [ ! -e "$1/$p" ] && [ ! -e "$1/${p%%/*}" ] || exit 1
	done' _ "$B"
t "a second ingest commits nothing" sh -c '
	before=$(git -C "$2" rev-parse main); "$1" -C "$2" ingest "$3" 2>/dev/null &&
	[ "$(git -C "$2" rev-parse main)" = "$before" ]' _ "$STET" "$B" "$EX"
path=$(git -C "$B" ls-tree -r --name-only main | grep -v '^stet.yaml$' | head -1)
t "log, show, dups, fsck and git fsck read it" sh -c '
	[ "$("$1" -C "$2" log | wc -l)" = 4 ] && "$1" -C "$2" show "$3" | grep -q "^canon: 1" &&
	"$1" -C "$2" dups >/dev/null && "$1" -C "$2" fsck 2>/dev/null && git -C "$2" fsck --strict --no-progress' \
	_ "$STET" "$B" "$path"
t "a revision is archived and diffed" sh -c '
	mkdir -p "$4/r" && sed "s/1,200/1,201/" "$3/jekyll-harbour.md" > "$4/r/a.md" &&
	"$1" -C "$2" ingest "$4/r" 2>"$4/err" && grep -q "1 revision" "$4/err" &&
	p=$(git -C "$2" log -1 --name-only --format= main) && "$1" -C "$2" diff "$p" | grep -qF "{+201+}"' \
	_ "$STET" "$B" "$EX" "$TMP"

# settings: changed in a clone, pushed
git clone -q "$B" "$TMP/clone"
cat > "$TMP/clone/hook" <<'H'
#!/bin/sh
cat > "$STET_ARCHIVE/hook-stdin"
H
chmod +x "$TMP/clone/hook"
cp "$TMP/clone/hook" "$B/post-ingest-hook"
printf 'committer:\n  name: Bare Archiver\ncheckpoint: 1\ncheckpoint_every: 5\nhooks:\n  post-ingest: post-ingest-hook\n' > "$TMP/clone/stet.yaml"
(cd "$TMP/clone" && $G commit -qam "settings" && git push -q origin main)
mkdir -p "$TMP/more"
for i in 1 2 3; do
	printf -- '---\ntitle: Bare test %d\ndate: 2024-01-0%d 10:00:00\nsource: Bare Daily\n---\n<p>Article number %d of the bare archive test, with its own words: %s.</p>\n' \
		"$i" "$i" "$i" "$(printf 'w%d ' $(seq $((i * 10)) $((i * 10 + 12))))" > "$TMP/more/$i.md"
done
t "main's stet.yaml is read: committer, a checkpoint a commit, the hook, a warning naming it" sh -c '
	"$1" -C "$2" ingest "$3/more" 2>"$3/err" && grep -q "3 new" "$3/err" &&
	grep -q "warning: $2:main:stet.yaml:4:1: unknown setting .checkpoint_every." "$3/err" &&
	[ "$(git -C "$2" log -1 --format=%cn main)" = "Bare Archiver" ] &&
	[ "$(git -C "$2" reflog show --format=%gs main | head -4 | tr "\n" /)" = "stet ingest: 1 commit/stet ingest: 1 commit/stet ingest: 1 commit/push/" ] &&
	[ "$(wc -l < "$2/hook-stdin")" = 3 ]' _ "$STET" "$B" "$TMP"
t "the sample atom-feed hook takes titles from main's tree" sh -c '
	cp "$4/hooks/atom-feed" "$2/post-ingest-hook" && mkdir -p "$3/feed" &&
	sed "s/Article number 1 /Article number one /" "$3/more/1.md" > "$3/feed/1.md" &&
	"$1" -C "$2" ingest "$3/feed" 2>/dev/null && grep -q "<title>revision ([a-z]*): Bare test 1</title>" "$2/stet/changes.atom"' \
	_ "$STET" "$B" "$TMP" "$STET_SRC"
t "reindex rebuilds the key cache of a bare archive" sh -c '"$1" -C "$2" reindex 2>/dev/null && "$1" -C "$2" fsck 2>/dev/null' _ "$STET" "$B"
printf 'checkpoint: [\n' > "$TMP/clone/stet.yaml"
(cd "$TMP/clone" && git pull -q --ff-only && $G commit -qam "broken" && git push -q origin main)
t "a malformed stet.yaml on main is an error naming it and its line" sh -c '
	"$1" -C "$2" ingest "$3/more" 2>"$3/err"; [ $? = 1 ] &&
	grep -q "error: $2:main:stet.yaml:2:1: " "$3/err"' _ "$STET" "$B" "$TMP"
finish
