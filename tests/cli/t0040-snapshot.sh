#!/usr/bin/env bash
# The key cache's snapshot (docs/format.md): runs over a snapshot decide
# exactly as runs over the journal alone; old snapshots go; a damaged or
# missing snapshot costs a rebuild from git, never a wrong answer.
# STET_SNAPSHOT_AFTER=N writes a snapshot whenever the journal would hold
# more than N records (0: at every checkpoint).
. "$(dirname "$0")/lib.sh"
IN=$TMP/in

post() { # post FILE SOURCE URL TITLE BODY-HTML
	mkdir -p "$(dirname "$1")"
	printf -- '---\ntitle: "%s"\nauthor: %s\nfrom: %s\ndate: 2021-06-08T03:00:00.000Z\n---\n<div>%s</div>\n' "$4" "$2" "$3" "$5" > "$1"
}
P1='<p>The city council adopted next year'"'"'s budget on Tuesday, adding three bus lines and extending library hours, after a debate that lasted until midnight.</p><p>The budget, worth 1.2 billion dollars, passed by nine votes to four. The mayor called it a budget for people who do not drive, while opponents said it leaves too little for road repairs.</p>'
P2='<p>The new lines will run from March. Fares stay at 2 dollars, and children under 12 ride free, the transport office said in a statement.</p><p>Council members also voted to review the parking fees in the old town, a question that has divided shop owners for years.</p>'
P3='<p>The harbour authority will dredge the northern channel this summer so that larger ferries can dock, a project planned since 2015.</p><p>Work starts in June and should end before the autumn storms, the authority said, with night shifts to keep the port open by day.</p>'
CAP='<p>Photo one of the gallery shows the old harbour at dawn with fishing boats coming home after the night.</p><p>Photo two of the gallery shows the market square filled with stalls selling fruit, fish and flowers.</p>'
# run 1: originals, a repost, stories sharing captions
post "$IN/1/a1.md" "Wire A" https://a.example/budget "Council adopts budget" "$P1$P2"
post "$IN/1/a2.md" "Portal B" https://b.example/news/77 "Council adopts budget (repost)" "$P1$P2"
post "$IN/1/h1.md" "Wire A" https://a.example/harbour "Harbour dredging" "$P3"
for i in 1 2 3; do
	post "$IN/1/g$i.md" "Site G" "https://g.example/story$i" "Story $i" "<p>Story number $i of the week is about a different street, house $i, and its neighbours.</p>$CAP"
done
# run 2: a revision, an alias, a near-duplicate, a new story
post "$IN/2/a1.md" "Wire A" https://a.example/budget "Council adopts budget" "$P1$P2<p>Update: the mayor will sign the budget on Friday.</p>"
post "$IN/2/a3.md" "Wire A" https://a.example/2021/06/08/budget "Council adopts budget" "$P1$P2<p>Update: the mayor will sign the budget on Friday.</p>"
post "$IN/2/a4.md" "Mirror C" https://c.example/x "Budget adopted" "$P1<p>Read the rest on our site.</p>"
post "$IN/2/h2.md" "Portal B" https://b.example/news/78 "Ferries" "$P3<p>Portal B adds that the ferry company welcomed the plan.</p>"
# a new story in run 2 that run 3 reposts and partly reposts: its
# original is in a small snapshot by then (STET_SNAPSHOT_TOP)
P4='<p>The university opened a new library wing on Monday, with four floors of reading rooms, a map archive and a roof garden open to everyone.</p><p>The wing cost 40 million and took three years to build. Students can borrow laptops there, and the cafe stays open until ten in the evening.</p>'
post "$IN/2/u1.md" "Wire U" https://u.example/library "Library wing opens" "$P4"
post "$IN/3/u2.md" "Mirror V" https://v.example/lib "Library wing opens" "$P4"
post "$IN/3/u3.md" "Portal W" https://w.example/l "New library wing" "$P4<p>Portal W visited the roof garden on opening day and found it full.</p>"
# run 3: the repost's text changes, a revision of a near-duplicate, another gallery story
post "$IN/3/a2.md" "Portal B" https://b.example/news/77 "Council adopts budget (repost)" "$P2"
post "$IN/3/a4.md" "Mirror C" https://c.example/x "Budget adopted" "$P1<p>Read the rest on our site, or in print.</p>"
post "$IN/3/g4.md" "Site G" https://g.example/story4 "Story 4" "<p>Story number 4 of the week is about a different street, house 4, and its neighbours.</p>$CAP"

