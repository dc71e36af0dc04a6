//! Where the transport checksum lives, for the protocols whose checksum covers a pseudo-header
//! containing the destination address.

/// IANA protocol numbers used here.
pub mod proto {
    /// RFC 9293.
    pub const TCP: u8 = 6;
    /// RFC 768.
    pub const UDP: u8 = 17;
    /// RFC 4340.
    pub const DCCP: u8 = 33;
    /// RFC 4443.
    pub const ICMPV6: u8 = 58;
    /// RFC 3828.
    pub const UDPLITE: u8 = 136;
}

/// Bytes from the start of the transport header that must be present and writable to update
/// any checksum handled here (TCP: `check` at 16..18). The C shim makes this much writable.
pub const L4_WINDOW: usize = 18;

/// How one transport protocol's checksum is found and treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L4Checksum {
    /// Offset of the 16-bit checksum from the start of the transport header.
    pub offset: usize,
    /// UDP (RFC 768): a transmitted 0 means "no checksum", so a computed 0 is sent as 0xffff
    /// (`CSUM_MANGLED_0`). UDP-Lite (RFC 3828 §3.1) keeps the same encoding.
    pub zero_is_mangled: bool,
    /// Plain UDP only: a received checksum of 0 means none was computed; leave it at 0.
    pub zero_means_none: bool,
}

/// The checksum of `proto` if it covers the destination address through a pseudo-header.
/// ICMPv4 (no pseudo-header) and SCTP (CRC32c over the packet only) are not affected.
pub fn pseudo_header_checksum(proto: u8, ipv6: bool) -> Option<L4Checksum> {
    let (offset, zero_is_mangled, zero_means_none) = match proto {
        proto::TCP => (16, false, false),
        proto::UDP => (6, true, true),
        proto::UDPLITE => (6, true, false),
        proto::DCCP => (6, false, false),
        // RFC 4443 §2.3: the ICMPv6 checksum includes the IPv6 pseudo-header.
        proto::ICMPV6 if ipv6 => (2, false, false),
        _ => return None,
    };
    Some(L4Checksum {
        offset,
        zero_is_mangled,
        zero_means_none,
    })
}
