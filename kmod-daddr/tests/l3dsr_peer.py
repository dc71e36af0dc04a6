#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Client and server ends of the L3DSR VM tests (tests/vm/cases/daddr-*.sh).

  serve ADDR... --port P      TCP: read until EOF, answer the SHA-256 of what arrived;
                              UDP: answer each datagram with its SHA-256 (from the address it
                              was sent to). One listener per ADDR (the VIPs on lo).
  tcp VIP PORT SIZE [--dstopts]   send SIZE random bytes, expect their SHA-256 back
  udp VIP PORT SIZE [--dstopts]   send one datagram of SIZE bytes, expect its SHA-256 back from VIP

Clients print what they sent and saw, and exit 0 only if the digest matches and (UDP) the
reply came from VIP. --dstopts adds an IPv6 Destination Options header (PadN) to every packet.
"""
import hashlib
import ipaddress
import os
import select
import socket
import sys
import threading

# RFC 8200 §4.6 Destination Options header: next header (kernel fills it), length 0 (8 bytes),
# one PadN option of 4 bytes.
DSTOPTS = bytes([0, 0, 1, 4, 0, 0, 0, 0])
IPV6_DSTOPTS = getattr(socket, "IPV6_DSTOPTS", 59)


def family(addr):
    return socket.AF_INET6 if ipaddress.ip_address(addr).version == 6 else socket.AF_INET


def serve_tcp(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=handle_tcp, args=(conn,), daemon=True).start()


def handle_tcp(conn):
    with conn:
        h = hashlib.sha256()
        while True:
            data = conn.recv(65536)
            if not data:
                break
            h.update(data)
        conn.sendall(h.hexdigest().encode())


def serve_udp(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(hashlib.sha256(data).hexdigest().encode(), peer)


def serve(addrs, port):
    for a in addrs:
        threading.Thread(target=serve_tcp, args=(a, port), daemon=True).start()
        threading.Thread(target=serve_udp, args=(a, port), daemon=True).start()
    print("serving", " ".join(addrs), "port", port, flush=True)
    threading.Event().wait()


def client_socket(vip, kind, dstopts):
    s = socket.socket(family(vip), kind)
    if dstopts:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_DSTOPTS, DSTOPTS)
    s.settimeout(10)
    return s


def tcp(vip, port, size, dstopts):
    payload = os.urandom(size)
    want = hashlib.sha256(payload).hexdigest()
    s = client_socket(vip, socket.SOCK_STREAM, dstopts)
    s.connect((vip, port))
    peer = s.getpeername()[0]
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        data = s.recv(4096)
        if not data:
            break
        got += data
    s.close()
    print(f"tcp sent {size} bytes to {vip}:{port}; peer {peer}; digest {'match' if got.decode() == want else 'MISMATCH ' + got.decode()}")
    return got.decode() == want


def udp(vip, port, size, dstopts):
    payload = os.urandom(size)
    want = hashlib.sha256(payload).hexdigest()
    s = client_socket(vip, socket.SOCK_DGRAM, dstopts)
    s.sendto(payload, (vip, port))
    r, _, _ = select.select([s], [], [], 10)
    if not r:
        print(f"udp sent {size} bytes to {vip}:{port}; no reply")
        return False
    data, src = s.recvfrom(4096)
    same = ipaddress.ip_address(src[0]) == ipaddress.ip_address(vip)
    ok = data.decode() == want
    print(f"udp sent {size} bytes to {vip}:{port}; reply from {src[0]} ({'VIP' if same else 'NOT the VIP'}); digest {'match' if ok else 'MISMATCH'}")
    return ok and same


def main(argv):
    if argv[0] == "serve":
        i = argv.index("--port")
        serve(argv[1:i], int(argv[i + 1]))
        return 0
    dstopts = "--dstopts" in argv
    args = [a for a in argv if a != "--dstopts"]
    mode, vip, port, size = args[0], args[1], int(args[2]), int(args[3])
    try:
        ok = (tcp if mode == "tcp" else udp)(vip, port, size, dstopts)
    except OSError as e:
        print(f"{mode} to {vip}:{port}: {e}")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
