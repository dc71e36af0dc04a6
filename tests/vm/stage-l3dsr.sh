#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Stage the upstream L3DSR host tools (yahoo/l3dsr linux/dsrtools: the ksh `dsrctl` and its
# test suite) in the VM root at /build/upstream-l3dsr, for tests/vm/cases/daddr-dsrctl-upstream.sh.
# The upstream source is never part of this repository: it is exported at test time from a
# local git copy of github.com/yahoo/l3dsr (L3DSR_GIT: a bare or a normal clone), at the commit
# L3DSR_REV. Without such a copy the staged tree is removed and the case skips.
#   tests/vm/stage-l3dsr.sh      -> prints the guest path, or a note on stderr when not staged
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
L3DSR_GIT=${L3DSR_GIT:-/work/.mirror/yahoo+l3dsr/repo}
# The upstream's HEAD of 2021-04-28 ("Replace ifconfig calls with ip calls in all tests.").
L3DSR_REV=${L3DSR_REV:-8928361c133fda347a34a492a507bcf1b863a90d}

root=$("$HERE/vm.sh" root)
dst=$root/build/upstream-l3dsr
rm -rf "$dst" "$dst.tmp"
if ! git --git-dir="$L3DSR_GIT" rev-parse -q --verify "$L3DSR_REV^{commit}" >/dev/null 2>&1 &&
	! git -C "$L3DSR_GIT" rev-parse -q --verify "$L3DSR_REV^{commit}" >/dev/null 2>&1; then
	echo "stage-l3dsr: no yahoo/l3dsr commit $L3DSR_REV in L3DSR_GIT=$L3DSR_GIT: the upstream dsrctl case will skip" >&2
	exit 0
fi
gitdir=$L3DSR_GIT
git --git-dir="$gitdir" rev-parse -q --verify HEAD >/dev/null 2>&1 || gitdir=$L3DSR_GIT/.git
mkdir -p "$dst.tmp"
git --git-dir="$gitdir" archive "$L3DSR_REV" linux/dsrtools | tar -x -C "$dst.tmp"
echo "$L3DSR_REV" >"$dst.tmp/REVISION"
mv "$dst.tmp" "$dst"
echo /build/upstream-l3dsr
