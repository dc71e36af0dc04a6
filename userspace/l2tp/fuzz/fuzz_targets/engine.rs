#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| l2tp::fuzzing::engine(data));
