#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kmod-daddr/check-object.sh KO [BUILD_LOG]
# Fails (exit 1, naming what it found) when xt_DADDR.ko can panic or its build was not clean:
#  - a Rust symbol of a panicking path, defined or called: core::panicking::* (panic,
#    panic_fmt, panic_bounds_check, panic_const_*_overflow), slice index/len-mismatch failures,
#    unwrap/expect failures, rust_begin_unwind. Code that can panic must not run in softirq
#    context; every access of the rewrite is get()/get_mut() instead (daddr-core/src/rewrite).
#  - with BUILD_LOG (the make output), any objtool warning, e.g. "falls through to next
#    function", which is what a call to a noreturn panic at the end of a function looks like.
# build-vm.sh runs it on every build, so `make check-vm` fails on a regression.
set -euo pipefail
ko=${1:?usage: check-object.sh KO [BUILD_LOG]}
log=${2:-}
[ -f "$ko" ] || {
	echo "check-object: no such module: $ko" >&2
	exit 2
}
NM=${NM:-$(command -v llvm-nm || command -v nm)}
bad=0
# Rust v0 symbols start with _R; the kernel's own C symbols are not considered.
panics=$("$NM" "$ko" | awk '{ print $NF }' | grep -E '^_R' |
	grep -E 'panic|bounds_check|index_fail|index_len_fail|index_order_fail|slice_index|len_mismatch|unwrap_failed|expect_failed|_overflow' || true)
panics+=$'\n'$("$NM" "$ko" | awk '{ print $NF }' | grep -E '^(rust_begin_unwind|rust_panic)$' || true)
panics=$(printf "%s\n" "$panics" | grep . || true)
if [ -n "$panics" ]; then
	echo "check-object: $ko has panicking paths (symbols):" >&2
	printf '  %s\n' $panics >&2
	bad=1
fi
if [ -n "$log" ]; then
	if grep -E 'objtool' "$log" >&2; then
		echo "check-object: the build printed objtool warnings (above)" >&2
		bad=1
	fi
fi
[ $bad -eq 0 ] && echo "check-object: $(basename "$ko"): no panicking path, no objtool warning" >&2
exit $bad
