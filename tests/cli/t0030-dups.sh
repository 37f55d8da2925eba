#!/usr/bin/env bash
# Reposts from the command line: an exact repost from another source keeps
# one copy and the original records it; the same source under a new URL is
# an alias; a trimmed or extended copy is a near-duplicate in its own file
# naming the original; stories that share only boilerplate stay apart;
# dups, similar, reindex, fsck.
. "$(dirname "$0")/lib.sh"
A=$TMP/archive
IN=$TMP/in
mkdir -p "$IN"
"$STET" init "$A" 2>/dev/null

post() { # post FILE SOURCE URL TITLE BODY-HTML
	printf -- '---\ntitle: "%s"\nauthor: %s\nfrom: %s\ndate: 2021-06-08T03:00:00.000Z\n---\n<div>%s</div>\n' "$4" "$2" "$3" "$5" > "$1"
}
P1='<p>The city council adopted next year'"'"'s budget on Tuesday, adding three bus lines and extending library hours, after a debate that lasted until midnight.</p><p>The budget, worth 1.2 billion dollars, passed by nine votes to four. The mayor called it a budget for people who do not drive, while opponents said it leaves too little for road repairs.</p>'
P2='<p>The new lines will run from March. Fares stay at 2 dollars, and children under 12 ride free, the transport office said in a statement.</p><p>Council members also voted to review the parking fees in the old town, a question that has divided shop owners for years.</p>'
post "$IN/a1-original.md" "Wire A" https://a.example/budget "Council adopts budget" "$P1$P2"
post "$IN/a2-repost.md" "Portal B" https://b.example/news/77 "Council adopts budget (repost)" "$P1$P2"
post "$IN/a3-alias.md" "Wire A" https://a.example/2021/06/08/budget "Council adopts budget" "$P1$P2"
post "$IN/a4-trimmed.md" "Mirror C" https://c.example/x "Budget adopted" "$P1<p>Read the rest on our site.</p>"
# five different stories that carry the same long gallery captions
CAP='<p>Photo one of the gallery shows the old harbour at dawn with fishing boats coming home after the night.</p><p>Photo two of the gallery shows the market square filled with stalls selling fruit, fish and flowers.</p><p>Photo three of the gallery shows children playing football on the beach while the tide goes out.</p>'
STORIES=("The school board hired a new principal for the northern district after a search that took a year."
	"Heavy rain flooded two underpasses on Friday and the fire brigade pumped water until the evening."
	"A local bakery won the regional bread prize with a rye loaf baked from a recipe kept since 1920."
	"The theatre reopens next month with a comedy, after repairs to its roof cost more than planned."
	"Cyclists asked the city for a protected lane on the bridge, citing three accidents this spring.")
for i in 1 2 3 4 5; do
	post "$IN/g$i-gallery.md" "Site G" "https://g.example/story$i" "Story $i" "<p>${STORIES[$((i - 1))]}</p>$CAP"
done

t "verdicts: new, repost, alias, near-duplicate; gallery stories stay new" sh -c '
	"$1" -C "$2" ingest --json "$3" > "$4/r.json" 2>/dev/null || exit 1
	python3 - "$4/r.json" <<"PY"
import json, sys
rows = {r["input"].rsplit("/", 1)[1]: r for r in map(json.loads, open(sys.argv[1]))}
o = rows["a1-original.md"]
assert o["verdict"] == "new", o
assert rows["a2-repost.md"]["verdict"] == "repost" and rows["a2-repost.md"]["of"] == o["path"], rows["a2-repost.md"]
assert rows["a2-repost.md"]["path"] == o["path"]
assert rows["a3-alias.md"]["verdict"] == "alias" and rows["a3-alias.md"]["of"] == o["path"], rows["a3-alias.md"]
t = rows["a4-trimmed.md"]
assert t["verdict"] == "near-duplicate" and t["of"] == o["path"] and t["path"] != o["path"], t
assert isinstance(t["distance"], int)
for i in range(1, 6):
    g = rows[f"g{i}-gallery.md"]
    assert g["verdict"] == "new", g
