//! The client side of the opening handshake: build the upgrade request,
//! then verify the server's response.

use std::marker::PhantomData;

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::header::{
    CONNECTION, CONTENT_LENGTH, HOST, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS,
    SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderValue, Request, Response, StatusCode, Uri};

use super::{HeadBuffer, Pending, accept_key, extension_offers, header_has_token, header_list};
use crate::config::Config;
use crate::error::HandshakeError;
use crate::extensions::Extension;
use crate::keys::{MaskKeySource, OsRandomKeys};
use crate::phase::Open;
use crate::role::Client;

/// What a client's `receive` produced.
// Returned once per handshake, so moving the large `Open` variant by value
// costs nothing that matters; boxing it would only burden the caller.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[must_use]
pub enum ClientHandshake {
    /// The response is not complete yet; feed more bytes.
    Pending(Pending<Client>),
    /// The server accepted: the connection is open. Bytes after the
    /// response head are already fed to it.
    Open(Open<Client>, Response<()>),
    /// The server answered with another status (wsproto's `RejectConnection`).
    Rejected(Rejected),
}

fn fail(reason: &'static str) -> HandshakeError {
    HandshakeError::bad_request(reason)
}

impl Pending<Client> {
    /// Builds the upgrade request from `request` (whose URI is
    /// `ws://host[:port]/path?query`, or a path with a `Host` header), adding
    /// Host, Upgrade, Connection, a fresh Sec-WebSocket-Key, Version 13 and
    /// the extensions' offers. Subprotocols and any other headers are taken
    /// from `request` as they are. Returns the pending client and the
    /// request bytes to write.
    ///
    /// ```
    /// use wsproto::{Client, Config, handshake::Pending};
    /// let request = http::Request::get("ws://example.com/chat")
    ///     .header("sec-websocket-protocol", "chat, superchat")
    ///     .body(())?;
    /// let (pending, bytes) = Pending::<Client>::new(request, Config::default(), Vec::new())?;
    /// assert!(bytes.starts_with(b"GET /chat HTTP/1.1\r\n"));
    /// # let _ = pending;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// When the URI has no host and there is no Host header, or its scheme
    /// is not ws, wss, http or https.
    pub fn new(
        request: Request<()>,
        config: Config,
        extensions: Vec<Box<dyn Extension>>,
    ) -> Result<(Self, Bytes), HandshakeError> {
        let (mut parts, ()) = request.into_parts();
        let default_port = match parts.uri.scheme_str() {
            None | Some("ws" | "http") => 80,
            Some("wss" | "https") => 443,
            Some(_) => return Err(fail("URI scheme must be ws or wss")),
        };
        if !parts.headers.contains_key(HOST) {
            let authority = parts
                .uri
                .authority()
                .ok_or_else(|| fail("URI has no host and there is no Host header"))?;
            let host = match authority.port_u16() {
                Some(port) if port != default_port => format!("{}:{port}", authority.host()),
                _ => authority.host().to_owned(),
            };
            let host = HeaderValue::from_str(&host).map_err(|_| fail("invalid host"))?;
            parts.headers.insert(HOST, host);
        }
        let mut nonce = [0u8; 16];
        let mut keys = OsRandomKeys::default();
        for chunk in nonce.chunks_mut(4) {
            chunk.copy_from_slice(&keys.next_key());
        }
        let key = base64::engine::general_purpose::STANDARD.encode(nonce);
        let headers = &mut parts.headers;
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(
            SEC_WEBSOCKET_KEY,
            HeaderValue::from_str(&key).map_err(|_| fail("invalid key"))?,
        );
        headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        let offers: Vec<String> = extensions
            .iter()
            .filter_map(|ext| ext.offer())
            .map(|offer| offer.to_header_value())
            .collect();
        if !offers.is_empty() {
            let value = HeaderValue::from_str(&offers.join(", "))
                .map_err(|_| fail("invalid extension offer"))?;
            headers.insert(SEC_WEBSOCKET_EXTENSIONS, value);
        }
        let target = parts
            .uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(b"GET ");
        bytes.extend_from_slice(target.as_bytes());
        bytes.extend_from_slice(b" HTTP/1.1\r\n");
        super::write_headers(&mut bytes, &parts.headers);
        bytes.extend_from_slice(b"\r\n");
        let request = Request::from_parts(parts, ());
        let pending = Self {
            head: HeadBuffer::default(),
            config,
            extensions,
            request: Some((request, key)),
            _role: PhantomData,
        };
        Ok((pending, Bytes::from(bytes)))
    }

