#!/bin/sh
# Print the per-layer results of `make check` and the total line "N passed, N failed".
dir=${1:-build-check}
[ -r "$dir/counts" ] || { echo "0 passed, 1 failed"; exit 1; }
awk '{ printf "  %-12s %5d passed %5d failed\n", $1, $2, $3; p += $2; f += $3 }
     END { printf "%d passed, %d failed\n", p, f }' "$dir/counts"
