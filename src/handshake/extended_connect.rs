//! The opening handshake over HTTP/2 (RFC 8441) and HTTP/3 (RFC 9220) on
//! `http` types: an extended CONNECT with `:protocol` websocket, answered
//! with 200, for both roles.
//!
//! The two RFCs bootstrap WebSockets the same way; only the HTTP version
//! carrying the request differs, so one set of helpers serves both.
//! Against the HTTP/1.1 handshake of RFC 6455:
//!
//! - the request is `CONNECT` with the `:protocol` pseudo-header
//!   `websocket`, and `:scheme`, `:authority` and `:path` (RFC 8441 §4, §5);
//! - there is no `Sec-WebSocket-Key`, no `Sec-WebSocket-Accept`, and no
//!   `Upgrade` or `Connection` header (§5);
//! - `Sec-WebSocket-Version`, `Sec-WebSocket-Protocol` and
//!   `Sec-WebSocket-Extensions` keep their RFC 6455 meaning (§5);
//! - the server accepts with 200, and the data phase runs on the stream of
//!   that request with the same frames, masking included.
//!
//! `http::Request` has no field for `:protocol`: each HTTP library carries it
//! its own way (hyper as `hyper::ext::Protocol` in the request's
//! extensions, h3 as `h3::ext::Protocol`). The server side takes its value
//! as a parameter, and the client side leaves it to the caller (or to
//! `wsproto::hyper::connect_h2` (the `hyper` feature), which sets it).
//!
//! Server:
//!
//! ```
//! use wsproto::handshake::{Accept, extended_connect};
//!
//! // What an HTTP/2 server hands over: CONNECT, :protocol websocket.
//! let request = http::Request::connect("https://example.com/chat")
//!     .version(http::Version::HTTP_2)
//!     .header("sec-websocket-version", "13")
//!     .header("sec-websocket-protocol", "chat")
//!     .body(())?;
//! let (response, ws) = extended_connect::upgrade(
//!     &request,
//!     Some("websocket"),
//!     Accept::new().subprotocol("chat"),
//!     wsproto::Config::default(),
//!     Vec::new(),
//! )?;
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
//! assert!(!response.headers().contains_key("sec-websocket-accept"));
//! // Run `ws` (an `Open<Server>`) on the request's stream.
//! # let _ = ws;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Client:
//!
//! ```
//! use wsproto::handshake::extended_connect::PendingConnect;
//!
//! let (pending, request) = PendingConnect::new(
//!     http::Request::get("wss://example.com/chat").body(())?,
//!     wsproto::Config::default(),
//!     Vec::new(),
//! )?;
//! assert_eq!(request.method(), http::Method::CONNECT);
//! assert_eq!(request.uri(), "https://example.com/chat");
//! // Send `request` with `:protocol: websocket`, then check the answer:
//! let response = http::Response::builder().status(200).body(())?;
//! let ws = pending.finish(&response)?;
//! # let _ = ws;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use bytes::Bytes;
use http::header::{CONNECTION, HOST, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE};
use http::uri::{Scheme, Uri};
use http::{HeaderValue, Method, Request, Response, Version};

use super::client::open_negotiated;
use super::server::{Accept, UpgradeError, Validated, build_accept, check_version};
use crate::config::Config;
use crate::error::HandshakeError;
use crate::extensions::Extension;
use crate::keys::OsRandomKeys;
use crate::phase::Open;
use crate::role::{Client, Server};

/// The `:protocol` value that asks for a WebSocket (RFC 8441 §5, RFC 9220
/// §3), as registered in the HTTP Upgrade Token Registry.
pub const PROTOCOL: &str = "websocket";

/// Whether `request` is an extended CONNECT (method CONNECT with a
/// `:protocol`, whatever its value), as opposed to an HTTP/1.1 upgrade or
/// a plain CONNECT. `protocol` is the request's `:protocol`, as the HTTP
/// library hands it over.
///
/// ```
/// use wsproto::handshake::extended_connect::is_extended_connect;
/// let request = http::Request::connect("https://example.com/").body(())?;
/// assert!(is_extended_connect(&request, Some("websocket")));
/// assert!(!is_extended_connect(&request, None)); // a plain CONNECT (a tunnel)
/// # Ok::<(), http::Error>(())
/// ```
pub fn is_extended_connect<B>(request: &Request<B>, protocol: Option<&str>) -> bool {
    request.method() == Method::CONNECT && protocol.is_some()
}

