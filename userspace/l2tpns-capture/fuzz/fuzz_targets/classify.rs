#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| l2tpns_capture::fuzzing::classify_datagram(data));
