//! A client that opens its own connection: [`connect`] takes a `ws://` or
//! `wss://` URL, resolves and connects over TCP, runs TLS for `wss://` (the
//! `rustls` feature), then the opening handshake, and returns a
//! [`WebSocketStream`]. Needs the `tokio` feature.
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use wsproto::stream::Message;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (mut ws, _response) = wsproto::connect("ws://127.0.0.1:9001/").await?;
//! ws.send(Message::text("hello")).await?;
//! if let Some(reply) = ws.next().await.transpose()? {
//!     println!("{reply:?}");
//! }
//! ws.close(None).await?;
//! # Ok(()) }
//! ```
//!
//! [`connect_with`] takes an `http::Request` for extra headers and
//! subprotocols, the protocol settings, the extensions to offer (such as
//! permessage-deflate) and the adapter's settings. A [`Connector`] chooses
//! how `wss://` is reached: [`Connector::Rustls`][rustls-variant] (the
//! `rustls` feature) with a
//! `rustls::ClientConfig` of your own (say, one that trusts a private CA);
//! the default trusts Mozilla's roots from `webpki-roots`.
//!
//! Over a transport you opened yourself (a proxy tunnel, a Unix socket),
//! use [`client_async`](crate::stream::client_async) instead.
//!
//! # Errors
//!
//! Each way of failing has its own [`ConnectError`] variant: a bad URL, a
//! TCP connection that could not be made, `wss://` without TLS support, a
//! failed TLS handshake, a server that declined the upgrade, and a response
//! that broke the handshake rules.
//!
#![cfg_attr(feature = "rustls", doc = "[rustls-variant]: Connector::Rustls")]
#![cfg_attr(not(feature = "rustls"), doc = "[rustls-variant]: Connector")]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::config::Config;
use crate::error::HandshakeError;
use crate::extensions::Extension;
use crate::handshake::Target;
use crate::role::Client;
use crate::stream::{self, StreamConfig, WebSocketStream};

/// What [`connect`] returns: the open stream and the server's 101 response.
pub type Connected = (
    WebSocketStream<MaybeTlsStream<TcpStream>, Client>,
    Response<()>,
);

/// Connects to a `ws://` or `wss://` URL with the default settings, no
/// extensions and no subprotocol.
///
/// ```
/// use futures_util::{SinkExt, StreamExt};
/// use wsproto::stream::{self, Message};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let addr = listener.local_addr()?;
/// # tokio::spawn(async move {
/// #     let mut ws = stream::accept(listener.accept().await?.0).await?;
/// #     while let Some(Ok(m)) = ws.next().await { if m.is_text() { ws.send(m).await?; } }
/// #     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
/// # });
/// let (mut ws, response) = wsproto::connect(&format!("ws://{addr}/")).await?;
/// assert_eq!(response.status(), 101);
/// ws.send(Message::text("hello")).await?;
/// assert_eq!(ws.next().await.transpose()?, Some(Message::text("hello")));
/// # Ok(()) }
/// ```
///
/// The TCP connection has `TCP_NODELAY` set: WebSocket messages are written
/// whole, so Nagle's algorithm would only delay them.
///
/// # Errors
///
/// See [`ConnectError`]: each variant names one way of failing.
pub async fn connect(url: &str) -> Result<Connected, ConnectError> {
    Target::from_url(url).map_err(ConnectError::InvalidUrl)?;
    let request = Request::get(url)
        .body(())
        .map_err(|_| ConnectError::InvalidUrl(HandshakeError::local("invalid URL")))?;
    connect_with(
        request,
        Config::default(),
        Vec::new(),
        StreamConfig::default(),
    )
    .await
}

/// Connects with chosen settings: `request` is a `ws://` or `wss://` URI
/// with any extra headers (`Sec-WebSocket-Protocol` to offer subprotocols,
/// `Authorization`, …); `config` holds the protocol limits, `extensions` the
/// extensions to offer, `stream_config` the adapter's timeouts and
/// back-pressure. `wss://` goes through [`Connector::default`].
///
/// ```no_run
/// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
/// use wsproto::stream::StreamConfig;
///
/// # async fn run() -> Result<(), wsproto::connect::ConnectError> {
/// let request = http::Request::get("wss://example.com/chat")
///     .header("sec-websocket-protocol", "chat.v2")
///     .body(())
///     .unwrap();
/// let deflate = PerMessageDeflate::new(DeflateConfig::default());
/// let (ws, response) = wsproto::connect_with(
///     request,
///     wsproto::Config::default(),
///     vec![Box::new(deflate)],
///     StreamConfig::default(),
/// )
/// .await?;
/// println!("subprotocol {:?}, extensions {:?}", ws.subprotocol(), ws.extensions());
/// # let _ = response; Ok(()) }
/// ```
///
/// # Errors
///
/// See [`ConnectError`].
pub async fn connect_with(
    request: Request<()>,
    config: Config,
    extensions: Vec<Box<dyn Extension>>,
    stream_config: StreamConfig,
) -> Result<Connected, ConnectError> {
    Connector::default()
        .connect(request, config, extensions, stream_config)
        .await
}

