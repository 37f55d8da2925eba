#!/usr/bin/env bash
# Every post of the shared corpus canonicalizes: a non-empty body, no
# markup and no known boilerplate marker left, front matter complete; and
# the Sina Finance example post (the Hexo family's) comes out clean.
. "$(dirname "$0")/lib.sh"
need_shared
POSTS=$STET_SHARED/corpus/posts

t "every corpus post canonicalizes cleanly" sh -c '
	cd "$1" && find . -maxdepth 1 -type f -print0 | sort -z | xargs -0 "$2" canon --json > "$3/all.jsonl" 2> "$3/err"
	rc=$?
	[ $rc = 0 ] || { echo "stet canon exit $rc"; head -20 "$3/err"; exit 1; }
	python3 - "$3/all.jsonl" "$(ls "$1" | wc -l)" <<"PY"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
want = int(sys.argv[2])
assert len(rows) == want, f"{len(rows)} documents for {want} posts"
markers = ["责任编辑", "原标题：", "转载请注明", "THE END", "海量资讯、精准解读", "appendQr",
           "&#123;", "&#125;", "&amp;", "&nbsp;", "<!--", "<div", "<p>", "</p>", "<br", "<img",
           "<script", "document.write", "dfp-ad", "\u3000", "\u200b", "\xa0"]
bad = []
for r in rows:
    name = r["input"]
    body = r["body"] or ""
    if not body.strip():
        bad.append(f"{name}: empty body")
    for m in markers:
        if m in body:
            bad.append(f"{name}: marker {m!r} survives")
    if not r["title"]:
        bad.append(f"{name}: no title")
    if not r["source"]:
        bad.append(f"{name}: no source")
    for l in body.split("\n"):
        # list items continue on lines indented by two spaces; nothing else
        if l != l.rstrip() or (l != l.lstrip() and not (l.startswith("  ") and l[2:3].strip())):
            bad.append(f"{name}: a line with outer whitespace: {l[:40]!r}")
            break
for b in bad[:30]:
    print(b)
print(f"{len(rows)} posts, {len(bad)} problems")
sys.exit(1 if bad else 0)
PY' _ "$POSTS" "$STET" "$TMP"

SINA="$POSTS/source___posts__金融__新浪财经__新浪财经－国內__工信部：加强统筹谋划，系统梳理5G安全风险挑战.md"
t "the Sina Finance example post is clean text" sh -c '
	"$1" canon "$2" > "$3/sina" || exit 1
	grep -qx "title: 工信部：加强统筹谋划，系统梳理5G安全风险挑战" "$3/sina" &&
	grep -qx "source: 新浪财经" "$3/sina" &&
	grep -qx "published: 2021-06-08T03:07:15Z" "$3/sina" &&
	sed -n "/^---$/,/^---$/!p" "$3/sina" > "$3/body" &&
	head -1 "$3/body" | grep -qx "中新经纬客户端6月8日电 据工信部网站消息，近日，工业和信息化部在北京召开全国电视电话会议，部署推进5G安全工作。" &&
	tail -1 "$3/body" | grep -qx "会议指出，5G技术和应用仍处于迭代发展的进程中，各方面要加强开放合作与对外交流，用开放的态度和发展的眼光推动5G安全产品、服务和解决方案迭代升级，有效支撑5G高质量发展。" &&
	[ "$(grep -c . "$3/body")" = 17 ] &&
	! grep -q "责任编辑\|海量资讯\|二维码\|iframe\|总声明\|appendQr\|{" "$3/body"' _ "$STET" "$SINA" "$TMP"

t "canonical corpus documents are idempotent" sh -c '
	cd "$1" && ls | awk "NR % 10 == 0" | while IFS= read -r f; do
		"$2" canon "$f" > "$3/c1" && "$2" canon "$3/c1" > "$3/c2" && cmp -s "$3/c1" "$3/c2" || { echo "not idempotent: $f"; exit 1; }
	done' _ "$POSTS" "$STET" "$TMP"
finish
