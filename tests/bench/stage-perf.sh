#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Stage Debian's `perf` for the guest kernel's series (trixie's linux-perf, 6.12 like the VM
# kernel) where guests see it, for the profiles of tests/bench/daddr-bench.sh. It is not part
# of the VM root (packages.txt): a change there rebuilds the root and the kernel for every run,
# and only benchmarks use it. The packages are fetched by the root's own apt (its trixie lists)
# and unpacked, not installed, into <repo>/target/perf-root (guests: /vm/src/target/perf-root).
#   tests/bench/stage-perf.sh      -> prints the guest path of the perf binary
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
dst=$REPO/target/perf-root
if [ -x "$dst/usr/bin/perf" ]; then
	echo /vm/src/target/perf-root/usr/bin/perf
	exit 0
fi
root=$("$REPO/tests/vm/vm.sh" root)
debs=$root/tmp/stage-perf.$$
trap 'rm -rf "$debs" "$dst.tmp"' EXIT
mkdir -p "$debs"
"$REPO/tests/vm/vm.sh" chroot apt-get -q -o Debug::NoLocking=1 -o Dir::Cache::archives="/tmp/${debs##*/}" \
	install --download-only -y linux-perf >&2
rm -rf "$dst.tmp"
mkdir -p "$dst.tmp"
for d in "$debs"/*.deb; do dpkg -x "$d" "$dst.tmp"; done
mv "$dst.tmp" "$dst"
echo /vm/src/target/perf-root/usr/bin/perf
