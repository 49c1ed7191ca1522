//! The opening handshake (RFC 6455 §4) on `http` types: the [`Pending`]
//! phase for both roles, and the helpers both roles share.

use std::marker::PhantomData;

use base64::Engine as _;
use bytes::BytesMut;
use http::{HeaderMap, HeaderName, HeaderValue};
use sha1::{Digest, Sha1};

use crate::config::Config;
use crate::error::HandshakeError;
use crate::extensions::{Extension, ExtensionOffer};
use crate::role::Role;

pub mod client;
pub mod server;

pub use client::{ClientHandshake, RejectData, Rejected};
pub use server::{Accept, IncomingRequest, ServerHandshake, upgrade};

/// The GUID that RFC 6455 §1.3 concatenates with the key.
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2):
/// base64 of the SHA-1 of the key followed by the GUID.
///
/// ```
/// assert_eq!(
///     wsproto::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(WEBSOCKET_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// Whether a comma-separated header (all its values) holds `token`,
/// compared case-insensitively (RFC 6455 §4.1, items 5 and 6).
pub fn header_has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Every element of a comma-separated header, trimmed, across its values.
pub(crate) fn header_list(headers: &HeaderMap, name: &HeaderName) -> Result<Vec<String>, ()> {
    let mut out = Vec::new();
    for value in headers.get_all(name) {
        let value = value.to_str().map_err(|_| ())?;
        out.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    }
    Ok(out)
}

/// Every extension offer across the `Sec-WebSocket-Extensions` values.
pub(crate) fn extension_offers(headers: &HeaderMap) -> Result<Vec<ExtensionOffer>, HandshakeError> {
    let mut offers = Vec::new();
    for value in headers.get_all(http::header::SEC_WEBSOCKET_EXTENSIONS) {
        let text = value
            .to_str()
            .map_err(|_| HandshakeError::bad_request("Sec-WebSocket-Extensions is not ASCII"))?;
        offers.extend(ExtensionOffer::parse_header(text).map_err(HandshakeError::bad_request)?);
    }
    Ok(offers)
}

/// Collects an HTTP head from a byte stream in linear time: each byte is
/// scanned for the blank line once, and the head is parsed once, when whole.
/// (Re-parsing the whole buffer on every read made tungstenite's handshake
/// quadratic: CVE-2023-43669.)
#[derive(Debug, Default)]
pub(crate) struct HeadBuffer {
    pub(crate) buf: BytesMut,
    scanned: usize,
}

impl HeadBuffer {
    /// Adds bytes; returns the head's length once the blank line is in.
    ///
    /// # Errors
    ///
    /// 431 when the head is longer than `limit`.
    pub(crate) fn push(
        &mut self,
        data: &[u8],
        limit: usize,
    ) -> Result<Option<usize>, HandshakeError> {
        self.buf.extend_from_slice(data);
        let from = self.scanned.saturating_sub(3);
        let found = self.buf[from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|at| from + at + 4);
        self.scanned = self.buf.len();
        match found {
            Some(end) if end <= limit => Ok(Some(end)),
            None if self.buf.len() <= limit => Ok(None),
            _ => Err(HandshakeError::new(
                http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "handshake head larger than max_handshake_size",
            )),
        }
    }
}

/// Copies httparse headers into a `HeaderMap`.
pub(crate) fn to_header_map(raw: &[httparse::Header<'_>]) -> Result<HeaderMap, HandshakeError> {
    let mut map = HeaderMap::with_capacity(raw.len());
    for h in raw {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| HandshakeError::bad_request("invalid header name"))?;
        let value = HeaderValue::from_bytes(h.value)
            .map_err(|_| HandshakeError::bad_request("invalid header value"))?;
        map.append(name, value);
    }
    Ok(map)
}

/// Writes headers in HTTP/1.1 form.
pub(crate) fn write_headers(out: &mut Vec<u8>, headers: &HeaderMap) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// The opening-handshake phase of an endpoint in role `R`.
///
/// A client starts with [`Pending::<Client>::new`](crate::handshake::client)
/// and feeds the response to `receive`; a server starts with
/// `Pending::<Server>::new` and feeds the request to `receive`.
#[must_use]
pub struct Pending<R: Role> {
    pub(crate) head: HeadBuffer,
    pub(crate) config: Config,
    pub(crate) extensions: Vec<Box<dyn Extension>>,
    /// Client: the request sent and its key.
    pub(crate) request: Option<(http::Request<()>, String)>,
    pub(crate) _role: PhantomData<R>,
}

impl<R: Role> std::fmt::Debug for Pending<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("client", &R::IS_CLIENT)
            .field("buffered", &self.head.buf.len())
            .field("extensions", &self.extensions)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_example_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn tokens_are_found_case_insensitively_in_lists() {
        let mut h = HeaderMap::new();
        h.append(
            http::header::CONNECTION,
            HeaderValue::from_static("keep-alive, UpGrade"),
        );
        assert!(header_has_token(&h, &http::header::CONNECTION, "upgrade"));
        assert!(!header_has_token(&h, &http::header::CONNECTION, "upgrad"));
    }

    #[test]
    fn head_buffer_finds_the_blank_line_across_pushes() {
        let mut head = HeadBuffer::default();
        let text = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nEXTRA";
        let mut found = None;
        for (i, b) in text.iter().enumerate() {
            if let Some(end) = head.push(&[*b], 1024).unwrap() {
                found = Some((i, end));
                break;
            }
        }
        assert_eq!(found, Some((26, 27)));
        let mut big = HeadBuffer::default();
        assert_eq!(
            big.push(&[b'a'; 100], 50).unwrap_err().status,
            http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
    }
}
