#!/usr/bin/env bash
# The archive from the command line: init, ingest (new, unchanged,
# revision, rejected), the layout and commits in plain git, log, show,
# diff, the lock.
. "$(dirname "$0")/lib.sh"
A=$TMP/archive
EX=$STET_SRC/examples
mkdir -p "$TMP/run1" "$TMP/run2"
cp "$EX"/* "$TMP/run1/"
sed 's/1,200 passengers/1,350 passengers/; s/if demand holds/if demand keeps up/' "$EX/jekyll-harbour.md" > "$TMP/run2/jekyll-harbour.md"
printf -- '---\ntitle: broken\n' > "$TMP/run2/broken.md"
mkdir -p "$TMP/run2/.hidden" && cp "$EX/page-budget.html" "$TMP/run2/.hidden/"
ln -s "$TMP/run2" "$TMP/run2/loop"

t "init creates a repository on main with stet.yaml" sh -c '
	"$1" init "$2" 2>/dev/null && [ -f "$2/stet.yaml" ] &&
	[ "$(git -C "$2" symbolic-ref HEAD)" = refs/heads/main ] &&
	[ "$(git -C "$2" log --format=%s)" = "init: a stet archive" ] &&
	git -C "$2" ls-files | grep -qx stet.yaml' _ "$STET" "$A"
t "init refuses an existing repository" sh -c '"$1" init "$2" 2>"$3/e"; [ $? = 1 ] && grep -q "already a git repository" "$3/e"' _ "$STET" "$A" "$TMP"
t "ingest outside an archive fails clearly" sh -c '"$1" -C "$2" ingest "$3" 2>"$4/e"; [ $? = 1 ] && grep -q "not a stet archive" "$4/e"' _ "$STET" "$TMP/run1" "$EX" "$TMP"

t "first run: every input new, one commit each, files at readable paths" sh -c '
	"$1" -C "$2" ingest --json "$3" > "$4/r1.json" || exit 1
	python3 - "$4/r1.json" <<"PY" || exit 1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["verdict"] for r in rows] == ["new"] * 3, rows
assert [r["input"].rsplit("/", 1)[1] for r in rows] == ["hexo-library.md", "jekyll-harbour.md", "page-budget.html"]
paths = [r["path"] for r in rows]
assert paths[1].startswith("example-wire/2021/07/06/harbour-ferry-returns-after-two-year-pause-"), paths
assert paths[0].startswith("示例日报/2021/06/08/示例市-新建三座公共图书馆-年底前全部开放-"), paths
assert rows[1]["key"] == "news.example.org/2021/07/06/harbour-ferry-returns", rows[1]
assert all(".." not in p and not p.startswith(".") for p in paths)
PY
	[ "$(git -C "$2" rev-list --count main)" = 4 ] &&
	git -C "$2" fsck --strict 2>&1 &&
	[ -z "$(git -C "$2" status --porcelain)" ] &&
	git -C "$2" log -1 --format=%B -- example-wire | grep -qx "Stet-Key: news.example.org/2021/07/06/harbour-ferry-returns" &&
	git -C "$2" log --format=%s | grep -qx "new: Example Wire: Harbour ferry returns after two-year pause" &&
	[ "$(git -C "$2" log -1 --format="%an <%ae> %aI" -- example-wire)" = "Example Wire <example-wire@sources.stet.invalid> 2021-07-06T01:50:19+00:00" ] &&
	[ "$(ls "$2"/.git/objects/pack/*.pack | wc -l)" = 1 ] &&
	[ "$(git -C "$2" count-objects -v | sed -n "s/^count: //p")" = 3 ]  # only init'"'"'s objects are loose
	' _ "$STET" "$A" "$TMP/run1" "$TMP"

t "the same input again commits nothing" sh -c '
	before=$(git -C "$2" rev-parse main)
	"$1" -C "$2" ingest --json "$3" > "$4/r1b.json" && [ "$(grep -c "\"verdict\":\"unchanged\"" "$4/r1b.json")" = 3 ] &&
	[ "$(git -C "$2" rev-parse main)" = "$before" ]' _ "$STET" "$A" "$TMP/run1" "$TMP"

t "second run: a revision at the same path, a rejected input, hidden files and link loops skipped; exit 3" sh -c '
	"$1" -C "$2" ingest --json "$3" > "$4/r2.json" 2> "$4/r2.err"; rc=$?
	[ $rc = 3 ] || { echo "exit $rc"; cat "$4/r2.err"; exit 1; }
	grep -q "^stet: error: .*broken.md:1:1: front matter opened here has no closing" "$4/r2.err" || exit 1
	python3 - "$4/r1.json" "$4/r2.json" <<"PY"
import json, sys
first = {r["input"].rsplit("/", 1)[1]: r for r in map(json.loads, open(sys.argv[1]))}
rows = [json.loads(l) for l in open(sys.argv[2])]
names = [r["input"].rsplit("/", 1)[1] for r in rows]
assert names == ["broken.md", "jekyll-harbour.md"], names
assert rows[0]["verdict"] == "rejected" and "no closing" in rows[0]["error"], rows[0]
assert rows[1]["verdict"] == "revision" and rows[1]["grade"] == "minor", rows[1]
assert rows[1]["path"] == first["jekyll-harbour.md"]["path"]
PY' _ "$STET" "$A" "$TMP/run2" "$TMP"

t "plain git sees the revision as a small diff" sh -c '
	cd "$1" && f=$(git log -1 --format= --name-only) &&
	[ "$(git log --format=%H --follow -- "$f" | wc -l)" = 2 ] &&
	git log -1 --format=%s | grep -qx "revise: Example Wire: Harbour ferry returns after two-year pause (minor)" &&
	git log -1 --format=%B | grep -qx "Stet-Grade: minor" &&
	[ "$(git diff HEAD~1 HEAD --numstat | cut -f1,2)" = "$(printf "2\t2")" ] &&
	git diff --word-diff HEAD~1 HEAD | grep -qF "[-1,200-]{+1,350+}"' _ "$A"

t "revisions put in one run are graded as those put one run each" sh -c '
	mkdir -p "$3/revs" && cd "$3/revs" || exit 1
	cp "$4/run1/jekyll-harbour.md" 1.md && cp "$4/run2/jekyll-harbour.md" 2.md &&
	sed "s/on the first day\./on the first day!/" 2.md > 3.md &&
	sed "/^<div>/,/^<\/div>/c\\<div><p>The city council voted on Tuesday to close three public swimming pools for the winter and to spend the savings on library hours.</p></div>" 3.md > 4.md &&
	sed "s/library hours/longer library hours on Sundays/" 4.md > 5.md || exit 1
	"$1" init --bare "$3/one" 2>/dev/null && "$1" init --bare "$3/each" 2>/dev/null || exit 1
	"$1" -C "$3/one" ingest --json 1.md 2.md 3.md 4.md 5.md > one.json || exit 1
	for i in 1 2 3 4 5; do "$1" -C "$3/each" ingest --json $i.md || exit 1; done > each.json
	python3 - one.json each.json <<"PY" || exit 1
import json, sys
one, each = ([(r["verdict"], r.get("grade")) for r in map(json.loads, open(f))] for f in sys.argv[1:])
assert one == each == [("new", None), ("revision", "minor"), ("revision", "cosmetic"), ("revision", "rewrite"),
                       ("revision", "substantive")], (one, each)
PY
	[ "$(git -C "$3/one" log --format=%B main)" = "$(git -C "$3/each" log --format=%B main)" ] &&
	[ "$(git -C "$3/one" rev-parse "main^{tree}")" = "$(git -C "$3/each" rev-parse "main^{tree}")" ]' _ "$STET" "$A" "$TMP/grades" "$TMP"

t "log lists events newest first; log ARTICLE only that article" sh -c '
	"$1" -C "$2" log > "$3/log" && [ "$(wc -l < "$3/log")" = 5 ] &&
	head -1 "$3/log" | grep -q "revise: Example Wire" && tail -1 "$3/log" | grep -q "init: a stet archive" &&
	"$1" -C "$2" log harbour > "$3/log2" && [ "$(wc -l < "$3/log2")" = 2 ] &&
	"$1" -C "$2" log --json https://news.example.org/2021/07/06/harbour-ferry-returns | python3 -c "
import json,sys
rows=[json.loads(l) for l in sys.stdin]
assert len(rows)==2 and rows[0][\"path\"].startswith(\"example-wire/\"), rows"' _ "$STET" "$A" "$TMP"

t "show prints a version; @1 is the first, @-1 the latest" sh -c '
	"$1" -C "$2" show "harbour@1" | grep -q "said 1,200 passengers" &&
	"$1" -C "$2" show harbour | grep -q "said 1,350 passengers" &&
	"$1" -C "$2" show "harbour@-2" | grep -q "said 1,200 passengers" &&
	"$1" -C "$2" show harbour@3 2>"$3/e"; [ $? = 1 ] && grep -q "has 2 versions" "$3/e"' _ "$STET" "$A" "$TMP"

t "diff marks the changed words; --json gives spans" sh -c '
	"$1" -C "$2" diff harbour > "$3/d" &&
	grep -qF -- "- Dr. Ana Ruiz, who chairs the port board, said 1,[-200-] passengers rode it on the first day." "$3/d" &&
	grep -qF -- "+ Dr. Ana Ruiz, who chairs the port board, said 1,{+350+} passengers rode it on the first day." "$3/d" &&
	grep -qF -- "+ The board will add a second boat in August if demand {+keeps up+}." "$3/d" &&
	! grep -q "$(printf "\033")" "$3/d" &&
	"$1" -C "$2" diff --json harbour 1 2 | python3 -c "
import json,sys
d=json.load(sys.stdin)
ch=[l for l in d[\"lines\"] if l[\"op\"]!=\"same\"]
assert len(ch)==4, ch
assert [\"add\",\"350\"] in ch[1][\"spans\"], ch[1]"' _ "$STET" "$A" "$TMP"

t "diff of CJK text marks characters" sh -c '
	mkdir -p "$3/cjk" && sed "s/第一座位于城东新区/第一座图书馆位于城西新区/" "$4/hexo-library.md" > "$3/cjk/hexo-library.md" &&
	"$1" -C "$2" ingest "$3/cjk" 2>/dev/null && "$1" -C "$2" diff 图书馆 > "$3/d2" &&
	grep -qF -- "+ 第一座{+图书馆+}位于城{+西+}新区，预计九月开放！" "$3/d2"' _ "$STET" "$A" "$TMP" "$EX"

t "an ambiguous or unknown article is a clear error" sh -c '
	"$1" -C "$2" show e 2>"$3/e1"; [ $? = 1 ] && grep -q "matches 2 articles" "$3/e1" &&
	"$1" -C "$2" show nothing-like-this 2>"$3/e2"; [ $? = 1 ] && grep -q "no article matches" "$3/e2"' _ "$STET" "$A" "$TMP"

t "a second run fails at once while the first holds the lock" sh -c '
	exec 9>"$2/.git/stet/lock"; flock 9; echo 424242 >&9
	"$1" -C "$2" ingest "$3" 2>"$4/lk"; rc=$?
	[ $rc = 1 ] && grep -q "archive is locked by pid 424242" "$4/lk"' _ "$STET" "$A" "$TMP/run1" "$TMP"
t "a locked archive stops a run of many inputs too, before any is judged" sh -c '
	mkdir -p "$4/many" && for i in $(seq 600); do sed "s/^title: .*/title: Many $i/" "$5/hexo-library.md" > "$4/many/m$i.md"; done
	before=$(git -C "$2" rev-parse main)
	exec 9>"$2/.git/stet/lock"; flock 9; echo 424242 >&9
	"$1" -C "$2" ingest --json "$4/many" >"$4/lk3.out" 2>"$4/lk3"; rc=$?
	[ $rc = 1 ] && grep -q "archive is locked by pid 424242" "$4/lk3" && [ ! -s "$4/lk3.out" ] &&
	[ "$(git -C "$2" rev-parse main)" = "$before" ]' _ "$STET" "$A" "$TMP/run1" "$TMP" "$EX"