/// Checks an extended CONNECT against RFC 8441 §4–§5 (RFC 9220 §3 for
/// HTTP/3).
fn validate<B>(request: &Request<B>, protocol: Option<&str>) -> Result<Validated, HandshakeError> {
    // RFC 8441 §4: the extended CONNECT is a CONNECT with a :protocol.
    if request.method() != Method::CONNECT {
        return Err(HandshakeError::bad_request("method is not CONNECT"));
    }
    // RFC 8441 §3 defines it for HTTP/2, RFC 9220 §3 for HTTP/3; HTTP/1.1
    // asks for a WebSocket with GET and Upgrade instead.
    if request.version() < Version::HTTP_2 {
        return Err(HandshakeError::bad_request(
            "extended CONNECT needs HTTP/2 or HTTP/3",
        ));
    }
    // §5: "The :protocol pseudo-header field MUST be included in the
    // CONNECT request and it MUST have a value of "websocket" to initiate a
    // WebSocket connection on an HTTP/2 stream." Upgrade tokens compare
    // case-insensitively (RFC 9110 §7.8), as HTTP/1.1's Upgrade does here.
    match protocol {
        Some(p) if p.eq_ignore_ascii_case(PROTOCOL) => {}
        Some(_) => {
            return Err(HandshakeError::bad_request(
                ":protocol is not \"websocket\"",
            ));
        }
        None => {
            return Err(HandshakeError::bad_request(
                "CONNECT without :protocol (not an extended CONNECT)",
            ));
        }
    }
    // §4: "On requests that contain the :protocol pseudo-header field, the
    // :scheme and :path pseudo-header fields of the target URI MUST also
    // be included." §5: "The scheme of the target URI MUST be "https" for
    // "wss"-schemed WebSockets and "http" for "ws"-schemed WebSockets."
    let uri = request.uri();
    match uri.scheme() {
        Some(scheme) if *scheme == Scheme::HTTP || *scheme == Scheme::HTTPS => {}
        _ => {
            return Err(HandshakeError::bad_request(":scheme must be http or https"));
        }
    }
    if uri.path_and_query().is_none_or(|pq| pq.as_str().is_empty()) {
        return Err(HandshakeError::bad_request("missing :path"));
    }
    if uri.authority().is_none() && !request.headers().contains_key(HOST) {
        return Err(HandshakeError::bad_request("missing :authority"));
    }
    // §5: "[RFC6455] requires the use of Connection and Upgrade header
    // fields that are not part of HTTP/2. They MUST NOT be included in the
    // CONNECT request defined here." (HTTP/2 and HTTP/3 libraries already
    // refuse them as connection-specific; this holds for any other.)
    let headers = request.headers();
    if headers.contains_key(UPGRADE) || headers.contains_key(CONNECTION) {
        return Err(HandshakeError::bad_request(
            "Upgrade and Connection are not allowed in an extended CONNECT",
        ));
    }
    check_version(headers)?;
    // §5: "Implementations using this extended CONNECT to bootstrap
    // WebSockets do not do the processing of the Sec-WebSocket-Key and
    // Sec-WebSocket-Accept header fields of [RFC6455] as that
    // functionality has been superseded by the :protocol pseudo-header
    // field." A key, if sent, is ignored, and no accept is sent back.
    Validated::common(headers, None)
}

