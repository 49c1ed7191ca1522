//! The server side of the opening handshake: parse and validate the
//! upgrade request, then accept (101) or reject it.

use std::marker::PhantomData;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{
    CONNECTION, CONTENT_LENGTH, HOST, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS,
    SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version};

use super::http1::{HeadKind, HeadReader};
use super::{Pending, accept_key, extension_offers, header_has_token, header_list};
use crate::config::Config;
use crate::error::{HandshakeError, LocalError};
use crate::extensions::{Extension, ExtensionOffer, negotiate};
use crate::phase::Open;
use crate::role::Server;

/// What a server's `receive` produced.
#[derive(Debug)]
#[must_use]
pub enum ServerHandshake {
    /// The request is not complete yet; feed more bytes.
    Pending(Pending<Server>),
    /// A valid upgrade request: accept or reject it.
    Request(IncomingRequest),
}

impl Pending<Server> {
    /// A server waiting for an upgrade request. `extensions` are the ones
    /// this server supports (wsproto's `SUPPORTED_EXTENSIONS`); each
    /// negotiates from the client's offers when the request is accepted.
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    /// use wsproto::{Config, Pending, Server};
    ///
    /// let deflate = PerMessageDeflate::new(DeflateConfig::default());
    /// let pending = Pending::<Server>::new(Config::default(), vec![Box::new(deflate)]);
    /// # let _ = pending;
    /// ```
    pub fn new(config: Config, extensions: Vec<Box<dyn Extension>>) -> Self {
        Self {
            head: HeadReader::new(HeadKind::Request),
            config,
            extensions,
            request: None,
            _role: PhantomData,
        }
    }

    /// Feeds request bytes.
    ///
    /// ```
    /// use wsproto::handshake::ServerHandshake;
    /// use wsproto::{Config, Pending, Server};
    ///
    /// let request = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    ///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    ///     Sec-WebSocket-Version: 13\r\n\r\n";
    /// let pending = Pending::<Server>::new(Config::default(), Vec::new());
    /// // The request may arrive in pieces: `Pending` comes back until it is whole.
    /// let ServerHandshake::Pending(pending) = pending.receive(&request[..20])? else { unreachable!() };
    /// let ServerHandshake::Request(incoming) = pending.receive(&request[20..])? else { unreachable!() };
    /// assert_eq!(incoming.request().uri().path(), "/chat");
    ///
    /// // A bad request: answer with the error's response, then close.
    /// let pending = Pending::<Server>::new(Config::default(), Vec::new());
    /// let err = pending.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err();
    /// assert_eq!(err.status, 400);
    /// assert!(err.to_response().starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    /// # Ok::<(), wsproto::HandshakeError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] whose status is the answer to send (use
    /// [`HandshakeError::to_response`]): 431 for a head over
    /// `max_handshake_size` or more than `max_headers` headers, 400 for a
    /// malformed or invalid request, 426 for a version other than 13.
    pub fn receive(mut self, data: &[u8]) -> Result<ServerHandshake, HandshakeError> {
        let limits = (self.config.max_handshake_size, self.config.max_headers);
        let Some(head) = self.head.push(data, limits.0, limits.1)? else {
            return Ok(ServerHandshake::Pending(self));
        };
        let request = head.into_request()?;
        let validated = validate(&request)?;
        Ok(ServerHandshake::Request(IncomingRequest {
            request,
            validated,
            config: self.config,
            supported: self.extensions,
            early: self.head.buf.split().freeze(),
        }))
    }
}

/// What the request validation extracted.
#[derive(Debug, Clone)]
pub(super) struct Validated {
    /// `Sec-WebSocket-Accept` for HTTP/1.1; `None` for extended CONNECT,
    /// which has no key (RFC 8441 §5).
    accept: Option<HeaderValue>,
    subprotocols: Vec<String>,
    offers: Vec<ExtensionOffer>,
}

impl Validated {
    /// What both handshakes read as RFC 6455 defines it (RFC 8441 §5:
    /// "The Origin, Sec-WebSocket-Version, Sec-WebSocket-Protocol, and
    /// Sec-WebSocket-Extensions header fields are used in the CONNECT
    /// request and response header fields as defined in [RFC6455]"): the
    /// subprotocols offered and the extension offers. The version is
    /// [`check_version`]'s.
    pub(super) fn common(
        headers: &HeaderMap,
        accept: Option<HeaderValue>,
    ) -> Result<Self, HandshakeError> {
        let subprotocols = header_list(headers, &SEC_WEBSOCKET_PROTOCOL)
            .map_err(|()| HandshakeError::bad_request("Sec-WebSocket-Protocol is not ASCII"))?;
        Ok(Self {
            accept,
            subprotocols,
            offers: extension_offers(headers)?,
        })
    }
}

