//! Fuzz entry points: one function per `cargo fuzz` target, each taking arbitrary bytes.
//! `fuzz/` calls these; `tests/fuzz_corpus.rs` replays the committed corpora on stable.

use std::time::{Duration, UNIX_EPOCH};

use crate::classify::{classify, Ip};
use crate::pcap;

/// The write-or-drop decision on hostile datagrams: it never panics, it accepts only what
/// carries an IP version nibble and exactly the length its header gives, and whatever it
/// accepts reads back from the pcap byte for byte.
pub fn classify_datagram(data: &[u8]) {
    let Ok(ip) = classify(data) else {
        return;
    };
    let declared = match ip {
        Ip::V4 => {
            assert_eq!(data[0] >> 4, 4);
            assert!(usize::from(data[0] & 0x0f) * 4 >= 20);
            usize::from(u16::from_be_bytes([data[2], data[3]]))
        }
        Ip::V6 => {
            assert_eq!(data[0] >> 4, 6);
            40 + usize::from(u16::from_be_bytes([data[4], data[5]]))
        }
    };
    assert_eq!(
        declared,
        data.len(),
        "accepted with a length its header does not give"
    );
    let mut w = pcap::Writer::new(Vec::new()).expect("a Vec takes the header");
    w.write(UNIX_EPOCH + Duration::from_micros(1), data)
        .expect("a Vec takes the record");
    let (_, records) = pcap::read(&w.into_inner()).expect("our own file parses");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].data, data);
}
