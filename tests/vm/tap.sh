# SPDX-License-Identifier: GPL-2.0-only
# TAP helpers for guest-side case scripts:   . /vm/src/tests/vm/tap.sh
# Each assertion prints one line `ok - <what>` or `not ok - <what>` (the output of a failed
# command follows as `#` comments); tap_done exits non-zero if any assertion failed.
TAP_FAILED=0
TAP_COUNT=0

tap_ok() {
	TAP_COUNT=$((TAP_COUNT + 1))
	echo "ok - $1"
}

tap_not_ok() { # tap_not_ok WHAT [DETAILS]
	TAP_COUNT=$((TAP_COUNT + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok - $1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/#   /'
}

# check WHAT CMD [ARGS...]: one assertion, passes when CMD exits 0.
check() {
	_what=$1
	shift
	if _out=$("$@" 2>&1); then tap_ok "$_what"; else tap_not_ok "$_what" "$_out"; fi
}

# check_sh WHAT 'SHELL CODE': like check, for pipelines and compound conditions.
check_sh() { check "$1" sh -c "$2"; }

# check_out WHAT REGEX CMD [ARGS...]: passes when CMD exits 0 and its output matches REGEX (ERE).
check_out() {
	_what=$1 _re=$2
	shift 2
	if _out=$("$@" 2>&1) && printf '%s\n' "$_out" | grep -qE -- "$_re"; then
		tap_ok "$_what"
	else
		tap_not_ok "$_what" "expected /$_re/ in output of: $*
$_out"
	fi
}

tap_done() {
	echo "# $TAP_COUNT assertions, $TAP_FAILED failed"
	[ "$TAP_FAILED" -eq 0 ]
	exit $?
}
