#!/bin/bash
# Host integration tests: every executable tests/<area>/test-*.sh, in name order. Each starts and
# stops what it needs and prints TAP-like "ok - ..." / "not ok - ..." lines.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cargo build --locked --release --workspace --bins || exit 1
export NETEDGE_BIN_DIR=${CARGO_TARGET_DIR:-$top/target}/release
rc=0 n=0
for t in $(ls "$top"/tests/*/test-*.sh 2>/dev/null | sort); do
    [ -x "$t" ] || continue
    n=$((n + 1))
    echo "# ${t#$top/}"
    "$t" || { echo "# FAILED: ${t#$top/}"; rc=1; }
done
echo "# $n host test scripts"
exit $rc
