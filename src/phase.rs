//! Connection phases as types, and the typed transitions between them.
//!
//! ```text
//!                      what the caller decides ═══▶     what the peer decides ───▶
//!
//!  Pending<R> ══accept / receive══▶ Open<R> ═════close()═════▶ Closing<R>
//!  (handshake)                       │  │                          │  │
//!                                    │  └─peer's close──┐          │  └─peer's close, EOF,──┐
//!                                    │   (auto_close    │          │    protocol error      │
//!                                    │    off)          ▼          │                        ▼
//!                                    │        RemoteClosing<R> ══close()══════════════▶ Closed<R>
//!                                    │                                                    ▲
//!                                    └─peer's close (auto_close on), EOF, protocol error──┘
//! ```
//!
//! - Only [`Open`] has `send_*` methods, and `close` consumes it, so sending
//!   after our close, or in any later phase, does not compile.
//! - What the caller decides changes the type at once: [`Open::close`]
//!   returns a [`Closing`], [`RemoteClosing::close`] a [`Closed`].
//! - What the peer decides (its close frame, the end of the transport, a
//!   protocol error) happens inside `poll_event`, which takes `&mut self` on
//!   the hot path. It shows in the types when the caller asks:
//!   [`Connection::next_phase`] returns a [`WebSocket`], the enum of every
//!   phase, with the variant that matches what happened (the rustls way).
//! - To hold one connection in a struct field for its whole life, keep the
//!   [`WebSocket`] itself: its methods work in every phase and move it to the
//!   next phase in place, with no `mem::replace` on the caller's side.
//!
//! The runtime state behind the types is one [`State`] with one transition
//! table, in [`lifecycle`](crate::lifecycle).
//!
//! ```
//! use wsproto::{Client, CloseCode, Config, Event, Open, Server, WebSocket};
//!
//! let mut client = Open::<Client>::new(Config::default(), Vec::new());
//! let mut server = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
//!
//! let closing = client.close(CloseCode::NORMAL, "bye"); // a Closing<Client>
//! server.receive(&closing_bytes(closing))?;
//! assert!(matches!(server.poll_event()?, Some(Event::Close(_))));
//! // The close reply was queued automatically: the server is closed.
//! let WebSocket::Closed(closed) = &server else { panic!("{server:?}") };
//! assert!(closed.was_clean());
//! # fn closing_bytes(mut c: wsproto::Closing<Client>) -> bytes::Bytes { c.take_outgoing() }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::IoSlice;
use std::marker::PhantomData;

use bytes::{Bytes, BytesMut};

use crate::config::Config;
use crate::conn::{Engine, Payload};
use crate::error::{LocalError, ProtocolError};
use crate::event::{Event, EventRef, MessageKind, Utf8Bytes};
use crate::extensions::Extension;
use crate::frame::{CloseCode, CloseFrame, Opcode};
use crate::keys::MaskKeySource;
use crate::lifecycle::State;
use crate::relay::Frame;
use crate::role::{Client, Role, Server};

mod sealed {
    pub trait Sealed {}
}

/// A connection phase marker. Sealed.
pub trait Phase: sealed::Sealed + Send + Sync + 'static {}

macro_rules! phases {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl sealed::Sealed for $name {}
        impl Phase for $name {}
    )*};
}

phases! {
    /// Marker: the connection is open; messages may be sent.
    OpenPhase;
    /// Marker: our close frame is queued; the peer's is awaited.
    ClosingPhase;
    /// Marker: the peer's close frame arrived; ours is owed.
    RemoteClosingPhase;
    /// Marker: the connection is over.
    ClosedPhase;
}

/// A WebSocket connection after the opening handshake, in role `R` and
/// phase `P`. Use the aliases [`Open`], [`Closing`], [`RemoteClosing`] and
/// [`Closed`].
///
/// The call order is the sans-IO loop:
///
/// 1. feed what the transport read: [`receive`](Self::receive) (or
///    [`receive_eof`](Self::receive_eof) when it ended);
/// 2. drain [`poll_event`](Self::poll_event) until it returns `Ok(None)` or
///    an error — after an error, stop polling;
/// 3. write out [`take_outgoing`](Self::take_outgoing) (or
///    [`outgoing_slices`](Self::outgoing_slices)), which includes automatic
///    pongs, close replies and the close frame of a protocol error;
/// 4. once [`is_closed`](Self::is_closed) and the outgoing bytes are
///    written, close the transport.
#[must_use]
pub struct Connection<R: Role, P: Phase> {
    engine: Engine<R>,
    _phase: PhantomData<P>,
}

/// An open connection: the only phase that can send messages.
pub type Open<R> = Connection<R, OpenPhase>;

/// A connection whose close frame is queued: it still receives, but sends
/// nothing more.
pub type Closing<R> = Connection<R, ClosingPhase>;

/// A connection whose peer sent its close frame while `Config::auto_close`
/// was off: reply with [`RemoteClosing::close`].
pub type RemoteClosing<R> = Connection<R, RemoteClosingPhase>;

/// A finished connection: both close frames were exchanged, the transport
/// ended, or the peer broke the protocol. What is still queued should be
/// written before the transport is closed.
pub type Closed<R> = Connection<R, ClosedPhase>;

impl<R: Role, P: Phase> std::fmt::Debug for Connection<R, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("engine", &self.engine)
            .finish()
    }
}

impl<R: Role, P: Phase> Connection<R, P> {
    fn with_engine(engine: Engine<R>) -> Self {
        Self {
            engine,
            _phase: PhantomData,
        }
    }

    fn into_phase<Q: Phase>(self) -> Connection<R, Q> {
        Connection::with_engine(self.engine)
    }

