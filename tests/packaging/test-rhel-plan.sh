#!/bin/bash
# The RHEL path, checked without a RHEL machine (issue 16): deps.sh's plan for a RHEL-like
# (DEPS_DRY_RUN=1 DEPS_OS_FAMILY=rhel: the dnf commands it would run, rust-toolset when there is
# no cargo new enough) and what `make` would do there (package-rhel.mk through print-config and
# make -n: RPMs and SRPMs with RHEL's values, no dpkg-buildpackage). The same dry run shows the
# Debian plan of this host. Nothing is installed or built. Prints "ok - ..." / "not ok - ...".
# Run with the host tests (tests/run-host-tests.sh, the integration layer of make check).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
failed=0
ok()    { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=1; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

work=$(mktemp -d /tmp/netedge-rhelplan.XXXXXX)
trap 'rm -rf "$work"' EXIT

check "deps.sh parses (sh -n)" sh -n packaging/deps.sh
check "cargo-path.sh parses (sh -n)" sh -n packaging/cargo-path.sh

# A stale toolchain first on PATH (an old rustup's 1.63, say) and no distribution one where
# cargo-path.sh looks (DISTRO_CARGO_DIRS): deps.sh must plan to install one.
mkdir -p "$work/old" "$work/none"
printf '#!/bin/sh\necho "cargo 1.63.0"\n' > "$work/old/cargo"
printf '#!/bin/sh\necho "rustc 1.63.0"\n' > "$work/old/rustc"
chmod +x "$work/old/cargo" "$work/old/rustc"
required=$(packaging/cargo-path.sh --required)
plan() {   # plan FAMILY CARGO_DIR GROUP...: deps.sh's dry run
    local family=$1 dir=$2; shift 2
    env DEPS_DRY_RUN=1 DEPS_OS_FAMILY="$family" DISTRO_CARGO_DIRS="$work/none" \
        PATH="$dir:/usr/sbin:/usr/bin:/sbin:/bin" sh packaging/deps.sh "$@" 2>&1
}
check "cargo-path.sh rejects a stale cargo 1.63 (the workspace needs $required)" \
    sh -c '! env DISTRO_CARGO_DIRS="$1" PATH="$2:/usr/sbin:/usr/bin:/sbin:/bin" packaging/cargo-path.sh' _ "$work/none" "$work/old"

rhel=$(plan rhel "$work/old" build check); rc=$?
echo "$rhel" | sed 's/^/# rhel plan: /'
check "deps.sh's RHEL dry run succeeds" [ "$rc" = 0 ]
check "the RHEL plan installs with dnf only (no apt-get, no dpkg)" \
    bash -c 'grep -q "^deps.sh: would run: dnf " <<<"$1" && ! grep -qE "would run: (apt|dpkg)" <<<"$1"' _ "$rhel"
# The build group as deps.sh lists it for rhel: rpm-build, the xtables and clang headers, the kernel-devel tree.
for p in rpm-build systemd-rpm-macros iptables-devel clang-devel kernel-devel; do
    check "the RHEL plan installs $p (when missing)" \
        bash -c 'rpm -q --whatprovides "$2" >/dev/null 2>&1 || grep -qE "would run: dnf -y -q install .*(^| )$2( |$)" <<<"$1"' _ "$rhel" "$p"
done
check "the RHEL plan installs rust-toolset when no cargo >= $required is found" \
    grep -qx "deps.sh: would run: dnf -y -q install rust-toolset" <<<"$rhel"
check "the RHEL plan for make check installs rustfmt and clippy with it" \
    grep -qx "deps.sh: would run: dnf -y -q install rustfmt clippy" <<<"$rhel"
check "the RHEL plan installs no Debian package (debhelper, dpkg-dev, rustc-web)" \
    bash -c '! grep -qE "debhelper|dpkg-dev|rustc-web|cargo-web" <<<"$1"' _ "$rhel"

# A cargo new enough on PATH: no toolchain step in either plan.
mkdir -p "$work/new"
printf '#!/bin/sh\necho "cargo %s"\n' "$required" > "$work/new/cargo"
printf '#!/bin/sh\necho "rustc %s"\n' "$required" > "$work/new/rustc"
chmod +x "$work/new/cargo" "$work/new/rustc"
check "with cargo $required on PATH the RHEL plan installs no toolchain" \
    bash -c '! grep -qE "rust-toolset|install rust cargo" <<<"$1"' _ "$(plan rhel "$work/new" build)"

# This host's own family (Debian) planned the same way: bookworm's own rustc is 1.63, so rustc-web.
. /etc/os-release
if [ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" = bookworm ]; then
    deb=$(plan debian "$work/old" build check)
    echo "$deb" | sed 's/^/# debian plan: /'
    check "the bookworm plan installs rustc-web cargo-web" \
        grep -qx "deps.sh: would run: apt-get .* install -y --no-install-recommends rustc-web cargo-web" <<<"$deb"
    check "the bookworm plan for make check installs rustfmt-web rust-web-clippy" \
        grep -qx "deps.sh: would run: apt-get .* install -y --no-install-recommends rustfmt-web rust-web-clippy" <<<"$deb"
else
    echo "# not bookworm (${ID:-?} ${VERSION_CODENAME:-?}): the Debian plan is not checked"
fi

# make on RHEL 9: package-rhel.mk's values, RPMs and SRPMs only.
rhel_make=(OS_FAMILY=rhel OS_ID=rhel OS_VERSION_MAJOR=9 NO_DEPS=1)
cfg=$(make -s --no-print-directory print-config "${rhel_make[@]}")
check "print-config: RHEL builds RPMs only (PACKAGE_FORMATS from package-rhel.mk)" \
    grep -qE '^PACKAGE_FORMATS += rpm +# package-rhel.mk$' <<<"$cfg"
check "print-config: this host builds RPMs and DEBs" \
    grep -qE '^PACKAGE_FORMATS += rpm deb +#' <<<"$(make -s --no-print-directory print-config NO_DEPS=1)"
if make -n --no-print-directory all "${rhel_make[@]}" > "$work/make-n.txt" 2>&1; then
    ok "make -n all for RHEL 9 parses and plans"
else
    notok "make -n all for RHEL 9 parses and plans"; tail -n 20 "$work/make-n.txt" | sed 's/^/  /'
fi
check "make all for RHEL runs no dpkg-buildpackage" bash -c '! grep -q dpkg-buildpackage "$1"' _ "$work/make-n.txt"
n_specs=$(grep -c 'rpmbuild -bs' "$work/make-n.txt")
n_rebuild=$(grep -c 'rpmbuild --rebuild' "$work/make-n.txt")
components=$(sed -n 's/^COMPONENTS *= \(.*\) #.*/\1/p' <<<"$cfg")
want=0
for c in $components; do want=$(( want + $(sed -n "s/^${c}_RPM_SPECS := //p" "packaging/$c/component.mk" | wc -w) )); done
check "make all for RHEL builds an SRPM and rebuilds it for each of the $want specs ($n_specs, $n_rebuild)" \
    [ "$n_specs" = "$want" ] && [ "$n_rebuild" = "$want" ]
check "every rpmbuild for RHEL gets %dist .el9 and the lib64 xtables dir" bash -c '
    n=$(grep -cE "rpmbuild (-bs|--rebuild) " "$1"); [ "$n" -gt 0 ] &&
    [ "$(grep -E "rpmbuild (-bs|--rebuild) " "$1" | grep -c "dist .el9")" = "$n" ] &&
    [ "$(grep -E "rpmbuild (-bs|--rebuild) " "$1" | grep -c "xtlibdir /usr/lib64/xtables")" = "$n" ]' _ "$work/make-n.txt"
# KVERREL: the newest kernel-devel installed, else (as here) the running kernel's release.
check "kmod-daddr for RHEL is built against the kernel-devel tree (/usr/src/kernels/<KVERREL>)" \
    bash -c '[ "$(grep -cE "rpmbuild (-bs|--rebuild) " "$1")" = "$(grep -E "rpmbuild (-bs|--rebuild) " "$1" | grep -c "kernel_dir /usr/src/kernels/[^/ ]")" ] &&
             grep -q "s|@KERNEL_DIR@|/usr/src/kernels/[^|/]*|" "$1"' _ "$work/make-n.txt"
exit $failed