t "--wait waits for the lock, then runs" sh -c '
	( exec 9>"$2/.git/stet/lock"; flock 9; sleep 1 ) &
	sleep 0.3
	"$1" -C "$2" ingest --wait 10 "$3" 2>"$4/lk2"; rc=$?; wait
	[ $rc = 0 ] && grep -q "3 unchanged" "$4/lk2"' _ "$STET" "$A" "$TMP/run1" "$TMP"
t "a lock left by a killed run is taken over" sh -c '
	sh -c "exec 9>\"$2/.git/stet/lock\"; flock 9; echo \$\$ >&9; kill -9 \$\$"
	"$1" -C "$2" ingest "$3" 2>/dev/null' _ "$STET" "$A" "$TMP/run1"

t "the key cache grows by what a run changed; an unclosed batch is cut off" sh -c '
	k="$2/.git/stet/keys"
	cp "$k" "$3/keys.before"; size=$(stat -c %s "$k")
	mkdir -p "$3/j1" "$3/j2"
	sed "s/^title: .*/title: Journal one/; s/图书馆/书店/g" "$4/hexo-library.md" > "$3/j1/a.md"
	sed "s/^title: .*/title: Journal two/; s/图书馆/剧院/g" "$4/hexo-library.md" > "$3/j2/b.md"
	"$1" -C "$2" ingest "$3/j1" 2>/dev/null || exit 1
	# appended, not rewritten: the old file is a prefix of the new one
	head -c "$size" "$k" | cmp -s - "$3/keys.before" || { echo "rewritten"; exit 1; }
	[ "$(grep -c "^@tip $(git -C "$2" rev-parse main)\$" "$k")" = 1 ] || { echo "no closing tip"; exit 1; }
	# a run killed while appending leaves half a batch: ignored, then cut off
	printf "half-written\trecord" >> "$k"
	"$1" -C "$2" ingest "$3/j1" 2>&1 | grep -q "1 unchanged" || exit 1
	"$1" -C "$2" ingest "$3/j2" 2>/dev/null || exit 1
	! grep -q half-written "$k" && "$1" -C "$2" fsck >/dev/null 2>&1' _ "$STET" "$A" "$TMP" "$EX"