    /// Feeds bytes read from the transport. They are only buffered here;
    /// [`poll_event`](Self::poll_event) decodes them. Bytes that arrive
    /// after the peer's close, a failure or the end of the transport are
    /// discarded.
    ///
    /// ```
    /// use wsproto::{Client, Config, Event, Open, Server};
    ///
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// client.send_text("hi")?;
    /// let wire = client.take_outgoing();
    /// // Bytes may arrive in any pieces; a partial frame decodes to nothing yet.
    /// server.receive(&wire[..3])?;
    /// assert_eq!(server.poll_event()?, None);
    /// server.receive(&wire[3..])?;
    /// assert_eq!(server.poll_event()?, Some(Event::Text("hi".into())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LocalError::ReceiveBufferFull`] when `Config::max_receive_buffer`
    /// bytes are buffered and not yet decoded: poll events, then feed the
    /// same bytes again. Nothing was buffered.
    pub fn receive(&mut self, data: &[u8]) -> Result<(), LocalError> {
        self.engine.receive(data)
    }

    /// The receive buffer, so the transport can read straight into it
    /// (tokio's `read_buf`), saving the copy that `receive` makes. Reserve
    /// what you want to read; after the close it is emptied on every call.
    ///
    /// ```
    /// # use wsproto::{Config, Open, Server};
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// let buf = ws.receive_buffer()?;
    /// buf.extend_from_slice(&[0x89, 0x80, 0, 0, 0, 0]); // a masked, empty ping
    /// assert!(ws.poll_event()?.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`receive`](Self::receive): poll events before reading more.
    pub fn receive_buffer(&mut self) -> Result<&mut BytesMut, LocalError> {
        self.engine.receive_buffer()
    }

    /// How many more bytes [`receive`](Self::receive) takes before it
    /// refuses input (`usize::MAX` once input is discarded).
    ///
    /// ```
    /// use wsproto::{Config, Open, Server};
    ///
    /// let config = Config::default().with_max_receive_buffer(1024);
    /// let mut ws = Open::<Server>::new(config, Vec::new());
    /// assert_eq!(ws.receive_capacity(), 1024);
    /// ws.receive(&[0x82, 0x80])?; // the head of a masked binary frame
    /// assert_eq!(ws.receive_capacity(), 1022);
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn receive_capacity(&self) -> usize {
        self.engine.receive_capacity()
    }

    /// Reports that the transport ended (wsproto's `receive_data(None)`).
    /// If no close frame came before, the next events end with a
    /// [`Event::Close`] of code 1006.
    ///
    /// ```
    /// use wsproto::{CloseCode, Config, Event, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// ws.receive_eof(); // the peer vanished without a close frame
    /// let Some(Event::Close(frame)) = ws.poll_event()? else { unreachable!() };
    /// assert_eq!(frame.code, CloseCode::ABNORMAL_CLOSURE);
    /// assert!(ws.is_closed());
    /// assert_eq!(ws.poll_event()?, None);
    /// # Ok::<(), wsproto::ProtocolError>(())
    /// ```
    pub fn receive_eof(&mut self) {
        self.engine.receive_eof();
    }