/// `Sec-WebSocket-Version: 13`, for both handshakes: 400 when missing or
/// repeated, 426 for another version.
pub(super) fn check_version(headers: &HeaderMap) -> Result<(), HandshakeError> {
    // RFC 6455 §4.1: "The request MUST include a header field with the name
    // |Sec-WebSocket-Version|. The value of this header field MUST be 13."
    // A request without one is simply malformed (400); 426 is for a
    // version we do not speak (§4.4).
    let mut versions = headers.get_all(SEC_WEBSOCKET_VERSION).iter();
    let (Some(version), None) = (versions.next(), versions.next()) else {
        return Err(HandshakeError::bad_request(
            "missing or repeated Sec-WebSocket-Version",
        ));
    };
    // §4.4: "If this version does not match a version understood by the
    // server, the server MUST abort the WebSocket handshake described in
    // this section and instead send an appropriate HTTP error code (such
    // as 426 Upgrade Required) and a |Sec-WebSocket-Version| header field
    // indicating the version(s) the server is capable of understanding."
    if version.as_bytes() != b"13" {
        return Err(HandshakeError::new(
            StatusCode::UPGRADE_REQUIRED,
            "Sec-WebSocket-Version must be 13",
        ));
    }
    Ok(())
}

/// Checks an upgrade request against RFC 6455 §4.2.1.
fn validate<B>(request: &Request<B>) -> Result<Validated, HandshakeError> {
    let headers = request.headers();
    // §4.1: "The method of the request MUST be GET, and the HTTP version
    // MUST be at least 1.1."
    if request.method() != Method::GET {
        return Err(HandshakeError::bad_request("method is not GET"));
    }
    if request.version() < Version::HTTP_11 {
        return Err(HandshakeError::bad_request("HTTP version below 1.1"));
    }
    if headers.get_all(HOST).iter().count() != 1 {
        return Err(HandshakeError::bad_request(
            "missing or repeated Host header",
        ));
    }
    if !header_has_token(headers, &UPGRADE, "websocket") {
        return Err(HandshakeError::bad_request(
            "Upgrade header lacks \"websocket\"",
        ));
    }
    if !header_has_token(headers, &CONNECTION, "upgrade") {
        return Err(HandshakeError::bad_request(
            "Connection header lacks \"Upgrade\"",
        ));
    }
    check_version(headers)?;
    let mut keys = headers.get_all(SEC_WEBSOCKET_KEY).iter();
    let (Some(key), None) = (keys.next(), keys.next()) else {
        return Err(HandshakeError::bad_request(
            "missing or repeated Sec-WebSocket-Key",
        ));
    };
    // §4.1: the key is "a randomly selected 16-byte value that has been
    // base64-encoded".
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(key.as_bytes())
        .map_err(|_| HandshakeError::bad_request("Sec-WebSocket-Key is not base64"))?;
    if decoded.len() != 16 {
        return Err(HandshakeError::bad_request(
            "Sec-WebSocket-Key is not 16 bytes",
        ));
    }
    let accept = HeaderValue::from_str(&accept_key(key.as_bytes()))
        .map_err(|_| HandshakeError::bad_request("invalid Sec-WebSocket-Key"))?;
    Validated::common(headers, Some(accept))
}

/// How to accept a request: the subprotocol and extra response headers
/// (Python wsproto's `AcceptConnection`). Extensions are negotiated from the
/// server's supported list.
#[derive(Debug, Clone, Default)]
pub struct Accept {
    /// The subprotocol to select; it must be one the client offered.
    pub subprotocol: Option<String>,
    /// Extra headers for the 101 response.
    pub headers: HeaderMap,
}

impl Accept {
    /// Accept with no subprotocol and no extra headers.
    ///
    /// ```
    /// use wsproto::handshake::Accept;
    ///
    /// let mut accept = Accept::new();
    /// accept.headers.insert("set-cookie", "session=1".parse()?);
    /// assert!(accept.subprotocol.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Selects a subprotocol: one of
    /// [`IncomingRequest::subprotocols`], or `accept` fails.
    ///
    /// ```
    /// use wsproto::handshake::Accept;
    ///
    /// let offered = ["v2.chat", "v1.chat"];
    /// let supported = ["v1.chat"];
    /// let mut accept = Accept::new();
    /// if let Some(name) = offered.iter().find(|p| supported.contains(p)) {
    ///     accept = accept.subprotocol(*name);
    /// }
    /// assert_eq!(accept.subprotocol.as_deref(), Some("v1.chat"));
    /// ```
    #[must_use]
    pub fn subprotocol(mut self, name: impl Into<String>) -> Self {
        self.subprotocol = Some(name.into());
        self
    }
}

