#!/bin/bash
# Run one test layer of `make check`, log it, and count its results.
#   tests/run-layer.sh CHECK_DIR LAYER KIND -- COMMAND...
# KIND says how results are counted:
#   single  the command is one check (exit status)
#   cargo   libtest summaries ("test result: ok. N passed; M failed")
#   tap     lines "ok - ..." / "not ok - ..."; a non-zero exit with no "not ok" counts as one failure
# Appends "LAYER PASSED FAILED" to CHECK_DIR/counts. Exits with the command's status.
set -u
dir=$1 layer=$2 kind=$3; shift 3
[ "${1:-}" = "--" ] && shift
mkdir -p "$dir"
log=$dir/$layer.log
echo "== check: $layer ($*)"
start=$(date +%s)
set -o pipefail
"$@" 2>&1 | tee "$log"
rc=$?
secs=$(( $(date +%s) - start ))
case $kind in
    single) if [ $rc -eq 0 ]; then passed=1 failed=0; else passed=0 failed=1; fi ;;
    cargo)
        read -r passed failed < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$log" \
            | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
        [ $rc -ne 0 ] && [ "$failed" -eq 0 ] && failed=1 ;;
    tap)
        passed=$(grep -cE '^ok( [0-9]+)? - ' "$log")
        failed=$(grep -cE '^not ok( [0-9]+)? - ' "$log")
        [ $rc -ne 0 ] && [ "$failed" -eq 0 ] && failed=1 ;;
    *) echo "run-layer: unknown kind $kind" >&2; exit 2 ;;
esac
echo "$layer $passed $failed" >> "$dir/counts"
if [ $rc -ne 0 ]; then
    echo "make check: layer '$layer' FAILED after ${secs}s ($passed passed, $failed failed); full log: $log" >&2
    exit $rc
fi
echo "== check: $layer ok in ${secs}s ($passed passed)"