    /// Decodes the next event from the received bytes; `Ok(None)` when more
    /// bytes are needed (or nothing more can come).
    ///
    /// ```
    /// use wsproto::{Client, CloseCode, Config, Event, Open, ProtocolErrorKind, Server};
    ///
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// client.send_text("one")?;
    /// client.send_ping(b"are you there?")?;
    /// server.receive(&client.take_outgoing())?;
    /// assert_eq!(server.poll_event()?, Some(Event::Text("one".into())));
    /// assert_eq!(server.poll_event()?, Some(Event::Ping("are you there?".into())));
    /// assert_eq!(server.poll_event()?, None); // feed more bytes
    ///
    /// // A client's frame must be masked (RFC 6455 §5.1): this one is not.
    /// server.receive(b"\x81\x02hi")?;
    /// let err = server.poll_event().unwrap_err();
    /// assert_eq!(err.kind, ProtocolErrorKind::UnmaskedFrameFromClient);
    /// assert_eq!(err.code, CloseCode::PROTOCOL_ERROR);
    /// assert!(server.is_closed());
    /// // The pong, then the close frame with code 1002, are queued to write.
    /// let out = server.take_outgoing();
    /// assert!(out.starts_with(b"\x8a\x0eare you there?\x88"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] when the peer broke the protocol or a limit. The
    /// connection has then failed: the close frame with the error's code is
    /// already queued. Stop polling, write out the outgoing bytes, then
    /// close the transport.
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        self.engine.poll_event()
    }

    /// Decodes the next event, as [`poll_event`](Self::poll_event), but a
    /// whole message that arrived as one frame borrows its payload from the
    /// receive buffer ([`EventRef::Text`], [`EventRef::Binary`]) instead of
    /// taking a reference-counted `Bytes` of it: no atomic operation and no
    /// allocation per message. The payload lives until the next call on
    /// the connection. Every other event comes as [`EventRef::Owned`].
    ///
    /// For callers that are done with each message before they poll again:
    /// a parser, a router, a proxy. Keep a message with
    /// [`EventRef::into_owned`] (a copy), or use `poll_event`, which is
    /// zero-copy for messages kept.
    ///
    /// ```
    /// use wsproto::{Client, Config, EventRef, Open, Server};
    ///
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// for word in ["one", "two", "three"] {
    ///     client.send_text(word)?;
    /// }
    /// server.receive(&client.take_outgoing())?;
    /// let mut words = Vec::new();
    /// while let Some(EventRef::Text(word)) = server.poll_event_ref()? {
    ///     words.push(word.len()); // `word` borrows `server`'s buffer
    /// }
    /// assert_eq!(words, [3, 3, 5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`poll_event`](Self::poll_event).
    pub fn poll_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ProtocolError> {
        self.engine.poll_event_ref()
    }

    /// Takes every queued outgoing byte as one buffer.
    ///
    /// ```
    /// use wsproto::{Config, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// ws.send_text("a")?;
    /// ws.send_binary(b"b")?;
    /// let out = ws.take_outgoing(); // write all of it to the transport
    /// assert_eq!(&out[..], b"\x81\x01a\x82\x01b");
    /// assert!(ws.take_outgoing().is_empty());
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn take_outgoing(&mut self) -> Bytes {
        self.engine.take_outgoing()
    }

    /// Takes the next contiguous piece of outgoing bytes; large payloads
    /// queued by reference come out as their own pieces, without a copy.
    ///
    /// ```
    /// use wsproto::{Config, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// let big = bytes::Bytes::from(vec![7u8; 1 << 20]);
    /// ws.send_binary_shared(big.clone())?;
    /// let mut written = Vec::new();
    /// while let Some(piece) = ws.poll_transmit() {
    ///     written.push(piece); // write each piece in turn
    /// }
    /// // The frame header, then the payload itself, not a copy of it.
    /// assert_eq!(written.len(), 2);
    /// assert_eq!(written[1].as_ptr(), big.as_ptr());
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.engine.poll_transmit()
    }

    /// Fills `dst` with the outgoing bytes for a vectored write; returns how
    /// many slices were filled. Call [`advance_outgoing`](Self::advance_outgoing)
    /// with the number of bytes written.
    ///
    /// ```
    /// use std::io::{IoSlice, Write};
    /// use wsproto::{Config, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// ws.send_text("hello")?;
    /// ws.send_binary_shared(bytes::Bytes::from(vec![0u8; 100_000]))?;
    /// let mut transport = Vec::new(); // any `Write`: a socket, a pipe…
    /// while ws.outgoing_len() > 0 {
    ///     let mut slices = [IoSlice::new(&[]); 8];
    ///     let n = ws.outgoing_slices(&mut slices);
    ///     let written = transport.write_vectored(&slices[..n])?;
    ///     ws.advance_outgoing(written);
    /// }
    /// assert_eq!(transport.len(), 7 + 10 + 100_000); // two frames, headers included
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn outgoing_slices<'a>(&'a mut self, dst: &mut [IoSlice<'a>]) -> usize {
        self.engine.outgoing_slices(dst)
    }

    /// Drops the first `n` outgoing bytes, after the transport wrote them;
    /// see [`outgoing_slices`](Self::outgoing_slices) for the loop.
    ///
    /// ```
    /// use wsproto::{Config, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// ws.send_text("hello")?;
    /// ws.advance_outgoing(2); // the transport took the frame header only
    /// assert_eq!(&ws.take_outgoing()[..], b"hello");
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn advance_outgoing(&mut self, n: usize) {
        self.engine.advance_outgoing(n);
    }

    /// Bytes waiting to be written (a pong owed to the peer included): the
    /// back-pressure signal. Reading it changes nothing.
    ///
    /// ```
    /// use wsproto::{Config, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// ws.send_text("hello")?;
    /// assert_eq!(ws.outgoing_len(), 7);
    /// // Stop producing while this is over what the transport can take.
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn outgoing_len(&self) -> usize {
        self.engine.outgoing_len()
    }

    /// The lifecycle state behind the phase type.
    ///
    /// ```
    /// use wsproto::lifecycle::State;
    /// use wsproto::{CloseCode, Config, Open, Server};
    ///
    /// let ws = Open::<Server>::new(Config::default(), Vec::new());
    /// assert_eq!(ws.state(), &State::Open);
    /// let ws = ws.close(CloseCode::NORMAL, "");
    /// assert_eq!(ws.state(), &State::LocalClosing);
    /// ```
    pub fn state(&self) -> &State {
        self.engine.state()
    }

    /// The peer's close frame, once received (1006 if the transport ended
    /// first).
    ///
    /// ```
    /// use wsproto::{Client, CloseCode, Config, Open, Server};
    ///
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// let mut closing = Open::<Client>::new(Config::default(), Vec::new())
    ///     .close(CloseCode::GOING_AWAY, "tab closed");
    /// server.receive(&closing.take_outgoing())?;
    /// while server.poll_event()?.is_some() {}
    /// let frame = server.close_received().unwrap();
    /// assert_eq!((frame.code, frame.reason.as_str()), (CloseCode::GOING_AWAY, "tab closed"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close_received(&self) -> Option<&CloseFrame> {
        self.engine.state().close_received()
    }

    /// The protocol error that failed the connection, if any.
    ///
    /// ```
    /// use wsproto::{CloseCode, Config, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// ws.receive(&[0x83, 0x80, 0, 0, 0, 0])?; // opcode 3 is reserved
    /// assert!(ws.poll_event().is_err());
    /// assert_eq!(ws.error().map(|e| e.code), Some(CloseCode::PROTOCOL_ERROR));
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn error(&self) -> Option<&ProtocolError> {
        self.engine.state().error()
    }

    /// The negotiated extensions.
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    /// use wsproto::{Config, Open, Server};
    ///
    /// let deflate = PerMessageDeflate::new(DeflateConfig::default());
    /// let ws = Open::<Server>::new(Config::default(), vec![Box::new(deflate)]);
    /// assert_eq!(ws.extensions()[0].name(), "permessage-deflate");
    /// ```
    pub fn extensions(&self) -> &[Box<dyn Extension>] {
        self.engine.extensions()
    }

    /// The subprotocol the opening handshake agreed on, if any (`None`
    /// for a connection built with [`Open::new`]).
    ///
    /// ```
    /// use wsproto::handshake::{Accept, ServerHandshake};
    /// use wsproto::{Client, Config, Pending, Server};
    ///
    /// let request = http::Request::get("ws://example.com/")
    ///     .header("sec-websocket-protocol", "v2.chat, v1.chat")
    ///     .body(())?;
    /// let (_client, request) = Pending::<Client>::new(request, Config::default(), Vec::new())?;
    /// let server = Pending::<Server>::new(Config::default(), Vec::new());
    /// let ServerHandshake::Request(incoming) = server.receive(&request)? else { unreachable!() };
    /// let ws = incoming.accept(Accept::new().subprotocol("v1.chat"))?;
    /// assert_eq!(ws.subprotocol(), Some("v1.chat"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subprotocol(&self) -> Option<&str> {
        self.engine.subprotocol()
    }

    /// The connection's configuration.
    ///
    /// ```
    /// use wsproto::{Config, Open, Server};
    ///
    /// let ws = Open::<Server>::new(Config::default().with_auto_pong(false), Vec::new());
    /// assert!(!ws.config().auto_pong);
    /// ```
    pub fn config(&self) -> &Config {
        &self.engine.config
    }

    /// Whether the connection is over (the close handshake is complete, the
    /// transport ended, or the peer broke the protocol): no more events will
    /// come, and once the outgoing bytes are written the transport can be
    /// closed (RFC 6455 §7.1.1: the server closes it first).
    ///
    /// ```
    /// use wsproto::{Client, CloseCode, Config, Open, Server};
    ///
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// let mut closing = Open::<Client>::new(Config::default(), Vec::new())
    ///     .close(CloseCode::NORMAL, "");
    /// assert!(!closing.is_closed()); // waiting for the server's reply
    /// server.receive(&closing.take_outgoing())?;
    /// while server.poll_event()?.is_some() {}
    /// assert!(server.is_closed()); // write the queued reply, then close the transport
    /// closing.receive(&server.take_outgoing())?;
    /// while closing.poll_event()?.is_some() {}
    /// assert!(closing.is_closed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        self.engine.state().is_closed()
    }

    /// The phase the connection is really in, as a type: what the peer
    /// decided since the last call shows here. Cheap: it moves the
    /// connection, nothing more.
    ///
    /// ```
    /// use wsproto::{Client, CloseCode, Config, Open, Server, WebSocket};
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// let mut closing = client.close(CloseCode::NORMAL, "");
    /// server.receive(&closing.take_outgoing())?;
    /// while server.poll_event()?.is_some() {}
    /// match server.next_phase() {
    ///     WebSocket::Closed(closed) => assert!(closed.was_clean()),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_phase(self) -> WebSocket<R> {
        WebSocket::from_engine(self.engine)
    }
}

