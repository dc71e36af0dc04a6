//! Classic pcap (the libpcap file format, draft-ietf-opsawg-pcap): a 24-byte file header, then
//! per packet a 16-byte record header and the bytes. Written little-endian with the
//! microsecond magic; every reader takes either byte order.
//!
//! The format is small enough to write here rather than through a crate: what matters for
//! interception is that each record reaches the file whole and at once (so `tcpdump -r` of a
//! growing file, or a pipe reader, sees whole records), which [`Writer::write`] does with one
//! `write_all` and a flush per packet. [`read`] parses a file back, for the tests.

use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Microsecond-resolution magic number.
pub const MAGIC: u32 = 0xa1b2_c3d4;
/// LINKTYPE_RAW: the packet starts with its IPv4 or IPv6 header (no link layer).
pub const LINKTYPE_RAW: u32 = 101;
/// The largest packet kept whole; longer ones are cut (recorded with their original length).
pub const SNAPLEN: u32 = 65535;
const FILE_HEADER: usize = 24;
const RECORD_HEADER: usize = 16;

/// Errors of the pcap writer and reader.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the capture: {0}")]
    Io(#[from] io::Error),
    #[error("not a pcap file (magic {0:#010x})")]
    Magic(u32),
    #[error("pcap file cut short at byte {0}")]
    Truncated(usize),
    #[error("record at byte {at} says {incl} bytes, over the snap length {snaplen}")]
    OverSnaplen { at: usize, incl: u32, snaplen: u32 },
}

