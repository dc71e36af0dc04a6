#!/bin/bash
# Reproducible packages (issue 16): two `make` runs of one commit, from two clones in different
# directories, one after the other, under a different host name, umask, time zone and locale,
# must give bit-identical RPMs, SRPMs (and their tarballs), DEBs and the DKMS tarball. cmp
# decides; on a difference diffoscope's report goes into the log. The binaries must name neither
# build directory nor the host. Prints "ok - ..." / "not ok - ...".
#   tests/packaging/reproducible.sh [COMMIT]     (default HEAD; REPRO_COMPONENTS="iptoip ..." to
#                                                 build fewer components than package.mk's;
#                                                 REPRO_MAKE_ARGS="VAR=value ..." for both makes, e.g.
#                                                 daddr_RPM_SPECS=iptables-daddr where no kernel tree is)
# Run by `make check-reproducible` (part of `make bench`: two full builds do not fit make check).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
commit=$(git -C "$top" rev-parse "${1:-HEAD}")
failed=0
ok()    { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=1; }

work=$(mktemp -d /var/tmp/netedge-repro.XXXXXX)
log=${REPRO_LOG_DIR:-$top/build-check}/reproducible
rm -rf "$log"; mkdir -p "$log"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

components=${REPRO_COMPONENTS:-$(make -C "$top" -s --no-print-directory print-config NO_DEPS=1 | sed -n 's/^COMPONENTS *= \(.*\) #.*/\1/p')}
components=$(echo $components)
make_args=${REPRO_MAKE_ARGS:-}
echo "# commit $commit, components: $components${make_args:+, make arguments: $make_args}; logs in $log"

# build LABEL DIR HOSTNAME UMASK TZ LOCALE: clone the commit into DIR and run make there, in a UTS namespace
# of its own so that the host name differs too. Each clone has its own target dir and cargo
# home paths differ by nothing but the clone's place (the vendored crates are inside it).
build() {
    local name=$1 dir=$2 host=$3 mask=$4 tz=$5 locale=$6
    git clone -q --no-hardlinks "$top" "$dir" && git -C "$dir" checkout -q "$commit" || return 1
    local start; start=$(date +%s)
    ( cd "$dir" && umask "$mask" && env -u CARGO_TARGET_DIR -u MAKEFLAGS -u MAKELEVEL TZ=$tz LC_ALL=$locale \
        unshare --uts sh -c 'hostname "$1"; shift; exec nice -n 19 make --no-print-directory "$@"' _ "$host" \
        COMPONENTS="$components" $make_args all ) >"$log/build-$name.log" 2>&1
    local rc=$?
    echo "# build $name: $(( $(date +%s) - start )) s (rc $rc)"
    return $rc
}
# Paths of different lengths: a path that leaked would also shift every offset after it.
a=$work/a/netedge b=$work/second/build/in/a/longer/path/netedge
mkdir -p "$(dirname "$a")" "$(dirname "$b")"
if build a "$a" repro-host-a 0022 UTC C.UTF-8; then ok "first build ($a) makes the packages"
else notok "first build ($a) makes the packages"; tail -n 30 "$log/build-a.log"; exit 1; fi
sleep 2   # "at different times": the clock has moved on; SOURCE_DATE_EPOCH must be what counts
if build b "$b" other-builder.example 0002 Asia/Tokyo C; then ok "second build ($b) makes the packages"
else notok "second build ($b) makes the packages"; tail -n 30 "$log/build-b.log"; exit 1; fi

# What is compared: the binary and source packages, the tarballs the SRPMs and the Debian source
# package are made of, and (with daddr) the DKMS source tarball, all in build-src/.
(cd "$a" && ls build-*-*/RPMS/*/*.rpm build-src/*.src.rpm build-src/*.tar.gz build-deb/*.deb \
    build-deb/*.orig*.tar.gz build-deb/*.debian.tar.* build-deb/*.dsc 2>/dev/null) | sort > "$work/files"
[ -s "$work/files" ] || { notok "the first build left packages to compare"; exit 1; }
have_diffoscope=$(command -v diffoscope || true)
while read -r f; do
    if [ ! -e "$b/$f" ]; then notok "$f: built by the second build too"; continue; fi
    if cmp -s "$a/$f" "$b/$f"; then
        ok "$f is bit-identical in both builds ($(sha256sum < "$a/$f" | cut -c1-16))"
    else
        notok "$f is bit-identical in both builds"
        out=$log/diffoscope-$(basename "$f").txt
        if [ -n "$have_diffoscope" ]; then
            diffoscope --text "$out" "$a/$f" "$b/$f" >/dev/null 2>&1
            echo "  diffoscope report: $out"; head -n 40 "$out" | sed 's/^/  /'
        else
            cmp "$a/$f" "$b/$f" | sed 's/^/  /'; echo "  (no diffoscope: packaging/deps.sh bench installs diffoscope-minimal)"
        fi
    fi
done < "$work/files"

# No build path, host name or cargo home in what the packages install (panic locations, debug
# info, generated code). Looked for in every file of every binary package, unpacked.
x=$work/unpacked
mkdir -p "$x"
while read -r f; do
    case $f in
        *.src.rpm) ;;
        *.rpm) (mkdir -p "$x/$(basename "$f")" && cd "$x/$(basename "$f")" && rpm2cpio "$a/$f" | cpio -idm --quiet) ;;
        *.deb) dpkg-deb -x "$a/$f" "$x/$(basename "$f")" ;;
    esac
done < "$work/files"
for needle in "$work" repro-host-a "${CARGO_HOME:-$HOME/.cargo}" "$top"; do
    hits=$(grep -rlaF -- "$needle" "$x" 2>/dev/null | sed "s|^$x/||")
    if [ -z "$hits" ]; then ok "no installed file contains '$needle'"
    else notok "no installed file contains '$needle'"; echo "$hits" | head -n 10 | sed 's/^/  /'; fi
done
exit $failed
