//! A small, slow, strict DEFLATE decoder (after zlib's `contrib/puff`) for
//! tests: it fails any back-reference further than a given window, which
//! zlib-rs's inflater can't be made to do (it keeps a 32 KiB window
//! whatever `windowBits` says). A third implementation, next to zlib-rs and
//! miniz_oxide.

/// Decodes the messages of one direction of a permessage-deflate stream,
/// keeping the window between messages (context takeover) unless reset.
pub struct StrictInflater {
    window: usize,
    /// The most recent output, at least `window` bytes of it.
    history: Vec<u8>,
    /// The stream ended with a final block; the next message starts anew.
    ended: bool,
}

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order of the code length code lengths (RFC 1951 §3.2.7).
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    count: u32,
}

impl Bits<'_> {
    fn take(&mut self, need: u32) -> Result<u32, String> {
        while self.count < need {
            let byte = *self.data.get(self.pos).ok_or("out of input")?;
            self.buf |= u64::from(byte) << self.count;
            self.pos += 1;
            self.count += 8;
        }
        let value = (self.buf & ((1u64 << need) - 1)) as u32;
        self.buf >>= need;
        self.count -= need;
        Ok(value)
    }

    /// Loads whole bytes while they fit, so a code can be read at once.
    fn refill(&mut self) {
        while self.count <= 56 && self.pos < self.data.len() {
            self.buf |= u64::from(self.data[self.pos]) << self.count;
            self.pos += 1;
            self.count += 8;
        }
    }

    /// Skips to the next byte boundary.
    fn align(&mut self) {
        let partial = self.count % 8;
        self.buf >>= partial;
        self.count -= partial;
    }

    /// Whether only padding bits are left.
    fn at_end(&self) -> bool {
        self.pos == self.data.len() && self.count < 8 && self.buf == 0
    }
}

