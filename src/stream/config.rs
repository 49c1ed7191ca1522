//! The adapter's own settings: timeouts, keepalive, back-pressure and the
//! read size. Protocol limits stay in [`Config`](crate::Config).

use std::time::Duration;

/// How a [`WebSocketStream`](super::WebSocketStream) drives its transport.
///
/// ```
/// use std::time::Duration;
/// use wsproto::stream::StreamConfig;
/// let config = StreamConfig::default()
///     .with_keepalive(Duration::from_secs(30), Duration::from_secs(10))
///     .with_close_timeout(Duration::from_secs(2));
/// assert_eq!(config.write_high_water, 64 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamConfig {
    /// How long to wait for the peer's close frame after ours was sent, and
    /// for a client, for the server to end the transport after the close
    /// handshake (RFC 6455 §7.1.1). When it expires the transport is shut
    /// down and the stream ends with [`Error::CloseTimeout`](super::Error::CloseTimeout).
    /// Default 5 s.
    pub close_timeout: Duration,
    /// Send a ping after this long without one: the keepalive. `None` (the
    /// default) sends none.
    pub keepalive_interval: Option<Duration>,
    /// How long a keepalive ping may go without a pong. Past it, a close
    /// frame with code 1011 is sent, the transport is shut down and the
    /// stream ends with [`Error::KeepaliveTimeout`](super::Error::KeepaliveTimeout).
    /// Default 10 s.
    pub keepalive_timeout: Duration,
    /// The back-pressure mark. The sink's `poll_ready` waits while more than
    /// this many bytes are queued to write; the stream stops reading while
    /// the pongs its reading queued are over it and the transport takes
    /// nothing. Against a peer that never reads, what is queued is then at
    /// most this, plus one message, plus the pongs of one read. (The
    /// connection's [`Config::max_outgoing_buffer`](crate::Config::max_outgoing_buffer)
    /// stays the hard limit.) Default 64 KiB.
    pub write_high_water: usize,
    /// The most bytes read from the transport at once. Default 64 KiB.
    pub read_size: usize,
    /// After the close handshake and our end of the transport, keep
    /// reading (and discarding) until the peer ends its side too, within
    /// [`close_timeout`](Self::close_timeout), before the stream ends.
    ///
    /// For a WebSocket on one stream of an HTTP/2 or HTTP/3 connection
    /// (RFC 8441, RFC 9220): a server that drops its stream while the
    /// client's half is still open resets it (RST_STREAM), and the client
    /// may see the reset as a failed write of its last frames.
    /// `wsproto::hyper` turns it on for an extended CONNECT. Default `false`: over TCP the
    /// server closes first (RFC 6455 §7.1.1) and the client waits for it.
    pub read_to_end_after_close: bool,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            close_timeout: Duration::from_secs(5),
            keepalive_interval: None,
            keepalive_timeout: Duration::from_secs(10),
            write_high_water: 64 * 1024,
            read_size: 64 * 1024,
            read_to_end_after_close: false,
        }
    }
}

impl StreamConfig {
    /// Sets [`close_timeout`](Self::close_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsproto::stream::StreamConfig;
    ///
    /// let config = StreamConfig::default().with_close_timeout(Duration::from_secs(1));
    /// assert_eq!(config.close_timeout, Duration::from_secs(1));
    /// ```
    #[must_use]
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Turns the keepalive on: a ping every `interval`, each to be answered
    /// within `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsproto::stream::StreamConfig;
    ///
    /// // Ping every 20 s; fail the connection if a pong takes over 5 s.
    /// let config = StreamConfig::default().with_keepalive(Duration::from_secs(20), Duration::from_secs(5));
    /// assert_eq!(config.keepalive_interval, Some(Duration::from_secs(20)));
    /// ```
    #[must_use]
    pub fn with_keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.keepalive_interval = Some(interval);
        self.keepalive_timeout = timeout;
        self
    }

    /// Sets [`write_high_water`](Self::write_high_water).
    ///
    /// ```
    /// use wsproto::stream::StreamConfig;
    ///
    /// // Let up to 1 MiB queue before `send` waits for the transport.
    /// let config = StreamConfig::default().with_write_high_water(1 << 20);
    /// assert_eq!(config.write_high_water, 1 << 20);
    /// ```
    #[must_use]
    pub fn with_write_high_water(mut self, bytes: usize) -> Self {
        self.write_high_water = bytes;
        self
    }

    /// Sets [`read_size`](Self::read_size).
    ///
    /// ```
    /// use wsproto::stream::StreamConfig;
    ///
    /// let config = StreamConfig::default().with_read_size(16 * 1024);
    /// assert_eq!(config.read_size, 16 * 1024);
    /// ```
    #[must_use]
    pub fn with_read_size(mut self, bytes: usize) -> Self {
        self.read_size = bytes;
        self
    }

    /// Sets [`read_to_end_after_close`](Self::read_to_end_after_close), for
    /// a WebSocket on an HTTP/2 or HTTP/3 stream.
    ///
    /// ```
    /// use wsproto::stream::StreamConfig;
    ///
    /// let config = StreamConfig::default().with_read_to_end_after_close(true);
    /// assert!(config.read_to_end_after_close);
    /// ```
    #[must_use]
    pub fn with_read_to_end_after_close(mut self, read: bool) -> Self {
        self.read_to_end_after_close = read;
        self
    }
}
