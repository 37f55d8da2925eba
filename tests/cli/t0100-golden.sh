#!/usr/bin/env bash
# Golden files of the canonical form: every input in tests/data/golden and
# examples/ must canonicalize to exactly its .canon file. To regenerate on
# purpose (a canon change): UPDATE_GOLDEN=1 ctest -R golden, then review
# the diff like code.
. "$(dirname "$0")/lib.sh"
G=$STET_SRC/tests/data/golden

check_golden() {
	local in=$1 want=$2
	"$STET" canon "$in" > "$TMP/got" || return 1
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$TMP/got" "$want"
		return 0
	fi
	[ -f "$want" ] || { echo "no golden file $want (UPDATE_GOLDEN=1 makes it)"; return 1; }
	diff -u "$want" "$TMP/got"
}

for f in "$G"/*.md "$G"/*.html "$STET_SRC"/examples/*; do
	name=$(basename "$f")
	t "golden $name" check_golden "$f" "$G/${name%.*}.canon"
	# and the canonical form of the canonical form is itself
	t "idempotent $name" sh -c '"$1" canon "$2" > "$3/a" && "$1" canon "$3/a" > "$3/b" && cmp "$3/a" "$3/b"' _ "$STET" "$f" "$TMP"
done
finish