impl<R: Role> Open<R> {
    /// Builds an open connection when the handshake happened elsewhere:
    /// Python wsproto's `Connection(extensions)`. The extensions must already
    /// be negotiated.
    ///
    /// ```
    /// use wsproto::{Client, Config, Open};
    ///
    /// // The handshake was done by another HTTP library.
    /// let mut ws = Open::<Client>::new(Config::default(), Vec::new());
    /// ws.send_text("hi")?;
    /// assert_eq!(ws.take_outgoing().len(), 2 + 4 + 2); // header, mask key, payload
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn new(config: Config, extensions: Vec<Box<dyn Extension>>) -> Self {
        Self::with_engine(Engine::new(config, extensions))
    }

    /// Records the subprotocol the handshake agreed on.
    pub(crate) fn set_subprotocol(&mut self, name: Option<&str>) {
        self.engine.set_subprotocol(name);
    }

    /// Sends a whole message whose payload the caller already owns: a
    /// server queues a large one by reference (see
    /// [`Open::<Server>::send_binary_shared`](Open::send_binary_shared));
    /// a client copies it, as masking needs to. Text must be valid UTF-8.
    /// Used by the async adapter.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn send_shared(&mut self, kind: MessageKind, data: Bytes) -> Result<(), LocalError> {
        self.engine
            .send_data(kind, Payload::Shared(data), true, false)
    }

    /// Sends one fragment whose payload the caller already owns (the
    /// async adapter and the [`compat`](crate::compat) facade).
    pub(crate) fn send_fragment_shared(
        &mut self,
        kind: MessageKind,
        data: Bytes,
        fin: bool,
    ) -> Result<(), LocalError> {
        self.engine
            .send_data(kind, Payload::Shared(data), fin, true)
    }

    /// Sends a whole text message.
    ///
    /// ```
    /// # use wsproto::{Config, Open, Server};
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// ws.send_text("hello")?;
    /// assert_eq!(&ws.take_outgoing()[..], b"\x81\x05hello");
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LocalError::Closed`] once the peer's close arrived or the connection
    /// failed; [`LocalError::MessageInProgress`] during a fragmented send;
    /// [`LocalError::OutgoingBufferFull`] when the outgoing buffer is full.
    pub fn send_text(&mut self, text: &str) -> Result<(), LocalError> {
        self.engine.send_data(
            MessageKind::Text,
            Payload::Borrowed(text.as_bytes()),
            true,
            false,
        )
    }

    /// Sends a whole binary message.
    ///
    /// ```
    /// use wsproto::{Config, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// ws.send_binary(&[1, 2, 3])?;
    /// assert_eq!(&ws.take_outgoing()[..], b"\x82\x03\x01\x02\x03");
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), LocalError> {
        self.engine
            .send_data(MessageKind::Binary, Payload::Borrowed(data), true, false)
    }

    /// Sends one fragment of a message (RFC 6455 §5.4). The first call
    /// starts a message of `kind`, the call with `fin` set ends it. A
    /// fragmented text message need not be split at character boundaries.
    ///
    /// ```
    /// use wsproto::{Client, Config, Event, MessageKind, Open, Server};
    ///
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// let text = "héllo".as_bytes();
    /// client.send_fragment(MessageKind::Text, &text[..2], false)?; // splits the é
    /// client.send_ping(b"")?; // control frames may come between fragments
    /// client.send_fragment(MessageKind::Text, &text[2..], true)?;
    /// server.receive(&client.take_outgoing())?;
    /// assert_eq!(server.poll_event()?, Some(Event::Ping("".into())));
    /// assert_eq!(server.poll_event()?, Some(Event::Text("héllo".into())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text), and
    /// [`LocalError::FragmentKindMismatch`] if `kind` changes mid-message.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), LocalError> {
        self.engine
            .send_data(kind, Payload::Borrowed(data), fin, true)
    }

    /// Forwards a frame received in [`MessageMode::Frames`](crate::MessageMode::Frames)
    /// on another connection (the other leg of a proxy), masked with a new
    /// key if this is a client and unmasked if a server. A frame that
    /// arrived whole goes out as the same frame; the pieces of one that
    /// arrived in parts go out as fragments of its message (see
    /// [`relay`](crate::relay)). A compressed frame keeps its RSV1 bit only
    /// when this connection negotiated permessage-deflate parameters its
    /// peer can decompress it under.
    ///
    /// ```
    /// use wsproto::{Client, Config, Event, MessageMode, Open, Server};
    ///
    /// let frames = Config::default().with_message_mode(MessageMode::Frames);
    /// let mut client_leg = Open::<Server>::new(frames.clone(), Vec::new());
    /// let mut backend_leg = Open::<Client>::new(frames, Vec::new());
    ///
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// client.send_fragment(wsproto::MessageKind::Binary, b"ab", false)?;
    /// client.send_fragment(wsproto::MessageKind::Binary, b"cd", true)?;
    /// client_leg.receive(&client.take_outgoing())?;
    /// while let Some(Event::Frame(frame)) = client_leg.poll_event()? {
    ///     backend_leg.send_frame(&frame)?;
    /// }
    ///
    /// let mut backend = Open::<Server>::new(Config::default(), Vec::new());
    /// backend.receive(&backend_leg.take_outgoing())?;
    /// assert_eq!(backend.poll_event()?, Some(Event::Binary(b"abcd"[..].into())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LocalError::CannotRelay`] for a continuation of a message not
    /// forwarded here, or compressed data this peer could not decompress;
    /// [`LocalError::MessageInProgress`] for a new message while a forwarded
    /// one is unfinished; otherwise as [`send_text`](Self::send_text).
    pub fn send_frame(&mut self, frame: &Frame) -> Result<(), LocalError> {
        self.engine.send_frame(frame)
    }

    /// Sends a ping (payload at most 125 bytes).
    ///
    /// ```
    /// use wsproto::{Client, Config, Event, LocalError, Open, Server};
    ///
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// server.send_ping(b"1")?;
    /// client.receive(&server.take_outgoing())?;
    /// assert_eq!(client.poll_event()?, Some(Event::Ping("1".into())));
    /// // The client's pong is already queued (`Config::auto_pong`).
    /// server.receive(&client.take_outgoing())?;
    /// assert_eq!(server.poll_event()?, Some(Event::Pong("1".into())));
    ///
    /// let too_long = [0; 126];
    /// assert_eq!(server.send_ping(&too_long), Err(LocalError::ControlPayloadTooLarge(126)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LocalError::ControlPayloadTooLarge`], or as [`send_text`](Self::send_text).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.engine.send_control(Opcode::Ping, payload)
    }

    /// Sends an unsolicited pong, or answers a ping yourself when
    /// `Config::auto_pong` is off.
    ///
    /// ```
    /// use wsproto::{Client, Config, Event, Open, Server};
    ///
    /// let manual = Config::default().with_auto_pong(false);
    /// let mut client = Open::<Client>::new(manual, Vec::new());
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// server.send_ping(b"t=1")?;
    /// client.receive(&server.take_outgoing())?;
    /// if let Some(Event::Ping(payload)) = client.poll_event()? {
    ///     client.send_pong(&payload)?; // nothing was queued for us
    /// }
    /// server.receive(&client.take_outgoing())?;
    /// assert_eq!(server.poll_event()?, Some(Event::Pong("t=1".into())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send_ping`](Self::send_ping).
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.engine.send_control(Opcode::Pong, payload)
    }

    /// Starts (or, after the peer's close, completes) the close handshake.
    ///
    /// The reason is cut to 123 bytes at a character boundary. A code that
    /// may not be sent (see [`CloseCode::is_sendable`]), such as 1005, sends
    /// a close frame without a code. If the close reply was already queued
    /// automatically, or the connection failed, nothing more is sent; the
    /// returned connection is then already closed
    /// ([`next_phase`](Connection::next_phase) says so).
    ///
    /// ```
    /// use wsproto::{Client, CloseCode, Config, Event, Open, Server};
    ///
    /// let client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// let mut closing = client.close(CloseCode::NORMAL, "done"); // no more sends
    /// server.receive(&closing.take_outgoing())?;
    /// let Some(Event::Close(frame)) = server.poll_event()? else { unreachable!() };
    /// assert_eq!((frame.code, frame.reason.as_str()), (CloseCode::NORMAL, "done"));
    ///
    /// closing.receive(&server.take_outgoing())?; // the automatic reply
    /// assert!(matches!(closing.poll_event()?, Some(Event::Close(_))));
    /// let closed = closing.into_closed().expect("the server answered");
    /// assert!(closed.was_clean());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(mut self, code: CloseCode, reason: &str) -> Closing<R> {
        self.engine
            .queue_close(&CloseFrame::new(code, reason.to_owned()));
        self.into_phase()
    }
}

