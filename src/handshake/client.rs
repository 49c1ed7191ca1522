//! The client side of the opening handshake: build the upgrade request,
//! then verify the server's response.

use std::marker::PhantomData;

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::header::{
    CONNECTION, CONTENT_LENGTH, HOST, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, TRANSFER_ENCODING, UPGRADE,
};
use http::{HeaderValue, Request, Response, StatusCode, Uri};

use super::http1::{HeadKind, HeadReader};
use super::{Pending, accept_key, extension_offers, header_has_token, header_list};
use crate::config::Config;
use crate::error::HandshakeError;
use crate::extensions::Extension;
use crate::keys::OsRandomKeys;
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

/// A 101 that fails the client's checks (RFC 6455 §4.1): the status
/// received is 101, the kind says the client refused it.
fn refuse(reason: &'static str) -> HandshakeError {
    refuse_with(reason.into())
}

fn refuse_with(reason: std::borrow::Cow<'static, str>) -> HandshakeError {
    HandshakeError::bad_response(StatusCode::SWITCHING_PROTOCOLS, reason)
}

/// Where a client connects: host, port and whether to speak TLS, taken from
/// a `ws://` or `wss://` URL (RFC 6455 §3), so the caller need not parse it
/// again to open the transport.
///
/// ```
/// use wsproto::handshake::Target;
/// let target = Target::from_url("wss://example.com/chat")?;
/// assert_eq!(target, Target { host: "example.com".into(), port: 443, tls: true });
/// let target = Target::from_url("ws://[::1]:9001/")?;
/// assert_eq!((target.host.as_str(), target.port, target.tls), ("::1", 9001, false));
/// # Ok::<(), wsproto::HandshakeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The host name or IP address, without the brackets of an IPv6
    /// literal: ready for `TcpStream::connect((host, port))`.
    pub host: String,
    /// The port: the URL's, else 80 for ws and 443 for wss.
    pub port: u16,
    /// Whether the scheme is wss, i.e. the connection runs over TLS.
    pub tls: bool,
}

impl Target {
    /// Parses a `ws://host[:port]/path?query` or `wss://…` URL.
    ///
    /// ```
    /// use wsproto::handshake::Target;
    ///
    /// let target = Target::from_url("ws://localhost:9001/chat?room=1")?;
    /// assert_eq!((target.host.as_str(), target.port, target.tls), ("localhost", 9001, false));
    /// assert!(Target::from_url("http://localhost/").is_err()); // ws and wss only
    /// # Ok::<(), wsproto::HandshakeError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] of kind [`Local`](crate::HandshakeErrorKind::Local)
    /// when the URL does not parse, has no scheme or one other than ws or
    /// wss (case-insensitively), has no host, has user info, or has a port
    /// that is empty, zero or above 65535.
    pub fn from_url(url: &str) -> Result<Self, HandshakeError> {
        parse_ws_url(url).map(|(_, target)| target)
    }

    /// The target of a request URI, when it has a scheme and a host
    /// (`new` also takes http and https, as hyper users may).
    fn from_uri(uri: &Uri) -> Result<Option<Self>, HandshakeError> {
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Ok(None);
        };
        let tls = if scheme.eq_ignore_ascii_case("ws") || scheme.eq_ignore_ascii_case("http") {
            false
        } else if scheme.eq_ignore_ascii_case("wss") || scheme.eq_ignore_ascii_case("https") {
            true
        } else {
            return Err(HandshakeError::local("URI scheme must be ws or wss"));
        };
        let (host, port) = split_authority(authority.as_str())?;
        Ok(Some(Self {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: port.unwrap_or(if tls { 443 } else { 80 }),
            tls,
        }))
    }

    fn default_port(&self) -> u16 {
        if self.tls { 443 } else { 80 }
    }
}

