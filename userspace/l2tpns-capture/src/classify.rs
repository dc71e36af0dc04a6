//! Is a datagram one IP packet? The interception stream carries the bare IP packet and nothing
//! else, so a datagram is written only if its first nibble is 4 or 6 and its length is exactly
//! the length its IP header gives (RFC 791 Total Length, RFC 8200 Payload Length). Anything else
//! (a stray probe, a truncated or padded copy) would make the pcap lie, so it is dropped and
//! counted by reason.

use std::fmt;

/// What an accepted datagram is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ip {
    V4,
    V6,
}

/// Why a datagram is not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Reject {
    /// The version nibble is neither 4 nor 6 (or the datagram is empty).
    #[error("not an IP packet")]
    NotIp,
    /// Shorter than the fixed IP header (20 bytes for IPv4 with IHL >= 5, 40 for IPv6).
    #[error("shorter than its IP header")]
    Short,
    /// The header's length and the datagram's disagree.
    #[error("length differs from the IP header's")]
    Length,
}

impl Reject {
    /// Every reason, in the order the summary line prints them.
    pub const ALL: [Reject; 3] = [Reject::NotIp, Reject::Short, Reject::Length];

    /// The summary line's name for the reason.
    pub fn name(self) -> &'static str {
        match self {
            Reject::NotIp => "not-ip",
            Reject::Short => "short",
            Reject::Length => "length",
        }
    }
}

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ip::V4 => "IPv4",
            Ip::V6 => "IPv6",
        })
    }
}

/// IPv4's fixed header (RFC 791 §3.1): IHL is in 32-bit words, at least 5.
const V4_MIN: usize = 20;
/// IPv6's fixed header (RFC 8200 §3).
const V6_HEADER: usize = 40;

/// Write or drop: `Ok` if `datagram` is exactly one IPv4 or IPv6 packet.
pub fn classify(datagram: &[u8]) -> Result<Ip, Reject> {
    let Some(&first) = datagram.first() else {
        return Err(Reject::NotIp);
    };
    match first >> 4 {
        4 => {
            if datagram.len() < V4_MIN {
                return Err(Reject::Short);
            }
            let header = usize::from(first & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
            // An IHL under 5 or past the total length is no header at all.
            if header < V4_MIN || header > total || total != datagram.len() {
                return Err(Reject::Length);
            }
            Ok(Ip::V4)
        }
        6 => {
            if datagram.len() < V6_HEADER {
                return Err(Reject::Short);
            }
            // A Payload Length of 0 announces a jumbogram (RFC 2675), which no UDP datagram
            // can carry: it fails the comparison like any other mismatch.
            let payload = usize::from(u16::from_be_bytes([datagram[4], datagram[5]]));
            if V6_HEADER + payload != datagram.len() {
                return Err(Reject::Length);
            }
            Ok(Ip::V6)
        }
        _ => Err(Reject::NotIp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 28-byte IPv4/UDP packet with an empty payload.
    fn v4() -> Vec<u8> {
        let mut p = vec![0u8; 28];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&28u16.to_be_bytes());
        p[9] = 17;
        p
    }

    fn v6(payload: usize) -> Vec<u8> {
        let mut p = vec![0u8; 40 + payload];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&(payload as u16).to_be_bytes());
        p
    }

    #[test]
    fn accepts_ipv4_and_ipv6_of_the_right_length() {
        assert_eq!(classify(&v4()), Ok(Ip::V4));
        assert_eq!(classify(&v6(8)), Ok(Ip::V6));
        // Options: IHL 6, still consistent.
        let mut p = v4();
        p[0] = 0x46;
        assert_eq!(classify(&p), Ok(Ip::V4));
    }

    #[test]
    fn rejects_what_is_not_ip() {
        assert_eq!(classify(b""), Err(Reject::NotIp));
        assert_eq!(classify(b"\x00 this is not a packet"), Err(Reject::NotIp));
        let mut p = v4();
        p[0] = 0x55;
        assert_eq!(classify(&p), Err(Reject::NotIp));
    }

    #[test]
    fn rejects_short_and_inconsistent_lengths() {
        assert_eq!(classify(&v4()[..19]), Err(Reject::Short));
        assert_eq!(classify(&v6(0)[..39]), Err(Reject::Short));
        // Padded, truncated, a bad IHL, a jumbogram's zero Payload Length.
        let mut padded = v4();
        padded.push(0);
        assert_eq!(classify(&padded), Err(Reject::Length));
        let mut cut = v4();
        cut[2..4].copy_from_slice(&40u16.to_be_bytes());
        assert_eq!(classify(&cut), Err(Reject::Length));
        let mut ihl = v4();
        ihl[0] = 0x44;
        assert_eq!(classify(&ihl), Err(Reject::Length));
        let mut ihl_past = v4();
        ihl_past[0] = 0x48;
        assert_eq!(classify(&ihl_past), Err(Reject::Length));
        let mut jumbo = v6(8);
        jumbo[4..6].copy_from_slice(&[0, 0]);
        assert_eq!(classify(&jumbo), Err(Reject::Length));
    }
}