impl Open<Client> {
    /// Replaces the source of masking keys (default: the OS random generator).
    ///
    /// A fixed key makes the bytes reproducible, for tests; real
    /// connections need unpredictable keys (RFC 6455 §10.3).
    ///
    /// ```
    /// use wsproto::{Client, Config, FixedKey, Open};
    ///
    /// let mut ws = Open::<Client>::new(Config::default(), Vec::new());
    /// ws.set_mask_source(Box::new(FixedKey([0, 0, 0, 0])));
    /// ws.send_text("hi")?;
    /// assert_eq!(&ws.take_outgoing()[..], b"\x81\x82\0\0\0\0hi");
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn set_mask_source(&mut self, source: Box<dyn MaskKeySource>) {
        self.engine.set_mask_source(source);
    }
}

impl Open<Server> {
    /// An open server connection whose first outgoing bytes are the 101
    /// response of its handshake.
    pub(crate) fn with_preface(
        config: Config,
        extensions: Vec<Box<dyn Extension>>,
        preface: Bytes,
    ) -> Self {
        Self::with_engine(Engine::with_preface(config, extensions, preface))
    }

    /// Sends a whole binary message; a large payload is queued by reference
    /// and written without a copy (see [`poll_transmit`](Connection::poll_transmit)
    /// and [`outgoing_slices`](Connection::outgoing_slices)). Server only:
    /// client frames are masked, which needs a copy anyway.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use wsproto::{Config, Open, Server};
    ///
    /// let mut ws = Open::<Server>::new(Config::default(), Vec::new());
    /// let payload = Bytes::from_static(b"\x00\x01\x02");
    /// ws.send_binary_shared(payload)?;
    /// assert_eq!(&ws.take_outgoing()[..], b"\x82\x03\x00\x01\x02");
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send_binary_shared(&mut self, data: Bytes) -> Result<(), LocalError> {
        self.engine
            .send_data(MessageKind::Binary, Payload::Shared(data), true, false)
    }

