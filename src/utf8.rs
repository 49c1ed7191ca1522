//! TEMPORARY placeholder until the streaming validator lands.
/// Error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Error;
/// Validator.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    carry: Vec<u8>,
}
impl Utf8Validator {
    /// feed
    pub fn feed(&mut self, piece: &[u8]) -> Result<(), Utf8Error> {
        self.carry.extend_from_slice(piece);
        match std::str::from_utf8(&self.carry) {
            Ok(_) => {
                self.carry.clear();
                Ok(())
            }
            Err(e) if e.error_len().is_none() => {
                let v = e.valid_up_to();
                self.carry.drain(..v);
                Ok(())
            }
            Err(_) => Err(Utf8Error),
        }
    }
    /// pending
    pub fn pending_len(&self) -> usize {
        self.carry.len()
    }
    /// finish
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let r = if self.carry.is_empty() {
            Ok(())
        } else {
            Err(Utf8Error)
        };
        self.carry.clear();
        r
    }
    /// reset
    pub fn reset(&mut self) {
        self.carry.clear();
    }
}
/// validate
pub fn validate(b: &[u8]) -> Result<(), Utf8Error> {
    std::str::from_utf8(b).map(|_| ()).map_err(|_| Utf8Error)
}
