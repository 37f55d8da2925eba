#!/usr/bin/env bash
# The post-ingest hook: run after a run that committed something, with
# the JSON lines on stdin and STET_ARCHIVE set; not run when nothing was
# committed; a failing hook is reported and the run stands. The samples
# in hooks/ (push, atom-feed) work.
. "$(dirname "$0")/lib.sh"
A=$TMP/archive
EX=$STET_SRC/examples
"$STET" init "$A" 2>/dev/null
mkdir -p "$A/.stet/hooks"
cat > "$A/.stet/hooks/post-ingest" <<'H'
#!/bin/sh
cat > "$STET_ARCHIVE/.git/hook-stdin"
pwd > "$STET_ARCHIVE/.git/hook-cwd"
echo "$STET_ARCHIVE" > "$STET_ARCHIVE/.git/hook-env"
H
chmod +x "$A/.stet/hooks/post-ingest"
printf 'hooks:\n  post-ingest: .stet/hooks/post-ingest\n' >> "$A/stet.yaml"

t "the hook gets the run's JSON lines and STET_ARCHIVE" sh -c '
	"$1" -C "$2" ingest "$3" 2>/dev/null || exit 1
	[ "$(wc -l < "$2/.git/hook-stdin")" = 3 ] && grep -q "\"verdict\":\"new\"" "$2/.git/hook-stdin" &&
	[ "$(cat "$2/.git/hook-env")" = "$(cd "$2" && pwd)" ] && [ "$(cat "$2/.git/hook-cwd")" = "$(cd "$2" && pwd)" ]' _ "$STET" "$A" "$EX"
t "no hook when nothing was committed" sh -c '
	rm "$2/.git/hook-stdin"; "$1" -C "$2" ingest "$3" 2>/dev/null && [ ! -e "$2/.git/hook-stdin" ]' _ "$STET" "$A" "$EX"
t "a failing hook is reported; the run stands" sh -c '
	printf "#!/bin/sh\nexit 7\n" > "$2/.stet/hooks/post-ingest"
	mkdir -p "$3/r" && sed "s/1,200/1,201/" "$4/jekyll-harbour.md" > "$3/r/a.md"
	before=$(git -C "$2" rev-parse main)
	"$1" -C "$2" ingest "$3/r" 2> "$3/err"; rc=$?
	[ $rc = 0 ] && grep -q "warning: post-ingest hook .* exited with 7; the run is archived" "$3/err" &&
	[ "$(git -C "$2" rev-parse main)" != "$before" ]' _ "$STET" "$A" "$TMP" "$EX"
t "article text never reaches a command line" sh -c '
	printf "#!/bin/sh\ncat /proc/\$\$/cmdline > \"\$STET_ARCHIVE/.git/hook-cmdline\"\n" > "$2/.stet/hooks/post-ingest"
	mkdir -p "$3/evil" && printf -- "---\ntitle: \"\$(touch %s/pwned); rm -rf /\"\nauthor: \"\`touch %s/pwned2\`\"\n---\n<p>Body with \$(touch %s/pwned3).</p>\n" "$3" "$3" "$3" > "$3/evil/e.md"
	"$1" -C "$2" ingest "$3/evil" 2>/dev/null &&
	[ ! -e "$3/pwned" ] && [ ! -e "$3/pwned2" ] && [ ! -e "$3/pwned3" ] &&
	! grep -q "touch" "$2/.git/hook-cmdline"' _ "$STET" "$A" "$TMP"

# the samples
R=$TMP/remote.git
git init -q --bare "$R"
git -C "$A" remote add origin "$R"
cp "$STET_SRC/hooks/push" "$A/.stet/hooks/post-ingest"
t "sample push: main reaches the remote" sh -c '
	mkdir -p "$3/p" && sed "s/1,200/1,202/" "$4/jekyll-harbour.md" > "$3/p/a.md"
	"$1" -C "$2" ingest "$3/p" 2>"$3/perr" && [ "$(git -C "$5" rev-parse main)" = "$(git -C "$2" rev-parse main)" ]' _ "$STET" "$A" "$TMP" "$EX" "$R"
cp "$STET_SRC/hooks/atom-feed" "$A/.stet/hooks/post-ingest"
t "sample atom-feed: a valid feed with an entry per change" sh -c '
	mkdir -p "$3/f1" "$3/f2" && sed "s/1,200/1,203/" "$4/jekyll-harbour.md" > "$3/f1/a.md" && sed "s/1,200/1,204/" "$4/jekyll-harbour.md" > "$3/f2/a.md"
	"$1" -C "$2" ingest "$3/f1" 2>/dev/null && "$1" -C "$2" ingest "$3/f2" 2>/dev/null &&
	python3 -c "
import sys, xml.etree.ElementTree as ET
ns={\"a\":\"http://www.w3.org/2005/Atom\"}
root=ET.parse(sys.argv[1]).getroot()
titles=[e.find(\"a:title\",ns).text for e in root.findall(\"a:entry\",ns)]
assert titles==[\"revision (minor): Harbour ferry returns after two-year pause\"]*2, titles
" "$2/.git/stet/changes.atom"' _ "$STET" "$A" "$TMP" "$EX"
t "a broken stet.yaml is named with its line and column" sh -c '
	"$1" init "$2/bad" 2>/dev/null && printf "checkpoint: [1, 2\n" >> "$2/bad/stet.yaml" &&
	"$1" -C "$2/bad" ingest "$3" 2>"$2/cfg"; [ $? = 1 ] && grep -q "stet.yaml:[0-9]*:[0-9]*: " "$2/cfg" &&
	"$1" init "$2/bad2" 2>/dev/null && sed -i "s/^checkpoint: .*/checkpoint: zero/" "$2/bad2/stet.yaml" &&
	"$1" -C "$2/bad2" ingest "$3" 2>"$2/cfg2"; [ $? = 1 ] && grep -q "stet.yaml:[0-9]*:[0-9]*: checkpoint must be a whole number" "$2/cfg2"' \
	_ "$STET" "$TMP" "$EX"
finish
