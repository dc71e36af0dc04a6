#!/bin/bash
# Runs cargo-fuzz targets for a fixed time each and reports one TAP line per target.
#
#   tests/fuzz/run-fuzz.sh [SECONDS] [crate/target ...]
#
# Without targets it runs every target of every userspace/<crate>/fuzz crate. New inputs go to a
# scratch corpus under $FUZZ_OUT (the committed seed corpus is read, never written), so a run leaves
# the tree clean; crashes are kept in $FUZZ_OUT/<crate>-<target>/artifacts for `cargo fuzz fmt`.
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 unlocks them on the stable toolchain.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-600}
shift || true
out=${FUZZ_OUT:-$top/target/fuzz-runs}
target_dir=${FUZZ_TARGET_DIR:-$top/target/fuzz}
export RUSTC_BOOTSTRAP=1
mkdir -p "$out"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "not ok - cargo-fuzz is not installed (cargo install cargo-fuzz)"
    exit 1
fi

# Every crate/target pair, from each fuzz crate's [[bin]] names.
all_targets() {
    local dir crate
    for dir in "$top"/userspace/*/fuzz; do
        [ -f "$dir/Cargo.toml" ] || continue
        crate=$(basename "$(dirname "$dir")")
        (cd "$dir" && cargo fuzz list) | sed "s|^|$crate/|"
    done
}

if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(all_targets); fi

passed=0 failed=0
for pair in "${targets[@]}"; do
    crate=${pair%%/*} target=${pair#*/}
    dir=$top/userspace/$crate/fuzz
    work=$out/$crate-$target
    rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
    log=$work/fuzz.log
    if ! (cd "$dir" && nice cargo fuzz build --target-dir "$target_dir" "$target") >"$work/build.log" 2>&1; then
        echo "not ok - fuzz $pair: build failed (see $work/build.log)"
        failed=$((failed + 1)); continue
    fi
    started=$(date +%s)
    (cd "$dir" && nice cargo fuzz run --target-dir "$target_dir" "$target" "$work/corpus" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/" \
        -print_final_stats=1) >"$log" 2>&1
    rc=$?
    elapsed=$(( $(date +%s) - started ))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
    if [ $rc -eq 0 ] && [ -z "$(ls -A "$work/artifacts")" ]; then
        echo "ok - fuzz $pair: ${runs:-?} runs in ${elapsed} s, ${cov:-cov: ?}, no crash"
        passed=$((passed + 1))
    else
        echo "not ok - fuzz $pair: exit $rc after ${elapsed} s, artifacts: $(ls "$work/artifacts" | tr '\n' ' ') (log $log)"
        failed=$((failed + 1))
    fi
done
echo "# fuzz: $passed passed, $failed failed (${seconds} s per target, logs in $out)"
[ $failed -eq 0 ]
