#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Independent checksum check for the DADDR VM tests (tests/vm/cases/daddr-checksums.sh).

  send DST4 DST6            send DSCP-1 probes of every kind from the client namespace
  fuzz DST4 DST6 COUNT      send COUNT random/malformed DSCP-1 packets (scapy fuzz)
  check PCAP NEW4 NEW6      verify every captured packet for NEW4/NEW6 with scapy's own checksum
                            code (not the kernel's), one TAP line per kind

The kind of a probe is its destination port (ICMPv6: echo id), so the checker knows what it
expects: e.g. a UDP checksum of 0 must still be 0.
"""
import os
import socket
import sys
import time

from scapy.all import (ICMPv6EchoRequest, IP, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       Raw, TCP, UDP, PadN, conf, defragment, fragment, fragment6, fuzz,
                       raw, rdpcap, send)

conf.verb = 0
TOS = 1 << 2  # DSCP 1

# port -> (family, description, kind)
KINDS = {
    1001: ("TCP SYN from a raw socket (CHECKSUM_NONE)", "full"),
    1002: ("TCP SYN from a kernel socket (CHECKSUM_PARTIAL)", "full"),
    1101: ("UDP from a raw socket (CHECKSUM_NONE)", "full"),
    1102: ("UDP from a kernel socket (CHECKSUM_PARTIAL)", "full"),
    1103: ("UDP with checksum 0", "zero"),
    1104: ("fragmented UDP (reassembled in the checker)", "full"),
    1105: ("UDP behind a Destination Options header", "full"),
    0x4242: ("ICMPv6 echo request", "full"),
}
TRUNCATED_ID = 0xDEAD
# Fragment ids: the probes' fragmented datagrams take a fresh id from the upper half, fuzzed
# fragments ids from the lower half. With conntrack loaded (variant B) rt reassembles, and a
# fuzzed fragment still queued (30 s) under the same id would make the next probe round's
# fragments overlap it, so the kernel drops the whole datagram.
FUZZ_FRAG_IDS = range(1, 0x8000)


def probe_frag_id():
    while True:
        i = int.from_bytes(os.urandom(2), "big") | 0x8000
        if i != TRUNCATED_ID:
            return i


def payload(n):
    return Raw(os.urandom(n))


def send_probes(dst4, dst6):
    for n in (0, 1, 17, 200, 1000):
        send(IP(dst=dst4, tos=TOS) / TCP(sport=40000 + n, dport=1001, flags="S", seq=n) / payload(n))
        send(IPv6(dst=dst6, tc=TOS) / TCP(sport=40000 + n, dport=1001, flags="S", seq=n) / payload(n))
        send(IP(dst=dst4, tos=TOS) / UDP(sport=40000 + n, dport=1101) / payload(n))
        send(IPv6(dst=dst6, tc=TOS) / UDP(sport=40000 + n, dport=1101) / payload(n))
        send(IP(dst=dst4, tos=TOS) / UDP(sport=40000 + n, dport=1103, chksum=0) / payload(n))
        send(IPv6(dst=dst6, tc=TOS) / ICMPv6EchoRequest(id=0x4242, seq=n, data=os.urandom(n)))
        send(IPv6(dst=dst6, tc=TOS) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")]) /
             UDP(sport=40000 + n, dport=1105) / payload(n))
    whole4 = IP(dst=dst4, tos=TOS, id=probe_frag_id()) / UDP(sport=40001, dport=1104) / payload(3000)
    for p in fragment(whole4, fragsize=800):
        send(p)
    whole6 = IPv6(dst=dst6, tc=TOS) / IPv6ExtHdrFragment(id=probe_frag_id()) / \
        UDP(sport=40001, dport=1104) / payload(3000)
    for p in fragment6(whole6, 1000):
        send(p)
    # A TCP header cut before its checksum field: DADDR must drop it.
    send(IP(dst=dst4, tos=TOS, id=TRUNCATED_ID, proto=6) / Raw(b"\x9c\x40\x03\xe9" + b"\0" * 8))
    # Kernel sockets: checksum offload on the veth leaves these CHECKSUM_PARTIAL.
    for fam, dst, level, opt in ((socket.AF_INET, dst4, socket.IPPROTO_IP, socket.IP_TOS),
                                 (socket.AF_INET6, dst6, socket.IPPROTO_IPV6, socket.IPV6_TCLASS)):
        for n in (0, 33, 1200):
            u = socket.socket(fam, socket.SOCK_DGRAM)
            u.setsockopt(level, opt, TOS)
            u.sendto(os.urandom(n), (dst, 1102))
            u.close()
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(level, opt, TOS)
        t.setblocking(False)
        try:
            t.connect((dst, 1002))
        except BlockingIOError:
            pass
        time.sleep(0.3)
        t.close()


def fuzz_packets(dst4, dst6, count):
    for i in range(count):
        choice = i % 6
        if choice == 0:
            p = IP(dst=dst4, tos=TOS, ihl=5) / fuzz(TCP())
        elif choice == 1:
            p = IP(dst=dst4, tos=TOS, ihl=5) / fuzz(UDP()) / payload(i % 40)
        elif choice == 2:
            p = IP(dst=dst4, tos=TOS, ihl=5, proto=(6, 17, 33, 136)[i % 4]) / Raw(os.urandom(i % 24))
        elif choice == 3:
            p = IPv6(dst=dst6, tc=TOS, nh=(6, 17, 58, 0, 60, 44, 43)[i % 7]) / Raw(os.urandom(i % 48))
        elif choice == 4:
            p = IPv6(dst=dst6, tc=TOS) / fuzz(IPv6ExtHdrDestOpt()) / fuzz(UDP())
        else:
            p = IP(dst=dst4, tos=TOS, ihl=5, flags="MF", frag=i % 8,
                   id=FUZZ_FRAG_IDS[i % len(FUZZ_FRAG_IDS)]) / fuzz(UDP())
        try:
            send(p)
        except OSError:
            pass  # the local stack refused to send this one


def l4_of(p):
    for layer in (TCP, UDP, ICMPv6EchoRequest):
        if layer in p:
            return p[layer]
    return None


def csum_field(l4):
    return "cksum" if isinstance(l4, ICMPv6EchoRequest) else "chksum"


def key_of(l4):
    if isinstance(l4, ICMPv6EchoRequest):
        return l4.id
    return l4.dport


def recomputed(p):
    """The packet rebuilt by scapy with every checksum recomputed from scratch."""
    q = p.copy()
    if IP in q:
        del q[IP].chksum
    l4 = l4_of(q)
    if l4 is not None:
        delattr(l4, csum_field(l4))
    return (IP if IP in p else IPv6)(raw(q))


def check(pcap, new4, new6):
    pkts = [p[IP] if IP in p else p[IPv6] for p in rdpcap(pcap) if IP in p or IPv6 in p]
    ok = {}
    bad = {}
    ip_bad = 0
    # rt routes the original destinations to sink too, so a truncated packet that DADDR let
    # through unchanged would be seen here as well.
    truncated_seen = sum(1 for p in pkts if IP in p and p[IP].id == TRUNCATED_ID)
    v4 = [p for p in pkts if IP in p and p[IP].dst == new4]
    v6 = [p for p in pkts if IPv6 in p and p[IPv6].dst == new6]
    for p in v4:
        q = p.copy()
        del q.chksum
        if IP(raw(q)).chksum != p.chksum:
            ip_bad += 1
            print(f"# bad IPv4 header checksum: {p.summary()}")
    whole = [p for p in defragment(v4) if IP in p] + list(reassemble6(v6))
    for p in whole:
        if IP in p and (p.flags.MF or p.frag):
            continue
        l4 = l4_of(p)
        if l4 is None or key_of(l4) not in KINDS:
            continue
        fam = "IPv4" if IP in p else "IPv6"
        key = (fam, key_of(l4))
        _, kind = KINDS[key[1]]
        got = getattr(l4, csum_field(l4))
        if kind == "zero":
            right = got == 0
            want = 0
        else:
            want = getattr(l4_of(recomputed(p)), csum_field(l4))
            right = got == want
        (ok if right else bad)[key] = (ok if right else bad).get(key, 0) + 1
        if not right:
            print(f"# {fam} {KINDS[key[1]][0]}: checksum {got:#06x}, recomputed {want:#06x}: {p.summary()}")
    failed = 0

    def tap(good, what):
        nonlocal failed
        print(("ok - " if good else "not ok - ") + what)
        failed += 0 if good else 1

    expected = [("IPv4", k) for k in (1001, 1002, 1101, 1102, 1103, 1104)] + \
               [("IPv6", k) for k in (1001, 1002, 1101, 1102, 1104, 1105, 0x4242)]
    for key in expected:
        n_ok, n_bad = ok.get(key, 0), bad.get(key, 0)
        tap(n_ok > 0 and n_bad == 0,
            f"checksums after DADDR, {key[0]} {KINDS[key[1]][0]}: {n_ok} right, {n_bad} wrong")
    tap(len(v4) > 0 and ip_bad == 0, f"IPv4 header checksums after DADDR: {len(v4) - ip_bad} right, {ip_bad} wrong")
    tap(truncated_seen == 0, "TCP header truncated before its checksum was dropped, not forwarded")
    return 1 if failed else 0


def reassemble6(pkts):
    """Minimal IPv6 reassembly (scapy's defragment6 expects one datagram)."""
    from scapy.all import defragment6
    groups = {}
    for p in pkts:
        if IPv6ExtHdrFragment in p:
            groups.setdefault(p[IPv6ExtHdrFragment].id, []).append(p)
        else:
            yield p
    for frags in groups.values():
        try:
            # defragment6 leaves the payload undissected: parse the datagram again.
            yield IPv6(raw(defragment6(frags)))
        except Exception as e:  # noqa: BLE001 - report and carry on
            print(f"# IPv6 reassembly failed: {e}")


def main(argv):
    if argv[0] == "send":
        send_probes(argv[1], argv[2])
        return 0
    if argv[0] == "fuzz":
        fuzz_packets(argv[1], argv[2], int(argv[3]))
        return 0
    if argv[0] == "check":
        return check(argv[1], argv[2], argv[3])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
