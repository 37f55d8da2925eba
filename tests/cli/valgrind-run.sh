#!/usr/bin/env bash
# Runs one shell test with every stet it starts under valgrind memcheck
# (ctest label valgrind). Any memcheck report (invalid read or write, use
# of uninitialised memory, a definite or indirect leak) fails the test, with
# the report and the command that caused it.
#   STET=build/stet STET_SRC=. tests/cli/valgrind-run.sh tests/cli/t0010-archive.sh
set -u
: "${STET:?set STET to the stet binary}"
: "${STET_SRC:?set STET_SRC to the source tree}"
work=$(mktemp -d "${TMPDIR:-/tmp}/stet-vg.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat > "$work/stet" <<'WRAP'
#!/usr/bin/env bash
log=$(mktemp "${TMPDIR:-/tmp}/stet-vg-log.XXXXXX")
valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --num-callers=30 --suppressions="$STET_VG_SUPP" --log-file="$log" "$STET_VG_REAL" "$@"
rc=$?
if [ -s "$log" ]; then
	{ echo "== stet $*"; cat "$log"; } >> "$STET_VG_REPORT"
fi
rm -f "$log"
exit $rc
WRAP
chmod +x "$work/stet"
export STET_VG_SUPP=$STET_SRC/tests/cli/valgrind.supp STET_VG_REAL=$STET STET_VG_REPORT=$work/report STET=$work/stet
bash "$1"
rc=$?
if [ -s "$work/report" ]; then
	echo "valgrind memcheck reported errors:"
	cat "$work/report"
	exit 1
fi
exit $rc