/// How `wss://` URLs are reached. `ws://` URLs are plain TCP whatever the
/// connector.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Connector {
    /// TCP only: a `wss://` URL fails with [`ConnectError::TlsNotEnabled`].
    Plain,
    /// TLS with rustls and this configuration: your roots, client
    /// certificates, ALPN…
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    Rustls(std::sync::Arc<rustls::ClientConfig>),
}

impl Default for Connector {
    /// With the `rustls` feature: rustls (the ring provider, TLS 1.2 and
    /// 1.3) trusting Mozilla's root certificates from `webpki-roots`,
    /// built once per process. Without it: [`Connector::Plain`].
    fn default() -> Self {
        #[cfg(feature = "rustls")]
        {
            Self::Rustls(tls::default_config())
        }
        #[cfg(not(feature = "rustls"))]
        {
            Self::Plain
        }
    }
}

impl Connector {
    /// Connects as [`connect_with`] does, reaching `wss://` through this
    /// connector.
    ///
    /// ```no_run
    /// # #[cfg(feature = "rustls")]
    /// # async fn run(my_roots: rustls::RootCertStore) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use wsproto::connect::Connector;
    ///
    /// let provider = Arc::new(rustls::crypto::ring::default_provider());
    /// let tls = rustls::ClientConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()?
    ///     .with_root_certificates(my_roots)
    ///     .with_no_client_auth();
    /// let request = http::Request::get("wss://localhost:8443/").body(())?;
    /// let (ws, _) = Connector::Rustls(Arc::new(tls))
    ///     .connect(request, Default::default(), Vec::new(), Default::default())
    ///     .await?;
    /// # let _ = ws; Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// See [`ConnectError`].
    pub async fn connect(
        &self,
        request: Request<()>,
        config: Config,
        extensions: Vec<Box<dyn Extension>>,
        stream_config: StreamConfig,
    ) -> Result<Connected, ConnectError> {
        // One strict parse of where to go (ws or wss, host, port); the
        // handshake then takes the request as it is.
        let target =
            Target::from_url(&request.uri().to_string()).map_err(ConnectError::InvalidUrl)?;
        let io = self.open(&target).await?;
        stream::client_async_with(request, io, config, extensions, stream_config)
            .await
            .map_err(ConnectError::from)
    }

    /// Opens the transport to `target` (from
    /// [`Pending::target`](crate::Pending::target) or
    /// [`Target::from_url`]): TCP with `TCP_NODELAY`, and TLS over it for
    /// `wss://`. No handshake is run: for driving the sans-IO core over it
    /// yourself, as `examples/proxy.rs` does with its backend leg.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use wsproto::connect::Connector;
    /// use wsproto::handshake::Target;
    ///
    /// let target = Target::from_url("wss://example.com/chat")?;
    /// let transport = Connector::default().open(&target).await?;
    /// // write the request from `Pending::<Client>::new`, read the response...
    /// # let _ = transport; Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConnectError::Connect`], [`ConnectError::TlsNotEnabled`] or
    /// [`ConnectError::Tls`].
    pub async fn open(&self, target: &Target) -> Result<MaybeTlsStream<TcpStream>, ConnectError> {
        if target.tls && matches!(self, Self::Plain) {
            return Err(ConnectError::TlsNotEnabled);
        }
        let tcp = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(ConnectError::Connect)?;
        tcp.set_nodelay(true).map_err(ConnectError::Connect)?;
        match self {
            _ if !target.tls => Ok(MaybeTlsStream::Plain(tcp)),
            Self::Plain => Err(ConnectError::TlsNotEnabled),
            #[cfg(feature = "rustls")]
            Self::Rustls(config) => tls::handshake(config, &target.host, tcp)
                .await
                .map(MaybeTlsStream::Rustls),
        }
    }
}

/// Why [`connect`] failed. Each variant is one stage of connecting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a valid `ws://` or `wss://` URL (RFC 6455 §3): no
    /// scheme or another one, no host, user info, a bad port; or the host
    /// cannot be a TLS server name. Nothing was sent.
    #[error("invalid WebSocket URL: {}", .0.reason)]
    InvalidUrl(HandshakeError),
    /// The TCP connection could not be made: the name did not resolve, the
    /// connection was refused or timed out.
    #[error("could not connect: {0}")]
    Connect(io::Error),
    /// A `wss://` URL, but TLS is not available: the crate was built
    /// without the `rustls` feature, or the [`Connector`] is
    /// [`Plain`](Connector::Plain).
    #[error("wss:// needs TLS: enable wsproto's `rustls` feature, or use a TLS Connector")]
    TlsNotEnabled,
    /// The TLS handshake failed: an untrusted or mismatched certificate, a
    /// server that does not speak TLS, no common protocol version… The
    /// [`rustls::Error`](https://docs.rs/rustls/latest/rustls/enum.Error.html),
    /// when there is one, is the I/O error's inner error.
    #[error("TLS handshake failed: {0}")]
    Tls(io::Error),
    /// The server declined the upgrade with this response (its status is
    /// not 101), body included up to
    /// [`MAX_REJECTION_BODY`](crate::stream::handshake::MAX_REJECTION_BODY) bytes.
    #[error("the server declined the upgrade with status {}", .0.status())]
    Rejected(Box<Response<Bytes>>),
    /// The server's response broke the opening handshake's rules (RFC 6455
    /// §4.1: a wrong `Sec-WebSocket-Accept`, an extension or subprotocol that
    /// was not offered…), or was not HTTP at all.
    #[error(transparent)]
    Handshake(HandshakeError),
    /// The transport failed or ended during the opening handshake.
    #[error("I/O error during the handshake: {0}")]
    Io(io::Error),
}

