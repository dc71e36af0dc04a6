#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ppp::fuzzing::decode_packets(data));