t "an index.lock left by a run killed while updating the work tree is taken over" sh -c '
	touch "$2/.git/stet/checkout-pending" && touch "$2/.git/index.lock"
	mkdir -p "$3/il" && sed "s/^title: .*/title: Index lock/; s/图书馆/博物馆/g" "$4/hexo-library.md" > "$3/il/c.md"
	"$1" -C "$2" ingest "$3/il" 2>"$3/il.err" || { cat "$3/il.err"; exit 1; }
	[ ! -e "$2/.git/index.lock" ] && [ ! -e "$2/.git/stet/checkout-pending" ] &&
	[ -z "$(git -C "$2" status --porcelain)" ]' _ "$STET" "$A" "$TMP" "$EX"

t "a run killed before writing the index: the next writes the files since the marker's commit, and only those" sh -c '
	mkdir -p "$3/kr" && sed "s/^title: .*/title: Killed run/; s/图书馆/体育馆/g" "$4/hexo-library.md" > "$3/kr/k.md"
	base=$(git -C "$2" rev-parse main) && cp "$2/.git/index" "$3/kr.index" || exit 1
	"$1" -C "$2" ingest "$3/kr" 2>/dev/null || exit 1
	new=$(git -c core.quotePath=false -C "$2" diff --name-only "$base" main | grep -v "^stet.yaml$") && [ -n "$new" ] || exit 1
	# as a run killed after moving main leaves it: the index of before, the
	# file not written, the marker naming the commit of before; and a
	# local edit of a file the run did not change
	cp "$3/kr.index" "$2/.git/index" && rm "$2/$new" && printf "%s\n" "$base" > "$2/.git/stet/checkout-pending"
	old=$(git -c core.quotePath=false -C "$2" ls-files | grep "\.md$" | grep -Fvx "$new" | head -n 1) && echo "a local note" >> "$2/$old"
	"$1" -C "$2" ingest "$3/kr" 2>/dev/null || exit 1
	[ ! -e "$2/.git/stet/checkout-pending" ] && git -C "$2" diff --quiet main -- "$new" &&
	[ "$(git -c core.quotePath=false -C "$2" status --porcelain)" = " M $old" ] && git -C "$2" checkout -- "$old"' _ "$STET" "$A" "$TMP" "$EX"