/// Splits `host[:port]`, checking the port: `http::Uri` parses
/// `host:99999` and then reports no port at all, which would silently
/// connect to the default one.
fn split_authority(authority: &str) -> Result<(&str, Option<u16>), HandshakeError> {
    // RFC 6455 §3: `ws-URI = "ws:" "//" host [ ":" port ] path [ "?" query ]`
    // has no user info.
    if authority.contains('@') {
        return Err(HandshakeError::local("URL must not have user info"));
    }
    let host_end = if authority.starts_with('[') {
        authority
            .find(']')
            .map(|at| at + 1)
            .ok_or_else(|| HandshakeError::local("unclosed IPv6 literal in URL"))?
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    if host.is_empty() || host == "[]" {
        return Err(HandshakeError::local("URL has no host"));
    }
    let port = match rest.strip_prefix(':') {
        None if rest.is_empty() => None,
        None => return Err(HandshakeError::local("invalid host in URL")),
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port != 0 && text.bytes().all(|b| b.is_ascii_digit()) => Some(port),
            _ => {
                return Err(HandshakeError::local(
                    "URL port must be a number from 1 to 65535",
                ));
            }
        },
    };
    Ok((host, port))
}

/// Parses a ws/wss URL into the request URI and where to connect.
fn parse_ws_url(url: &str) -> Result<(Uri, Target), HandshakeError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| HandshakeError::local("invalid URL"))?;
    match uri.scheme_str() {
        None => {
            return Err(HandshakeError::local(
                "URL has no scheme; use ws:// or wss://",
            ));
        }
        Some(s) if s.eq_ignore_ascii_case("ws") || s.eq_ignore_ascii_case("wss") => {}
        Some(_) => return Err(HandshakeError::local("URL scheme must be ws or wss")),
    }
    let target = Target::from_uri(&uri)?.ok_or_else(|| HandshakeError::local("URL has no host"))?;
    Ok((uri, target))
}

/// What a pending client remembers of the request it sent.
pub(crate) struct SentRequest {
    request: Request<()>,
    key: String,
    target: Option<Target>,
    /// Seeded for the nonce; masks the open connection's frames. Boxed
    /// here, as the connection takes it, so that `Pending` stays small.
    keys: Box<OsRandomKeys>,
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
    /// A [`HandshakeError`] of kind [`Local`](crate::HandshakeErrorKind::Local)
    /// when the URI has no host and there is no Host header, when its
    /// scheme is not ws, wss, http or https, when its port is invalid, or
    /// when the OS random generator fails to give the key.
    pub fn new(
        request: Request<()>,
        config: Config,
        extensions: Vec<Box<dyn Extension>>,
    ) -> Result<(Self, Bytes), HandshakeError> {
        let (mut parts, ()) = request.into_parts();
        let target = Target::from_uri(&parts.uri)?;
        if parts.uri.scheme().is_some() && target.is_none() {
            return Err(HandshakeError::local("URI has a scheme but no host"));
        }
        if !parts.headers.contains_key(HOST) {
            let target = target.as_ref().ok_or_else(|| {
                HandshakeError::local("URI has no host and there is no Host header")
            })?;
            let authority = parts.uri.authority().map_or("", |a| a.host());
            // §4.1, item 4: the Host header holds the port only when it is
            // not the scheme's default.
            let host = if target.port == target.default_port() {
                authority.to_owned()
            } else {
                format!("{authority}:{}", target.port)
            };
            let host =
                HeaderValue::from_str(&host).map_err(|_| HandshakeError::local("invalid host"))?;
            parts.headers.insert(HOST, host);
        }
        // §4.1, item 7: "The request MUST include a header field with the
        // name |Sec-WebSocket-Key|. The value of this header field MUST be a
        // nonce consisting of a randomly selected 16-byte value that has
        // been base64-encoded". No OS randomness, no handshake: the same
        // generator masks the frames (§10.3), see `crate::keys`.
        let mut keys = OsRandomKeys::new()
            .map(Box::new)
            .map_err(|err| HandshakeError::local(err.to_string()))?;
        let mut nonce = [0u8; 16];
        keys.fill(&mut nonce);
        let key = base64::engine::general_purpose::STANDARD.encode(nonce);
        let headers = &mut parts.headers;
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(
            SEC_WEBSOCKET_KEY,
            HeaderValue::from_str(&key).map_err(|_| HandshakeError::local("invalid key"))?,
        );
        headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        super::insert_offers(headers, &extensions)?;
        let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(b"GET ");
        bytes.extend_from_slice(path.as_bytes());
        bytes.extend_from_slice(b" HTTP/1.1\r\n");
        super::write_headers(&mut bytes, &parts.headers);
        bytes.extend_from_slice(b"\r\n");
        let pending = Self {
            head: HeadReader::new(HeadKind::Response),
            config,
            extensions,
            request: Some(SentRequest {
                request: Request::from_parts(parts, ()),
                key,
                target,
                keys,
            }),
            _role: PhantomData,
        };
        Ok((pending, Bytes::from(bytes)))
    }

