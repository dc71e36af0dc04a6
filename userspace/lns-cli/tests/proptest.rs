//! Arbitrary input never panics and keeps the session's buffers bounded.

use lns_cli::{fuzzing, Command, CommandTree, Config, Event, Login, Privilege, Session};
use proptest::prelude::*;

/// Bytes biased towards what matters: telnet commands, escapes, control keys, words.
fn input() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        Just(vec![255, 255]),
        (251u8..=254, any::<u8>()).prop_map(|(v, o)| vec![255, v, o]),
        Just(vec![255, 250, 31, 0, 80, 0, 24, 255, 240]),
        Just(b"\x1b[A".to_vec()),
        Just(b"\x1b[D".to_vec()),
        Just(b"\x1b[3~".to_vec()),
        Just(b"\r\0".to_vec()),
        Just(b"sh ses ".to_vec()),
        Just(b"| inc a|b | count".to_vec()),
        Just(b"?".to_vec()),
        Just(b"\t".to_vec()),
        (0u8..32).prop_map(|b| vec![b]),
    ];
    proptest::collection::vec(piece, 0..200).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn never_panics_and_stays_bounded(data in input(), skip in any::<bool>()) {
        let mut tree = CommandTree::new();
        let show = tree.add(None, Command::new("show", "Show")).unwrap();
        tree.add(Some(show), Command::new("session", "S").repeated_arg("<SID>", "id")).unwrap();
        let mut config = Config::new("p");
        config.login = if skip { Login::Skip(Privilege::Privileged) } else { Login::Required };
        let mut s = Session::new(config, tree);
        let now = std::time::Instant::now();
        for chunk in data.chunks(17) {
            s.handle_input(chunk);
            while let Some(e) = s.poll_event() {
                match e {
                    Event::Authenticate { .. } => s.auth_result(now, Some(Privilege::Unprivileged)),
                    Event::EnableAuthenticate { .. } => s.enable_result(true),
                    Event::Command(_) => { s.write_line("x"); s.finish_command(); }
                    Event::Interrupt => s.finish_command(),
                }
            }
            // 17 input bytes redraw a line of at most 1024 characters a few times each.
            prop_assert!(s.pending_output_len() <= 17 * 3 * 1100 + 4096);
            s.take_output();
        }
    }

    #[test]
    fn fuzz_entry_point_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        fuzzing::session(&data);
    }
}
