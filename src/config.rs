//! Connection limits and behaviour switches, with their defaults.

/// How data messages are reported. Non-exhaustive: a mode may be added
/// without breaking a `match` that has a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MessageMode {
    /// Reassemble each message and report it once, whole
    /// ([`Event::Text`](crate::Event::Text) / [`Event::Binary`](crate::Event::Binary)).
    #[default]
    Whole,
    /// Report each piece of payload as it arrives
    /// ([`Event::TextChunk`](crate::Event::TextChunk) /
    /// [`Event::BinaryChunk`](crate::Event::BinaryChunk)), with
    /// `frame_finished` and `message_finished` flags as in Python wsproto.
    /// Memory stays bounded by the read size, whatever the message size:
    /// compressed messages are inflated as their bytes arrive, at most
    /// 64 KiB per event, so only the inflater's window is added.
    Streaming,
    /// Report each data frame, or the piece of it that has arrived, as an
    /// [`Event::Frame`](crate::Event::Frame), for proxies: no message is
    /// reassembled and no extension transforms anything (compressed frames
    /// keep their RSV1 bit and bytes). Forward frames with
    /// [`Open::send_frame`](crate::Open::send_frame). Memory stays bounded
    /// by the read size. See [`relay`](crate::relay) for what is checked.
    /// On the async adapter (`wsproto::stream`) they are
    /// `Message::Frame`, yielded and sent like any other message.
    Frames,
}

/// Limits and switches of a connection. Every buffer the connection owns is
/// bounded by one of these limits.
///
/// ```
/// let mut config = wsproto::Config::default();
/// config.max_message_size = 1 << 20;
/// assert_eq!(config.max_frame_size, 16 << 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Largest frame payload accepted; a larger declared length fails the
    /// connection with 1009 before any payload is read. Default 16 MiB.
    pub max_frame_size: u64,
    /// Largest message accepted, summed over its fragments and counted after
    /// decompression; more fails the connection with 1009. Default 64 MiB.
    /// Only whole-message mode buffers a message; streaming mode still
    /// enforces the limit.
    pub max_message_size: u64,
    /// Largest number of bytes the outgoing buffer may hold; a send that
    /// would go over returns [`LocalError::OutgoingBufferFull`](crate::LocalError::OutgoingBufferFull)
    /// until the caller drains it. Default 128 MiB.
    pub max_outgoing_buffer: usize,
    /// Largest number of received bytes buffered before they are decoded.
    /// Once the buffer holds this many, `receive` and `receive_buffer`
    /// return [`LocalError::ReceiveBufferFull`](crate::LocalError::ReceiveBufferFull)
    /// until `poll_event` has decoded them: the back-pressure signal for a
    /// caller that reads faster than it polls. A frame that must be held
    /// whole (a control frame, or a data frame in whole-message mode) may
    /// take its full length, up to `max_frame_size`, beyond this. One read
    /// may go past the limit: the check is made before the bytes are added.
    /// The limit is never below 14 bytes, the longest frame header, so a
    /// connection can always make progress. Default 1 MiB.
    ///
    /// The bytes may sit in two allocations: after a frame held whole, the
    /// next frame can start in a buffer of its own (the one the message
    /// before last was received in, when its payloads are dropped, or one
    /// at most twice the bytes in hand), so that it is never moved to make
    /// room. The limit counts both.
    pub max_receive_buffer: usize,
    /// Whole messages or streamed pieces. Default whole.
    pub message_mode: MessageMode,
    /// Queue a pong for every ping received. When the outgoing buffer is
    /// full, pongs are coalesced into one for the latest ping, as RFC 6455
    /// §5.5.3 allows, so a ping flood costs bounded memory. Default on.
    pub auto_pong: bool,
    /// Queue the close reply, echoing the peer's code and reason, as soon as the peer's
    /// close frame arrives (RFC 6455 §5.5.1: the endpoint "MUST send a Close
    /// frame in response"). Turn off to send the reply yourself with
    /// `close`, as Python wsproto does. Default on.
    pub auto_close: bool,
    /// Largest HTTP head (request or response line plus headers) accepted in
    /// the opening handshake; a server answers 431 when over. Default 16 KiB.
    pub max_handshake_size: usize,
    /// Largest number of headers in the opening handshake; a server answers
    /// 431 when over. Default 64.
    pub max_headers: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_outgoing_buffer: 128 << 20,
            max_receive_buffer: 1 << 20,
            message_mode: MessageMode::Whole,
            auto_pong: true,
            auto_close: true,
            max_handshake_size: 16 << 10,
            max_headers: 64,
        }
    }
}