t "an unknown stet.yaml setting is a warning naming its line and column; the run goes on" sh -c '
	"$1" init "$2/w" >/dev/null 2>&1 || exit 1
	n=$(($(wc -l < "$2/w/stet.yaml") + 1))
	printf "checkpoint_every: 5\nhooks:\n  post_ingest: x\n" >> "$2/w/stet.yaml"
	"$1" -C "$2/w" ingest "$3/hexo-library.md" 2>"$2/w.err" || exit 1
	grep -q "^stet: warning: .*/stet.yaml:$n:1: unknown setting .checkpoint_every. (ignored" "$2/w.err" &&
	grep -q "stet.yaml:$((n + 2)):3: unknown setting .hooks.post_ingest. (ignored; known here: hooks.post-ingest)" "$2/w.err" &&
	grep -q "1 new" "$2/w.err" && [ "$(grep -c warning "$2/w.err")" = 2 ]' _ "$STET" "$TMP" "$EX"

t "a symbolic link in the work tree is never written through" sh -c '
	mkdir -p "$3/outside" "$3/sl" && rm -rf "$2/示例日报/2021/07" && ln -s "$3/outside" "$2/示例日报/2021/07"
	sed "s/^title: .*/title: Symlink/; s/^date: .*/date: Tue, 06 Jul 2021 03:07:15 GMT/; s/图书馆/美术馆/g" \
		"$4/hexo-library.md" > "$3/sl/d.md"
	"$1" -C "$2" ingest "$3/sl" 2>"$3/sl.err" || { cat "$3/sl.err"; exit 1; }
	[ -z "$(ls -A "$3/outside")" ] || { echo "written outside:"; ls -R "$3/outside"; exit 1; }
	git -C "$2" -c core.quotePath=false ls-files | grep -q "^示例日报/2021/07/06/" && [ -d "$2/示例日报/2021/07" ] && [ ! -L "$2/示例日报/2021/07" ] &&
	[ -z "$(git -C "$2" status --porcelain)" ]' _ "$STET" "$A" "$TMP" "$EX"

