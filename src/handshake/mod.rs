//! The opening handshake (RFC 6455 §4) on `http` types: the [`Pending`]
//! phase for both roles, and the helpers both roles share.

use std::marker::PhantomData;

use base64::Engine as _;
use http::{HeaderMap, HeaderName};
use sha1::{Digest, Sha1};

use crate::config::Config;
use crate::error::HandshakeError;
use crate::extensions::{Extension, ExtensionOffer};
use crate::role::Role;

pub mod client;
pub mod extended_connect;
mod http1;
pub mod server;

use http1::HeadReader;

pub use client::{ClientHandshake, RejectData, Rejected, Target};
pub use server::{Accept, IncomingRequest, ServerHandshake, UpgradeError, upgrade};

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
///
/// ```
/// use http::header::CONNECTION;
/// use wsproto::handshake::header_has_token;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert(CONNECTION, "keep-alive, Upgrade".parse()?);
/// assert!(header_has_token(&headers, &CONNECTION, "upgrade"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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

/// Adds `Sec-WebSocket-Extensions` with the offers of `extensions` (RFC
/// 6455 §9.1), if any of them offers, for both handshakes.
pub(crate) fn insert_offers(
    headers: &mut HeaderMap,
    extensions: &[Box<dyn Extension>],
) -> Result<(), HandshakeError> {
    let offers: Vec<String> = extensions
        .iter()
        .filter_map(|ext| ext.offer())
        .map(|offer| offer.to_header_value())
        .collect();
    if !offers.is_empty() {
        let value = http::HeaderValue::from_str(&offers.join(", "))
            .map_err(|_| HandshakeError::local("invalid extension offer"))?;
        headers.insert(http::header::SEC_WEBSOCKET_EXTENSIONS, value);
    }
    Ok(())
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
/// (or `from_url`) and feeds the response to `receive`; a server starts
/// with `Pending::<Server>::new` and feeds the request to `receive`. Both
/// hand back a `Pending` while the HTTP head is incomplete; the crate docs
/// show [both sides in memory](crate#the-handshake-in-memory).
#[must_use]
pub struct Pending<R: Role> {
    pub(crate) head: HeadReader,
    pub(crate) config: Config,
    pub(crate) extensions: Vec<Box<dyn Extension>>,
    /// Client: the request sent, its key and target.
    pub(crate) request: Option<client::SentRequest>,
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
    use http::HeaderValue;

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
}
