//! tests/helpers.py, and what the ported tests share: an HTTP peer in
//! place of h11.

use std::sync::{Arc, Mutex};

use wsproto::compat::extensions::{Extension, ExtensionRef};

/// Python's `FakeExtension`: `None` is Python's `False`, `Some("")` its
/// `True`, `Some(params)` a parameter string.
#[derive(Debug, Default)]
pub struct FakeExtension {
    pub offer_response: Option<String>,
    pub accept_response: Option<String>,
    pub accepted_offer: Option<String>,
    pub offered: Option<String>,
}

impl FakeExtension {
    pub const NAME: &'static str = "fake";

    pub fn new(offer_response: Option<&str>, accept_response: Option<&str>) -> Self {
        Self {
            offer_response: offer_response.map(str::to_owned),
            accept_response: accept_response.map(str::to_owned),
            ..Self::default()
        }
    }

    /// The extension and a handle to it, to read its fields later.
    pub fn shared(self) -> (Arc<Mutex<Self>>, ExtensionRef) {
        let ext = Arc::new(Mutex::new(self));
        (ext.clone(), ExtensionRef::from(ext))
    }
}

impl Extension for FakeExtension {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn offer(&self) -> Option<String> {
        self.offer_response.clone()
    }

    fn finalize(&mut self, offer: &str) -> Result<(), String> {
        self.accepted_offer = Some(offer.to_owned());
        Ok(())
    }

    fn accept(&mut self, offer: &str) -> Option<String> {
        self.offered = Some(offer.to_owned());
        self.accept_response.clone()
    }
}

/// An HTTP message head as h11 would report it: the request target or
/// status, and the headers with lower-case names, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: Option<String>,
    pub target: Option<String>,
    pub version: u8,
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    /// Bytes after the head.
    pub rest: Vec<u8>,
}

impl Head {
    /// Python's `normed_header_dict`: values of a repeated name joined
    /// with ", ".
    pub fn normed(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

fn lower(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// Parses a request head (h11's server side).
pub fn parse_request(bytes: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(len) = request.parse(bytes).unwrap() else {
        panic!("incomplete request: {:?}", String::from_utf8_lossy(bytes))
    };
    Head {
        method: request.method.map(str::to_owned),
        target: request.path.map(str::to_owned),
        version: request.version.unwrap(),
        status: None,
        headers: lower(request.headers),
        rest: bytes[len..].to_vec(),
    }
}

/// Parses a response head (h11's client side).
pub fn parse_response(bytes: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(len) = response.parse(bytes).unwrap() else {
        panic!("incomplete response: {:?}", String::from_utf8_lossy(bytes))
    };
    Head {
        method: None,
        target: None,
        version: response.version.unwrap(),
        status: response.code,
        headers: lower(response.headers),
        rest: bytes[len..].to_vec(),
    }
}

/// An HTTP/1.1 head with `first_line` and `headers`, as h11 sends it.
pub fn head(first_line: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("{first_line}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Python's `generate_nonce()`: a fresh, valid Sec-WebSocket-Key.
pub fn generate_nonce() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let mut raw = [0x5a_u8; 16];
    raw[..4].copy_from_slice(&n.to_le_bytes());
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// Python's `generate_accept_token(nonce)`.
pub fn generate_accept_token(nonce: &str) -> String {
    wsproto::handshake::accept_key(nonce.as_bytes())
}
