#!/bin/sh
# Install the build and test dependencies that are missing, and only those.
#   packaging/deps.sh GROUP...   GROUP: build (make), check (make check), bench (make bench)
# Debian-likes use apt-get, RHEL-likes dnf. Idempotent and silent when nothing is missing, so the
# Makefile can call it before every top-level target.
#   DEPS_DRY_RUN=1       print the install commands ("deps.sh: would run: ...") instead of running
#                        them: the plan (what is missing is still probed on this host)
#   DEPS_OS_FAMILY=F     debian or rhel instead of /etc/os-release's: with DEPS_DRY_RUN=1, the plan
#                        for another OS family (tests/packaging/deps-plan.sh shows RHEL's this way)
set -eu

dry_run=${DEPS_DRY_RUN:-0}
# run CMD...: an install step, or its line in the plan.
run() {
    if [ "$dry_run" = 1 ]; then echo "deps.sh: would run: $*"; else "$@"; fi
}

os_family() {
    [ -r /etc/os-release ] || { echo unknown; return; }
    # shellcheck disable=SC1091
    . /etc/os-release
    case " ${ID:-} ${ID_LIKE:-} " in
        *" debian "*|*" ubuntu "*) echo debian ;;
        *" rhel "*|*" fedora "*|*" centos "*) echo rhel ;;
        *) echo unknown ;;
    esac
}

# One list per group and family. Keep them short and explain the odd ones.
debian_pkgs() {
    case $1 in
        build) echo "git make gcc pkg-config xz-utils rpm debhelper dpkg-dev fakeroot
                     libxtables-dev libclang-dev dh-dkms ca-certificates" ;;  # libclang: bindgen for libxt_DADDR.so; ca-certificates: cargo vendor fetches crates.io over https
        # cpio: the packaging tests unpack RPM payloads (rpm2cpio | cpio); ping: the ICMP
        # host-unreachable test of l2tpns (a fresh bookworm image has no ping); telnet and
        # expect drive l2tpns's telnet CLI (test-daemon-cli.sh); python3-prometheus-client: the
        # metrics test parses /metrics with the real parser; freeradius-utils: radclient, the
        # DAC of the DAE test (RFC 5176 Disconnect / CoA); iperf3: real TCP through a throttled
        # session (test-daemon-shaping.sh); tcpdump reads the pcap files of l2tpns-capture
        # (test-daemon-snoop.sh).
        check) echo "rpmlint lintian debootstrap cpio iproute2 iputils-ping iptables python3
                     python3-prometheus-client curl freeradius freeradius-utils xl2tpd l2tpns telnet expect conntrack
                     iperf3 tcpdump" ;;  # real peers: RADIUS, L2TP, the C l2tpns
        # debootstrap: the bare-bookworm build; diffoscope-minimal: what differs when two builds
        # of one commit do not give identical packages; rpm2cpio/cpio unpack them.
        bench) echo "debootstrap diffoscope-minimal cpio" ;;
        *) echo "deps.sh: unknown group '$1'" >&2; exit 2 ;;
    esac
}
rhel_pkgs() {
    case $1 in
        build) echo "git make gcc pkgconf-pkg-config xz rpm-build systemd-rpm-macros
                     iptables-devel clang-devel kernel-devel" ;;
        check) echo "rpmlint iproute iputils iptables python3 python3-prometheus_client curl freeradius freeradius-utils xl2tpd telnet expect conntrack-tools iperf3 tcpdump" ;;  # no l2tpns package on RHEL
        bench) echo "" ;;
        *) echo "deps.sh: unknown group '$1'" >&2; exit 2 ;;
    esac
}

