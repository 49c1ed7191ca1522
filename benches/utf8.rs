//! Throughput of UTF-8 validation of text payloads, against bare `simdutf8` as the floor.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wsproto::utf8::{Utf8Validator, validate};

const SIZES: [usize; 5] = [16, 128, 1024, 65536, 1 << 20];
/// A typical read size: pieces of a large message as they come off the socket.
const PIECE: usize = 4096;

/// Mostly ASCII with 2-, 3- and 4-byte code points mixed in, exactly `len` bytes, ending on a
/// code point boundary.
fn mixed_text(len: usize) -> Vec<u8> {
    let pattern = "The quick brown fox — κόσμε — 日本語テキスト 😀 jumps over the lazy dog. ";
    let mut text = pattern.repeat(len / pattern.len() + 1);
    let mut cut = len;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    while text.len() < len {
        text.push('.');
    }
    text.into_bytes()
}

/// Japanese text, about `len` bytes, ending on a code point boundary. Three bytes per code
/// point, so most 4 KiB cuts land inside one: the case the validator splits off before its SIMD
/// pass instead of validating the piece twice.
fn cjk_text(len: usize) -> Vec<u8> {
    let text = "日本語のテキストを検証する。".repeat(len / 42 + 1);
    let mut cut = len.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.as_bytes()[..cut].to_vec()
}

fn feed_in_pieces(validator: &mut Utf8Validator, text: &[u8]) -> bool {
    for piece in text.chunks(PIECE) {
        if validator.feed(piece).is_err() {
            return false;
        }
    }
    validator.finish().is_ok()
}

fn bench_mixed(c: &mut Criterion) {
    let mut group = c.benchmark_group("utf8");
    for size in SIZES {
        let text = mixed_text(size);
        assert_eq!(text.len(), size);
        assert!(std::str::from_utf8(&text).is_ok());
        group.throughput(Throughput::Bytes(size as u64));

        group.bench_with_input(
            BenchmarkId::new("simdutf8_basic", size),
            &text,
            |b, text| {
                b.iter(|| simdutf8::basic::from_utf8(black_box(text)).is_ok());
            },
        );
        group.bench_with_input(BenchmarkId::new("validate", size), &text, |b, text| {
            b.iter(|| validate(black_box(text)).is_ok());
        });
        group.bench_with_input(BenchmarkId::new("feed_finish", size), &text, |b, text| {
            let mut validator = Utf8Validator::new();
            b.iter(|| {
                let fed = validator.feed(black_box(text));
                fed.and_then(|()| validator.finish()).is_ok()
            });
        });
        if size > PIECE {
            group.bench_with_input(
                BenchmarkId::new("feed_4k_pieces", size),
                &text,
                |b, text| {
                    let mut validator = Utf8Validator::new();
                    b.iter(|| feed_in_pieces(&mut validator, black_box(text)));
                },
            );
        }
    }
    group.finish();
}

fn bench_cjk(c: &mut Criterion) {
    let mut group = c.benchmark_group("utf8_cjk");
    for size in [65536, 1 << 20] {
        let text = cjk_text(size);
        assert!(std::str::from_utf8(&text).is_ok());
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("simdutf8_basic", size),
            &text,
            |b, text| {
                b.iter(|| simdutf8::basic::from_utf8(black_box(text)).is_ok());
            },
        );
        group.bench_with_input(
            BenchmarkId::new("feed_4k_pieces", size),
            &text,
            |b, text| {
                let mut validator = Utf8Validator::new();
                b.iter(|| feed_in_pieces(&mut validator, black_box(text)));
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_mixed, bench_cjk);
criterion_main!(benches);