/// A valid upgrade request, waiting for the application's decision.
#[derive(Debug)]
#[must_use]
pub struct IncomingRequest {
    request: Request<()>,
    validated: Validated,
    config: Config,
    /// The extensions to negotiate from; the [`compat`](crate::compat)
    /// facade sets them when it accepts, as Python wsproto's
    /// `AcceptConnection.extensions`.
    pub(crate) supported: Vec<Box<dyn Extension>>,
    early: Bytes,
}

impl IncomingRequest {
    /// The request, as `http` types: path, query, `Origin`, cookies… for
    /// the application to decide on.
    ///
    /// ```
    /// use wsproto::handshake::ServerHandshake;
    /// use wsproto::{Client, Config, Pending, Server};
    ///
    /// let request = http::Request::get("ws://example.com/room/7?token=abc")
    ///     .header("origin", "https://example.com")
    ///     .body(())?;
    /// let (_, request) = Pending::<Client>::new(request, Config::default(), Vec::new())?;
    /// let server = Pending::<Server>::new(Config::default(), Vec::new());
    /// let ServerHandshake::Request(incoming) = server.receive(&request)? else { unreachable!() };
    /// assert_eq!(incoming.request().uri().path(), "/room/7");
    /// assert_eq!(incoming.request().uri().query(), Some("token=abc"));
    /// assert_eq!(incoming.request().headers()["origin"], "https://example.com");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request(&self) -> &Request<()> {
        &self.request
    }

    /// The subprotocols the client offered, in its order of preference.
    ///
    /// ```
    /// use wsproto::handshake::{Accept, ServerHandshake};
    /// use wsproto::{Client, Config, Pending, Server};
    ///
    /// let request = http::Request::get("ws://example.com/")
    ///     .header("sec-websocket-protocol", "v2.chat, v1.chat")
    ///     .body(())?;
    /// let (_, request) = Pending::<Client>::new(request, Config::default(), Vec::new())?;
    /// let server = Pending::<Server>::new(Config::default(), Vec::new());
    /// let ServerHandshake::Request(incoming) = server.receive(&request)? else { unreachable!() };
    /// assert_eq!(incoming.subprotocols(), ["v2.chat", "v1.chat"]);
    /// let choice = incoming.subprotocols().iter().find(|p| *p == "v1.chat").cloned();
    /// let mut accept = Accept::new();
    /// accept.subprotocol = choice;
    /// let ws = incoming.accept(accept)?;
    /// assert_eq!(ws.subprotocol(), Some("v1.chat"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subprotocols(&self) -> &[String] {
        &self.validated.subprotocols
    }

    /// The extension offers the client made; the server's extensions
    /// negotiate from them in [`accept`](Self::accept).
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    /// use wsproto::handshake::ServerHandshake;
    /// use wsproto::{Client, Config, Pending, Server};
    ///
    /// let deflate = PerMessageDeflate::new(DeflateConfig::default());
    /// let (_, request) =
    ///     Pending::<Client>::from_url("ws://example.com/", Config::default(), vec![Box::new(deflate)])?;
    /// let server = Pending::<Server>::new(Config::default(), Vec::new());
    /// let ServerHandshake::Request(incoming) = server.receive(&request)? else { unreachable!() };
    /// let offer = &incoming.extension_offers()[0];
    /// assert_eq!(offer.to_header_value(), "permessage-deflate; client_max_window_bits");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extension_offers(&self) -> &[ExtensionOffer] {
        &self.validated.offers
    }

    /// Accepts: negotiates extensions, and returns the open connection with
    /// the 101 response to write, already queued as its first outgoing
    /// bytes. Frames that arrived right after the request are already fed
    /// to the connection.
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    /// use wsproto::handshake::{Accept, ServerHandshake};
    /// use wsproto::{Client, Config, Event, Pending, Server};
    ///
    /// let deflate = || Box::new(PerMessageDeflate::new(DeflateConfig::default()));
    /// let (_, request) = Pending::<Client>::from_url("ws://example.com/", Config::default(), vec![deflate()])?;
    /// let server = Pending::<Server>::new(Config::default(), vec![deflate()]);
    /// let ServerHandshake::Request(incoming) = server.receive(&request)? else { unreachable!() };
    /// let mut ws = incoming.accept(Accept::new())?;
    /// assert_eq!(ws.extensions().len(), 1); // permessage-deflate was agreed
    /// ws.send_text("welcome")?; // queued after the 101
    /// let out = ws.take_outgoing();
    /// assert!(out.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LocalError::SubprotocolNotOffered`] if `accept` selects a
    /// subprotocol the client did not offer, [`LocalError::InvalidAcceptHeader`]
    /// if it cannot be written as a header value.
    pub fn accept(self, accept: Accept) -> Result<Open<Server>, LocalError> {
        let (response, extensions) = build_accept(&self.validated, &accept, self.supported)?;
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
        super::write_headers(&mut head, response.headers());
        head.extend_from_slice(b"\r\n");
        let mut open = Open::with_preface(self.config, extensions, Bytes::from(head));
        open.set_subprotocol(accept.subprotocol.as_deref());
        // Frames that came behind the request: at most one read, and input
        // is empty so far, so the receive limit cannot refuse them.
        let _ = open.receive(&self.early);
        Ok(open)
    }

    /// Rejects with a status, headers and a body; returns the bytes to
    /// write, after which the transport should be closed.
    ///
    /// ```
    /// use wsproto::handshake::{ClientHandshake, ServerHandshake};
    /// use wsproto::{Client, Config, Pending, Server};
    ///
    /// let (client, request) = Pending::<Client>::from_url("ws://example.com/admin", Config::default(), Vec::new())?;
    /// let server = Pending::<Server>::new(Config::default(), Vec::new());
    /// let ServerHandshake::Request(incoming) = server.receive(&request)? else { unreachable!() };
    /// let response = incoming.reject(http::StatusCode::FORBIDDEN, &http::HeaderMap::new(), b"no");
    ///
    /// // The client sees the status and the body.
    /// let ClientHandshake::Rejected(mut rejected) = client.receive(&response)? else { unreachable!() };
    /// assert_eq!(rejected.response().status(), 403);
    /// assert_eq!(&rejected.poll_body().unwrap().data[..], b"no");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reject(self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Bytes {
        reject_response(status, headers, body)
    }
}

