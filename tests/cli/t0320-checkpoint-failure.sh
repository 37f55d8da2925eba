#!/usr/bin/env bash
# A checkpoint that cannot be written (here: main is locked by someone
# else, for longer than the 2 s a run waits, when the checkpoint's thread
# moves it) stops the run with exit 1
# and the reason; main stays where it was, nothing half-written shows,
# and the next run archives everything.
. "$(dirname "$0")/lib.sh"
IN=$TMP/in
A=$TMP/a

mkdir -p "$IN"
for i in 1 2 3 4 5 6 7; do
	printf -- '---\ntitle: "Story %s"\nauthor: Wire A\nfrom: https://a.example/%s\ndate: 2021-06-0%sT03:00:00.000Z\n---\n<div><p>Story %s is about street number %s, where the council will plant %s0 trees this spring, the parks office said on Monday.</p><p>Neighbours of street %s asked for the trees two years ago.</p></div>\n' \
		"$i" "$i" "$i" "$i" "$i" "$i" "$i" > "$IN/s$i.md"
done
"$STET" init "$A" >/dev/null 2>&1
sed -i 's/^checkpoint: .*/checkpoint: 2/' "$A/stet.yaml"
git -C "$A" commit -qm "checkpoint every 2 commits" stet.yaml
first=$(git -C "$A" rev-parse main)

# made "later" than the run takes the archive: a lock made before would be
# one a killed run left, which the run takes over (t0010)
touch -d "+1 hour" "$A/.git/refs/heads/main.lock"
"$STET" -C "$A" ingest "$IN" 2>"$TMP/err" >/dev/null
echo $? > "$TMP/rc"
t "a checkpoint that cannot move main stops the run with exit 1" sh -c '[ "$(cat "$1")" = 1 ] || { cat "$2"; exit 1; }' _ "$TMP/rc" "$TMP/err"
t "the error says what failed" contains "$TMP/err" "moving main"
t "and says it once" sh -c '[ "$(grep -c "stet: error" "$1")" = 1 ]' _ "$TMP/err"
t "main did not move" sh -c '[ "$(git -C "$1" rev-parse main)" = "$2" ]' _ "$A" "$first"
t "the repository is whole" git -C "$A" fsck --strict --no-progress
t "no article reached the work tree" sh -c '[ -z "$(ls "$1/wire-a" 2>/dev/null)" ]' _ "$A"

rm "$A/.git/refs/heads/main.lock"
t "the next run archives everything" sh -c '"$1" -C "$2" ingest "$3" 2>/dev/null >/dev/null' _ "$STET" "$A" "$IN"
t "seven commits on main" sh -c '[ "$(git -C "$1" rev-list --count "$2..main")" = 7 ]' _ "$A" "$first"
t "the work tree matches main" sh -c '[ -z "$(git -C "$1" status --porcelain)" ]' _ "$A"
t "the key cache agrees with main" "$STET" -C "$A" fsck
t "seven files in the work tree" sh -c '[ "$(git -C "$1" ls-files | grep -c "\.md$")" = 7 ]' _ "$A"
finish