t "a link where a new file goes is replaced by the file, never written through" sh -c '
	"$1" init "$2/fl1" >/dev/null 2>&1 && "$1" init "$2/fl2" >/dev/null 2>&1 || exit 1
	"$1" -C "$2/fl1" ingest "$3/hexo-library.md" 2>/dev/null || exit 1
	p=$(git -C "$2/fl1" -c core.quotePath=false ls-files | grep "\.md$" | head -n 1) && [ -n "$p" ] || exit 1
	mkdir -p "$2/fl-out" "$2/fl2/$(dirname "$p")" && echo outside > "$2/fl-out/target" && ln -s "$2/fl-out/target" "$2/fl2/$p"
	"$1" -C "$2/fl2" ingest "$3/hexo-library.md" 2>"$2/fl2.err" || { cat "$2/fl2.err"; exit 1; }
	[ "$(cat "$2/fl-out/target")" = outside ] && [ -f "$2/fl2/$p" ] && [ ! -L "$2/fl2/$p" ] &&
	cmp -s "$2/fl1/$p" "$2/fl2/$p" && [ -z "$(git -C "$2/fl2" status --porcelain)" ]' _ "$STET" "$TMP" "$EX"

t "a new file a killed run left half written is written again by the next run" sh -c '
	"$1" init "$2/hw" >/dev/null 2>&1 || exit 1
	base=$(git -C "$2/hw" rev-parse main) && cp "$2/hw/.git/index" "$2/hw.index" || exit 1
	"$1" -C "$2/hw" ingest "$3/hexo-library.md" 2>/dev/null || exit 1
	p=$(git -C "$2/hw" -c core.quotePath=false ls-files | grep "\.md$" | head -n 1) && [ -n "$p" ] || exit 1
	# as a run killed while making the file leaves it: part of it, the
	# index of before, the marker naming the commit of before
	head -c 100 "$2/hw/$p" > "$2/hw.part" && mv "$2/hw.part" "$2/hw/$p"
	cp "$2/hw.index" "$2/hw/.git/index" && printf "%s\n" "$base" > "$2/hw/.git/stet/checkout-pending"
	"$1" -C "$2/hw" ingest "$3/hexo-library.md" 2>/dev/null || exit 1
	[ ! -e "$2/hw/.git/stet/checkout-pending" ] && git -C "$2/hw" diff --quiet main -- "$p" &&
	[ -z "$(git -C "$2/hw" status --porcelain)" ]' _ "$STET" "$TMP" "$EX"

