//! axum 0.8: the [`WebSocketUpgrade`] extractor, in the spirit of axum's
//! own. It validates the upgrade request as it is extracted (a bad one is
//! rejected with its status before the handler runs), and
//! [`on_upgrade`](WebSocketUpgrade::on_upgrade) returns the response at
//! once (101 over HTTP/1.1, 200 to an HTTP/2 extended CONNECT, RFC 8441)
//! and runs your callback with the [`WebSocketStream`] in a task of its
//! own. Needs the `axum` feature.
//!
//! One route serves both HTTP versions when it takes GET (HTTP/1.1) and
//! CONNECT (HTTP/2): `get(handler).connect(handler)`, or `any(handler)`.
//! `axum::serve` announces extended CONNECT on HTTP/2 connections when
//! axum's `http2` feature is on.
//!
//! ```no_run
//! use axum::{Router, response::Response, routing::get};
//! use futures_util::{SinkExt, StreamExt};
//! use wsproto::axum::WebSocketUpgrade;
//! use wsproto::extensions::DeflateConfig;
//!
//! async fn echo(ws: WebSocketUpgrade) -> Response {
//!     ws.deflate(DeflateConfig::default()).on_upgrade(|mut ws| async move {
//!         while let Some(Ok(message)) = ws.next().await {
//!             if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let app = Router::new().route("/ws", get(echo).connect(echo));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9003").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! # Rejections
//!
//! The rejection is [`UpgradeError`], whose response is the one the core's
//! validation names: 400 for a malformed request (not GET, a missing or bad
//! `Sec-WebSocket-Key`, no `Upgrade: websocket`…), 426 with
//! `Sec-WebSocket-Version: 13` for another version, and 426 for a request
//! hyper cannot upgrade. Take `Result<WebSocketUpgrade, UpgradeError>` to
//! serve plain requests on the same route.
//!
//! [`WebSocketStream`]: crate::stream::WebSocketStream

use std::future::Future;

use ::hyper::upgrade::OnUpgrade;
use axum_core::body::Body;
use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::Request;
use http::request::Parts;

use crate::config::Config;
use crate::extensions::{DeflateConfig, Extension};
use crate::hyper::{UpgradeFuture, Upgrader};
use crate::stream::StreamConfig;

pub use crate::hyper::{UpgradeError, UpgradedStream};

/// An extractor for a WebSocket upgrade: set the subprotocols, extensions
/// and settings, then [`on_upgrade`](Self::on_upgrade). See the
/// [module docs](self).
#[must_use = "the connection is only upgraded by on_upgrade"]
pub struct WebSocketUpgrade<F = DefaultOnFailedUpgrade> {
    upgrader: Upgrader,
    /// The request's head (no body, no extensions): validated when
    /// extracted, negotiated against in `on_upgrade`.
    head: Request<()>,
    on_upgrade: OnUpgrade,
    on_failed_upgrade: F,
}

impl<F> std::fmt::Debug for WebSocketUpgrade<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketUpgrade")
            .field("upgrader", &self.upgrader)
            .field("uri", self.head.uri())
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade<DefaultOnFailedUpgrade> {
    type Rejection = UpgradeError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, UpgradeError> {
        let mut head = Request::new(());
        *head.method_mut() = parts.method.clone();
        *head.uri_mut() = parts.uri.clone();
        *head.version_mut() = parts.version;
        *head.headers_mut() = parts.headers.clone();
        // HTTP/2's `:protocol` (RFC 8441), which the validation reads.
        if let Some(protocol) = parts.extensions.get::<::hyper::ext::Protocol>() {
            head.extensions_mut().insert(protocol.clone());
        }
        // The core's validation, with defaults: the choices made later
        // (subprotocols, extensions) cannot make a valid request invalid.
        let _validated = Upgrader::new().prepare(&head)?;
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(UpgradeError::NotUpgradable)?;
        Ok(Self {
            upgrader: Upgrader::new(),
            head,
            on_upgrade,
            on_failed_upgrade: DefaultOnFailedUpgrade,
        })
    }
}

