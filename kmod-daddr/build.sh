#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kmod-daddr/build.sh KERNEL_DIR OUTDIR
# Build xt_DADDR.ko against KERNEL_DIR (a Rust-enabled kernel build tree) into OUTDIR, with
# OUTDIR/kver holding the kernel release it is for. KERNEL_DIR "reference" means the tests/vm
# guest kernel, built inside its trixie toolchain root (build-vm.sh).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kdir=${1:?usage: build.sh KERNEL_DIR OUTDIR}
out=${2:?usage: build.sh KERNEL_DIR OUTDIR}
mkdir -p "$out"
if [ "$kdir" = reference ]; then
	"$HERE/build-vm.sh" "$out" >/dev/null
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	cp -rL "$HERE"/Kbuild "$HERE"/Makefile "$HERE"/*.c "$HERE"/*.h "$HERE"/*.rs "$HERE"/daddr_core "$work/"
	make -C "$work" KDIR="$kdir" >&2
	cp "$work/xt_DADDR.ko" "$out/"
	make -s -C "$kdir" kernelrelease >"$out/kver"
fi
echo "$out/xt_DADDR.ko for $(cat "$out/kver")"