PY' _ "$STET" "$A" "$IN" "$TMP"

t "one copy of the reposted text; the original records the repost and the alias" sh -c '
	cd "$1" && [ "$(git ls-files "*.md" | wc -l)" = 7 ] &&
	f=$(git ls-files "wire-a/*") && grep -qx "reposts:" "$f" && grep -qx "  key: b.example/news/77" "$f" &&
	grep -qx -- "- source: Portal B" "$f" && grep -qx "aliases:" "$f" && grep -qx -- "- a.example/2021/06/08/budget" "$f" &&
	git log --format=%s | grep -qx "repost: Portal B: Council adopts budget (repost)" &&
	git log --format=%s | grep -qx "alias: Wire A: Council adopts budget" &&
	n=$(git ls-files "mirror-c/*") && grep -qx "near_duplicate_of: $f" "$n" && grep -q "^containment: 0\.9[0-9]*$" "$n"' _ "$A"

t "the same inputs again commit nothing" sh -c '
	before=$(git -C "$2" rev-parse main)
	"$1" -C "$2" ingest --json "$3" > "$4/r2.json" 2>/dev/null && [ "$(git -C "$2" rev-parse main)" = "$before" ] &&
	[ "$(grep -c "\"verdict\":\"unchanged\"" "$4/r2.json")" = 9 ]' _ "$STET" "$A" "$IN" "$TMP"

t "dups lists the cluster, original first" sh -c '
	"$1" -C "$2" dups > "$3/d" && head -1 "$3/d" | grep -q "^wire-a/.*Council adopts budget" &&
	grep -q "^  repost          b.example/news/77  from Portal B$" "$3/d" &&
	grep -q "^  alias           a.example/2021/06/08/budget$" "$3/d" &&
	grep -q "^  near-duplicate  mirror-c/" "$3/d" && [ "$(grep -c "^[^ ]" "$3/d")" = 1 ] &&
	"$1" -C "$2" dups --json "Budget adopted" | python3 -c "
import json,sys
rows=[json.loads(l) for l in sys.stdin]
assert [r[\"relation\"] for r in rows]==[\"original\",\"repost\",\"alias\",\"near-duplicate\"], rows"' _ "$STET" "$A" "$TMP"

t "similar reports what an input resembles and archives nothing" sh -c '
	before=$(git -C "$2" rev-parse main)
	"$1" -C "$2" similar --json "$3/a4-trimmed.md" > "$4/s" && [ "$(git -C "$2" rev-parse main)" = "$before" ] &&
	python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert rows[0][\"containment\"] > 0.99 and rows[0][\"duplicate\"] is True, rows
" "$4/s" && "$1" -C "$2" similar "$3/a2-repost.md" | grep -q "(exact)$"' _ "$STET" "$A" "$IN" "$TMP"

t "fsck agrees; a damaged index is found; reindex repairs it" sh -c '
	"$1" -C "$2" fsck 2>/dev/null || exit 1
	sed -i "0,/\t[0-9a-f]\{40\}\t/s//\t0000000000000000000000000000000000000000\t/" "$2/.git/stet/keys"
	"$1" -C "$2" fsck > "$3/f" 2>/dev/null; [ $? = 1 ] && grep -q "the index has blob 000000000000" "$3/f" &&
	"$1" -C "$2" reindex 2>/dev/null && "$1" -C "$2" fsck 2>/dev/null' _ "$STET" "$A" "$TMP"

t "a missing index is rebuilt by itself" sh -c '
	rm -f "$2/.git/stet/keys" && "$1" -C "$2" ingest --json "$3" 2>/dev/null | grep -vc "\"verdict\":\"unchanged\"" | grep -qx 0' _ "$STET" "$A" "$IN"
finish
