//! hyper 1: turn an upgrade request into a [`WebSocketStream`]. [`upgrade`]
//! validates the request with the core's
//! [`handshake::upgrade`](crate::handshake::upgrade()), returns the 101
//! response for the service to send, and a future that resolves to the
//! stream once hyper hands the connection over (`hyper::upgrade::on`,
//! wrapped in [`TokioIo`]). Needs the `hyper` feature.
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//!
//! async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
//!     let (response, websocket) = match wsproto::hyper::upgrade(&mut request) {
//!         Ok(upgrade) => upgrade,
//!         // 400 for a malformed request, 426 + Sec-WebSocket-Version: 13 for another version.
//!         Err(err) => return Ok(err.to_response()),
//!     };
//!     tokio::spawn(async move {
//!         let Ok(mut ws) = websocket.await else { return };
//!         while let Some(Ok(message)) = ws.next().await {
//!             if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
//!                 break;
//!             }
//!         }
//!     });
//!     Ok(response)
//! }
//! ```
//!
//! Serve the connection with `with_upgrades()` (hyper's
//! `http1::Builder::serve_connection(io, service).with_upgrades()`), or
//! hyper never hands it over. [`Upgrader`] chooses subprotocols,
//! extensions such as permessage-deflate, and the settings:
//!
//! ```
//! use wsproto::extensions::DeflateConfig;
//! use wsproto::hyper::Upgrader;
//!
//! let upgrader = Upgrader::new()
//!     .protocols(["chat.v2", "chat.v1"])
//!     .deflate(DeflateConfig::default());
//! # let _ = upgrader;
//! ```

