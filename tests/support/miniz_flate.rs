//! miniz_oxide's raw DEFLATE behind the few flate2 calls the tests make
//! (`Compress`/`Decompress` with `*_vec`), so that the interop tests run
//! against an implementation independent of ours whatever backend flate2 is
//! built with. Through flate2 they could not: sockudo-ws (a peer in
//! `benches/`) turns on flate2's `zlib-rs` feature, and a workspace build
//! (`cargo test --workspace`) unifies features, so flate2 would run on
//! zlib-rs, the DEFLATE wsproto itself wraps.

use miniz_oxide::deflate::core::{CompressorOxide, create_comp_flags_from_zip_params};
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

/// A compression level, 0 to 9.
#[derive(Clone, Copy)]
pub struct Compression(u32);

impl Compression {
    pub fn new(level: u32) -> Self {
        Self(level)
    }
}

#[derive(Clone, Copy)]
pub enum FlushCompress {
    None,
    Sync,
}

#[derive(Clone, Copy)]
pub enum FlushDecompress {
    Sync,
}

#[derive(Debug)]
pub struct Error(MZError);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "miniz_oxide: {:?}", self.0)
    }
}

/// A raw deflate stream (no zlib header, 15-bit window).
pub struct Compress(Box<CompressorOxide>);

impl Compress {
    pub fn new(level: Compression, zlib_header: bool) -> Self {
        assert!(!zlib_header, "only raw DEFLATE is used");
        let flags = create_comp_flags_from_zip_params(level.0 as i32, -15, 0);
        Self(Box::new(CompressorOxide::new(flags)))
    }

    /// Compresses `input` into the spare capacity of `output`, like flate2:
    /// what does not fit stays behind (the tests give room enough).
    pub fn compress_vec(
        &mut self,
        input: &[u8],
        output: &mut Vec<u8>,
        flush: FlushCompress,
    ) -> Result<(), Error> {
        let flush = match flush {
            FlushCompress::None => MZFlush::None,
            FlushCompress::Sync => MZFlush::Sync,
        };
        let len = output.len();
        output.resize(output.capacity(), 0);
        let result =
            miniz_oxide::deflate::stream::deflate(&mut self.0, input, &mut output[len..], flush);
        output.truncate(len + result.bytes_written);
        check(result.status)
    }
}

/// As flate2: running out of room or input is a status, not an error.
fn check(status: Result<MZStatus, MZError>) -> Result<(), Error> {
    match status {
        Ok(_) | Err(MZError::Buf) => Ok(()),
        Err(e) => Err(Error(e)),
    }
}

/// A raw inflate stream (no zlib header).
pub struct Decompress(Box<InflateState>);

impl Decompress {
    pub fn new(zlib_header: bool) -> Self {
        assert!(!zlib_header, "only raw DEFLATE is used");
        Self(InflateState::new_boxed(DataFormat::Raw))
    }

    /// Inflates `input` into the spare capacity of `output`, like flate2.
    pub fn decompress_vec(
        &mut self,
        input: &[u8],
        output: &mut Vec<u8>,
        flush: FlushDecompress,
    ) -> Result<(), Error> {
        let FlushDecompress::Sync = flush;
        let len = output.len();
        output.resize(output.capacity(), 0);
        let result = miniz_oxide::inflate::stream::inflate(
            &mut self.0,
            input,
            &mut output[len..],
            MZFlush::Sync,
        );
        output.truncate(len + result.bytes_written);
        check(result.status)
    }
}