[ $# -gt 0 ] || set -- build
family=${DEPS_OS_FAMILY:-$(os_family)}
missing=""
case $family in
    debian)
        for g in "$@"; do
            for p in $(debian_pkgs "$g"); do
                dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
                    || missing="$missing $p"
            done
        done
        if [ -n "$missing" ]; then
            echo "deps.sh: installing:$missing"
            export DEBIAN_FRONTEND=noninteractive
            # Wait for a concurrent apt/dpkg instead of failing on its lock.
            apt="apt-get -q -o DPkg::Lock::Timeout=900"
            if [ "$dry_run" = 1 ]; then
                run $apt install -y --no-install-recommends $missing
            else
                $apt install -y --no-install-recommends $missing >/dev/null 2>&1 || {
                    $apt update -q >/dev/null
                    $apt install -y --no-install-recommends $missing
                }
            fi
        fi ;;
    rhel)
        for g in "$@"; do
            for p in $(rhel_pkgs "$g"); do
                rpm -q --whatprovides "$p" >/dev/null 2>&1 || missing="$missing $p"
            done
        done
        if [ -n "$missing" ]; then
            echo "deps.sh: installing:$missing"
            run dnf -y -q install $missing
        fi ;;
    *)
        echo "deps.sh: unsupported OS (need a Debian- or RHEL-like /etc/os-release); install by hand:" >&2
        echo "  $(debian_pkgs build) $(debian_pkgs check)" >&2
        exit 1 ;;
esac

# The Rust toolchain: the one on PATH if it is new enough (rustup, say), else the distribution's,
# which the Makefile then finds in /usr/bin (packaging/cargo-path.sh). Debian bookworm's own
# rustc/cargo are 1.63: it ships a current one as rustc-web/cargo-web (for its browsers; 1.85 in
# bookworm, newer in bookworm-security); trixie and later have rustc/cargo >= 1.85 themselves.
here=$(cd "$(dirname "$0")" && pwd)
required=$("$here/cargo-path.sh" --required)
# candidate PKG: the version apt would install ("" when the archive has none).
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)' || true; }
# Debian versions carry an upstream part like 1.85.0+dfsg1-1: compare that with dpkg.
deb_new_enough() { [ -n "$1" ] && dpkg --compare-versions "${1#*:}" ge "$required"; }
if ! "$here/cargo-path.sh" >/dev/null; then
    case $family in
        debian)
            export DEBIAN_FRONTEND=noninteractive
            apt="apt-get -q -o DPkg::Lock::Timeout=900"
            [ -n "$(candidate rustc-web)$(candidate rustc)" ] || run $apt update -q >/dev/null
            if deb_new_enough "$(candidate rustc)" && deb_new_enough "$(candidate cargo)"; then
                rust="rustc cargo"
            elif deb_new_enough "$(candidate rustc-web)" && deb_new_enough "$(candidate cargo-web)"; then
                rust="rustc-web cargo-web"
            else
                echo "deps.sh: this release's archive has no rustc/cargo >= $required (rustc: $(candidate rustc), rustc-web: $(candidate rustc-web)): install one with rustup" >&2
                exit 1
            fi
            echo "deps.sh: no cargo >= $required on PATH: installing $rust"
            run $apt install -y --no-install-recommends $rust ;;
        rhel)
            # rust-toolset: RHEL's (and its clones') supported toolchain (rust, cargo); Fedora
            # names them plainly.
            echo "deps.sh: no cargo >= $required on PATH: installing rust-toolset"
            run dnf -y -q install rust-toolset || run dnf -y -q install rust cargo ;;
    esac
    [ "$dry_run" = 1 ] || "$here/cargo-path.sh" >/dev/null || {
        echo "deps.sh: still no cargo >= $required (PATH or /usr/bin): install a Rust toolchain (rustup)" >&2
        exit 1
    }
fi
# make check runs cargo fmt and cargo clippy: when the toolchain is the distribution's, its own
# rustfmt and clippy (rustup's toolchains have them as components).
installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
case " $* " in *" check "*)
    # (In a dry run the toolchain may only be planned: then there is no cargo yet.)
    cargo=$("$here/cargo-path.sh" || true)
    if [ -z "$cargo" ] || ! $cargo fmt --version >/dev/null 2>&1 || ! $cargo clippy --version >/dev/null 2>&1; then
        case $family in
            debian)
                if installed rustc-web || [ "${rust:-}" = "rustc-web cargo-web" ]; then tools="rustfmt-web rust-web-clippy"
                else tools="rustfmt rust-clippy"; fi
                echo "deps.sh: installing $tools (cargo fmt, cargo clippy)"
                run apt-get -q -o DPkg::Lock::Timeout=900 install -y --no-install-recommends $tools ;;
            rhel)
                echo "deps.sh: installing rustfmt clippy"
                run dnf -y -q install rustfmt clippy ;;
        esac
    fi ;;
esac
