#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lns::fuzzing::data_plane(data));
