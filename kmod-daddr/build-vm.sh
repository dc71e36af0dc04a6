#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build xt_DADDR.ko against the reference guest kernel (tests/vm) and install it into the
# guest's module tree, so the VM tests can `modprobe xt_DADDR` and netfilter can autoload it
# by its ipt_DADDR/ip6t_DADDR aliases. Run on the host from anywhere in the repository:
#   kmod-daddr/build-vm.sh [OUTDIR]   -> prints the guest path of the installed module; with
#                                        OUTDIR, also copies xt_DADDR.ko and kver there
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
eval "$("$REPO/tests/vm/vm.sh" env)"

# The module sources as a package would ship them: daddr_core/ (a symlink to daddr-core's
# src/ in git) is copied as real files.
dst=/build/kmod-daddr
rm -rf "$VM_ROOT$dst"
mkdir -p "$VM_ROOT$dst"
cp -rL "$HERE"/Kbuild "$HERE"/Makefile "$HERE"/*.c "$HERE"/*.h "$HERE"/*.rs "$HERE"/daddr_core "$VM_ROOT$dst/"

# The build output is kept: check-object.sh fails on any objtool warning in it and on
# panicking paths in the object.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$REPO/tests/vm/vm.sh" chroot nice make -s -C "$dst" KDIR="$VM_KOUT" 2>&1 | tee "$log" >&2
"$HERE/check-object.sh" "$VM_ROOT$dst/xt_DADDR.ko" "$log"
"$REPO/tests/vm/vm.sh" chroot make -s -C "$dst" KDIR="$VM_KOUT" \
	INSTALL_MOD_PATH="$VM_INSTALL_MOD_PATH" DEPMOD=/sbin/depmod modules_install >&2
if [ -n "${1:-}" ]; then
	mkdir -p "$1"
	cp "$VM_ROOT$dst/xt_DADDR.ko" "$1/"
	echo "$VM_KVER" >"$1/kver"
fi
echo "/lib/modules/$VM_KVER/extra/xt_DADDR.ko"
