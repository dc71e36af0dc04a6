#!/bin/sh
# packaging/prune-vendor.sh VENDOR_DIR
# Drop what a Linux build never uses from the crates `cargo vendor` wrote: the Windows import
# libraries of the windows_* / winapi-*-pc-windows-gnu crates (about 60 MB of .a/.lib archives,
# which also make lintian's source checks take many minutes). The crates themselves stay, so
# Cargo.lock still resolves; their checksum lists are emptied because cargo verifies only the
# files listed there (the package checksum that Cargo.lock pins is kept).
set -eu
dir=${1:?usage: prune-vendor.sh VENDOR_DIR}
for crate in "$dir"/windows_*-* "$dir"/winapi-*-pc-windows-gnu-*; do
    [ -d "$crate/lib" ] || continue
    rm -rf "$crate/lib"
    sed -i 's/"files":{[^}]*}/"files":{}/' "$crate/.cargo-checksum.json"
    grep -q '"files":{}' "$crate/.cargo-checksum.json" || {
        echo "prune-vendor: could not empty the checksum list of $crate" >&2; exit 1; }
done