/// A canonical Huffman code: how many codes of each length, and the
/// symbols in code order.
struct Huffman {
    count: [u16; 16],
    symbol: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Result<Self, String> {
        let mut count = [0u16; 16];
        for &len in lengths {
            count[usize::from(len)] += 1;
        }
        let mut left: i32 = 1;
        for &c in &count[1..] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return Err("over-subscribed Huffman code".into());
            }
        }
        let mut offsets = [0u16; 16];
        for len in 1..15 {
            offsets[len + 1] = offsets[len] + count[len];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (sym, &len) in lengths.iter().enumerate() {
            if len != 0 {
                symbol[usize::from(offsets[usize::from(len)])] = sym as u16;
                offsets[usize::from(len)] += 1;
            }
        }
        count[0] = 0;
        Ok(Self { count, symbol })
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, String> {
        bits.refill();
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        let mut buf = bits.buf;
        for len in 1..16u32 {
            if len > bits.count {
                return Err("out of input".into());
            }
            code |= (buf & 1) as i32;
            buf >>= 1;
            let count = i32::from(self.count[len as usize]);
            if code - count < first {
                bits.buf = buf;
                bits.count -= len;
                return Ok(self.symbol[(index + (code - first)) as usize]);
            }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        Err("invalid Huffman code".into())
    }
}

impl StrictInflater {
    /// A decoder that accepts references at most `1 << window_bits` back.
    pub fn new(window_bits: u8) -> Self {
        Self {
            window: 1 << window_bits,
            history: Vec::new(),
            ended: false,
        }
    }

    /// Forgets the window: the next message must not refer back.
    pub fn reset(&mut self) {
        self.history.clear();
        self.ended = false;
    }

    /// Decodes one message's DEFLATE data (with the `00 00 ff ff` tail
    /// already appended).
    pub fn message(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        if self.ended {
            self.reset();
        }
        let mut bits = Bits {
            data,
            pos: 0,
            buf: 0,
            count: 0,
        };
        let mut out = Vec::new();
        while !bits.at_end() {
            let last = bits.take(1)? == 1;
            match bits.take(2)? {
                0 => self.stored(&mut bits, &mut out)?,
                1 => {
                    let mut lengths = [0u8; 288];
                    lengths[..144].fill(8);
                    lengths[144..256].fill(9);
                    lengths[256..280].fill(7);
                    lengths[280..].fill(8);
                    let lit = Huffman::new(&lengths)?;
                    let dist = Huffman::new(&[5; 30])?;
                    self.codes(&mut bits, &lit, &dist, &mut out)?;
                }
                2 => {
                    let (lit, dist) = dynamic_codes(&mut bits)?;
                    self.codes(&mut bits, &lit, &dist, &mut out)?;
                }
                _ => return Err("reserved block type".into()),
            }
            if last {
                // The rest of the message is ignored (RFC 7692 §7.2.3.4).
                self.ended = true;
                break;
            }
        }
        Ok(out)
    }

    fn emit(&mut self, byte: u8, out: &mut Vec<u8>) {
        out.push(byte);
        self.history.push(byte);
        if self.history.len() > 4 * self.window.max(1 << 15) {
            let cut = self.history.len() - self.window;
            self.history.drain(..cut);
        }
    }

    fn stored(&mut self, bits: &mut Bits<'_>, out: &mut Vec<u8>) -> Result<(), String> {
        bits.align();
        let len = bits.take(16)?;
        let nlen = bits.take(16)?;
        if len != !nlen & 0xffff {
            return Err("stored block length does not match its complement".into());
        }
        for _ in 0..len {
            let byte = bits.take(8)? as u8;
            self.emit(byte, out);
        }
        Ok(())
    }

    fn codes(
        &mut self,
        bits: &mut Bits<'_>,
        lit: &Huffman,
        dist: &Huffman,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        loop {
            let symbol = lit.decode(bits)?;
            match symbol {
                0..=255 => self.emit(symbol as u8, out),
                256 => return Ok(()),
                _ => {
                    let i = usize::from(symbol - 257);
                    if i >= LENGTH_BASE.len() {
                        return Err("invalid length symbol".into());
                    }
                    let len = usize::from(LENGTH_BASE[i])
                        + bits.take(u32::from(LENGTH_EXTRA[i]))? as usize;
                    let d = usize::from(dist.decode(bits)?);
                    if d >= DIST_BASE.len() {
                        return Err("invalid distance symbol".into());
                    }
                    let distance =
                        usize::from(DIST_BASE[d]) + bits.take(u32::from(DIST_EXTRA[d]))? as usize;
                    if distance > self.window {
                        return Err(format!(
                            "distance {distance} beyond the {}-byte window",
                            self.window
                        ));
                    }
                    if distance > self.history.len() {
                        return Err(format!("distance {distance} before the stream's start"));
                    }
                    for _ in 0..len {
                        let byte = self.history[self.history.len() - distance];
                        self.emit(byte, out);
                    }
                }
            }
        }
    }
}

fn dynamic_codes(bits: &mut Bits<'_>) -> Result<(Huffman, Huffman), String> {
    let nlen = bits.take(5)? as usize + 257;
    let ndist = bits.take(5)? as usize + 1;
    let ncode = bits.take(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err("too many length or distance codes".into());
    }
    let mut code_lengths = [0u8; 19];
    for &i in &CODE_LENGTH_ORDER[..ncode] {
        code_lengths[i] = bits.take(3)? as u8;
    }
    let code = Huffman::new(&code_lengths)?;
    let mut lengths = vec![0u8; nlen + ndist];
    let mut i = 0;
    while i < nlen + ndist {
        let symbol = code.decode(bits)?;
        let (value, repeat) = match symbol {
            0..=15 => (symbol as u8, 1),
            16 => {
                let previous = *lengths[..i]
                    .last()
                    .ok_or("repeat with no previous length")?;
                (previous, 3 + bits.take(2)? as usize)
            }
            17 => (0, 3 + bits.take(3)? as usize),
            _ => (0, 11 + bits.take(7)? as usize),
        };
        if i + repeat > lengths.len() {
            return Err("too many code lengths".into());
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    if lengths[256] == 0 {
        return Err("no end-of-block code".into());
    }
    Ok((
        Huffman::new(&lengths[..nlen])?,
        Huffman::new(&lengths[nlen..])?,
    ))
}
