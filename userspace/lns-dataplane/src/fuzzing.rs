//! Entry point of the `acl` fuzz target (`fuzz/`) and of the corpus replay test: arbitrary
//! bytes, never a panic.
//!
//! The input is an access-list text (startup-config syntax, parsed by lns-config; a parse
//! error just ends the run), a NUL byte, then packets, each a length byte and that many bytes
//! (the last one takes what is left when it is short).

use crate::acl::AccessList;

/// The byte between the text and the packets.
pub const SEPARATOR: u8 = 0;

/// Compiles every list of the text and matches every packet against each.
pub fn acl(data: &[u8]) {
    let (text, packets) = match data.iter().position(|&b| b == SEPARATOR) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(loaded) = lns_config::config::parse_bytes("fuzz", text) else {
        return;
    };
    let packets = split(packets);
    for spec in &loaded.config.access_lists {
        let list = AccessList::compile(spec);
        let again = AccessList::compile(spec);
        for p in &packets {
            // The decision depends on the packet alone, never on what came before.
            assert_eq!(list.permits(p), again.permits(p));
        }
        // Each packet counted once: by the rule that decided it, or the implicit deny.
        let counted: u64 = list.matches().iter().sum();
        assert_eq!(counted, packets.len() as u64);
        assert_eq!(list.matches().len(), spec.rules.len() + 1);
    }
}

fn split(mut rest: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len).min(tail.len());
        out.push(&tail[..n]);
        rest = &tail[n..];
    }
    out
}

/// A seed: `text`, the separator, each packet with its length byte (packets over 255 bytes
/// are cut).
pub fn seed(text: &str, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    out.push(SEPARATOR);
    for p in packets {
        let n = p.len().min(255);
        out.push(n as u8);
        out.extend_from_slice(&p[..n]);
    }
    out
}
