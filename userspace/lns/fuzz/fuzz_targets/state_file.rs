#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lns::fuzzing::state_file(data));