    /// Builds the request from a `ws://host[:port]/path?query` URL.
    ///
    /// # Errors
    ///
    /// When the URL does not parse, or as [`Pending::<Client>::new`].
    pub fn from_url(
        url: &str,
        config: Config,
        extensions: Vec<Box<dyn Extension>>,
    ) -> Result<(Self, Bytes), HandshakeError> {
        let uri: Uri = url.parse().map_err(|_| fail("invalid URL"))?;
        let request = Request::get(uri)
            .body(())
            .map_err(|_| fail("invalid URL"))?;
        Self::new(request, config, extensions)
    }

    /// The request that was sent, with every header this crate added, so a
    /// caller using another HTTP client (e.g. hyper) can send it instead.
    pub fn request(&self) -> Option<&Request<()>> {
        self.request.as_ref().map(|(r, _)| r)
    }

    /// Feeds response bytes.
    ///
    /// # Errors
    ///
    /// When the response is malformed, over the limits, or a 101 that fails
    /// the checks of RFC 6455 §4.1 (Upgrade, Connection, Accept, subprotocol
    /// and extensions offered).
    pub fn receive(mut self, data: &[u8]) -> Result<ClientHandshake, HandshakeError> {
        let Some(head_len) = self.head.push(data, self.config.max_handshake_size)? else {
            return Ok(ClientHandshake::Pending(self));
        };
        let mut raw_headers = vec![httparse::EMPTY_HEADER; self.config.max_headers];
        let mut parsed = httparse::Response::new(&mut raw_headers);
        match parsed.parse(&self.head.buf[..head_len]) {
            Ok(httparse::Status::Complete(_)) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(fail("too many response headers")),
            _ => return Err(fail("malformed HTTP response")),
        }
        let status = StatusCode::from_u16(parsed.code.unwrap_or(0))
            .map_err(|_| fail("invalid status code"))?;
        let mut response = Response::builder()
            .status(status)
            .body(())
            .map_err(|_| fail("invalid response"))?;
        *response.headers_mut() = super::to_header_map(parsed.headers)?;
        let rest = self.head.buf.split_off(head_len);
        if status != StatusCode::SWITCHING_PROTOCOLS {
            return Ok(ClientHandshake::Rejected(Rejected::new(response, rest)));
        }
        let mut open = self.finish(&response)?;
        // Frames behind the response: one read, into an empty buffer, so
        // the receive limit cannot refuse them.
        let _ = open.receive(&rest);
        Ok(ClientHandshake::Open(open, response))
    }