impl Config {
    /// Sets [`Config::max_frame_size`].
    ///
    /// ```
    /// use wsproto::{CloseCode, Config, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default().with_max_frame_size(100), Vec::new());
    /// ws.receive(&[0x82, 0xfe, 0x01, 0x00, 0, 0, 0, 0])?; // declares a 256-byte payload
    /// let err = ws.poll_event().unwrap_err(); // refused before any payload is read
    /// assert_eq!(err.code, CloseCode::MESSAGE_TOO_BIG);
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    #[must_use]
    pub fn with_max_frame_size(mut self, bytes: u64) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`Config::max_message_size`].
    ///
    /// ```
    /// use wsproto::{Client, CloseCode, Config, MessageKind, Open, Server};
    ///
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = Open::<Server>::new(Config::default().with_max_message_size(4), Vec::new());
    /// client.send_fragment(MessageKind::Binary, b"abc", false)?;
    /// client.send_fragment(MessageKind::Binary, b"de", true)?; // 5 bytes in all
    /// server.receive(&client.take_outgoing())?;
    /// assert_eq!(server.poll_event().unwrap_err().code, CloseCode::MESSAGE_TOO_BIG);
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    #[must_use]
    pub fn with_max_message_size(mut self, bytes: u64) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`Config::max_outgoing_buffer`].
    ///
    /// ```
    /// use wsproto::{Config, LocalError, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default().with_max_outgoing_buffer(8), Vec::new());
    /// ws.send_text("four")?; // 6 bytes queued
    /// assert!(matches!(ws.send_text("four"), Err(LocalError::OutgoingBufferFull { .. })));
    /// let _ = ws.take_outgoing(); // the transport took them: room again
    /// ws.send_text("four")?;
    /// # Ok::<(), LocalError>(())
    /// ```
    #[must_use]
    pub fn with_max_outgoing_buffer(mut self, bytes: usize) -> Self {
        self.max_outgoing_buffer = bytes;
        self
    }

    /// Sets [`Config::max_receive_buffer`].
    ///
    /// ```
    /// use wsproto::{Config, LocalError, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default().with_max_receive_buffer(16), Vec::new());
    /// let ping = [0x89, 0x80, 0, 0, 0, 0]; // a masked, empty ping
    /// ws.receive(&ping.repeat(3))?; // one read may go past the limit
    /// assert!(matches!(ws.receive(&ping), Err(LocalError::ReceiveBufferFull { .. })));
    /// while ws.poll_event().map_or(false, |e| e.is_some()) {}
    /// ws.receive(&ping)?; // decoded: room again
    /// # Ok::<(), LocalError>(())
    /// ```
    #[must_use]
    pub fn with_max_receive_buffer(mut self, bytes: usize) -> Self {
        self.max_receive_buffer = bytes;
        self
    }

    /// Sets [`Config::message_mode`].
    ///
    /// ```
    /// use wsproto::{Client, Config, Event, MessageKind, MessageMode, Open, Server};
    ///
    /// let streaming = Config::default().with_message_mode(MessageMode::Streaming);
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = Open::<Server>::new(streaming, Vec::new());
    /// client.send_fragment(MessageKind::Text, b"hel", false)?;
    /// client.send_fragment(MessageKind::Text, b"lo", true)?;
    /// server.receive(&client.take_outgoing())?;
    /// let mut pieces = Vec::new();
    /// while let Some(Event::TextChunk { data, message_finished, .. }) = server.poll_event()? {
    ///     pieces.push(data);
    ///     if message_finished {
    ///         break;
    ///     }
    /// }
    /// assert_eq!(pieces, ["hel", "lo"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_message_mode(mut self, mode: MessageMode) -> Self {
        self.message_mode = mode;
        self
    }

    /// Sets [`Config::auto_pong`].
    ///
    /// ```
    /// use wsproto::{Config, Event, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default().with_auto_pong(false), Vec::new());
    /// ws.receive(&[0x89, 0x80, 0, 0, 0, 0])?; // a masked, empty ping
    /// assert!(matches!(ws.poll_event()?, Some(Event::Ping(_))));
    /// assert_eq!(ws.outgoing_len(), 0); // no pong queued: send_pong is yours to call
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Sets [`Config::auto_close`]; see [`RemoteClosing::close`](crate::RemoteClosing::close)
    /// for the reply.
    ///
    /// ```
    /// use wsproto::{Config, Event, Open, Server, WebSocket};
    ///
    /// let mut ws = Open::<Server>::new(Config::default().with_auto_close(false), Vec::new());
    /// ws.receive(&[0x88, 0x80, 0, 0, 0, 0])?; // a masked close frame, no code
    /// assert!(matches!(ws.poll_event()?, Some(Event::Close(_))));
    /// assert_eq!(ws.outgoing_len(), 0); // no reply queued yet
    /// assert!(matches!(ws.next_phase(), WebSocket::RemoteClosing(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_auto_close(mut self, on: bool) -> Self {
        self.auto_close = on;
        self
    }
}