/// Validates an extended CONNECT and accepts it: the 200 response to send
/// (with the selected subprotocol and the negotiated extensions, and no
/// `Sec-WebSocket-Accept`) and the open server connection to run on the
/// request's HTTP/2 or HTTP/3 stream. The counterpart of
/// [`handshake::upgrade`](crate::handshake::upgrade()) for RFC 8441 and
/// RFC 9220. `protocol` is the request's `:protocol` as the HTTP library
/// hands it over (`hyper::ext::Protocol::as_str`, say).
///
/// ```
/// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
/// use wsproto::handshake::{Accept, extended_connect};
///
/// let request = http::Request::connect("http://127.0.0.1/ws")
///     .version(http::Version::HTTP_2)
///     .header("sec-websocket-version", "13")
///     .header("sec-websocket-extensions", "permessage-deflate; client_max_window_bits")
///     .body(())?;
/// let deflate = PerMessageDeflate::new(DeflateConfig::default());
/// let (response, ws) = extended_connect::upgrade(
///     &request,
///     Some("websocket"),
///     Accept::new(),
///     wsproto::Config::default(),
///     vec![Box::new(deflate)],
/// )?;
/// assert_eq!(response.status(), 200);
/// assert!(response.headers()["sec-websocket-extensions"]
///     .to_str()?
///     .starts_with("permessage-deflate"));
/// assert_eq!(ws.extensions()[0].name(), "permessage-deflate");
///
/// // Another version: 426 with Sec-WebSocket-Version: 13.
/// let old = http::Request::connect("http://127.0.0.1/ws")
///     .version(http::Version::HTTP_2)
///     .header("sec-websocket-version", "8")
///     .body(())?;
/// let err = extended_connect::upgrade(&old, Some("websocket"), Accept::new(), Default::default(), Vec::new())
///     .unwrap_err();
/// assert_eq!(err.status(), 426);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`UpgradeError::Request`] with the status to answer (answer it with
/// [`error_response`]): 400 when the request is not an extended CONNECT
/// for `websocket` over HTTP/2 or HTTP/3 (method, `:protocol`, `:scheme`,
/// `:path`, `:authority`, an `Upgrade` or `Connection` header, a missing or
/// repeated `Sec-WebSocket-Version`, malformed subprotocol or extension
/// headers), 426 for a version other than 13. [`UpgradeError::Accept`]
/// when `accept` names a subprotocol the client did not offer, or holds a
/// value that cannot be a header.
pub fn upgrade<B>(
    request: &Request<B>,
    protocol: Option<&str>,
    accept: Accept,
    config: Config,
    supported: Vec<Box<dyn Extension>>,
) -> Result<(Response<()>, Open<Server>), UpgradeError> {
    let validated = validate(request, protocol)?;
    let (response, extensions) = build_accept(&validated, &accept, supported)?;
    let mut open = Open::new(config, extensions);
    open.set_subprotocol(accept.subprotocol.as_deref());
    Ok((response, open))
}

/// The response that answers a failed extended CONNECT: the error's status
/// and reason, with `Sec-WebSocket-Version: 13` for 426 (RFC 6455 §4.4).
/// Unlike [`HandshakeError::to_http_response`] it has no `Upgrade`
/// header, which HTTP/2 and HTTP/3 forbid as connection-specific
/// (RFC 9113 §8.2.2, RFC 9114 §4.2).
///
/// ```
/// use wsproto::handshake::extended_connect::error_response;
/// let err = wsproto::HandshakeError::new(http::StatusCode::UPGRADE_REQUIRED, "version");
/// let response = error_response(&err);
/// assert_eq!(response.status(), 426);
/// assert_eq!(response.headers()["sec-websocket-version"], "13");
/// assert!(!response.headers().contains_key("upgrade"));
/// ```
pub fn error_response(err: &HandshakeError) -> Response<Bytes> {
    let mut response = err.to_http_response();
    response.headers_mut().remove(UPGRADE);
    response
}

/// A client's extended CONNECT, sent and waiting for the answer: built by
/// [`new`](Self::new), finished by [`finish`](Self::finish) with the
/// response. The counterpart of [`Pending<Client>`](crate::Pending) for
/// HTTP/2 and HTTP/3, where the HTTP library reads and writes the heads.
#[must_use]
pub struct PendingConnect {
    config: Config,
    extensions: Vec<Box<dyn Extension>>,
    /// The request as built, for the subprotocols it offered.
    request: Request<()>,
    /// Masks the open connection's frames (RFC 6455 §5.3 still applies).
    keys: Box<OsRandomKeys>,
}

impl std::fmt::Debug for PendingConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingConnect")
            .field("uri", self.request.uri())
            .field("extensions", &self.extensions)
            .finish_non_exhaustive()
    }
}

