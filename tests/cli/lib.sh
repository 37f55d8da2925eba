# Shared helpers of the shell tests. Each test sources this, calls `t` for
# every check, and ends with `finish`. STET is the binary under test,
# STET_SRC the source tree, STET_SHARED the shared corpus (may be absent).
set -u
: "${STET:?set STET to the stet binary}"
: "${STET_SRC:?set STET_SRC to the source tree}"
STET_SHARED=${STET_SHARED:-$STET_SRC/../shared}
export NO_COLOR=1 LC_ALL=C.UTF-8
TMP=$(mktemp -d "${TMPDIR:-/tmp}/stet-test.XXXXXX")
[ -n "${KEEP_TMP:-}" ] || trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

# t NAME COMMAND...: run COMMAND; it passes when it exits 0
t() {
	local name=$1
	shift
	if ( "$@" ) >"$TMP/t.out" 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $name"
		sed 's/^/    /' "$TMP/t.out" | head -40
	fi
}

# expect_exit CODE COMMAND...: COMMAND exits with CODE
expect_exit() {
	local want=$1 got
	shift
	"$@"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "exit $got, wanted $want: $*"
		return 1
	fi
}

# contains FILE TEXT / lacks FILE TEXT
contains() { grep -qF -- "$2" "$1" || { echo "'$2' not in $1:"; head -20 "$1"; return 1; }; }
lacks() { ! grep -qF -- "$2" "$1" || { echo "'$2' found in $1:"; grep -nF -- "$2" "$1" | head -5; return 1; }; }

need_shared() {
	if [ ! -d "$STET_SHARED/corpus/posts" ]; then
		echo "SKIP: $STET_SHARED/corpus/posts is absent; this test needs the shared corpus"
		exit 77
	fi
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}
