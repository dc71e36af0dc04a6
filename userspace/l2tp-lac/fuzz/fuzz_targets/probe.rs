#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| l2tp_lac::fuzzing::probe(data));
