#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| daddr_core::fuzzing::rewrite(data));
