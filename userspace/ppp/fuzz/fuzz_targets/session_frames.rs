#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ppp::fuzzing::session_frames(data));