runs() { # archive STET_SNAPSHOT_AFTER [CHECKPOINT] [STET_SNAPSHOT_TOP] [STET_SNAPSHOT_MID]
	"$STET" init "$1" >/dev/null 2>&1 || return 1
	[ -z "${3:-}" ] || sed -i "s/^checkpoint: .*/checkpoint: $3/" "$1/stet.yaml"
	for r in 1 2 3; do
		STET_SNAPSHOT_AFTER=$2 STET_SNAPSHOT_TOP=${4:-} STET_SNAPSHOT_MID=${5:-} "$STET" -C "$1" ingest --json "$IN/$r" \
			> "$1.$r.json" 2>/dev/null || return 1
		# a run that left a middle snapshot, named by the journal (format 8)
		if ls "$1/.git/stet" | grep -q "^mid-"; then
			grep -q "^@mid $(ls "$1/.git/stet" | sed -n "s/^mid-//p")\$" "$1/.git/stet/keys" &&
				[ "$(head -1 "$1/.git/stet/keys")" = "stet-keys 8" ] && echo "$r" >> "$1.mids" || return 1
		fi
		# a run that left a small snapshot, named by the journal: over
		# the big one (format 7) or over a middle one (format 8)
		! ls "$1/.git/stet" | grep -q "^top-" || { grep -q "^@top $(ls "$1/.git/stet" | sed -n "s/^top-//p")\$" "$1/.git/stet/keys" &&
			head -1 "$1/.git/stet/keys" | grep -qx "stet-keys [78]" && echo "$r" >> "$1.tops"; } || return 1
		! ls "$1/.git/stet" | grep -q "^top-" || ! ls "$1/.git/stet" | grep -q "^mid-" || echo "$r" >> "$1.midtops"
	done
}

{ declare -f post runs; declare -p IN STET P1 P2; } > "$TMP/funcs"

t "runs over a snapshot decide as runs over the journal" bash -c '
	. "$1"
	runs "$2/journal" "" && runs "$2/snap" 0 && runs "$2/mixed" 2 || exit 1
	# a checkpoint a commit: snapshots written in the middle of runs, and
	# records appended to the journals that continue them
	runs "$2/each" 2 1 || exit 1
	# small snapshots over the big one (STET_SNAPSHOT_TOP: the most they
	# hold): run 2 leaves one (run 3 reads it, finds the reposts of a story
	# in it, and merges it into a big one: its changes to the big one are
	# too many to carry); a checkpoint a commit: small ones and big ones
	# in the middle of runs
	runs "$2/top" 2 "" 1000 && runs "$2/top6" 2 "" 6 && runs "$2/eachtop" 2 1 3 || exit 1
	# middle snapshots (STET_SNAPSHOT_MID: the most they hold) between
	# the big one and the small ones, a checkpoint a commit (below, many
	# runs: small ones over a middle one)
	runs "$2/mid" 4 1 3 20 && runs "$2/eachmid" 4 1 2 5 || exit 1
	for x in mid eachmid; do [ -s "$2/$x.mids" ] || { echo "$x: no middle snapshot"; exit 1; }; done
	ls "$2/snap/.git/stet" | grep -q "^snapshot-" || { echo "no snapshot written"; exit 1; }
	ls "$2/journal/.git/stet" | grep -q "^snapshot-" && { echo "small archive wrote a snapshot"; exit 1; }
	for x in top top6 eachtop; do [ -s "$2/$x.tops" ] || { echo "$x: no small snapshot"; exit 1; }; done
	[ ! -e "$2/mixed.tops" ] || { echo "small snapshots in a small archive"; exit 1; }
	for x in snap mixed each top top6 eachtop mid eachmid; do
		[ "$(git -C "$2/journal" rev-parse "main^{tree}")" = "$(git -C "$2/$x" rev-parse "main^{tree}")" ] ||
			{ echo "$x: another tree"; exit 1; }
		[ "$(git -C "$2/journal" log --format=%B main)" = "$(git -C "$2/$x" log --format=%B main)" ] ||
			{ echo "$x: other commits"; exit 1; }
		for r in 1 2 3; do cmp -s "$2/journal.$r.json" "$2/$x.$r.json" || { echo "$x: run $r decided otherwise"; exit 1; }; done
		[ "$("$3" -C "$2/journal" dups)" = "$("$3" -C "$2/$x" dups)" ] || { echo "$x: dups differ"; exit 1; }
		"$3" -C "$2/$x" fsck >/dev/null 2>&1 || { echo "$x: fsck"; exit 1; }
	done
	# the runs saw every kind of verdict
	cat "$2"/journal.?.json | grep -o "\"verdict\":\"[a-z-]*\"" | sort -u | tr -d "\n" |
		grep -q "alias.*near.*new.*repost.*revision" || { echo "not every verdict"; exit 1; }' _ "$TMP/funcs" "$TMP" "$STET"