    /// Builds the request from a `ws://host[:port]/path?query` or `wss://…`
    /// URL; [`target`](Self::target) then says where to connect.
    ///
    /// ```
    /// use wsproto::{Client, Config, handshake::Pending};
    /// let (pending, bytes) =
    ///     Pending::<Client>::from_url("ws://example.com:9001/chat", Config::default(), Vec::new())?;
    /// let target = pending.target().unwrap();
    /// assert_eq!((target.host.as_str(), target.port, target.tls), ("example.com", 9001, false));
    /// assert!(bytes.starts_with(b"GET /chat HTTP/1.1\r\n"));
    /// # Ok::<(), wsproto::HandshakeError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Target::from_url`] (only ws and wss URLs are taken), or as
    /// [`Pending::<Client>::new`].
    pub fn from_url(
        url: &str,
        config: Config,
        extensions: Vec<Box<dyn Extension>>,
    ) -> Result<(Self, Bytes), HandshakeError> {
        let (uri, _) = parse_ws_url(url)?;
        let request = Request::get(uri)
            .body(())
            .map_err(|_| HandshakeError::local("invalid URL"))?;
        Self::new(request, config, extensions)
    }

    /// Where to connect, when the request's URI named a scheme and a host
    /// (always after [`from_url`](Self::from_url); `None` when
    /// [`new`](Self::new) was given a path and a Host header).
    ///
    /// ```
    /// use wsproto::{Client, Config, Pending};
    ///
    /// let request = http::Request::get("/chat").header("host", "example.com").body(())?;
    /// let (pending, _) = Pending::<Client>::new(request, Config::default(), Vec::new())?;
    /// assert!(pending.target().is_none()); // you chose where to connect
    /// let (pending, _) = Pending::<Client>::from_url("wss://example.com/chat", Config::default(), Vec::new())?;
    /// assert_eq!(pending.target().map(|t| t.port), Some(443));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn target(&self) -> Option<&Target> {
        self.request.as_ref().and_then(|sent| sent.target.as_ref())
    }

    /// The request that was sent, with every header this crate added, so a
    /// caller using another HTTP client (e.g. hyper) can send it instead.
    ///
    /// ```
    /// use wsproto::{Client, Config, Pending};
    ///
    /// let (pending, _) = Pending::<Client>::from_url("ws://example.com/", Config::default(), Vec::new())?;
    /// let request = pending.request().unwrap();
    /// assert_eq!(request.headers()["upgrade"], "websocket");
    /// assert_eq!(request.headers()["sec-websocket-version"], "13");
    /// assert!(request.headers().contains_key("sec-websocket-key"));
    /// # Ok::<(), wsproto::HandshakeError>(())
    /// ```
    pub fn request(&self) -> Option<&Request<()>> {
        self.request.as_ref().map(|sent| &sent.request)
    }

    /// Feeds response bytes.
    ///
    /// ```
    /// use wsproto::handshake::{Accept, ClientHandshake, ServerHandshake};
    /// use wsproto::{Client, Config, Pending, Server};
    ///
    /// let (client, request) = Pending::<Client>::from_url("ws://example.com/", Config::default(), Vec::new())?;
    /// # let ServerHandshake::Request(incoming) = Pending::<Server>::new(Config::default(), Vec::new())
    /// #     .receive(&request)? else { unreachable!() };
    /// # let mut server = incoming.accept(Accept::new())?;
    /// let response = server.take_outgoing(); // the bytes the transport read
    /// // A response may arrive in pieces: `Pending` comes back until it is whole.
    /// let mut client = client;
    /// let (open, response) = loop {
    ///     let piece = &response[..]; // really: the next read from the transport
    ///     match client.receive(piece)? {
    ///         ClientHandshake::Pending(more) => client = more, // read again
    ///         ClientHandshake::Open(open, response) => break (open, response),
    ///         ClientHandshake::Rejected(rejected) => {
    ///             return Err(format!("refused: {}", rejected.response().status()).into());
    ///         }
    ///     }
    /// };
    /// assert_eq!(response.status(), 101);
    /// # let _ = open;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// When the response is malformed, over the limits, or a 101 that fails
    /// the checks of RFC 6455 §4.1 (Upgrade, Connection, Accept, subprotocol
    /// and extensions offered).
    pub fn receive(mut self, data: &[u8]) -> Result<ClientHandshake, HandshakeError> {
        let limits = (self.config.max_handshake_size, self.config.max_headers);
        let Some(head) = self.head.push(data, limits.0, limits.1)? else {
            return Ok(ClientHandshake::Pending(self));
        };
        let response = head.into_response()?;
        let rest = self.head.buf.split();
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Ok(ClientHandshake::Rejected(Rejected::new(response, &rest)?));
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
    /// ```
    /// use wsproto::handshake::accept_key;
    /// use wsproto::{Client, Config, Pending};
    ///
    /// let (pending, _) = Pending::<Client>::from_url("ws://example.com/", Config::default(), Vec::new())?;
    /// // Send `pending.request()` with your HTTP client; this is its answer.
    /// let key = pending.request().unwrap().headers()["sec-websocket-key"].as_bytes();
    /// let response = http::Response::builder()
    ///     .status(101)
    ///     .header("upgrade", "websocket")
    ///     .header("connection", "Upgrade")
    ///     .header("sec-websocket-accept", accept_key(key))
    ///     .body(())?;
    /// let mut ws = pending.finish(&response)?; // run it on the upgraded IO
    /// ws.send_text("hello")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A status other than 101 (the error carries it), or the checks of
    /// [`receive`](Self::receive).
    pub fn finish<B>(mut self, response: &Response<B>) -> Result<Open<Client>, HandshakeError> {
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Err(HandshakeError::bad_response(
                response.status(),
                "server did not switch protocols",
            ));
        }
        let Some(SentRequest {
            request, key, keys, ..
        }) = self.request.take()
        else {
            return Err(HandshakeError::local("no request was sent"));
        };
        let headers = response.headers();
        // §4.1: "If the response lacks an |Upgrade| header field or the
        // |Upgrade| header field contains a value that is not an ASCII
        // case-insensitive match for the value "websocket", the client MUST
        // _Fail the WebSocket Connection_." Likewise for Connection.
        if !header_has_token(headers, &UPGRADE, "websocket") {
            return Err(refuse("response Upgrade header lacks \"websocket\""));
        }
        if !header_has_token(headers, &CONNECTION, "upgrade") {
            return Err(refuse("response Connection header lacks \"Upgrade\""));
        }
        // §4.1: "If the response lacks a |Sec-WebSocket-Accept| header field
        // or the |Sec-WebSocket-Accept| contains a value other than the
        // base64-encoded SHA-1 of the concatenation of the
        // |Sec-WebSocket-Key| (as a string, not base64-decoded) with the
        // string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" [...] the client MUST
        // _Fail the WebSocket Connection_."
        let expected = accept_key(key.as_bytes());
        let mut accepts = headers.get_all(SEC_WEBSOCKET_ACCEPT).iter();
        match (accepts.next(), accepts.next()) {
            (Some(v), None) if v.as_bytes() == expected.as_bytes() => {}
            _ => return Err(refuse("Sec-WebSocket-Accept does not match the key")),
        }
        open_negotiated(
            self.config,
            std::mem::take(&mut self.extensions),
            keys,
            request.headers(),
            response,
        )
    }
}

