#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsproto_fuzz::frame_decoder_server_deflate(data));