impl PendingConnect {
    /// Builds the extended CONNECT from `request`, whose URI is
    /// `ws://`, `wss://`, `http://` or `https://` with a host and a path:
    /// method CONNECT, the scheme `http` for ws and `https` for wss (RFC 8441
    /// §5), version HTTP/2 (HTTP/3 when `request` says so),
    /// `Sec-WebSocket-Version: 13` and the extensions' offers; `Upgrade`,
    /// `Connection` and `Sec-WebSocket-Key` are removed (§5). Subprotocols
    /// (`Sec-WebSocket-Protocol`) and other headers are kept as they are.
    ///
    /// Returns the pending client and the request to send. The caller's
    /// HTTP library must add `:protocol` = [`PROTOCOL`] its own way (hyper:
    /// `hyper::ext::Protocol::from_static("websocket")` in the request's
    /// extensions), and send it on a connection whose peer announced
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441 §3).
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    /// use wsproto::handshake::extended_connect::PendingConnect;
    ///
    /// let request = http::Request::get("ws://127.0.0.1:8080/chat?room=1")
    ///     .header("sec-websocket-protocol", "chat")
    ///     .body(())?;
    /// let deflate = PerMessageDeflate::new(DeflateConfig::default());
    /// let (_pending, request) =
    ///     PendingConnect::new(request, wsproto::Config::default(), vec![Box::new(deflate)])?;
    /// assert_eq!(request.method(), http::Method::CONNECT);
    /// assert_eq!(request.version(), http::Version::HTTP_2);
    /// assert_eq!(request.uri(), "http://127.0.0.1:8080/chat?room=1");
    /// assert_eq!(request.headers()["sec-websocket-version"], "13");
    /// assert_eq!(request.headers()["sec-websocket-protocol"], "chat");
    /// assert!(request.headers().contains_key("sec-websocket-extensions"));
    /// assert!(!request.headers().contains_key("sec-websocket-key"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] of kind [`Local`](crate::HandshakeErrorKind::Local)
    /// when the URI has no scheme or host, or a scheme other than ws, wss,
    /// http or https; when an extension's offer is no header value; or
    /// when the OS random generator fails to seed the masking keys.
    pub fn new(
        request: Request<()>,
        config: Config,
        extensions: Vec<Box<dyn Extension>>,
    ) -> Result<(Self, Request<()>), HandshakeError> {
        let (mut parts, ()) = request.into_parts();
        let scheme = match parts.uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("ws") || s.eq_ignore_ascii_case("http") => {
                Scheme::HTTP
            }
            Some(s) if s.eq_ignore_ascii_case("wss") || s.eq_ignore_ascii_case("https") => {
                Scheme::HTTPS
            }
            Some(_) => return Err(HandshakeError::local("URI scheme must be ws or wss")),
            None => {
                return Err(HandshakeError::local(
                    "URI has no scheme; use ws:// or wss://",
                ));
            }
        };
        let Some(authority) = parts.uri.authority().cloned() else {
            return Err(HandshakeError::local("URI has no host"));
        };
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".parse().expect("a valid path"), Clone::clone);
        parts.uri = Uri::builder()
            .scheme(scheme)
            .authority(authority)
            .path_and_query(path)
            .build()
            .map_err(|_| HandshakeError::local("invalid URI"))?;
        parts.method = Method::CONNECT;
        if parts.version != Version::HTTP_3 {
            parts.version = Version::HTTP_2;
        }
        // §4.1 of RFC 6455 by way of RFC 8441 §5: the version is sent as
        // in HTTP/1.1; the key is not. §5: Connection and Upgrade "MUST NOT
        // be included in the CONNECT request defined here."
        let headers = &mut parts.headers;
        for name in [CONNECTION, UPGRADE, SEC_WEBSOCKET_KEY] {
            headers.remove(name);
        }
        headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        super::insert_offers(headers, &extensions)?;
        let keys = OsRandomKeys::new()
            .map(Box::new)
            .map_err(|err| HandshakeError::local(err.to_string()))?;
        let request = Request::from_parts(parts, ());
        let pending = Self {
            config,
            extensions,
            request: request.clone(),
            keys,
        };
        Ok((pending, request))
    }

    /// The request as built by [`new`](Self::new).
    ///
    /// ```
    /// use wsproto::handshake::extended_connect::PendingConnect;
    /// let request = http::Request::get("ws://example.com/").body(())?;
    /// let (pending, _) = PendingConnect::new(request, wsproto::Config::default(), Vec::new())?;
    /// assert_eq!(pending.request().uri(), "http://example.com/");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request(&self) -> &Request<()> {
        &self.request
    }

    /// Checks the server's answer and opens the connection: a 2xx status
    /// (RFC 9113 §8.5: "Any 2xx series response" to CONNECT is a success;
    /// RFC 8441 servers send 200), then the subprotocol and extensions, as
    /// RFC 6455 §4.1 says.
    ///
    /// ```
    /// use wsproto::handshake::extended_connect::PendingConnect;
    ///
    /// let request = http::Request::get("ws://example.com/").body(())?;
    /// let (pending, _) = PendingConnect::new(request, wsproto::Config::default(), Vec::new())?;
    /// // A subprotocol the client did not offer fails the connection.
    /// let response = http::Response::builder()
    ///     .status(200)
    ///     .header("sec-websocket-protocol", "chat")
    ///     .body(())?;
    /// assert!(pending.finish(&response).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] of kind
    /// [`BadResponse`](crate::HandshakeErrorKind::BadResponse) carrying the
    /// response's status: a status other than 2xx (the server refused; a
    /// 426 says which versions it speaks), a subprotocol the request did not
    /// offer, an extension it did not offer (or twice), or extension
    /// parameters the extension refuses.
    pub fn finish<B>(self, response: &Response<B>) -> Result<Open<Client>, HandshakeError> {
        if !response.status().is_success() {
            return Err(HandshakeError::bad_response(
                response.status(),
                "server refused the extended CONNECT",
            ));
        }
        open_negotiated(
            self.config,
            self.extensions,
            self.keys,
            self.request.headers(),
            response,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extensions::{DeflateConfig, PerMessageDeflate};
    use crate::{Event, HandshakeErrorKind};
    use http::StatusCode;
    use http::header::SEC_WEBSOCKET_EXTENSIONS;

    /// A 200 response to an extended CONNECT.
    fn ok_response() -> Response<()> {
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::OK;
        response
    }

    fn connect(version: &str) -> http::request::Builder {
        Request::connect("https://example.com/ws")
            .version(Version::HTTP_2)
            .header("sec-websocket-version", version)
    }

    fn status_of(request: &Request<()>, protocol: Option<&str>) -> StatusCode {
        upgrade(
            request,
            protocol,
            Accept::new(),
            Config::default(),
            Vec::new(),
        )
        .map(|(response, _)| response.status())
        .unwrap_or_else(|err| err.status())
    }

    #[test]
    fn a_valid_request_is_accepted_with_200_and_no_accept_header() {
        let request = connect("13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .body(())
            .unwrap();
        let (response, _) = upgrade(
            &request,
            Some("websocket"),
            Accept::new(),
            Config::default(),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        for name in ["sec-websocket-accept", "upgrade", "connection"] {
            assert!(!response.headers().contains_key(name), "{name}");
        }
        // HTTP/3 too (RFC 9220), and :protocol in another case.
        let h3 = connect("13").version(Version::HTTP_3).body(()).unwrap();
        assert_eq!(status_of(&h3, Some("WebSocket")), StatusCode::OK);
    }

    #[test]
    fn each_fault_gets_its_status() {
        let ok = || connect("13");
        let cases: Vec<(Request<()>, Option<&str>, StatusCode)> = vec![
            (ok().body(()).unwrap(), None, StatusCode::BAD_REQUEST),
            (
                ok().body(()).unwrap(),
                Some("webtransport"),
                StatusCode::BAD_REQUEST,
            ),
            (
                ok().method(Method::GET).body(()).unwrap(),
                Some("websocket"),
                StatusCode::BAD_REQUEST,
            ),
            (
                ok().version(Version::HTTP_11).body(()).unwrap(),
                Some("websocket"),
                StatusCode::BAD_REQUEST,
            ),
            (
                ok().uri("ftp://example.com/ws").body(()).unwrap(),
                Some("websocket"),
                StatusCode::BAD_REQUEST,
            ),
            (
                ok().uri("/ws").body(()).unwrap(),
                Some("websocket"),
                StatusCode::BAD_REQUEST,
            ),
            (
                ok().header("upgrade", "websocket").body(()).unwrap(),
                Some("websocket"),
                StatusCode::BAD_REQUEST,
            ),
            (
                connect("13")
                    .header("sec-websocket-version", "13")
                    .body(())
                    .unwrap(),
                Some("websocket"),
                StatusCode::BAD_REQUEST,
            ),
            (
                Request::connect("https://example.com/ws")
                    .version(Version::HTTP_2)
                    .body(())
                    .unwrap(),
                Some("websocket"),
                StatusCode::BAD_REQUEST,
            ),
            (
                connect("8").body(()).unwrap(),
                Some("websocket"),
                StatusCode::UPGRADE_REQUIRED,
            ),
            (
                ok().header("sec-websocket-extensions", "permessage-deflate; x=\"")
                    .body(())
                    .unwrap(),
                Some("websocket"),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (i, (request, protocol, status)) in cases.iter().enumerate() {
            assert_eq!(status_of(request, *protocol), *status, "case {i}");
        }
        let err = upgrade(
            &connect("8").body(()).unwrap(),
            Some("websocket"),
            Accept::new(),
            Config::default(),
            Vec::new(),
        )
        .unwrap_err();
        let UpgradeError::Request(err) = err else {
            panic!("{err:?}")
        };
        let response = error_response(&err);
        assert_eq!(response.headers()["sec-websocket-version"], "13");
        assert!(!response.headers().contains_key(UPGRADE));
    }

    #[test]
    fn subprotocol_must_have_been_offered() {
        let request = connect("13")
            .header("sec-websocket-protocol", "a, b")
            .body(())
            .unwrap();
        let pick = |name: &str| {
            upgrade(
                &request,
                Some("websocket"),
                Accept::new().subprotocol(name),
                Config::default(),
                Vec::new(),
            )
        };
        let (response, open) = pick("b").unwrap();
        assert_eq!(response.headers()["sec-websocket-protocol"], "b");
        assert_eq!(open.subprotocol(), Some("b"));
        assert_eq!(pick("c").unwrap_err().status(), 500);
    }

    /// Both roles on `http` types, with permessage-deflate, then frames
    /// both ways through the connections they open: over HTTP/2 (RFC 8441)
    /// and HTTP/3 (RFC 9220), whose handshakes differ only in the version.
    #[test]
    fn client_and_server_agree_and_exchange_compressed_messages() {
        for version in [Version::HTTP_2, Version::HTTP_3] {
            exchange_over(version);
        }
    }

    fn exchange_over(version: Version) {
        let deflate = || -> Vec<Box<dyn Extension>> {
            vec![Box::new(PerMessageDeflate::new(DeflateConfig::default()))]
        };
        let request = Request::get("wss://example.com/chat")
            .version(version)
            .header("sec-websocket-protocol", "chat")
            .body(())
            .unwrap();
        let (pending, request) =
            PendingConnect::new(request, Config::default(), deflate()).unwrap();
        assert_eq!(request.version(), version);
        assert_eq!(request.uri().scheme(), Some(&Scheme::HTTPS));
        let (response, mut server) = upgrade(
            &request,
            Some(PROTOCOL),
            Accept::new().subprotocol("chat"),
            Config::default(),
            deflate(),
        )
        .unwrap();
        let mut client = pending.finish(&response).unwrap();
        assert_eq!(client.subprotocol(), Some("chat"));
        assert_eq!(client.extensions()[0].name(), "permessage-deflate");
        let text = "over HTTP/2 ".repeat(50);
        client.send_text(&text).unwrap();
        let wire = client.take_outgoing();
        assert!(wire[0] & 0x40 != 0, "RSV1: the message was compressed");
        assert!(wire[1] & 0x80 != 0, "the client masks");
        server.receive(&wire).unwrap();
        let Ok(Some(Event::Text(got))) = server.poll_event() else {
            panic!("no text")
        };
        assert_eq!(&*got, text.as_str());
        server.send_binary(&b"back"[..]).unwrap();
        client.receive(&server.take_outgoing()).unwrap();
        assert!(matches!(client.poll_event(), Ok(Some(Event::Binary(b))) if b == b"back"[..]));
    }

    #[test]
    fn client_refuses_what_it_did_not_ask_for() {
        let pending = || {
            let request = Request::get("ws://example.com/").body(()).unwrap();
            PendingConnect::new(request, Config::default(), Vec::new())
                .unwrap()
                .0
        };
        let mut refused = ok_response();
        *refused.status_mut() = StatusCode::UPGRADE_REQUIRED;
        let err = pending().finish(&refused).unwrap_err();
        assert_eq!(err.kind, HandshakeErrorKind::BadResponse);
        assert_eq!(err.status, StatusCode::UPGRADE_REQUIRED);
        let mut extension = ok_response();
        extension.headers_mut().insert(
            SEC_WEBSOCKET_EXTENSIONS,
            HeaderValue::from_static("permessage-deflate"),
        );
        let err = pending().finish(&extension).unwrap_err();
        assert_eq!(err.status, StatusCode::OK);
        assert!(pending().finish(&ok_response()).is_ok());
        let request = Request::get("ws://example.com/")
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("origin", "https://example.com")
            .body(())
            .unwrap();
        let (_, request) = PendingConnect::new(request, Config::default(), Vec::new()).unwrap();
        for name in ["upgrade", "connection", "sec-websocket-key"] {
            assert!(!request.headers().contains_key(name), "{name}");
        }
        assert_eq!(request.headers()["origin"], "https://example.com");
        for uri in ["/chat", "ftp://example.com/"] {
            let request = Request::get(uri).body(()).unwrap();
            let err = PendingConnect::new(request, Config::default(), Vec::new()).unwrap_err();
            assert_eq!(err.kind, HandshakeErrorKind::Local, "{uri}");
        }
    }
}
