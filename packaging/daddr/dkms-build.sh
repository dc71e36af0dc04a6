#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Build step of the daddr-dkms package: checks that the kernel build tree can build a Rust module
# and says plainly what is missing, then runs Kbuild (the kmod-daddr Makefile).
#   dkms-build.sh KERNEL_BUILD_DIR
set -eu
kdir=${1:?usage: dkms-build.sh KERNEL_BUILD_DIR}
fail() {
    echo "daddr-dkms: cannot build xt_DADDR.ko for $kdir: $*" >&2
    echo "daddr-dkms: xt_DADDR is a Rust-for-Linux module; it needs a kernel built with CONFIG_RUST=y" >&2
    echo "daddr-dkms: and the same rustc, bindgen, clang and lld (LLVM=1) the kernel was built with." >&2
    exit 1
}
[ -d "$kdir" ] || fail "no such directory (install the kernel's headers/build tree)"
config=$kdir/include/config/auto.conf
[ -r "$config" ] || config=$kdir/.config
[ -r "$config" ] || fail "no include/config/auto.conf or .config in the build tree"
grep -q '^CONFIG_RUST=y' "$config" || fail "the kernel has no Rust support (CONFIG_RUST is not set)"
[ -e "$kdir/rust/libkernel.rmeta" ] || fail "the build tree lacks the kernel's Rust metadata (rust/libkernel.rmeta)"
for tool in rustc clang ld.lld; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
done
exec make KDIR="$kdir"