/// Writes a capture to `W`, one flushed record per packet.
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Writes the file header (flushed, so even an empty capture is a valid file).
    pub fn new(mut out: W) -> Result<Self, Error> {
        let mut h = [0u8; FILE_HEADER];
        h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes()); // version 2.4
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs: 0 (timestamps are UTC).
        h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        h[20..24].copy_from_slice(&LINKTYPE_RAW.to_le_bytes());
        out.write_all(&h)?;
        out.flush()?;
        Ok(Writer { out })
    }

    /// Appends one packet seen at `at`, cut to [`SNAPLEN`], and flushes it.
    pub fn write(&mut self, at: SystemTime, packet: &[u8]) -> Result<(), Error> {
        // A clock before 1970 is recorded as the epoch rather than refused.
        let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let kept = &packet[..packet.len().min(SNAPLEN as usize)];
        let mut rec = Vec::with_capacity(RECORD_HEADER + kept.len());
        // ts_sec is 32 bits in the classic format (wraps in 2106).
        rec.extend_from_slice(&(since.as_secs() as u32).to_le_bytes());
        rec.extend_from_slice(&since.subsec_micros().to_le_bytes());
        rec.extend_from_slice(&(kept.len() as u32).to_le_bytes());
        rec.extend_from_slice(
            &u32::try_from(packet.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        rec.extend_from_slice(kept);
        self.out.write_all(&rec)?;
        self.out.flush()?;
        Ok(())
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A parsed file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: (u16, u16),
    pub snaplen: u32,
    pub linktype: u32,
}

/// A parsed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Seconds and microseconds since the epoch.
    pub ts: (u32, u32),
    pub orig_len: u32,
    pub data: Vec<u8>,
}

/// Parses a whole microsecond pcap file of either byte order.
pub fn read(file: &[u8]) -> Result<(Header, Vec<Record>), Error> {
    let head = file
        .get(..FILE_HEADER)
        .ok_or(Error::Truncated(file.len()))?;
    let le = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let little = match le {
        MAGIC => true,
        m if m.swap_bytes() == MAGIC => false,
        m => return Err(Error::Magic(m)),
    };
    let u16_at = |b: &[u8], i: usize| {
        let v = [b[i], b[i + 1]];
        if little {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        }
    };
    let u32_at = |b: &[u8], i: usize| {
        let v = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if little {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        }
    };
    let header = Header {
        version: (u16_at(head, 4), u16_at(head, 6)),
        snaplen: u32_at(head, 16),
        linktype: u32_at(head, 20),
    };
    let mut records = Vec::new();
    let mut at = FILE_HEADER;
    while at < file.len() {
        let r = file
            .get(at..at + RECORD_HEADER)
            .ok_or(Error::Truncated(file.len()))?;
        let incl = u32_at(r, 8);
        if incl > header.snaplen {
            return Err(Error::OverSnaplen {
                at,
                incl,
                snaplen: header.snaplen,
            });
        }
        let start = at + RECORD_HEADER;
        let data = file
            .get(start..start + incl as usize)
            .ok_or(Error::Truncated(file.len()))?;
        records.push(Record {
            ts: (u32_at(r, 0), u32_at(r, 4)),
            orig_len: u32_at(r, 12),
            data: data.to_vec(),
        });
        at = start + incl as usize;
    }
    Ok((header, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, micros: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros)
    }

    #[test]
    fn empty_capture_is_a_valid_raw_ip_file() {
        let w = Writer::new(Vec::new()).unwrap();
        let file = w.into_inner();
        assert_eq!(file.len(), 24);
        assert_eq!(&file[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        let (h, r) = read(&file).unwrap();
        assert_eq!(
            h,
            Header {
                version: (2, 4),
                snaplen: 65535,
                linktype: 101
            }
        );
        assert!(r.is_empty());
    }

    #[test]
    fn records_round_trip_with_microsecond_timestamps() {
        let mut w = Writer::new(Vec::new()).unwrap();
        w.write(at(1_800_000_000, 123_456), b"\x45first").unwrap();
        w.write(at(1_800_000_001, 999_999), b"").unwrap();
        w.write(at(1_800_000_002, 0), &[0x60; 300]).unwrap();
        let file = w.into_inner();
        assert_eq!(file.len(), 24 + 3 * 16 + 6 + 300);
        let (_, r) = read(&file).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].ts, (1_800_000_000, 123_456));
        assert_eq!(r[0].data, b"\x45first");
        assert_eq!(r[0].orig_len, 6);
        assert_eq!(r[1].ts, (1_800_000_001, 999_999));
        assert!(r[1].data.is_empty());
        assert_eq!(r[2].data, vec![0x60; 300]);
    }

    #[test]
    fn longer_than_snaplen_is_cut_and_keeps_its_length() {
        let mut w = Writer::new(Vec::new()).unwrap();
        w.write(at(1, 0), &vec![0x45; 70_000]).unwrap();
        let (_, r) = read(&w.into_inner()).unwrap();
        assert_eq!(r[0].data.len(), 65535);
        assert_eq!(r[0].orig_len, 70_000);
    }

    /// Each packet is flushed as it is written: a reader of the file sees it at once.
    #[test]
    fn every_record_is_flushed() {
        struct Flushes(Vec<usize>, Vec<u8>);
        impl Write for Flushes {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.1.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                self.0.push(self.1.len());
                Ok(())
            }
        }
        let mut w = Writer::new(Flushes(Vec::new(), Vec::new())).unwrap();
        w.write(at(1, 0), b"ab").unwrap();
        w.write(at(2, 0), b"cde").unwrap();
        assert_eq!(w.into_inner().0, vec![24, 24 + 18, 24 + 18 + 19]);
    }

    #[test]
    fn reader_refuses_what_is_no_pcap() {
        assert!(matches!(read(b"short"), Err(Error::Truncated(5))));
        assert!(matches!(read(&[0u8; 24]), Err(Error::Magic(0))));
        let mut w = Writer::new(Vec::new()).unwrap();
        w.write(at(1, 0), b"abcd").unwrap();
        let file = w.into_inner();
        assert!(matches!(
            read(&file[..file.len() - 1]),
            Err(Error::Truncated(_))
        ));
    }

    #[test]
    fn reader_takes_big_endian_files() {
        let mut file = Vec::new();
        file.extend_from_slice(&MAGIC.to_be_bytes());
        file.extend_from_slice(&[
            0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 101,
        ]);
        file.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 1, 0x45]);
        let (h, r) = read(&file).unwrap();
        assert_eq!(h.linktype, 101);
        assert_eq!(r[0].ts, (7, 9));
        assert_eq!(r[0].data, [0x45]);
    }
}
