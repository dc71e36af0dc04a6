#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lns_cli::fuzzing::session(data));