    /// Sends a whole text message without copying a large payload, as
    /// [`send_binary_shared`](Self::send_binary_shared) does; handy for
    /// echoing or forwarding an [`Event::Text`].
    ///
    /// ```
    /// use wsproto::{Client, Config, Event, Open, Server};
    ///
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = Open::<Server>::new(Config::default(), Vec::new());
    /// client.send_text("echo me")?;
    /// server.receive(&client.take_outgoing())?;
    /// while let Some(event) = server.poll_event()? {
    ///     if let Event::Text(text) = event {
    ///         server.send_text_shared(text)?; // the received buffer, not a copy
    ///     }
    /// }
    /// client.receive(&server.take_outgoing())?;
    /// assert_eq!(client.poll_event()?, Some(Event::Text("echo me".into())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send_text_shared(&mut self, text: Utf8Bytes) -> Result<(), LocalError> {
        self.engine.send_data(
            MessageKind::Text,
            Payload::Shared(text.into_bytes()),
            true,
            false,
        )
    }
}

impl<R: Role> RemoteClosing<R> {
    /// Sends our close frame in reply, which ends the close handshake.
    /// Python wsproto's `send(event.response())` after a `CloseConnection`.
    ///
    /// ```
    /// use wsproto::{Client, CloseCode, Config, Event, Open, Server, WebSocket};
    ///
    /// let manual = Config::default().with_auto_close(false);
    /// let mut server = Open::<Server>::new(manual, Vec::new());
    /// let mut closing = Open::<Client>::new(Config::default(), Vec::new())
    ///     .close(CloseCode::NORMAL, "bye");
    /// server.receive(&closing.take_outgoing())?;
    /// assert!(matches!(server.poll_event()?, Some(Event::Close(_))));
    /// let WebSocket::RemoteClosing(remote_closing) = server.next_phase() else { unreachable!() };
    /// // Finish sending what you must (nothing here), then reply.
    /// let mut closed = remote_closing.close(CloseCode::NORMAL, "bye to you");
    /// assert!(closed.is_closed());
    /// closing.receive(&closed.take_outgoing())?;
    /// let Some(Event::Close(reply)) = closing.poll_event()? else { unreachable!() };
    /// assert_eq!(reply.reason.as_str(), "bye to you");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(mut self, code: CloseCode, reason: &str) -> Closed<R> {
        self.engine
            .queue_close(&CloseFrame::new(code, reason.to_owned()));
        self.into_phase()
    }
}

impl<R: Role> Closing<R> {
    /// Finishes once the peer's close frame (or EOF) has arrived, or the
    /// connection failed; otherwise gives the connection back.
    ///
    /// `?` does not apply to the result (the connection is not an error);
    /// match on it, or use [`next_phase`](Connection::next_phase):
    ///
    /// ```
    /// # use wsproto::{Client, CloseCode, Config, Open};
    /// let closing = Open::<Client>::new(Config::default(), Vec::new())
    ///     .close(CloseCode::NORMAL, "");
    /// let closing = match closing.into_closed() {
    ///     Ok(closed) => unreachable!("the peer has not answered: {closed:?}"),
    ///     Err(closing) => closing, // keep receiving
    /// };
    /// # let _ = closing;
    /// ```
    ///
    /// # Errors
    ///
    /// Returns `self` while the peer's close is still awaited.
    // Handing the whole connection back is the point (rustls' pattern for a
    // transition the peer has not completed yet); boxing it would cost an
    // allocation on every poll of a closing connection.
    #[allow(clippy::result_large_err)]
    pub fn into_closed(self) -> Result<Closed<R>, Self> {
        if self.is_closed() {
            Ok(self.into_phase())
        } else {
            Err(self)
        }
    }
}

