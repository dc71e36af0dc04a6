#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| radius::fuzzing::decode_packet(data));
