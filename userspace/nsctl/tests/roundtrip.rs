//! Every message that fits encodes to a datagram that decodes to the same message.

use nsctl::wire::{Kind, Message, MAX_MESSAGE};
use proptest::prelude::*;

fn kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(vec![
        Kind::LoadPlugin,
        Kind::UnloadPlugin,
        Kind::Help,
        Kind::Control,
        Kind::Ok,
        Kind::Err,
    ])
}

proptest! {
    #[test]
    fn encode_then_decode(kind in kind(), args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..=255), 0..20)) {
        let m = Message { kind, args };
        match m.encode() {
            Ok(wire) => {
                prop_assert!(wire.len() <= MAX_MESSAGE);
                prop_assert_eq!(Message::decode(&wire).unwrap(), m);
            }
            Err(_) => prop_assert!(4 + m.args.iter().map(|a| a.len() + 1).sum::<usize>() + 1 > MAX_MESSAGE),
        }
    }

    #[test]
    fn decode_never_panics(data in prop::collection::vec(any::<u8>(), 0..600)) {
        nsctl::fuzzing::decode(&data);
    }
}
