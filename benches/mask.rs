//! Masking bandwidth of every available ISA path, beside a memcpy of the same bytes.
//!
//! `cargo bench -p wsproto-benches --bench mask`; each group is one buffer size, reported in bytes per second.
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wsproto::mask::{Isa, apply_mask_with};

const SIZES: [usize; 6] = [16, 128, 1024, 4096, 65536, 1 << 20];
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn mask(c: &mut Criterion) {
    for size in SIZES {
        let mut group = c.benchmark_group(format!("mask/{size}"));
        group.throughput(Throughput::Bytes(size as u64));

        let src: Vec<u8> = (0..=255).cycle().take(size).collect();
        let mut dst = vec![0u8; size];
        group.bench_function("memcpy", |b| {
            b.iter(|| dst.copy_from_slice(black_box(&src)));
        });
        black_box(&dst);

        for isa in Isa::available() {
            let mut buf = src.clone();
            group.bench_function(format!("{isa:?}"), |b| {
                b.iter(|| apply_mask_with(isa, black_box(&mut buf), KEY, 0));
            });
            black_box(&buf);
        }
        group.finish();
    }
}

criterion_group!(benches, mask);
criterion_main!(benches);