use std::borrow::BorrowMut;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::hyper::upgrade::{OnUpgrade, Upgraded};
use bytes::Bytes;
use http::header::SEC_WEBSOCKET_PROTOCOL;
use http::{HeaderMap, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::config::Config;
use crate::error::{HandshakeError, LocalError};
use crate::extensions::{DeflateConfig, Extension, PerMessageDeflate};
use crate::handshake::{self, Accept};
use crate::phase::Open;
use crate::role::Server;
use crate::stream::{StreamConfig, WebSocketStream};

/// The stream an upgrade resolves to: a server over hyper's upgraded
/// connection.
pub type UpgradedStream = WebSocketStream<TokioIo<Upgraded>, Server>;

/// Upgrades `request` with the default settings: no subprotocol, no
/// extensions. Takes the request by value or by `&mut` (it only removes
/// hyper's upgrade handle from the extensions).
///
/// Returns the 101 response, to return from the service at once, and the
/// future of the stream. The response's body type is any `Default` one
/// (`Full<Bytes>`, `Empty<Bytes>`, axum's `Body`…).
///
/// ```
/// use http_body_util::Full;
/// use hyper::body::{Bytes, Incoming};
/// use hyper::{Request, Response};
///
/// async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
///     match wsproto::hyper::upgrade(&mut request) {
///         Ok((response, websocket)) => {
///             tokio::spawn(async move {
///                 if let Ok(ws) = websocket.await {
///                     // run the connection
///                     # drop(ws);
///                 }
///             });
///             Ok(response)
///         }
///         Err(err) => Ok(err.to_response()),
///     }
/// }
/// # let _ = hyper::service::service_fn(handle);
/// ```
///
/// # Errors
///
/// See [`UpgradeError`]; [`UpgradeError::to_response`] is the answer to send.
pub fn upgrade<B, ResBody: Default>(
    request: impl BorrowMut<Request<B>>,
) -> Result<(Response<ResBody>, UpgradeFuture), UpgradeError> {
    Upgrader::new().upgrade(request)
}

/// How to upgrade: the subprotocols this server speaks, the extensions it
/// offers, the protocol and the adapter's settings. A builder; its last
/// call is [`upgrade`](Self::upgrade).
#[derive(Debug, Default)]
#[must_use]
pub struct Upgrader {
    protocols: Vec<String>,
    config: Config,
    extensions: Vec<Box<dyn Extension>>,
    stream_config: StreamConfig,
}

impl Upgrader {
    /// No subprotocol, no extension, default settings.
    ///
    /// ```
    /// use wsproto::hyper::Upgrader;
    ///
    /// let upgrader = Upgrader::new(); // what `wsproto::hyper::upgrade` uses
    /// # let _ = upgrader;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The subprotocols this server speaks. The one selected is the first
    /// the client offered (in its order of preference, RFC 6455 §4.1) that
    /// is in this list; none when there is no match, and the client then
    /// decides whether to go on.
    ///
    /// ```
    /// use wsproto::hyper::Upgrader;
    ///
    /// let upgrader = Upgrader::new().protocols(["graphql-transport-ws", "graphql-ws"]);
    /// # let _ = upgrader;
    /// ```
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The protocol settings: limits, message mode, automatic replies.
    ///
    /// ```
    /// use wsproto::{Config, MessageMode};
    /// use wsproto::hyper::Upgrader;
    ///
    /// let upgrader = Upgrader::new().config(Config::default().with_message_mode(MessageMode::Streaming));
    /// # let _ = upgrader;
    /// ```
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The adapter's settings: timeouts, keepalive, back-pressure.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsproto::hyper::Upgrader;
    /// use wsproto::stream::StreamConfig;
    ///
    /// let upgrader = Upgrader::new().stream_config(StreamConfig::default().with_close_timeout(Duration::from_secs(1)));
    /// # let _ = upgrader;
    /// ```
    pub fn stream_config(mut self, config: StreamConfig) -> Self {
        self.stream_config = config;
        self
    }

    /// Supports an extension: it is negotiated from the client's offers.
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    /// use wsproto::hyper::Upgrader;
    ///
    /// let upgrader = Upgrader::new().extension(PerMessageDeflate::new(DeflateConfig::default()));
    /// # let _ = upgrader;
    /// ```
    pub fn extension(mut self, extension: impl Extension + 'static) -> Self {
        self.extensions.push(Box::new(extension));
        self
    }

    /// Supports permessage-deflate (RFC 7692) with `config`.
    ///
    /// ```
    /// use wsproto::extensions::DeflateConfig;
    /// use wsproto::hyper::Upgrader;
    ///
    /// let upgrader = Upgrader::new().deflate(DeflateConfig::default().with_server_no_context_takeover(true));
    /// # let _ = upgrader;
    /// ```
    pub fn deflate(self, config: DeflateConfig) -> Self {
        self.extension(PerMessageDeflate::new(config))
    }

    /// The subprotocol [`protocols`](Self::protocols) selects for a request
    /// with these headers.
    pub(crate) fn selected_protocol(&self, headers: &HeaderMap) -> Option<&str> {
        let offered = handshake::header_list(headers, &SEC_WEBSOCKET_PROTOCOL).ok()?;
        offered
            .iter()
            .find_map(|offer| self.protocols.iter().find(|ours| *ours == offer))
            .map(String::as_str)
    }

    /// Upgrades `request`, as [`upgrade`] does, with these settings.
    ///
    /// ```
    /// use futures_util::{SinkExt, StreamExt};
    /// use http_body_util::Empty;
    /// use hyper::body::{Bytes, Incoming};
    /// use hyper::{Request, Response};
    /// use wsproto::stream::Message;
    ///
    /// async fn handle(mut request: Request<Incoming>) -> Result<Response<Empty<Bytes>>, hyper::Error> {
    ///     let upgrader = wsproto::hyper::Upgrader::new().protocols(["echo"]);
    ///     let (response, websocket) = match upgrader.upgrade(&mut request) {
    ///         Ok(upgrade) => upgrade,
    ///         Err(err) => return Ok(Response::builder().status(err.status()).body(Empty::new()).unwrap()),
    ///     };
    ///     tokio::spawn(async move {
    ///         let Ok(mut ws) = websocket.await else { return };
    ///         while let Some(Ok(message)) = ws.next().await {
    ///             if message.is_text() && ws.send(message).await.is_err() {
    ///                 break;
    ///             }
    ///         }
    ///     });
    ///     Ok(response)
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A hyper HTTP/1 server on one end of an in-memory pipe, with upgrades on.
    /// let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// let service = hyper::service::service_fn(handle);
    /// tokio::spawn(
    ///     hyper::server::conn::http1::Builder::new()
    ///         .serve_connection(hyper_util::rt::TokioIo::new(server_io), service)
    ///         .with_upgrades(),
    /// );
    ///
    /// let request = http::Request::get("ws://localhost/").header("sec-websocket-protocol", "echo").body(())?;
    /// let (mut ws, response) = wsproto::stream::client_async(request, client_io).await?;
    /// assert_eq!(response.headers()["sec-websocket-protocol"], "echo");
    /// ws.send(Message::text("hello")).await?;
    /// assert_eq!(ws.next().await.transpose()?, Some(Message::text("hello")));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// See [`UpgradeError`].
    pub fn upgrade<B, ResBody: Default>(
        self,
        mut request: impl BorrowMut<Request<B>>,
    ) -> Result<(Response<ResBody>, UpgradeFuture), UpgradeError> {
        let request = request.borrow_mut();
        let (response, open, stream_config) = self.prepare(request)?;
        let on_upgrade = request
            .extensions_mut()
            .remove::<OnUpgrade>()
            .ok_or(UpgradeError::NotUpgradable)?;
        let future = UpgradeFuture::new(on_upgrade, open, stream_config);
        Ok((response.map(|()| ResBody::default()), future))
    }

    /// Validates `request` and negotiates: the response to send, and the
    /// connection to run once hyper hands the transport over, with the
    /// adapter's settings. Shared with the axum extractor.
    pub(crate) fn prepare<B>(
        self,
        request: &Request<B>,
    ) -> Result<(Response<()>, Open<Server>, StreamConfig), UpgradeError> {
        match UpgradeKind::of(request) {
            UpgradeKind::Http11 => {
                let accept = match self.selected_protocol(request.headers()) {
                    Some(protocol) => Accept::new().subprotocol(protocol),
                    None => Accept::new(),
                };
                let (response, open) =
                    handshake::upgrade(request, accept, self.config, self.extensions)?;
                Ok((response, open, self.stream_config))
            }
        }
    }
}

/// How a request asks for a WebSocket, which decides the response.
///
/// Only HTTP/1.1's `Upgrade: websocket` (RFC 6455 §4), answered with 101,
/// today. RFC 8441's extended CONNECT (HTTP/2: method CONNECT with
/// `:protocol` websocket, seen as `hyper::ext::Protocol`; answered with 200,
/// without key or accept) becomes a second variant once the core validates
/// such requests. Nothing public changes then: the response is built here,
/// hyper hands over an `Upgraded` for both, and the stream is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpgradeKind {
    /// `GET` with `Upgrade: websocket`, answered with 101 Switching Protocols.
    Http11,
}

