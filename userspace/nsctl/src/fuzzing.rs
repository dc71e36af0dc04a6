//! Fuzz entry points: one function per `cargo fuzz` target, each taking arbitrary bytes.
//! `fuzz/` calls these; `tests/fuzz_corpus.rs` replays the committed corpora on stable.

use crate::command;
use crate::wire::Message;

/// Decoder and parser on hostile datagrams: whatever decodes re-encodes to the same bytes
/// (the format has exactly one encoding per message), and parsing never panics.
pub fn decode(data: &[u8]) {
    let Ok(message) = Message::decode(data) else {
        return;
    };
    let wire = message.encode().expect("a decoded message re-encodes");
    assert_eq!(wire, data, "one encoding per message");
    let _ = command::parse(&message);
}
