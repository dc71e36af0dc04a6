#!/bin/sh
# Print the command that runs a cargo new enough for the workspace (rust-version in Cargo.toml),
# or exit 1 when there is none.
#   packaging/cargo-path.sh            "cargo" if the one on PATH will do, else
#                                      "env RUSTC=/usr/bin/rustc /usr/bin/cargo" (the distro's)
#   packaging/cargo-path.sh --required the rust-version the workspace asks for
# The distribution's toolchain lands in /usr/bin (Debian's cargo-web/rustc-web and cargo/rustc,
# RHEL's rust-toolset): when an older cargo (a stale rustup, say) comes first on PATH, the
# distro's is named by path, with its own rustc (cargo would otherwise run the rustc on PATH).
# DISTRO_CARGO_DIRS (default "/usr/bin /usr/local/bin"): where that one is looked for (a test sets
# it to an empty dir to see deps.sh's plan for a machine without one).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
required=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$top/Cargo.toml" | head -n 1)
[ -n "$required" ] || required=1.85
if [ "${1:-}" = --required ]; then echo "$required"; exit 0; fi

# new_enough CARGO RUSTC: both report a version >= $required.
new_enough() {
    for tool in "$1" "$2"; do
        v=$("$tool" --version 2>/dev/null | awk '{ print $2 }' | sed 's/[-+].*//') || return 1
        [ -n "$v" ] || return 1
        # sort -V puts the smaller first: $required must come first (or be equal).
        [ "$(printf '%s\n%s\n' "$required" "$v" | sort -V | head -n 1)" = "$required" ] || return 1
    done
}

if command -v cargo >/dev/null 2>&1 && new_enough cargo rustc; then
    echo cargo; exit 0
fi
for dir in ${DISTRO_CARGO_DIRS:-/usr/bin /usr/local/bin}; do
    if [ -x "$dir/cargo" ] && [ -x "$dir/rustc" ] && new_enough "$dir/cargo" "$dir/rustc"; then
        echo "env RUSTC=$dir/rustc $dir/cargo"; exit 0
    fi
done
exit 1
