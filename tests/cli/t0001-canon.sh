#!/usr/bin/env bash
# stet canon from the command line: help, version, output modes, errors
# that name the file and line, exit codes.
. "$(dirname "$0")/lib.sh"
EX=$STET_SRC/examples

t "--version prints the version" sh -c '"$STET" --version | grep -Eq "^stet [0-9]+\.[0-9]+\.[0-9]+$"'
# the allocator linked in serves malloc (under valgrind, valgrind's does)
if [ "${STET_MIMALLOC:-0}" = 1 ] && [ -z "${STET_VG_REAL:-}" ]; then
	alloc='^allocator: mimalloc [0-9]+\.[0-9]+\.[0-9]+, in use$'
elif [ "${STET_MIMALLOC:-0}" = 1 ]; then
	alloc='^allocator: mimalloc [0-9]+\.[0-9]+\.[0-9]+, '
else
	alloc="^allocator: the C library's malloc$"
fi
t "--version names the allocator in use" sh -c '"$STET" --version | grep -Eq "$1"' sh "$alloc"
t "--help lists canon" sh -c '"$STET" --help | grep -q "canon \[--body|--json\] FILE"'
t "canon --help" sh -c '"$STET" canon --help | grep -q -- "--body"'
t "no command is a usage error" expect_exit 2 "$STET"
t "unknown command is a usage error" expect_exit 2 "$STET" frobnicate
t "unknown option is a usage error" expect_exit 2 "$STET" canon --frob "$EX/hexo-library.md"
t "canon without input is a usage error" expect_exit 2 "$STET" canon
t "--body with --json is a usage error" expect_exit 2 "$STET" canon --body --json "$EX/hexo-library.md"

t "canon prints front matter and body" sh -c '
	"$STET" canon "$1" > "$2/o" &&
	head -1 "$2/o" | grep -qx -- "---" && grep -qx "canon: 1" "$2/o" &&
	grep -qx "title: 示例市：新建三座公共图书馆，年底前全部开放" "$2/o" &&
	grep -qx "published: 2021-06-08T03:07:15Z" "$2/o" &&
	grep -qx "第一座位于城东新区，预计九月开放！" "$2/o" &&
	! grep -q "责任编辑\|海量资讯\|appendQr\|&#123;" "$2/o"' _ "$EX/hexo-library.md" "$TMP"

t "--body prints the body only" sh -c '
	"$STET" canon --body "$1" > "$2/b" && ! grep -q "^canon:" "$2/b" &&
	head -1 "$2/b" | grep -q "^The city council adopted"' _ "$EX/page-budget.html" "$TMP"

t "--json prints one valid object per input" sh -c '
	"$STET" canon --json "$1" "$2" > "$3/j" && [ "$(wc -l < "$3/j")" = 2 ] &&
	python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert rows[0][\"input\"].endswith(\"hexo-library.md\"), rows[0]
assert rows[1][\"source\"] == \"Example Gazette\", rows[1]
assert rows[1][\"authors\"] == [\"Lee Chan\"], rows[1]
assert rows[1][\"url\"] == \"https://www.example.com/news/council-budget\", rows[1]
assert \"Council members\" in rows[1][\"body\"]
" "$3/j"' _ "$EX/hexo-library.md" "$EX/page-budget.html" "$TMP"

t "standard input is read with -" sh -c '"$STET" canon --body - < "$1" | grep -q "^The harbour ferry resumed"' _ "$EX/jekyll-harbour.md"

printf -- '---\ntitle: broken\nbody text\n' > "$TMP/unterminated.md"
printf -- '---\ntitle: a\nbad: [1, 2\n---\nbody\n' > "$TMP/badyaml.md"
t "a bad input is named with its line; the others still print; exit 3" sh -c '
	"$STET" canon --body "$1" "$2" "$3" > "$4/out" 2> "$4/err"; rc=$?
	[ $rc = 3 ] || { echo "exit $rc"; exit 1; }
	grep -q "^stet: error: $2:1:1: front matter opened here has no closing" "$4/err" &&
	grep -q "^stet: error: $3:4:1: front matter: " "$4/err" &&
	grep -q "^The harbour ferry" "$4/out"' \
	_ "$EX/jekyll-harbour.md" "$TMP/unterminated.md" "$TMP/badyaml.md" "$TMP"

t "a missing file is an error naming it" sh -c '
	"$STET" canon "$1/nope.md" 2> "$1/err"; [ $? = 3 ] && grep -q "nope.md: No such file" "$1/err"' _ "$TMP"
t "a directory is an error naming it" sh -c '
	"$STET" canon "$1" 2> "$1/err2"; [ $? = 3 ] && grep -q "is a directory" "$1/err2"' _ "$TMP"

t "canonical form is idempotent on the examples" sh -c '
	for f in "$1"/*; do
		"$STET" canon "$f" > "$2/c1" && "$STET" canon "$2/c1" > "$2/c2" && cmp "$2/c1" "$2/c2" || exit 1
	done' _ "$EX" "$TMP"
finish