# 24 runs: a new story each, every fifth run a repost of the story two
# runs before, every eighth a revision of an old story (records the
# journal keeps over a new small or middle snapshot)
for r in $(seq 1 24); do
	post "$TMP/many/$r/s.md" "Wire M" "https://m.example/$r" "Market day $r" \
		"<p>Market day number $r brings $r stalls of fruit to the square, and the band plays $((r * 3)) songs until the lamps go on.</p><p>The organisers of day $r thank the $((r + 7)) volunteers who swept the square at dawn.</p>"
	if [ $((r % 5)) = 0 ]; then
		sed "s#^from: .*#from: https://n.example/$r#; s#^author: .*#author: Portal N#" "$TMP/many/$((r - 2))/s.md" > "$TMP/many/$r/repost.md"
	fi
	[ $((r % 8)) != 0 ] || post "$TMP/many/$r/rev.md" "Wire M" "https://m.example/$((r / 8))" "Market day $((r / 8))" \
		"<p>Market day number $((r / 8)) was moved indoors because of rain, and the band played in the hall.</p>"
done
t "middle snapshots: small ones go into one, it goes into the big one; every run decides as over the journal" bash -c '
	many() { # archive [STET_SNAPSHOT_AFTER STET_SNAPSHOT_TOP STET_SNAPSHOT_MID STET_SNAPSHOT_LATE]
		"$STET" init "$1" >/dev/null 2>&1 || return 1
		# late: a checkpoint a commit, each appending to the journal over
		# the old snapshots while the new one waits to be named at the
		# end of the run; the key cache is then checked against git
		[ -z "${5:-}" ] || sed -i "s/^checkpoint: .*/checkpoint: 1/" "$1/stet.yaml"
		for r in $(seq 1 24); do
			STET_SNAPSHOT_AFTER=${2:-} STET_SNAPSHOT_TOP=${3:-} STET_SNAPSHOT_MID=${4:-} STET_SNAPSHOT_LATE=${5:-} \
				"$STET" -C "$1" ingest --json "$TMP/many/$r" > "$1.$r.json" 2>/dev/null || return 1
			{ head -1 "$1/.git/stet/keys"; grep "^@base\|^@mid\|^@top" "$1/.git/stet/keys"; } | tr "\n" " " >> "$1.states"
			echo >> "$1.states"
			[ -z "${5:-}" ] || "$STET" -C "$1" fsck >/dev/null 2>&1 || { echo "$1: run $r: fsck"; return 1; }
		done
	}
	STET=$1 TMP=$2
	many "$TMP/many-journal" && many "$TMP/many-layers" 4 7 12 && many "$TMP/many-late" 4 7 12 1 || exit 1
	# the same kinds of snapshot named after every run (their ids differ)
	ids() { sed "s/[0-9a-f]\{16\}/ID/g" "$1"; }
	[ "$(ids "$TMP/many-layers.states")" = "$(ids "$TMP/many-late.states")" ] && [ "$(grep -c "@base" "$TMP/many-late.states")" -ge 20 ] ||
		{ paste "$TMP/many-layers.states" "$TMP/many-late.states"; echo "late naming: other snapshots named"; exit 1; }
	s=$TMP/many-layers.states
	# a small snapshot over a middle one; a middle one written again over
	# the same big one; a big one again once the middle one is full
	grep -q "^stet-keys 8 @base [0-9a-f]* @mid [0-9a-f]* @top [0-9a-f]* *$" "$s" || { cat "$s"; echo "no small over a middle"; exit 1; }
	[ "$(grep "^stet-keys 8" "$s" | awk "{print \$4, \$6}" | sort -u | awk "{print \$1}" | uniq -d | wc -l)" -ge 1 ] ||
		{ cat "$s"; echo "no middle one written again over the same big one"; exit 1; }
	awk "/@mid/ && !b {b = \$4} b && \$4 != b {found = 1} END {exit !found}" "$s" ||
		{ cat "$s"; echo "no big one after a full middle one"; exit 1; }
	[ "$(git -C "$TMP/many-journal" rev-parse "main^{tree}")" = "$(git -C "$TMP/many-layers" rev-parse "main^{tree}")" ] &&
	[ "$(git -C "$TMP/many-journal" log --format=%B main)" = "$(git -C "$TMP/many-layers" log --format=%B main)" ] ||
		{ echo "another tree or other commits"; exit 1; }
	for r in $(seq 1 24); do
		for x in layers late; do cmp -s "$TMP/many-journal.$r.json" "$TMP/many-$x.$r.json" || { echo "$x: run $r decided otherwise"; exit 1; }; done
	done
	grep -q "\"verdict\":\"repost\"" "$TMP/many-layers.20.json" && grep -q "\"verdict\":\"revision\"" "$TMP/many-layers.16.json" &&
	[ "$("$STET" -C "$TMP/many-journal" dups)" = "$("$STET" -C "$TMP/many-layers" dups)" ] &&
	"$STET" -C "$TMP/many-layers" fsck >/dev/null 2>&1 &&
	[ "$(ls "$TMP/many-layers/.git/stet" | grep -c "^mid-")" -le 1 ] && [ "$(ls "$TMP/many-layers/.git/stet" | grep -c "^top-")" -le 1 ] ||
		exit 1
	# the snapshots strings and numbers: one generation, shared by the
	# three levels (snapshot format 5), none left of the ones before
	[ "$(ls "$TMP/many-layers/.git/stet" | grep -c "^strings-")" = 1 ] && [ "$(ls "$TMP/many-layers/.git/stet" | grep -c "^numbers-")" = 1 ] ||
		{ ls "$TMP/many-layers/.git/stet"; echo "not one generation of strings and numbers"; exit 1; }
	# a writer killed while appending to them left bytes past what the
	# named snapshots read: the next writer cuts them off before its own,
	# and decides as before
	cp -a "$TMP/many-layers" "$TMP/many-cut" && cp -a "$TMP/many-journal" "$TMP/many-cut-journal" || exit 1
	for f in "$TMP/many-cut/.git/stet/"strings-* "$TMP/many-cut/.git/stet/"numbers-*; do printf "KILLEDWRITER%.0s" $(seq 1 50) >> "$f"; done
	for x in cut cut-journal; do
		STET_SNAPSHOT_AFTER=0 STET_SNAPSHOT_TOP=7 STET_SNAPSHOT_MID=12 "$STET" -C "$TMP/many-$x" ingest --json "$TMP/many/1" "$TMP/many/2" > "$TMP/many-$x.json" 2>/dev/null || exit 1
	done
	cmp -s "$TMP/many-cut.json" "$TMP/many-cut-journal.json" || { echo "after a killed writer: decided otherwise"; exit 1; }
	! cat "$TMP/many-cut/.git/stet/"strings-* "$TMP/many-cut/.git/stet/"numbers-* | grep -q KILLEDWRITER ||
		{ echo "a killed writer'"'"'s bytes were kept"; exit 1; }
	[ "$("$STET" -C "$TMP/many-cut-journal" dups)" = "$("$STET" -C "$TMP/many-cut" dups)" ] && "$STET" -C "$TMP/many-cut" fsck >/dev/null 2>&1' \
	_ "$STET" "$TMP"

t "one snapshot stays: older ones and a killed run's are removed" bash -c '
	. "$1/funcs"
	s="$1/snap/.git/stet"
	[ "$(ls "$s" | grep -c "^snapshot-")" = 1 ] || exit 1
	touch "$s/snapshot-0000000000000001" "$s/snapshot-0000000000000002.tmp.99"
	post "$1/in4/n.md" "Wire D" https://d.example/n "Night market" "<p>The night market opens again on Saturday with forty stalls and music until one in the morning, the organisers said.</p>"
	STET_SNAPSHOT_AFTER=0 "$2" -C "$1/snap" ingest "$1/in4" >/dev/null 2>&1 || exit 1
	[ "$(ls "$s" | grep -c "^snapshot-")" = 1 ] && grep -q "^@base $(ls "$s" | sed -n "s/^snapshot-//p")\$" "$s/keys"' \
	_ "$TMP" "$STET"

t "the snapshot before is the spare the next one is written over, unless it is read" bash -c '
	. "$1/funcs"
	s="$1/snap/.git/stet"
	[ -f "$s/snapshot.spare" ] || { echo "no spare"; exit 1; }
	ino=$(stat -c %i "$s/snapshot.spare")
	post "$1/in6/n.md" "Wire D" https://d.example/m "Morning market" "<p>The morning market moves to the river bank for the summer, with sixty stalls and a ferry stop, the organisers said.</p>"
	STET_SNAPSHOT_AFTER=0 "$2" -C "$1/snap" ingest "$1/in6" >/dev/null 2>&1 || exit 1
	[ "$(stat -c %i "$s"/snapshot-*)" = "$ino" ] || { echo "the spare was not written over"; exit 1; }
	# a reader holds the spare: a new file instead
	ino=$(stat -c %i "$s/snapshot.spare")
	post "$1/in7/n.md" "Wire D" https://d.example/e "Evening market" "<p>The evening market closes an hour earlier in winter, and the stalls of the bridge move under the station roof, the council said.</p>"
	STET_SNAPSHOT_AFTER=0 flock -s "$s/snapshot.spare" "$2" -C "$1/snap" ingest "$1/in7" >/dev/null 2>&1 || exit 1
	[ "$(stat -c %i "$s"/snapshot-*)" != "$ino" ] || { echo "a spare being read was written over"; exit 1; }
	[ "$(ls "$s" | grep -c "^snapshot")" = 2 ] && "$2" -C "$1/snap" fsck >/dev/null 2>&1' _ "$TMP" "$STET"

t "small snapshots are written over the one before (top.spare), unless it is read" bash -c '
	. "$1/funcs"
	# a checkpoint a commit, a small snapshot at most of them (room for
	# 1000); the last run merges its small one into the big one
	runs "$1/tsp" 2 1 1000 || exit 1
	s="$1/tsp/.git/stet"
	[ -f "$s/top.spare" ] || { echo "no small spare"; ls "$s"; exit 1; }
	small() { # folder id: a post, ingested with a small snapshot at its opening and its checkpoint
		post "$1/$2/n.md" "Wire D" "https://d.example/$2" "Line $2" "<p>The tram line $2 to the harbour opens in May, with eleven stops and a tram every six minutes at rush hour, the city said.</p>"
		STET_SNAPSHOT_AFTER=0 STET_SNAPSHOT_TOP=1000 ${3:-} "$STET" -C "$1/tsp" ingest "$1/$2" >/dev/null 2>&1
	}
	# every small snapshot written over the other file: two files, ever
	seen=$(ls -i "$s" | awk "\$2 ~ /^top/ {print \$1}")
	for r in in8 in9 in10 in11; do
		small "$1" $r || exit 1
		seen="$seen $(ls -i "$s" | awk "\$2 ~ /^top/ {print \$1}")"
	done
	[ "$(echo $seen | tr " " "\n" | sort -u | wc -l)" = 2 ] || { echo "new files: $seen"; exit 1; }
	# a reader holds the spare: it is not written over (a new file instead)
	ln "$s/top.spare" "$1/held" && cp "$s/top.spare" "$1/held.copy" || exit 1
	small "$1" in12 "flock -s $s/top.spare" && cmp -s "$1/held" "$1/held.copy" ||
		{ echo "a small spare being read was written over"; exit 1; }
	[ "$(ls "$s" | grep -c "^top")" = 2 ] && grep -q "^@top $(ls "$s" | sed -n "s/^top-//p")\$" "$s/keys" &&
	"$STET" -C "$1/tsp" fsck >/dev/null 2>&1' _ "$TMP"

t "a journal past its limit gets its snapshot when the next run opens the archive, not from readers" bash -c '
	"$2" init "$1/due" >/dev/null 2>&1 &&
	STET_SNAPSHOT_AFTER=100000 "$2" -C "$1/due" ingest "$1/in/1" >/dev/null 2>&1 || exit 1
	s="$1/due/.git/stet"
	! ls "$s" | grep -q "^snapshot-" || { echo "a snapshot already"; exit 1; }
	tree=$(git -C "$1/due" rev-parse "main^{tree}")
	for c in log dups; do STET_SNAPSHOT_AFTER=0 "$2" -C "$1/due" $c >/dev/null 2>&1 || exit 1; done
	! ls "$s" | grep -q "^snapshot-" || { echo "a reader wrote a snapshot"; exit 1; }
	# a run that changes nothing: no checkpoint, but its opening writes it
	STET_SNAPSHOT_AFTER=0 "$2" -C "$1/due" ingest --json "$1/in/1" > "$1/due.json" 2>/dev/null || exit 1
	! grep -v "\"verdict\":\"unchanged\"" "$1/due.json" | grep -q . || { echo "not unchanged"; exit 1; }
	ls "$s" | grep -q "^snapshot-" || { echo "no snapshot written at the opening"; ls "$s"; exit 1; }
	grep -q "^@base $(ls "$s" | sed -n "s/^snapshot-//p")\$" "$s/keys" &&
	[ "$(grep -vc "^@\|^stet-keys" "$s/keys")" = 0 ] &&
	[ "$(git -C "$1/due" rev-parse "main^{tree}")" = "$tree" ] && "$2" -C "$1/due" fsck >/dev/null 2>&1' _ "$TMP" "$STET"

t "an article that has a sentence twice counts once for it, from a snapshot as from the journal" bash -c '
	. "$1/funcs"
	# S in three stories, twice in the third: four postings of it would
	# make it common (COMMON_DF 5, with the copy coming in) and change
	# the copy'"'"'s containment (snapshots before version 4 did)
	S="<p>Readers can send tips and photos to the newsroom by email at any hour, and the editors answer every message within a day.</p>"
	W="<p>Story 4 is about the river walk, which the council extended by two kilometres with new benches and lights along the water.</p>"
	for i in 1 2; do
		post "$1/twice/1/s$i.md" "Site $i" "https://s$i.example/story" "Story $i" "<p>Story $i is about street number $i in the old quarter, where a bakery opened its doors this spring after years of repairs.</p>$S"
	done
	post "$1/twice/1/s4.md" "Site 4" https://s4.example/story "Story 4" "$W$S<p>The walk is open day and night, and dogs on a lead are welcome everywhere except the playground.</p>$S"
	post "$1/twice/2/b.md" "Mirror B" https://b.example/copy "Story 4 copy" "$W$S<p>The walk is open day and night, and dogs on a lead are welcome everywhere except the playground in the park.</p>"
	for x in 100000 0; do
		"$2" init "$1/twice-$x" >/dev/null 2>&1 || exit 1
		for r in 1 2; do STET_SNAPSHOT_AFTER=$x "$2" -C "$1/twice-$x" ingest "$1/twice/$r" >/dev/null 2>&1 || exit 1; done
	done
	ls "$1/twice-0/.git/stet" | grep -q "^snapshot-" && ! ls "$1/twice-100000/.git/stet" | grep -q "^snapshot-" &&
	git -C "$1/twice-100000" grep -q "^containment: 0\\.985" main -- "mirror-b/*" || { echo "not the case meant"; exit 1; }
	[ "$(git -C "$1/twice-0" rev-parse "main^{tree}")" = "$(git -C "$1/twice-100000" rev-parse "main^{tree}")" ]' _ "$TMP" "$STET"

t "a missing snapshot is rebuilt from git" bash -c '
	rm -f "$1/snap/.git/stet"/snapshot-*
	"$2" -C "$1/snap" ingest --json "$1/in/3" 2>/dev/null | grep -vc "\"verdict\":\"unchanged\"" | grep -qx 0 &&
	"$2" -C "$1/snap" fsck >/dev/null 2>&1' _ "$TMP" "$STET"

t "missing or cut strings and numbers of the snapshots: rebuilt from git" bash -c '
	. "$1/funcs"
	for cut in strings numbers; do
		cp -a "$1/snap" "$1/snap-$cut" && STET_SNAPSHOT_AFTER=0 "$2" -C "$1/snap-$cut" reindex >/dev/null 2>&1 || exit 1
		f=$(ls "$1/snap-$cut/.git/stet"/$cut-*) && truncate -s 8 "$f" || exit 1
		"$2" -C "$1/snap-$cut" ingest --json "$1/in/3" 2>/dev/null | grep -vc "\"verdict\":\"unchanged\"" | grep -qx 0 &&
		"$2" -C "$1/snap-$cut" fsck >/dev/null 2>&1 || { echo "$cut cut"; exit 1; }
		rm -f "$1/snap-$cut/.git/stet"/strings-* "$1/snap-$cut/.git/stet"/numbers-*
		"$2" -C "$1/snap-$cut" ingest --json "$1/in/3" 2>/dev/null | grep -vc "\"verdict\":\"unchanged\"" | grep -qx 0 &&
		"$2" -C "$1/snap-$cut" fsck >/dev/null 2>&1 || { echo "$cut missing"; exit 1; }
	done' _ "$TMP" "$STET"

t "revisions only: the strings and numbers of changed entries do not pile up" bash -c '
	. "$1/funcs"
	a=$1/revs
	"$2" init "$a" >/dev/null 2>&1 || exit 1
	body() { echo "<p>Item $1 in version $2: market day brings many stalls of fruit to the square, and the band plays until the lamps go on.</p><p>The organisers of item $1 thank the volunteers who swept the square, version $2.</p>"; }
	for k in 1 2 3 4 5 6; do post "$1/revs-in/1/$k.md" "Wire R" "https://r.example/$k" "Item $k, version 1, with a long title that takes room" "$(body $k 1)"; done
	STET_SNAPSHOT_AFTER=2 STET_SNAPSHOT_TOP=20 STET_SNAPSHOT_MID=1000 "$2" -C "$a" ingest "$1/revs-in/1" >/dev/null 2>&1 || exit 1
	gens=""; most=0
	for v in $(seq 2 30); do
		for k in 1 2 3; do post "$1/revs-in/$v/$k.md" "Wire R" "https://r.example/$k" "Item $k, version $v, with a long title that takes room" "$(body $k $v)"; done
		STET_SNAPSHOT_AFTER=2 STET_SNAPSHOT_TOP=20 STET_SNAPSHOT_MID=1000 "$2" -C "$a" ingest "$1/revs-in/$v" >/dev/null 2>&1 || exit 1
		[ "$(ls "$a/.git/stet" | grep -c "^strings-")" = 1 ] || { ls "$a/.git/stet"; echo "run $v: not one generation"; exit 1; }
		size=$(stat -c %s "$a/.git/stet"/strings-*); [ "$size" -gt "$most" ] && most=$size
		gens="$gens $(ls "$a/.git/stet" | sed -n "s/^strings-//p")"
	done
	# new generations came (written whole, compacted), and the file stayed
	# within a few times what the six entries hold
	[ "$(echo $gens | tr " " "\n" | sort -u | wc -l)" -ge 3 ] && [ "$most" -lt 8000 ] ||
		{ echo "generations: $gens; largest $most bytes"; exit 1; }
	"$2" -C "$a" fsck >/dev/null 2>&1' _ "$TMP" "$STET"

t "a damaged snapshot is an error that names it, or a rebuild; reindex repairs it" bash -c '
	. "$1/funcs"
	STET_SNAPSHOT_AFTER=0 "$2" -C "$1/snap" reindex >/dev/null 2>&1 || exit 1
	f=$(ls "$1/snap/.git/stet"/snapshot-*)
	size=$(stat -c %s "$f")
	# garbage over the second half: tables and directories
	head -c $((size / 2)) /dev/urandom | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	post "$1/in5/a5.md" "Mirror E" https://e.example/y "Budget" "$P1$P2<p>Mirror E.</p>"
	"$2" -C "$1/snap" ingest "$1/in5" 2>"$1/err"; rc=$?
	[ $rc = 0 ] || { [ $rc = 1 ] && grep -q "snapshot-.* is damaged" "$1/err"; } || { cat "$1/err"; exit 1; }
	"$2" -C "$1/snap" reindex >/dev/null 2>&1 && "$2" -C "$1/snap" fsck >/dev/null 2>&1 &&
	# a header that is not a snapshot: rebuilt without a word
	printf "garbage" | dd of="$(ls "$1/snap/.git/stet"/snapshot-* | head -1)" conv=notrunc 2>/dev/null
	"$2" -C "$1/snap" ingest --json "$1/in/3" 2>/dev/null | grep -vc "\"verdict\":\"unchanged\"" | grep -qx 0' \
	_ "$TMP" "$STET"
t "a key cache behind main catches up with what changed (with and without a snapshot)" bash -c '
	for x in 0 ""; do
		a="$1/cu$x"; "$2" init "$a" >/dev/null 2>&1 || exit 1
		STET_SNAPSHOT_AFTER=$x "$2" -C "$a" ingest "$1/in/1" 2>/dev/null || exit 1
		cp "$a/.git/stet/keys" "$1/keys.1"
		"$2" -C "$a" ingest "$1/in/2" 2>/dev/null || exit 1
		# as a run killed between moving main and saving the cache leaves it
		cp "$1/keys.1" "$a/.git/stet/keys"
		"$2" -C "$a" ingest --json "$1/in/2" 2>/dev/null | grep -vc "\"verdict\":\"unchanged\"" | grep -qx 0 ||
			{ echo "cu$x: not unchanged"; exit 1; }
		# caught up (appended to), not rebuilt (written anew)
		head -c "$(stat -c %s "$1/keys.1")" "$a/.git/stet/keys" | cmp -s - "$1/keys.1" || { echo "cu$x: rebuilt"; exit 1; }
		"$2" -C "$a" fsck >/dev/null 2>&1 || { echo "cu$x: fsck"; exit 1; }
		"$2" -C "$a" ingest --json "$1/in/3" > "$1/cu$x.3.json" 2>/dev/null || exit 1
	done
	# and decides as the runs that never fell behind
	cmp -s "$1/cu.3.json" "$1/journal.3.json" && cmp -s "$1/cu0.3.json" "$1/journal.3.json" &&
	[ "$(git -C "$1/cu0" rev-parse "main^{tree}")" = "$(git -C "$1/journal" rev-parse "main^{tree}")" ]' _ "$TMP" "$STET"

t "a snapshot its thread cannot write is a warning: the run is archived, the journal goes on, the next run writes it" bash -c '
	. "$1/funcs"
	a="$1/fail"; s="$a/.git/stet"
	for i in 1 2 3 4 5 6; do
		for j in 1 2 3; do
			post "$1/fail-in/$i/s$j.md" "Wire F" "https://f.example/$i/$j" "Bridge $i $j" "<p>Story $i $j tells of bridge number $i$j over the river, which the council repaints in May with $j volunteers.</p><p>Part $i of the works starts at dawn on day $j and ends before the evening trains.</p>"
		done
	done
	"$2" init "$a" >/dev/null 2>&1 || exit 1
	for i in 1 2 3; do STET_SNAPSHOT_AFTER=0 "$2" -C "$a" ingest "$1/fail-in/$i" >/dev/null 2>&1 || exit 1; done
	# six records over the snapshot: past a limit of 5 at the next opening,
	# and with that run'"'"'s three within twice the limit (no snapshot at its
	# checkpoint)
	"$2" -C "$a" ingest "$1/fail-in/4" "$1/fail-in/5" >/dev/null 2>&1 || exit 1
	base=$(sed -n "s/^@base //p" "$s/keys")
	[ "$(grep -vc "^@\|^stet-keys" "$s/keys")" = 6 ] && [ -f "$s/snapshot-$base" ] || { echo "not the case meant"; exit 1; }
	# files of at most 8 KB: the packs and the journal fit, the snapshot
	# (1 MB: its directories) does not (EFBIG, the signal ignored)
	(trap "" XFSZ; ulimit -f 8; STET_SNAPSHOT_AFTER=5 "$2" -C "$a" ingest --json "$1/fail-in/6" > "$1/fail.json" 2> "$1/fail.err") ||
		{ cat "$1/fail.err"; echo "the run failed"; exit 1; }
	grep -q "^stet: warning: .*snapshot-[0-9a-f]*: the key cache.s new snapshot was not written (.*File too large); the journal goes on\$" "$1/fail.err" ||
		{ cat "$1/fail.err"; echo "no warning"; exit 1; }
	[ "$(grep -c "\"verdict\"" "$1/fail.json")" = 3 ] && [ "$(sed -n "s/^@base //p" "$s/keys")" = "$base" ] &&
	[ "$(grep -vc "^@\|^stet-keys" "$s/keys")" = 9 ] && [ "$(ls "$s" | grep -c "^snapshot-")" = 1 ] &&
	! ls "$s" | grep -q "\.tmp\." || { ls "$s"; cat "$s/keys"; echo "not archived, or the journal did not go on"; exit 1; }
	"$2" -C "$a" fsck >/dev/null 2>&1 || { echo fsck; exit 1; }
	STET_SNAPSHOT_AFTER=5 "$2" -C "$a" ingest --json "$1/fail-in/6" 2>/dev/null | grep -vc "\"verdict\":\"unchanged\"" | grep -qx 0 &&
	[ "$(sed -n "s/^@base //p" "$s/keys")" != "$base" ] && [ -f "$s/snapshot-$(sed -n "s/^@base //p" "$s/keys")" ] &&
	"$2" -C "$a" fsck >/dev/null 2>&1' _ "$TMP" "$STET"

t "a file deleted from main behind the cache's back: rebuilt, and its key is free again" bash -c '
	a="$1/cu"
	f=$(git -C "$a" ls-files "site-g/*story-3*"); git -C "$a" rm -q "$f" &&
	git -C "$a" -c user.name=t -c user.email=t@localhost commit -qm "remove a story" || exit 1
	"$2" -C "$a" fsck >/dev/null 2>&1 && "$2" -C "$a" ingest --json "$1/in/1/g3.md" 2>/dev/null | grep -q "\"verdict\":\"near-duplicate\""' \
	_ "$TMP" "$STET"
finish
