#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| radius::fuzzing::dae(data));
