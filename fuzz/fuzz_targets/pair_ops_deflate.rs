#![no_main]

libfuzzer_sys::fuzz_target!(|input: wsproto_fuzz::PairInput| wsproto_fuzz::pair_ops_deflate(input));