impl From<stream::Error> for ConnectError {
    fn from(err: stream::Error) -> Self {
        match err {
            stream::Error::Rejected(response) => Self::Rejected(response),
            stream::Error::Handshake(err) => Self::Handshake(err),
            stream::Error::Io(err) => Self::Io(err),
            // The client handshake fails in no other way; should it ever,
            // its message is kept.
            other => Self::Io(io::Error::other(other)),
        }
    }
}

/// A TCP stream, or TLS over it: the transport [`connect`] opens.
// One per connection, held for its whole life: boxing the TLS state would
// only add an indirection to every read and write.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream<S> {
    /// `ws://`: the stream itself.
    Plain(S),
    /// `wss://`: TLS by rustls.
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    Rustls(tokio_rustls::client::TlsStream<S>),
}

impl<S> MaybeTlsStream<S> {
    /// The stream under any TLS, say for its peer address.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let addr = listener.local_addr()?;
    /// # tokio::spawn(async move { wsproto::stream::accept(listener.accept().await?.0).await.map(drop) });
    /// let (ws, _) = wsproto::connect(&format!("ws://{addr}/")).await?;
    /// let tcp: &tokio::net::TcpStream = ws.get_ref().get_ref();
    /// assert_eq!(tcp.peer_addr()?, addr);
    /// # Ok(()) }
    /// ```
    pub fn get_ref(&self) -> &S {
        match self {
            Self::Plain(io) => io,
            #[cfg(feature = "rustls")]
            Self::Rustls(tls) => tls.get_ref().0,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTlsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(io) => Pin::new(io).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Rustls(tls) => Pin::new(tls).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTlsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(io) => Pin::new(io).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Rustls(tls) => Pin::new(tls).poll_write(cx, buf),
        }
    }

    // The adapter writes every queued frame in one vectored write.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            Self::Rustls(tls) => Pin::new(tls).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(io) => io.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Self::Rustls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(io) => Pin::new(io).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Self::Rustls(tls) => Pin::new(tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(io) => Pin::new(io).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            Self::Rustls(tls) => Pin::new(tls).poll_shutdown(cx),
        }
    }
}

/// rustls: the default configuration and the client handshake.
#[cfg(feature = "rustls")]
mod tls {
    use std::sync::{Arc, OnceLock};

    use rustls::ClientConfig;
    use rustls::pki_types::ServerName;
    use tokio::net::TcpStream;
    use tokio_rustls::TlsConnector;
    use tokio_rustls::client::TlsStream;

    use super::ConnectError;
    use crate::error::HandshakeError;

    /// rustls with the ring provider and Mozilla's roots, made once. The
    /// provider is named rather than taken from the process default, so
    /// another crate that enables aws-lc-rs cannot make the choice
    /// ambiguous.
    pub(super) fn default_config() -> Arc<ClientConfig> {
        static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
        CONFIG
            .get_or_init(|| {
                let roots = rustls::RootCertStore::from_iter(
                    webpki_roots::TLS_SERVER_ROOTS.iter().cloned(),
                );
                let config = ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                // ring's provider has cipher suites for TLS 1.2 and 1.3,
                // the safe defaults, so this cannot fail.
                .expect("the ring provider supports TLS 1.2 and 1.3")
                .with_root_certificates(roots)
                .with_no_client_auth();
                Arc::new(config)
            })
            .clone()
    }

    /// The TLS client handshake over `tcp`, checking the certificate
    /// against `host` (a DNS name or an IP address).
    pub(super) async fn handshake(
        config: &Arc<ClientConfig>,
        host: &str,
        tcp: TcpStream,
    ) -> Result<TlsStream<TcpStream>, ConnectError> {
        let name = ServerName::try_from(host.to_owned()).map_err(|_| {
            ConnectError::InvalidUrl(HandshakeError::local("host is not a valid TLS server name"))
        })?;
        TlsConnector::from(Arc::clone(config))
            .connect(name, tcp)
            .await
            .map_err(ConnectError::Tls)
    }
}