impl<R: Role> Closed<R> {
    /// Whether both close frames were exchanged without a protocol error.
    ///
    /// ```
    /// use wsproto::{Client, CloseCode, Config, Open, WebSocket};
    ///
    /// let mut closing = Open::<Client>::new(Config::default(), Vec::new())
    ///     .close(CloseCode::NORMAL, "");
    /// closing.receive_eof(); // the transport ended before the server's reply
    /// while closing.poll_event()?.is_some() {}
    /// let WebSocket::Closed(closed) = closing.next_phase() else { unreachable!() };
    /// assert!(!closed.was_clean());
    /// # Ok::<(), wsproto::ProtocolError>(())
    /// ```
    pub fn was_clean(&self) -> bool {
        self.error().is_none()
            && self
                .close_received()
                .is_some_and(|f| f.code != CloseCode::ABNORMAL_CLOSURE)
    }
}

/// A connection in whichever phase it is in: what
/// [`next_phase`](Connection::next_phase) returns, and the type to keep in a
/// struct field for a connection's whole life. Its methods work in every
/// phase and move it to the next phase in place; reach the phase-specific
/// ones by matching, or through [`as_open`](Self::as_open).
///
/// ```
/// use wsproto::{CloseCode, Config, Event, Open, Server, WebSocket};
///
/// struct Session {
///     ws: WebSocket<Server>,
/// }
///
/// let mut session = Session { ws: Open::<Server>::new(Config::default(), Vec::new()).into() };
/// if let Some(open) = session.ws.as_open() {
///     open.send_text("welcome")?;
/// }
/// session.ws.close(CloseCode::NORMAL, "done");
/// assert!(matches!(session.ws, WebSocket::Closing(_)));
/// assert!(session.ws.as_open().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use]
pub enum WebSocket<R: Role> {
    /// The open phase: see [`Open`].
    Open(Open<R>),
    /// The peer closed, our reply is owed: see [`RemoteClosing`].
    RemoteClosing(RemoteClosing<R>),
    /// Our close is queued, the peer's awaited: see [`Closing`].
    Closing(Closing<R>),
    /// The connection is over: see [`Closed`].
    Closed(Closed<R>),
}

impl<R: Role, P: Phase> From<Connection<R, P>> for WebSocket<R> {
    fn from(connection: Connection<R, P>) -> Self {
        connection.next_phase()
    }
}

impl<R: Role> WebSocket<R> {
    fn from_engine(engine: Engine<R>) -> Self {
        match engine.state() {
            State::Open => Self::Open(Connection::with_engine(engine)),
            State::LocalClosing => Self::Closing(Connection::with_engine(engine)),
            State::RemoteClosing(_) => Self::RemoteClosing(Connection::with_engine(engine)),
            _ => Self::Closed(Connection::with_engine(engine)),
        }
    }

    fn engine(&self) -> &Engine<R> {
        match self {
            Self::Open(c) => &c.engine,
            Self::RemoteClosing(c) => &c.engine,
            Self::Closing(c) => &c.engine,
            Self::Closed(c) => &c.engine,
        }
    }

    fn engine_mut(&mut self) -> &mut Engine<R> {
        match self {
            Self::Open(c) => &mut c.engine,
            Self::RemoteClosing(c) => &mut c.engine,
            Self::Closing(c) => &mut c.engine,
            Self::Closed(c) => &mut c.engine,
        }
    }

    /// Moves to the variant that matches the lifecycle state, after a call
    /// that may have changed it. The engine is swapped out for a moment
    /// against an empty one, which allocates nothing.
    fn sync(&mut self) {
        let in_place = matches!(
            (&*self, self.engine().state()),
            (Self::Open(_), State::Open)
                | (Self::Closing(_), State::LocalClosing)
                | (Self::RemoteClosing(_), State::RemoteClosing(_))
                | (Self::Closed(_), State::Closed(_) | State::Failed(_))
        );
        if !in_place {
            let placeholder = Engine::new(Config::default(), Vec::new());
            let engine = std::mem::replace(self.engine_mut(), placeholder);
            *self = Self::from_engine(engine);
        }
    }

    /// The open connection, to send on; `None` in any other phase.
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// if let Some(open) = ws.as_open() {
    ///     open.send_text("still open")?;
    /// }
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn as_open(&mut self) -> Option<&mut Open<R>> {
        match self {
            Self::Open(open) => Some(open),
            _ => None,
        }
    }

    /// Starts the close handshake (from [`Open`]) or completes it (from
    /// [`RemoteClosing`]); does nothing once our close is queued.
    ///
    /// ```
    /// use wsproto::{CloseCode, Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// ws.close(CloseCode::GOING_AWAY, "restarting");
    /// assert!(matches!(ws, WebSocket::Closing(_)));
    /// ws.close(CloseCode::NORMAL, ""); // a second close queues nothing
    /// assert_eq!(&ws.take_outgoing()[..4], b"\x88\x0c\x03\xe9");
    /// ```
    pub fn close(&mut self, code: CloseCode, reason: &str) {
        self.engine_mut()
            .queue_close(&CloseFrame::new(code, reason.to_owned()));
        self.sync();
    }

    /// Feeds bytes read from the transport; see [`Connection::receive`].
    ///
    /// ```
    /// use wsproto::{Client, Config, Event, Open, Server, WebSocket};
    ///
    /// let mut client = Open::<Client>::new(Config::default(), Vec::new());
    /// let mut server = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// client.send_binary(b"\x01")?;
    /// server.receive(&client.take_outgoing())?;
    /// assert_eq!(server.poll_event()?, Some(Event::Binary(vec![1].into())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Connection::receive`].
    pub fn receive(&mut self, data: &[u8]) -> Result<(), LocalError> {
        self.engine_mut().receive(data)
    }

    /// The receive buffer, to read into directly; see [`Connection::receive_buffer`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// ws.receive_buffer()?.extend_from_slice(&[0x89, 0x80, 0, 0, 0, 0]); // a masked, empty ping
    /// assert!(ws.poll_event()?.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Connection::receive`].
    pub fn receive_buffer(&mut self) -> Result<&mut BytesMut, LocalError> {
        self.engine_mut().receive_buffer()
    }