impl<F: OnFailedUpgrade> WebSocketUpgrade<F> {
    /// The subprotocols this server speaks; see [`Upgrader::protocols`].
    ///
    /// ```
    /// use axum::response::Response;
    /// use wsproto::axum::WebSocketUpgrade;
    ///
    /// async fn chat(ws: WebSocketUpgrade) -> Response {
    ///     ws.protocols(["chat.v2", "chat.v1"]).on_upgrade(|ws| async move {
    ///         // ws.subprotocol() is the one agreed, if any
    ///         # let _ = ws;
    ///     })
    /// }
    /// # let _ = axum::Router::<()>::new().route("/", axum::routing::get(chat));
    /// ```
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.upgrader = self.upgrader.protocols(protocols);
        self
    }

    /// The subprotocol that will be selected, from the client's offers and
    /// [`protocols`](Self::protocols).
    ///
    /// ```
    /// use axum::response::Response;
    /// use wsproto::axum::WebSocketUpgrade;
    ///
    /// async fn chat(ws: WebSocketUpgrade) -> Response {
    ///     let ws = ws.protocols(["chat.v1"]);
    ///     if ws.selected_protocol().is_none() {
    ///         // The client speaks none of ours: refuse rather than guess.
    ///         return http::StatusCode::BAD_REQUEST.into_response();
    ///     }
    ///     ws.on_upgrade(|_ws| async move {})
    /// }
    /// # use axum::response::IntoResponse;
    /// # let _ = axum::Router::<()>::new().route("/", axum::routing::get(chat));
    /// ```
    pub fn selected_protocol(&self) -> Option<&str> {
        self.upgrader.selected_protocol(self.head.headers())
    }

    /// The protocol settings: limits, message mode, automatic replies.
    ///
    /// ```
    /// use axum::response::Response;
    /// use wsproto::axum::WebSocketUpgrade;
    /// use wsproto::Config;
    ///
    /// async fn upload(ws: WebSocketUpgrade) -> Response {
    ///     ws.config(Config::default().with_max_message_size(1 << 30))
    ///         .on_upgrade(|_ws| async move {})
    /// }
    /// # let _ = axum::Router::<()>::new().route("/", axum::routing::get(upload));
    /// ```
    pub fn config(mut self, config: Config) -> Self {
        self.upgrader = self.upgrader.config(config);
        self
    }

    /// The adapter's settings: timeouts, keepalive, back-pressure.
    ///
    /// ```
    /// use axum::response::Response;
    /// use wsproto::axum::WebSocketUpgrade;
    /// use std::time::Duration;
    /// use wsproto::stream::StreamConfig;
    ///
    /// async fn live(ws: WebSocketUpgrade) -> Response {
    ///     let keepalive = StreamConfig::default().with_keepalive(Duration::from_secs(20), Duration::from_secs(10));
    ///     ws.stream_config(keepalive).on_upgrade(|_ws| async move {})
    /// }
    /// # let _ = axum::Router::<()>::new().route("/", axum::routing::get(live));
    /// ```
    pub fn stream_config(mut self, config: StreamConfig) -> Self {
        self.upgrader = self.upgrader.stream_config(config);
        self
    }

    /// Supports an extension, negotiated from the client's offers.
    ///
    /// ```
    /// use axum::response::Response;
    /// use wsproto::axum::WebSocketUpgrade;
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> Response {
    ///     let deflate = PerMessageDeflate::new(DeflateConfig::default().with_level(6));
    ///     ws.extension(deflate).on_upgrade(|_ws| async move {})
    /// }
    /// # let _ = axum::Router::<()>::new().route("/", axum::routing::get(handler));
    /// ```
    pub fn extension(mut self, extension: impl Extension + 'static) -> Self {
        self.upgrader = self.upgrader.extension(extension);
        self
    }

    /// Supports permessage-deflate (RFC 7692) with `config`.
    ///
    /// ```
    /// use axum::response::Response;
    /// use wsproto::axum::WebSocketUpgrade;
    /// use wsproto::extensions::DeflateConfig;
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> Response {
    ///     ws.deflate(DeflateConfig::default()).on_upgrade(|_ws| async move {})
    /// }
    /// # let _ = axum::Router::<()>::new().route("/", axum::routing::get(handler));
    /// ```
    pub fn deflate(mut self, config: DeflateConfig) -> Self {
        self.upgrader = self.upgrader.deflate(config);
        self
    }

    /// What to do when hyper cannot hand the connection over after the 101
    /// (the client went away first): by default, nothing.
    ///
    /// ```
    /// use axum::response::Response;
    /// use wsproto::axum::WebSocketUpgrade;
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> Response {
    ///     ws.on_failed_upgrade(|err: hyper::Error| eprintln!("upgrade failed: {err}"))
    ///         .on_upgrade(|_ws| async move {})
    /// }
    /// # let _ = axum::Router::<()>::new().route("/", axum::routing::get(handler));
    /// ```
    pub fn on_failed_upgrade<C: OnFailedUpgrade>(self, callback: C) -> WebSocketUpgrade<C> {
        WebSocketUpgrade {
            upgrader: self.upgrader,
            head: self.head,
            on_upgrade: self.on_upgrade,
            on_failed_upgrade: callback,
        }
    }

    /// Returns the response for the handler to return (101 Switching
    /// Protocols over HTTP/1.1, 200 to an HTTP/2 extended CONNECT), and
    /// spawns a task that runs `callback` with the stream once hyper hands
    /// the connection (or the HTTP/2 stream) over.
    ///
    /// ```
    /// use axum::{Router, response::Response, routing::get};
    /// use futures_util::{SinkExt, StreamExt};
    /// use wsproto::axum::WebSocketUpgrade;
    /// use wsproto::stream::Message;
    ///
    /// async fn echo(ws: WebSocketUpgrade) -> Response {
    ///     ws.on_upgrade(|mut ws| async move {
    ///         while let Some(Ok(message)) = ws.next().await {
    ///             if message.is_text() && ws.send(message).await.is_err() {
    ///                 break;
    ///             }
    ///         }
    ///     })
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// tokio::spawn(axum::serve(listener, Router::new().route("/ws", get(echo).connect(echo))).into_future());
    ///
    /// let (mut ws, _) = wsproto::connect(&format!("ws://{addr}/ws")).await?;
    /// ws.send(Message::text("hello")).await?;
    /// assert_eq!(ws.next().await.transpose()?, Some(Message::text("hello")));
    /// # Ok(()) }
    /// ```
    pub fn on_upgrade<C, Fut>(self, callback: C) -> Response
    where
        C: FnOnce(UpgradedStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Self {
            upgrader,
            head,
            on_upgrade,
            on_failed_upgrade,
        } = self;
        let (response, open, handover) = match upgrader.prepare(&head) {
            Ok(prepared) => prepared,
            Err(err) => return err.into_response(),
        };
        let future = UpgradeFuture::new(on_upgrade, open, handover);
        tokio::spawn(async move {
            match future.await {
                Ok(ws) => callback(ws).await,
                Err(err) => on_failed_upgrade.call(err),
            }
        });
        response.map(|()| Body::empty())
    }
}

impl IntoResponse for UpgradeError {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

/// What [`WebSocketUpgrade::on_failed_upgrade`] runs: any
/// `FnOnce(hyper::Error) + Send + 'static`.
pub trait OnFailedUpgrade: Send + 'static {
    /// Called with hyper's error.
    fn call(self, error: ::hyper::Error);
}

impl<F: FnOnce(::hyper::Error) + Send + 'static> OnFailedUpgrade for F {
    fn call(self, error: ::hyper::Error) {
        self(error);
    }
}

/// The default [`OnFailedUpgrade`]: does nothing.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct DefaultOnFailedUpgrade;

impl OnFailedUpgrade for DefaultOnFailedUpgrade {
    fn call(self, _error: ::hyper::Error) {}
}