t "killed runs' temporary files are taken over; 70 files sharing folders, written by two writers, are each in place" sh -c '
	"$1" init "$2/wt2" >/dev/null 2>&1 || exit 1
	mkdir -p "$2/wt2/.git/stet" && echo left > "$2/wt2/.git/stet/worktree-tmp" && echo left > "$2/wt2/.git/stet/worktree-tmp-1"
	mkdir -p "$2/wt2in" && for n in $(seq 1 70); do
		d=$(printf "%02d %s" $((n % 28 + 1)) $([ $((n % 3)) = 0 ] && echo Aug || echo Jul))
		sed "s/^title: .*/title: Shared $n/; s/^date: .*/date: Tue, $d 2021 03:07:15 GMT/; s/图书馆/美术馆$n/g" \
			"$3/hexo-library.md" > "$2/wt2in/$n.md"
	done
	"$1" -C "$2/wt2" ingest "$2/wt2in" 2>"$2/wt2.err" && grep -q "70 commits" "$2/wt2.err" || { cat "$2/wt2.err"; exit 1; }
	[ ! -e "$2/wt2/.git/stet/worktree-tmp" ] && [ ! -e "$2/wt2/.git/stet/worktree-tmp-1" ] &&
	[ "$(git -C "$2/wt2" -c core.quotePath=false ls-files | grep -c "^示例日报/2021/0[78]/[0-9][0-9]/")" = 70 ] &&
	[ -z "$(git -C "$2/wt2" status --porcelain)" ] &&
	git -C "$2/wt2" diff --quiet main -- . && git -C "$2/wt2" diff --cached --quiet main' _ "$STET" "$TMP" "$EX"

t "main's lock: held a moment, waited for; left by a killed run, taken over" sh -c '
	"$1" init "$2/mainlock" >/dev/null 2>&1 || exit 1
	touch "$2/mainlock/.git/refs/heads/main.lock"
	( sleep 0.5; rm -f "$2/mainlock/.git/refs/heads/main.lock" ) &
	"$1" -C "$2/mainlock" ingest "$3/hexo-library.md" 2>"$2/mainlock.err" && grep -q "1 new" "$2/mainlock.err" || { cat "$2/mainlock.err"; exit 1; }
	wait
	touch "$2/mainlock/.git/refs/heads/main.lock"
	before=$(git -C "$2/mainlock" rev-parse main)
	"$1" -C "$2/mainlock" ingest "$3/jekyll-harbour.md" 2>"$2/mainlock.err" || { cat "$2/mainlock.err"; exit 1; }
	[ ! -e "$2/mainlock/.git/refs/heads/main.lock" ] && [ "$(git -C "$2/mainlock" rev-parse main^)" = "$before" ] &&
	git -C "$2/mainlock" fsck --strict --no-progress' _ "$STET" "$TMP" "$EX"
t "main's lock taken during the run and held: the run stops naming it" sh -c '
	mkfifo "$2/mainlock.in"
	( "$1" -C "$2/mainlock" ingest - < "$2/mainlock.in" 2>"$2/mainlock.err"; echo $? > "$2/mainlock.rc" ) &
	exec 3>"$2/mainlock.in"
	# until the run has the archive (its pid in the lock) and waits for its input
	for i in $(seq 600); do
		pid=$(cat "$2/mainlock/.git/stet/lock" 2>/dev/null)
		[ -n "$pid" ] && { tr "\0" " " < /proc/$pid/cmdline; } 2>/dev/null | grep -q " ingest -" && break
		sleep 0.1
	done
	touch "$2/mainlock/.git/refs/heads/main.lock"
	sed "s/1,200/1,250/" "$3/jekyll-harbour.md" >&3
	exec 3>&-
	wait
	rm -f "$2/mainlock/.git/refs/heads/main.lock"
	[ "$(cat "$2/mainlock.rc")" = 1 ] && grep -q "error: moving main: .*main.lock, taken during this run, has been held" "$2/mainlock.err" &&
	git -C "$2/mainlock" fsck --strict --no-progress' _ "$STET" "$TMP" "$EX"

t "help for each archive command" sh -c 'for c in init ingest log show diff dups similar reindex fsck canon; do "$1" $c --help | grep -q "^usage: stet $c" || exit 1; done' _ "$STET"
t "usage errors exit 2" sh -c '"$1" -C "$2" ingest 2>/dev/null; [ $? = 2 ] && "$1" -C "$2" ingest --wait x . 2>/dev/null; [ $? = 2 ] && "$1" -C "$2" show 2>/dev/null; [ $? = 2 ]' _ "$STET" "$A"
finish