    /// How many more bytes `receive` takes; see [`Connection::receive_capacity`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// assert_eq!(ws.receive_capacity(), Config::default().max_receive_buffer);
    /// ```
    pub fn receive_capacity(&self) -> usize {
        self.engine().receive_capacity()
    }

    /// Reports that the transport ended; see [`Connection::receive_eof`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// ws.receive_eof();
    /// assert!(ws.poll_event()?.is_some()); // the 1006 close
    /// assert!(matches!(ws, WebSocket::Closed(_)));
    /// # Ok::<(), wsproto::ProtocolError>(())
    /// ```
    pub fn receive_eof(&mut self) {
        self.engine_mut().receive_eof();
    }

    /// Decodes the next event, as [`Connection::poll_event`] does, and
    /// moves to the next phase when the event (or error) changed it.
    ///
    /// ```
    /// use wsproto::{Client, CloseCode, Config, Event, Open, Server, WebSocket};
    ///
    /// let mut server = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// let mut closing = Open::<Client>::new(Config::default(), Vec::new())
    ///     .close(CloseCode::NORMAL, "");
    /// server.receive(&closing.take_outgoing())?;
    /// assert!(matches!(server, WebSocket::Open(_)));
    /// assert!(matches!(server.poll_event()?, Some(Event::Close(_))));
    /// assert!(matches!(server, WebSocket::Closed(_))); // the reply was queued
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Connection::poll_event`].
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        let result = self.engine_mut().poll_event();
        if matches!(result, Ok(Some(Event::Close(_))) | Err(_)) {
            self.sync();
        }
        result
    }

    /// Takes every queued outgoing byte as one buffer; see
    /// [`Connection::take_outgoing`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// ws.as_open().unwrap().send_text("hi")?;
    /// assert_eq!(&ws.take_outgoing()[..], b"\x81\x02hi");
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn take_outgoing(&mut self) -> Bytes {
        self.engine_mut().take_outgoing()
    }

    /// Takes the next contiguous piece of outgoing bytes; see [`Connection::poll_transmit`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// ws.as_open().unwrap().send_text("hi")?;
    /// while let Some(piece) = ws.poll_transmit() {
    ///     assert_eq!(&piece[..], b"\x81\x02hi"); // write it
    /// }
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.engine_mut().poll_transmit()
    }

    /// Fills `dst` with the outgoing bytes for a vectored write; see
    /// [`Connection::outgoing_slices`].
    ///
    /// ```
    /// use std::io::{IoSlice, Write};
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// ws.as_open().unwrap().send_text("hi")?;
    /// let mut transport = Vec::new();
    /// let mut slices = [IoSlice::new(&[]); 4];
    /// let n = ws.outgoing_slices(&mut slices);
    /// let written = transport.write_vectored(&slices[..n])?;
    /// ws.advance_outgoing(written);
    /// assert_eq!((transport.len(), ws.outgoing_len()), (4, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn outgoing_slices<'a>(&'a mut self, dst: &mut [IoSlice<'a>]) -> usize {
        self.engine_mut().outgoing_slices(dst)
    }

    /// Drops the first `n` outgoing bytes, after the transport wrote them; see [`Connection::advance_outgoing`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// ws.as_open().unwrap().send_text("hi")?;
    /// ws.advance_outgoing(2);
    /// assert_eq!(ws.outgoing_len(), 2);
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn advance_outgoing(&mut self, n: usize) {
        self.engine_mut().advance_outgoing(n);
    }

    /// Bytes waiting to be written: the back-pressure signal; see [`Connection::outgoing_len`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// ws.as_open().unwrap().send_text("hi")?;
    /// assert_eq!(ws.outgoing_len(), 4);
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn outgoing_len(&self) -> usize {
        self.engine().outgoing_len()
    }

    /// The lifecycle state behind the phase; see [`Connection::state`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// assert_eq!(ws.state(), &wsproto::lifecycle::State::Open);
    /// ```
    pub fn state(&self) -> &State {
        self.engine().state()
    }

    /// The peer's close frame, once received; see [`Connection::close_received`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// ws.receive(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8])?; // a masked close, code 1000
    /// ws.poll_event()?;
    /// assert_eq!(ws.close_received().map(|f| f.code), Some(wsproto::CloseCode::NORMAL));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close_received(&self) -> Option<&CloseFrame> {
        self.engine().state().close_received()
    }

    /// The protocol error that failed the connection, if any; see [`Connection::error`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// ws.receive(&[0x81, 0x00])?; // unmasked: a client must mask
    /// assert!(ws.poll_event().is_err());
    /// assert!(ws.error().is_some());
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    pub fn error(&self) -> Option<&ProtocolError> {
        self.engine().state().error()
    }

    /// Whether the connection is over; see [`Connection::is_closed`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// assert!(!ws.is_closed());
    /// ws.receive_eof();
    /// while ws.poll_event()?.is_some() {}
    /// assert!(ws.is_closed());
    /// # Ok::<(), wsproto::ProtocolError>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        self.engine().state().is_closed()
    }

    /// The negotiated extensions; see [`Connection::extensions`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// assert!(ws.extensions().is_empty());
    /// ```
    pub fn extensions(&self) -> &[Box<dyn Extension>] {
        self.engine().extensions()
    }

    /// The connection's configuration; see [`Connection::config`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// assert!(ws.config().auto_pong);
    /// ```
    pub fn config(&self) -> &Config {
        &self.engine().config
    }

    /// The subprotocol the opening handshake agreed on, if any; see [`Connection::subprotocol`].
    ///
    /// ```
    /// use wsproto::{Config, Open, Server, WebSocket};
    ///
    /// let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    /// assert_eq!(ws.subprotocol(), None);
    /// ```
    pub fn subprotocol(&self) -> Option<&str> {
        self.engine().subprotocol()
    }
}