/// The client's checks that both handshakes share, on an accepting
/// response (101, or 2xx to an extended CONNECT): the subprotocol and the
/// extensions the server selected must come from the request's offers.
/// Returns the open connection, masking with `keys`. Errors carry the
/// response's status.
pub(super) fn open_negotiated<B>(
    config: Config,
    extensions: Vec<Box<dyn Extension>>,
    keys: Box<OsRandomKeys>,
    request_headers: &http::HeaderMap,
    response: &Response<B>,
) -> Result<Open<Client>, HandshakeError> {
    let status = response.status();
    let refuse =
        |reason: std::borrow::Cow<'static, str>| HandshakeError::bad_response(status, reason);
    let headers = response.headers();
    let offered = header_list(request_headers, &SEC_WEBSOCKET_PROTOCOL)
        .map_err(|()| HandshakeError::local("invalid Sec-WebSocket-Protocol in the request"))?;
    let selected = header_list(headers, &SEC_WEBSOCKET_PROTOCOL)
        .map_err(|()| refuse("invalid Sec-WebSocket-Protocol".into()))?;
    // RFC 6455 §4.1: "If the response includes a |Sec-WebSocket-Protocol|
    // header field and this header field indicates the use of a subprotocol
    // that was not present in the client's handshake [...], the client
    // MUST _Fail the WebSocket Connection_."
    match selected.as_slice() {
        [] => {}
        [one] if offered.contains(one) => {}
        _ => {
            return Err(refuse(
                "server selected a subprotocol that was not offered".into(),
            ));
        }
    }
    let mut accepted: Vec<Box<dyn Extension>> = Vec::new();
    let mut candidates: Vec<Option<Box<dyn Extension>>> = extensions
        .into_iter()
        .map(|ext| ext.offer().is_some().then_some(ext))
        .collect();
    let response_extensions = extension_offers(headers).map_err(|e| refuse(e.reason))?;
    for response_ext in response_extensions {
        // §9.1: the server's extensions must come from the client's
        // offer, and each at most once.
        let slot = candidates.iter_mut().find(|slot| {
            slot.as_ref()
                .is_some_and(|ext| ext.name().eq_ignore_ascii_case(&response_ext.name))
        });
        let Some(mut ext) = slot.and_then(Option::take) else {
            return Err(refuse(
                "server accepted an extension that was not offered (or twice)".into(),
            ));
        };
        // An extension reports a bad response parameter as it would a bad
        // request; here it is the server's response that is refused.
        ext.finalize(&response_ext).map_err(|e| refuse(e.reason))?;
        accepted.push(ext);
    }
    let mut open = Open::new(config, accepted);
    open.set_mask_source(keys);
    open.set_subprotocol(selected.first().map(String::as_str));
    Ok(open)
}