/// An HTTP response with `Content-Length` and `Connection: close`.
///
/// ```
/// use wsproto::handshake::server::reject_response;
///
/// let bytes = reject_response(http::StatusCode::NOT_FOUND, &http::HeaderMap::new(), b"gone");
/// assert_eq!(
///     &bytes[..],
///     b"HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\nconnection: close\r\n\r\ngone"
/// );
/// ```
pub fn reject_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Bytes {
    let mut out = response_head(status, headers, Some(body.len()));
    out.extend_from_slice(body);
    Bytes::from(out)
}

/// A rejection's head with `Connection: close`, and with `Content-Length`
/// when the body's length is known (otherwise the body runs to the end of
/// the connection).
pub(crate) fn response_head(
    status: StatusCode,
    headers: &HeaderMap,
    body_len: Option<usize>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut headers = headers.clone();
    if let Some(len) = body_len {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    super::write_headers(&mut out, &headers);
    out.extend_from_slice(b"\r\n");
    out
}

impl HandshakeError {
    fn response_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if self.status == StatusCode::UPGRADE_REQUIRED {
            headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
            headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        }
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain"),
        );
        headers
    }

    /// The HTTP response that answers this error, as bytes: its status, a
    /// plain-text body, and `Sec-WebSocket-Version: 13` for 426 (RFC 6455 §4.4).
    ///
    /// ```
    /// use wsproto::{Config, Pending, Server};
    ///
    /// let pending = Pending::<Server>::new(Config::default(), Vec::new());
    /// let request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    ///     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
    /// let err = pending.receive(request).unwrap_err();
    /// let response = err.to_response(); // write it, then close the transport
    /// assert!(response.starts_with(b"HTTP/1.1 426 Upgrade Required\r\n"));
    /// assert!(response.windows(26).any(|w| w == b"sec-websocket-version: 13\r"));
    /// ```
    pub fn to_response(&self) -> Bytes {
        reject_response(
            self.status,
            &self.response_headers(),
            self.reason.as_bytes(),
        )
    }

    /// The same response as an `http::Response`, for hyper and axum handlers.
    ///
    /// ```
    /// let err = wsproto::HandshakeError::new(http::StatusCode::UPGRADE_REQUIRED, "version");
    /// let response = err.to_http_response();
    /// assert_eq!(response.status(), 426);
    /// assert_eq!(response.headers()["sec-websocket-version"], "13");
    /// ```
    pub fn to_http_response(&self) -> Response<Bytes> {
        let mut response = Response::new(Bytes::from(self.reason.to_string()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.response_headers();
        response
    }
}

/// The extensions a 101 (or 200) response agreed to.
pub(super) type Negotiated = Vec<Box<dyn Extension>>;

/// The response that accepts `validated`: 101 with Upgrade, Connection and
/// Sec-WebSocket-Accept for HTTP/1.1, 200 for extended CONNECT (RFC 8441
/// §5, RFC 9220 §3), then the subprotocol, the extensions and the caller's
/// headers for both.
pub(super) fn build_accept(
    validated: &Validated,
    accept: &Accept,
    supported: Vec<Box<dyn Extension>>,
) -> Result<(Response<()>, Negotiated), LocalError> {
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    if let Some(accept_value) = &validated.accept {
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept_value.clone());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    }
    let headers = response.headers_mut();
    if let Some(protocol) = &accept.subprotocol {
        // §4.2.2, /subprotocol/: "The value chosen MUST be derived from the
        // client's handshake, specifically by selecting one of the values
        // from the |Sec-WebSocket-Protocol| field".
        if !validated.subprotocols.iter().any(|p| p == protocol) {
            return Err(LocalError::SubprotocolNotOffered(protocol.clone()));
        }
        let value = HeaderValue::from_str(protocol)
            .map_err(|_| LocalError::InvalidAcceptHeader("subprotocol".into()))?;
        headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
    let (extensions, ext_header) = negotiate(&validated.offers, supported);
    if let Some(value) = ext_header {
        let value = HeaderValue::from_str(&value)
            .map_err(|_| LocalError::InvalidAcceptHeader("extension response".into()))?;
        headers.insert(SEC_WEBSOCKET_EXTENSIONS, value);
    }
    for (name, value) in &accept.headers {
        headers.append(name, value.clone());
    }
    Ok((response, extensions))
}

/// Why [`upgrade`] failed: the request was bad (answer with the status the
/// error carries), or the caller's [`Accept`] was invalid for this request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpgradeError {
    /// The request is not a valid WebSocket upgrade; answer it with
    /// [`HandshakeError::to_http_response`].
    #[error(transparent)]
    Request(#[from] HandshakeError),
    /// The request was valid but the [`Accept`] was not (for example
    /// [`LocalError::SubprotocolNotOffered`]): a bug on this side, which a
    /// server would answer with 500 Internal Server Error.
    #[error(transparent)]
    Accept(#[from] LocalError),
}

impl UpgradeError {
    /// The status to answer with: the request error's status hint, or 500
    /// for an invalid [`Accept`].
    ///
    /// ```
    /// use wsproto::handshake::{upgrade, Accept};
    ///
    /// let not_websocket = http::Request::get("/").header("host", "x").body(())?;
    /// let err = upgrade(&not_websocket, Accept::new(), Default::default(), Vec::new()).unwrap_err();
    /// assert_eq!(err.status(), 400);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Request(err) => err.status,
            Self::Accept(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The hyper/axum path (Python wsproto's `initiate_upgrade_connection`):
/// validates an already-parsed upgrade request and returns the 101 response
/// to send plus the open server connection to run on the upgraded stream.
///
/// ```
/// use wsproto::handshake::{upgrade, Accept, UpgradeError};
/// let request = http::Request::get("/chat")
///     .header("host", "example.com")
///     .header("upgrade", "websocket")
///     .header("connection", "Upgrade")
///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
///     .header("sec-websocket-version", "13")
///     .body(())
///     .unwrap();
/// let (response, _ws) = upgrade(&request, Accept::new(), wsproto::Config::default(), Vec::new())?;
/// assert_eq!(response.status(), 101);
/// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
///
/// // Selecting a subprotocol the client did not offer is the caller's bug.
/// let err = upgrade(&request, Accept::new().subprotocol("chat"), Default::default(), Vec::new())
///     .unwrap_err();
/// assert!(matches!(err, UpgradeError::Accept(wsproto::LocalError::SubprotocolNotOffered(_))));
/// assert_eq!(err.status(), 500);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`UpgradeError::Request`] with the status to answer (400 or 426) when
/// the request is not a valid upgrade; [`UpgradeError::Accept`] when
/// `accept` names a subprotocol the client did not offer, or holds a value
/// that cannot be a header.
pub fn upgrade<B>(
    request: &Request<B>,
    accept: Accept,
    config: Config,
    supported: Vec<Box<dyn Extension>>,
) -> Result<(Response<()>, Open<Server>), UpgradeError> {
    let validated = validate(request)?;
    let (response, extensions) = build_accept(&validated, &accept, supported)?;
    let mut open = Open::new(config, extensions);
    open.set_subprotocol(accept.subprotocol.as_deref());
    Ok((response, open))
}