    /// Verifies a response received by another HTTP client (e.g. hyper's
    /// upgrade) and opens the connection.
    ///
    /// # Errors
    ///
    /// A status other than 101 (the error carries it), or the checks of
    /// [`receive`](Self::receive).
    pub fn finish<B>(mut self, response: &Response<B>) -> Result<Open<Client>, HandshakeError> {
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Err(HandshakeError::new(
                response.status(),
                "server did not switch protocols",
            ));
        }
        let Some((request, key)) = self.request.take() else {
            return Err(fail("no request was sent"));
        };
        let headers = response.headers();
        // §4.1: "If the response lacks an |Upgrade| header field or the
        // |Upgrade| header field contains a value that is not an ASCII
        // case-insensitive match for the value "websocket", the client MUST
        // _Fail the WebSocket Connection_." Likewise for Connection.
        if !header_has_token(headers, &UPGRADE, "websocket") {
            return Err(fail("response Upgrade header lacks \"websocket\""));
        }
        if !header_has_token(headers, &CONNECTION, "upgrade") {
            return Err(fail("response Connection header lacks \"Upgrade\""));
        }
        let expected = accept_key(key.as_bytes());
        let mut accepts = headers.get_all(SEC_WEBSOCKET_ACCEPT).iter();
        match (accepts.next(), accepts.next()) {
            (Some(v), None) if v.as_bytes() == expected.as_bytes() => {}
            _ => return Err(fail("Sec-WebSocket-Accept does not match the key")),
        }
        let offered = header_list(request.headers(), &SEC_WEBSOCKET_PROTOCOL)
            .map_err(|()| fail("invalid Sec-WebSocket-Protocol"))?;
        let selected = header_list(headers, &SEC_WEBSOCKET_PROTOCOL)
            .map_err(|()| fail("invalid Sec-WebSocket-Protocol"))?;
        match selected.as_slice() {
            [] => {}
            [one] if offered.contains(one) => {}
            _ => return Err(fail("server selected a subprotocol that was not offered")),
        }
        let mut accepted: Vec<Box<dyn Extension>> = Vec::new();
        let mut candidates: Vec<Option<Box<dyn Extension>>> = std::mem::take(&mut self.extensions)
            .into_iter()
            .map(|ext| ext.offer().is_some().then_some(ext))
            .collect();
        for response_ext in extension_offers(headers)? {
            // §9.1: the server's extensions must come from the client's
            // offer, and each at most once.
            let slot = candidates.iter_mut().find(|slot| {
                slot.as_ref()
                    .is_some_and(|ext| ext.name().eq_ignore_ascii_case(&response_ext.name))
            });
            let Some(mut ext) = slot.and_then(Option::take) else {
                return Err(fail(
                    "server accepted an extension that was not offered (or twice)",
                ));
            };
            ext.finalize(&response_ext)?;
            accepted.push(ext);
        }
        Ok(Open::new(self.config, accepted))
    }
}

/// A non-101 response: its head, then its body as it streams in (Python
/// wsproto's `RejectConnection` and `RejectData`). The body runs to
/// `Content-Length`, or to the end of the transport without one.
#[derive(Debug)]
#[must_use]
pub struct Rejected {
    response: Response<()>,
    buffered: BytesMut,
    remaining: Option<u64>,
    finished: bool,
    end_reported: bool,
}

/// A piece of a rejection's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectData {
    /// The bytes.
    pub data: Bytes,
    /// Whether the body is complete.
    pub body_finished: bool,
}

impl Rejected {
    fn new(response: Response<()>, rest: BytesMut) -> Self {
        let remaining = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let mut rejected = Self {
            response,
            buffered: BytesMut::new(),
            remaining,
            finished: remaining == Some(0),
            end_reported: remaining == Some(0),
        };
        rejected.receive(&rest);
        rejected
    }

    /// The response head.
    pub fn response(&self) -> &Response<()> {
        &self.response
    }

    /// Whether the response declares a body.
    pub fn has_body(&self) -> bool {
        self.remaining != Some(0)
    }

    /// Feeds body bytes (bytes past the body's end are dropped).
    pub fn receive(&mut self, data: &[u8]) {
        if self.finished {
            return;
        }
        let take = match self.remaining {
            Some(left) => data.len().min(usize::try_from(left).unwrap_or(usize::MAX)),
            None => data.len(),
        };
        self.buffered.extend_from_slice(&data[..take]);
        if let Some(left) = &mut self.remaining {
            *left -= take as u64;
        }
    }

    /// Reports that the transport ended, which ends a body without length.
    pub fn receive_eof(&mut self) {
        self.finished = true;
    }

    /// The body received since the last call, if any, and whether it is
    /// complete. The end of the body is reported exactly once (with empty
    /// data if nothing came with it); a response without a body reports
    /// nothing.
    pub fn poll_body(&mut self) -> Option<RejectData> {
        let complete = self.finished || self.remaining == Some(0);
        if self.buffered.is_empty() && (!complete || self.end_reported) {
            return None;
        }
        self.end_reported = complete;
        Some(RejectData {
            data: self.buffered.split().freeze(),
            body_finished: complete,
        })
    }
}