/// A non-101 response: its head, then its body as it streams in (Python
/// wsproto's `RejectConnection` and `RejectData`). The body is framed as
/// RFC 9112 §6.3 says: none for 1xx, 204 and 304; chunked when
/// `Transfer-Encoding` ends in `chunked`; else `Content-Length`; else to the
/// end of the transport.
#[derive(Debug)]
#[must_use]
pub struct Rejected {
    response: Response<()>,
    buffered: BytesMut,
    framing: Framing,
    has_body: bool,
    /// The error the body failed with, repeated to later `receive` calls.
    failed: Option<HandshakeError>,
    end_reported: bool,
}

/// How the rejection's body ends.
#[derive(Debug)]
enum Framing {
    /// `Content-Length` bytes are left.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked(Chunked),
    /// The body runs to the end of the transport; `true` once it ended.
    UntilEof(bool),
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
    pub(crate) fn new(response: Response<()>, rest: &[u8]) -> Result<Self, HandshakeError> {
        let status = response.status();
        let headers = response.headers();
        let chunked = headers
            .get_all(TRANSFER_ENCODING)
            .iter()
            .next_back()
            .map(|last| {
                last.to_str()
                    .ok()
                    .and_then(|v| v.rsplit(',').next())
                    .is_some_and(|coding| coding.trim().eq_ignore_ascii_case("chunked"))
            });
        let length = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let framing = if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            // RFC 9112 §6.3, item 1: these responses have no content.
            Framing::Length(0)
        } else {
            // RFC 9112 §6.3, item 3: "If a Transfer-Encoding header field is
            // present in a response and the chunked transfer coding is not
            // the final encoding, the message body length is determined by
            // reading the connection until it is closed by the server."
            // Transfer-Encoding overrides Content-Length.
            match (chunked, length) {
                (Some(true), _) => Framing::Chunked(Chunked::default()),
                (Some(false), _) | (None, None) => Framing::UntilEof(false),
                (None, Some(length)) => Framing::Length(length),
            }
        };
        let has_body = !matches!(framing, Framing::Length(0));
        let mut rejected = Self {
            response,
            buffered: BytesMut::new(),
            framing,
            has_body,
            failed: None,
            end_reported: !has_body,
        };
        rejected.receive(rest)?;
        Ok(rejected)
    }

    /// The response head.
    ///
    /// ```
    /// use wsproto::handshake::ClientHandshake;
    /// use wsproto::{Client, Config, Pending};
    ///
    /// let (pending, _) = Pending::<Client>::from_url("ws://example.com/", Config::default(), Vec::new())?;
    /// let head = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\n\r\n";
    /// let ClientHandshake::Rejected(rejected) = pending.receive(head)? else { unreachable!() };
    /// assert_eq!(rejected.response().status(), 401);
    /// assert_eq!(rejected.response().headers()["www-authenticate"], "Bearer");
    /// assert!(!rejected.has_body());
    /// # Ok::<(), wsproto::HandshakeError>(())
    /// ```
    pub fn response(&self) -> &Response<()> {
        &self.response
    }

    /// Whether the response declares a body.
    ///
    /// ```
    /// use wsproto::handshake::ClientHandshake;
    /// use wsproto::{Client, Config, Pending};
    ///
    /// let (pending, _) = Pending::<Client>::from_url("ws://example.com/", Config::default(), Vec::new())?;
    /// let head = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n";
    /// let ClientHandshake::Rejected(rejected) = pending.receive(head)? else { unreachable!() };
    /// assert!(rejected.has_body());
    /// # Ok::<(), wsproto::HandshakeError>(())
    /// ```
    pub fn has_body(&self) -> bool {
        self.has_body
    }

    /// Feeds body bytes (bytes past the body's end are dropped).
    ///
    /// ```
    /// use wsproto::{Client, Config, handshake::{ClientHandshake, Pending}};
    /// let (pending, _) = Pending::<Client>::from_url("ws://example.com/", Config::default(), Vec::new())?;
    /// let head = b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nno!";
    /// let ClientHandshake::Rejected(mut rejected) = pending.receive(head)? else { unreachable!() };
    /// rejected.receive(b"\r\n0\r\n\r\n")?;
    /// let piece = rejected.poll_body().unwrap();
    /// assert_eq!((&piece.data[..], piece.body_finished), (&b"no!"[..], true));
    /// # Ok::<(), wsproto::HandshakeError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] of kind
    /// [`BadResponse`](crate::HandshakeErrorKind::BadResponse) with
    /// the rejection's status when a chunked body is malformed: a chunk-size
    /// that is not hexadecimal or does not fit 64 bits, a chunk-size line or
    /// trailer over their limits, or chunk data not followed by CRLF. The
    /// body decoded before the fault can still be polled; the end is never
    /// reported.
    pub fn receive(&mut self, data: &[u8]) -> Result<(), HandshakeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let outcome = match &mut self.framing {
            Framing::Length(left) => {
                let take = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                self.buffered.extend_from_slice(&data[..take]);
                *left -= take as u64;
                Ok(())
            }
            Framing::UntilEof(ended) => {
                if !*ended {
                    self.buffered.extend_from_slice(data);
                }
                Ok(())
            }
            Framing::Chunked(chunked) => chunked.decode(data, &mut self.buffered),
        };
        outcome.map_err(|reason| {
            let err = HandshakeError::bad_response(self.response.status(), reason);
            self.failed = Some(err.clone());
            err
        })
    }

    /// Reports that the transport ended, which ends a body without length.
    /// A body with a length or chunks that ends early also ends here, with
    /// what arrived.
    ///
    /// ```
    /// use wsproto::handshake::ClientHandshake;
    /// use wsproto::{Client, Config, Pending};
    ///
    /// let (pending, _) = Pending::<Client>::from_url("ws://example.com/", Config::default(), Vec::new())?;
    /// // No Content-Length, not chunked: the body runs to the end of the transport.
    /// let head = b"HTTP/1.1 503 Service Unavailable\r\n\r\ntry later";
    /// let ClientHandshake::Rejected(mut rejected) = pending.receive(head)? else { unreachable!() };
    /// assert_eq!(rejected.poll_body().map(|p| p.body_finished), Some(false));
    /// rejected.receive_eof();
    /// let last = rejected.poll_body().unwrap();
    /// assert!(last.body_finished && last.data.is_empty());
    /// # Ok::<(), wsproto::HandshakeError>(())
    /// ```
    pub fn receive_eof(&mut self) {
        match &mut self.framing {
            Framing::UntilEof(ended) => *ended = true,
            Framing::Length(left) => *left = 0,
            Framing::Chunked(chunked) => chunked.state = ChunkState::Done,
        }
    }

    /// The body received since the last call, if any, and whether it is
    /// complete. The end of the body is reported exactly once (with empty
    /// data if nothing came with it); a response without a body reports
    /// nothing.
    ///
    /// ```
    /// use wsproto::handshake::ClientHandshake;
    /// use wsproto::{Client, Config, Pending};
    ///
    /// let (pending, _) = Pending::<Client>::from_url("ws://example.com/", Config::default(), Vec::new())?;
    /// let head = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno";
    /// let ClientHandshake::Rejected(mut rejected) = pending.receive(head)? else { unreachable!() };
    /// rejected.receive(b" way")?;
    /// let mut body = Vec::new();
    /// while let Some(piece) = rejected.poll_body() {
    ///     body.extend_from_slice(&piece.data);
    ///     if piece.body_finished {
    ///         break;
    ///     }
    /// }
    /// assert_eq!(body, b"no way");
    /// # Ok::<(), wsproto::HandshakeError>(())
    /// ```
    pub fn poll_body(&mut self) -> Option<RejectData> {
        let complete = self.failed.is_none()
            && match &self.framing {
                Framing::Length(left) => *left == 0,
                Framing::Chunked(chunked) => chunked.state == ChunkState::Done,
                Framing::UntilEof(ended) => *ended,
            };
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

/// The longest chunk-size line (with its extensions) and trailer field
/// line accepted. RFC 9112 §7.1.1 lets a recipient limit chunk extensions;
/// a legitimate line is a few dozen bytes.
const MAX_CHUNK_LINE: usize = 4096;
/// The most trailer bytes accepted, over all trailer fields.
const MAX_TRAILER: usize = 16 * 1024;

/// A decoder for the chunked transfer coding (RFC 9112 §7.1):
///
/// ```text
/// chunked-body = *chunk last-chunk trailer-section CRLF
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// chunk-size   = 1*HEXDIG
/// last-chunk   = 1*("0") [ chunk-ext ] CRLF
/// ```
///
/// It keeps no bytes of its own: chunk data is copied out as it arrives, so
/// memory follows what was received, never a size the peer declares.
#[derive(Debug, Default)]
struct Chunked {
    state: ChunkState,
    /// Bytes of the current chunk-size or trailer line so far.
    line_len: usize,
    /// Bytes of the trailer section so far.
    trailer_len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Hex digits of a chunk-size; the value so far and whether a digit was seen.
    Size(u64, bool),
    /// A chunk extension, up to CR (its syntax is not checked; it is ignored).
    Extension(u64),
    /// LF after a chunk-size line.
    SizeLf(u64),
    /// Chunk data still to come.
    Data(u64),
    /// CR, then LF, after chunk data.
    DataCr,
    DataLf,
    /// A trailer field line (or the final empty line); whether it is empty so far.
    Trailer(bool),
    /// LF ending a trailer line; whether the line was empty (the end).
    TrailerLf(bool),
    Done,
}

impl Default for ChunkState {
    fn default() -> Self {
        Self::Size(0, false)
    }
}

impl Chunked {
    /// Decodes `data`, appending chunk data to `out`. Bytes after the end
    /// are dropped.
    fn decode(&mut self, mut data: &[u8], out: &mut BytesMut) -> Result<(), &'static str> {
        use ChunkState::*;
        while let Some((&b, rest)) = data.split_first() {
            if let Data(left) = self.state {
                let take = data.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                out.extend_from_slice(&data[..take]);
                data = &data[take..];
                let left = left - take as u64;
                self.state = if left == 0 { DataCr } else { Data(left) };
                continue;
            }
            data = rest;
            self.state = match self.state {
                // §7.1: "Recipients MUST anticipate potentially large
                // hexadecimal numerals and prevent parsing errors due to
                // integer conversion overflows or precision loss".
                Size(size, _) if b.is_ascii_hexdigit() => {
                    let digit = u64::from(char::from(b).to_digit(16).unwrap_or(0));
                    let size = size
                        .checked_mul(16)
                        .and_then(|s| s.checked_add(digit))
                        .ok_or("chunk size does not fit 64 bits")?;
                    Size(size, true)
                }
                Size(size, true) if b == b';' || b == b' ' || b == b'\t' => Extension(size),
                Size(size, true) | Extension(size) if b == b'\r' => SizeLf(size),
                Extension(size) if b != b'\n' => Extension(size),
                SizeLf(0) if b == b'\n' => Trailer(true),
                SizeLf(size) if b == b'\n' => Data(size),
                DataCr if b == b'\r' => DataLf,
                DataLf if b == b'\n' => Size(0, false),
                // §7.1.2: the trailer section is field lines, then CRLF.
                Trailer(empty) if b == b'\r' => TrailerLf(empty),
                Trailer(_) if b != b'\n' => Trailer(false),
                TrailerLf(true) if b == b'\n' => Done,
                TrailerLf(false) if b == b'\n' => Trailer(true),
                Done => return Ok(()),
                Size(..) => return Err("invalid chunk size"),
                Extension(_) | SizeLf(_) => return Err("invalid chunk-size line"),
                DataCr | DataLf => return Err("chunk data not followed by CRLF"),
                Trailer(_) | TrailerLf(_) => return Err("invalid trailer line"),
                // Taken in bulk above; one byte at a time is the same.
                Data(left) => {
                    out.extend_from_slice(&[b]);
                    if left == 1 { DataCr } else { Data(left - 1) }
                }
            };
            self.count_line_byte()?;
        }
        Ok(())
    }

    /// Bounds the chunk-size lines and the trailer section.
    fn count_line_byte(&mut self) -> Result<(), &'static str> {
        use ChunkState::*;
        match self.state {
            Size(..) | Extension(_) | SizeLf(_) => {
                self.line_len += 1;
                if self.line_len > MAX_CHUNK_LINE {
                    return Err("chunk-size line too long");
                }
            }
            Trailer(_) | TrailerLf(_) => {
                self.trailer_len += 1;
                if self.trailer_len > MAX_TRAILER {
                    return Err("trailer section too long");
                }
            }
            Data(_) | DataCr | DataLf | Done => self.line_len = 0,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_hook::without_os_randomness;

    /// RFC 6455 §4.1: the key is "a nonce consisting of a randomly selected
    /// 16-byte value"; §10.3: masking keys must not be predictable. Without
    /// OS randomness the handshake must not start.
    #[test]
    fn no_handshake_without_os_randomness() {
        let request = || Request::get("ws://example.com/").body(()).unwrap();
        let err = without_os_randomness(|| {
            Pending::<Client>::new(request(), Config::default(), Vec::new())
        })
        .unwrap_err();
        assert_eq!(err.kind, crate::HandshakeErrorKind::Local);
        assert!(err.reason.contains("random"), "{err}");
        assert!(Pending::<Client>::new(request(), Config::default(), Vec::new()).is_ok());
    }
}