impl UpgradeKind {
    /// The kind `request` asks for. The core's validation refuses what is
    /// not a valid request of that kind.
    pub(crate) fn of<B>(_request: &Request<B>) -> Self {
        Self::Http11
    }
}

/// Resolves to the [`UpgradedStream`] once hyper has sent the 101 and hands
/// the connection over. Spawn a task that awaits it: the service must
/// return the response first.
#[must_use = "the connection is only handed over if this future is awaited"]
pub struct UpgradeFuture {
    on_upgrade: OnUpgrade,
    open: Option<(Open<Server>, StreamConfig)>,
}

impl std::fmt::Debug for UpgradeFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeFuture")
            .field("done", &self.open.is_none())
            .finish_non_exhaustive()
    }
}

impl UpgradeFuture {
    pub(crate) fn new(on_upgrade: OnUpgrade, open: Open<Server>, config: StreamConfig) -> Self {
        Self {
            on_upgrade,
            open: Some((open, config)),
        }
    }
}

impl Future for UpgradeFuture {
    /// hyper's error when the connection could not be handed over: it
    /// closed first, or it was not served `with_upgrades()`.
    type Output = Result<UpgradedStream, ::hyper::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let upgraded = ready!(Pin::new(&mut this.on_upgrade).poll(cx))?;
        let (open, config) = this
            .open
            .take()
            .expect("UpgradeFuture polled after it completed");
        Poll::Ready(Ok(WebSocketStream::from_open(
            TokioIo::new(upgraded),
            open,
            config,
        )))
    }
}

/// Why a request could not be upgraded. [`to_response`](Self::to_response)
/// is the answer to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpgradeError {
    /// Not a valid WebSocket upgrade request (RFC 6455 §4.2.1); the error
    /// carries the status to answer: 400, or 426 for a version other
    /// than 13.
    #[error(transparent)]
    Request(HandshakeError),
    /// The request was valid but this side's choices were not (an
    /// extension's response that is no header value): answered with 500.
    #[error(transparent)]
    Accept(LocalError),
    /// A valid request on a connection hyper cannot hand over: the request
    /// did not come from a hyper server connection, or an HTTP/2 one
    /// (until RFC 8441), or it was upgraded already. Answered with 426
    /// Upgrade Required, as axum does.
    #[error("the connection cannot be upgraded (not served by hyper over HTTP/1.1?)")]
    NotUpgradable,
}

impl From<handshake::UpgradeError> for UpgradeError {
    fn from(err: handshake::UpgradeError) -> Self {
        match err {
            handshake::UpgradeError::Request(err) => Self::Request(err),
            handshake::UpgradeError::Accept(err) => Self::Accept(err),
        }
    }
}

impl UpgradeError {
    /// The status to answer with.
    ///
    /// ```
    /// let request = http::Request::get("/").header("host", "example.com").body(())?;
    /// let err = wsproto::hyper::upgrade::<_, http_body_util::Empty<bytes::Bytes>>(request).unwrap_err();
    /// assert_eq!(err.status(), 400); // not an upgrade request
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Request(err) => err.status,
            Self::Accept(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotUpgradable => StatusCode::UPGRADE_REQUIRED,
        }
    }

    /// The response that answers this error: its status, a plain-text
    /// reason, and for 426 the `Upgrade: websocket` and
    /// `Sec-WebSocket-Version: 13` headers (RFC 6455 §4.4, RFC 9110
    /// §15.5.22). Built by the core's
    /// [`HandshakeError::to_http_response`].
    ///
    /// ```
    /// use http_body_util::Full;
    /// use hyper::body::Bytes;
    ///
    /// let mut request = http::Request::get("/")
    ///     .header("host", "example.com")
    ///     .header("upgrade", "websocket")
    ///     .header("connection", "upgrade")
    ///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("sec-websocket-version", "8")
    ///     .body(())?;
    /// let err = wsproto::hyper::upgrade::<_, Full<Bytes>>(&mut request).unwrap_err();
    /// let response = err.to_response::<Full<Bytes>>();
    /// assert_eq!(response.status(), 426);
    /// assert_eq!(response.headers()["sec-websocket-version"], "13");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_response<ResBody: From<Bytes>>(&self) -> Response<ResBody> {
        let response = match self {
            Self::Request(err) => err.to_http_response(),
            other => HandshakeError::new(other.status(), other.to_string()).to_http_response(),
        };
        response.map(ResBody::from)
    }
}
