//! One UDP port shared by the control loop and the data-plane workers (`SO_REUSEPORT`), with a
//! classic BPF program (`SO_ATTACH_REUSEPORT_CBPF`, socket(7)) that picks the socket by the
//! L2TP header instead of the kernel's 4-tuple hash: one LAC's tunnel (one source address and
//! port) carries thousands of sessions, which the hash would put all on one socket.
//!
//! The group's socket 0 is the control loop's and takes every control message (T bit set),
//! every datagram that is not L2TP version 2 and every datagram too short to carry a session
//! id (a classic BPF load past the end ends the program with 0). A data message goes to socket
//! `1 + session_id % workers`; its session id is at offset 4, or 6 when the L bit says a
//! Length field precedes the ids (RFC 2661 §3.1). For reuseport programs the kernel runs the
//! filter on the UDP payload (`reuseport_select_sock` pulls the UDP header first); the tests
//! below show it on the running kernel.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const LD_B_ABS: u16 = 0x30;
const LD_H_ABS: u16 = 0x28;
const ALU_AND_K: u16 = 0x54;
const ALU_MOD_K: u16 = 0x94;
const ALU_ADD_K: u16 = 0x04;
const JMP_JEQ_K: u16 = 0x15;
const JMP_JSET_K: u16 = 0x45;
const JMP_JA: u16 = 0x05;
const RET_A: u16 = 0x16;
const RET_K: u16 = 0x06;

const fn op(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The steering program for a group of one control socket and `workers` (≥ 1) worker sockets.
pub fn steering_program(workers: u32) -> Vec<libc::sock_filter> {
    let workers = workers.max(1);
    vec![
        /* 0 */ op(LD_B_ABS, 0, 0, 1), // A = flags/version byte 1
        /* 1 */ op(ALU_AND_K, 0, 0, 0x0f), // the Ver field
        /* 2 */ op(JMP_JEQ_K, 0, 9, 2), // not L2TPv2 → 12 (control loop)
        /* 3 */ op(LD_B_ABS, 0, 0, 0), // A = T L x x S x O P
        /* 4 */ op(JMP_JSET_K, 7, 0, 0x80), // T: a control message → 12
        /* 5 */ op(JMP_JSET_K, 0, 2, 0x40), // L: Length present → 6, else → 8
        /* 6 */ op(LD_H_ABS, 0, 0, 6),
        /* 7 */ op(JMP_JA, 0, 0, 1),
        /* 8 */ op(LD_H_ABS, 0, 0, 4),
        /* 9 */ op(ALU_MOD_K, 0, 0, workers),
        /* 10 */ op(ALU_ADD_K, 0, 0, 1),
        /* 11 */ op(RET_A, 0, 0, 0),
        /* 12 */ op(RET_K, 0, 0, 0),
    ]
}

/// Attaches [`steering_program`] to `socket`'s reuseport group.
fn attach(socket: &Socket, workers: u32) -> io::Result<()> {
    let program = steering_program(workers);
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `fprog` points at `program`, alive for the call; the kernel copies it.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_REUSEPORT_CBPF,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn udp_socket(reuse: bool) -> io::Result<Socket> {
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    // Large buffers absorb bursts while a loop is busy.
    let _ = sock.set_recv_buffer_size(8 << 20);
    let _ = sock.set_send_buffer_size(8 << 20);
    sock.set_nonblocking(true)?;
    sock.set_cloexec(true)?;
    if reuse {
        sock.set_reuse_port(true)?;
    }
    Ok(sock)
}

/// Binds `1 + workers` non-blocking UDP sockets to `addr`: the control loop's (index 0), then
/// one per worker, steered by [`steering_program`]. With `workers == 0`, one plain socket.
///
/// A port another process holds still fails with `AddrInUse`: the address is first bound
/// without `SO_REUSEPORT` (which a second daemon of the same user would otherwise share).
pub fn bind_group(addr: SocketAddr, workers: u32) -> io::Result<Vec<UdpSocket>> {
    let first = udp_socket(false)?;
    first.bind(&addr.into())?;
    if workers == 0 {
        return Ok(vec![first.into()]);
    }
    // The probe's port (when `addr` asked for any) is the group's.
    let addr = first.local_addr()?.as_socket().unwrap_or(addr);
    drop(first);
    let mut group = Vec::new();
    for _ in 0..=workers {
        let sock = udp_socket(true)?;
        sock.bind(&addr.into())?;
        group.push(sock);
    }
    attach(&group[0], workers)?;
    Ok(group.into_iter().map(UdpSocket::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Which socket of `group` received `datagram` (sent from one source address and port).
    fn receiver(group: &[UdpSocket], from: &UdpSocket, datagram: &[u8]) -> usize {
        from.send_to(datagram, group[0].local_addr().unwrap())
            .unwrap();
        let mut buf = [0u8; 64];
        for _ in 0..200 {
            for (i, s) in group.iter().enumerate() {
                if let Ok((n, _)) = s.recv_from(&mut buf) {
                    assert_eq!(&buf[..n], datagram);
                    return i;
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("datagram not received");
    }

    fn data(session: u16, length_bit: bool) -> Vec<u8> {
        let mut d = vec![if length_bit { 0x40 } else { 0x00 }, 0x02];
        if length_bit {
            d.extend_from_slice(&[0, 12]);
        }
        d.extend_from_slice(&7u16.to_be_bytes()); // tunnel
        d.extend_from_slice(&session.to_be_bytes());
        d.extend_from_slice(&[0xff, 0x03, 0x00, 0x21]);
        d
    }

    #[test]
    fn one_source_spreads_over_the_workers_by_session_id_and_control_goes_to_socket_0() {
        let group = bind_group("127.0.0.1:0".parse().unwrap(), 3).unwrap();
        assert_eq!(group.len(), 4);
        let from = UdpSocket::bind("127.0.0.1:0").unwrap();
        for session in [1u16, 2, 3, 4, 5, 6, 1000, 65535] {
            let want = 1 + usize::from(session) % 3;
            assert_eq!(receiver(&group, &from, &data(session, false)), want);
            assert_eq!(receiver(&group, &from, &data(session, true)), want);
        }
        // A control message (T, L and S set: SCCRQ-like header) whatever its session id.
        let mut control = vec![0xc8, 0x02, 0, 12, 0, 0, 0, 5, 0, 0, 0, 0];
        assert_eq!(receiver(&group, &from, &control), 0);
        control[7] = 6;
        assert_eq!(receiver(&group, &from, &control), 0);
        // Too short for a session id, or not version 2: the control loop judges it.
        assert_eq!(receiver(&group, &from, &[0x00, 0x02, 0, 7]), 0);
        assert_eq!(receiver(&group, &from, &[0x00]), 0);
        let mut v3 = data(2, false);
        v3[1] = 0x03;
        assert_eq!(receiver(&group, &from, &v3), 0);
    }

    #[test]
    fn a_port_in_use_is_refused_even_with_reuseport() {
        let group = bind_group("127.0.0.1:0".parse().unwrap(), 2).unwrap();
        let err = bind_group(group[0].local_addr().unwrap(), 2).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[test]
    fn no_workers_is_one_plain_socket() {
        let group = bind_group("127.0.0.1:0".parse().unwrap(), 0).unwrap();
        assert_eq!(group.len(), 1);
    }
}
