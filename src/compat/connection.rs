//! [`Connection`]: Python wsproto's connection after the handshake
//! (`wsproto.connection`), on the core's [`WebSocket`], with Python's
//! [`ConnectionState`] transitions.

use std::collections::VecDeque;

use bytes::Bytes;

use super::error::LocalProtocolError;
use super::events::{BytesMessage, CloseConnection, Event, Message, Ping, Pong, TextMessage};
use super::extensions::{Bound, ExtensionRef};
use super::{ConnectionState, ConnectionType};
use crate::config::{Config, MessageMode};
use crate::error::{LocalError, ProtocolError as CoreProtocolError};
use crate::event::{Event as CoreEvent, MessageKind};
use crate::frame::CloseCode;
use crate::keys::MaskKeySource;
use crate::lifecycle::State;
use crate::phase::{Open, WebSocket};
use crate::role::{Client, Role, Server};

/// The configuration the facade runs the core with: Python wsproto leaves
/// pongs and close replies to the application, and by default reports each
/// frame as it arrives.
pub(crate) fn python_config(config: Config) -> Config {
    config.with_auto_pong(false).with_auto_close(false)
}

/// The default configuration of the facade: per-frame messages.
pub(crate) fn default_config() -> Config {
    Config::default().with_message_mode(MessageMode::Streaming)
}

/// A WebSocket connection after the opening handshake (Python's
/// `Connection`): made by [`H11Handshake`](super::H11Handshake) once the
/// handshake succeeds, or by [`Connection::new`] when the handshake
/// happened elsewhere.
///
/// Its state follows Python wsproto: our close moves `Open` to
/// `LocalClosing` (or `RemoteClosing` to `Closed`); the peer's close moves
/// `Open` to `RemoteClosing` (or `LocalClosing` to `Closed`) when its event
/// is taken; the end of the transport moves any state to `Closed`.
///
/// ```
/// use wsproto::compat::{events::*, Connection, ConnectionState, ConnectionType, Event};
///
/// let mut client = Connection::new(ConnectionType::Client, Vec::new(), b"");
/// let mut server = Connection::new(ConnectionType::Server, Vec::new(), b"");
/// let bytes = client.send(CloseConnection::with_reason(1000u16, "bye"))?;
/// assert_eq!(client.state(), ConnectionState::LocalClosing);
/// server.receive_data(Some(&bytes))?;
/// let Some(Event::CloseConnection(close)) = server.events().next() else { panic!() };
/// assert_eq!(server.state(), ConnectionState::RemoteClosing);
/// client.receive_data(Some(&server.send(close.response())?))?;
/// assert_eq!(client.events().count(), 1);
/// assert_eq!((client.state(), server.state()), (ConnectionState::Closed, ConnectionState::Closed));
/// # Ok::<(), wsproto::compat::LocalProtocolError>(())
/// ```
#[derive(Debug)]
pub struct Connection {
    kind: ConnectionType,
    ws: Box<dyn Driven>,
    state: ConnectionState,
    /// Events decoded before they were asked for: while feeding a large
    /// read through the bounded receive buffer, or the 1006 of an end of
    /// transport the core no longer reports.
    events: VecDeque<Event>,
    /// The transport ended: the core's own 1006 (after the buffered
    /// frames) changes nothing more.
    eof: bool,
}

impl Connection {
    /// Python's `Connection(connection_type, extensions, trailing_data)`:
    /// an open connection whose handshake happened elsewhere, with the
    /// negotiated extensions (those not [`enabled`](ExtensionRef::enabled)
    /// are left out) and the bytes that came after the handshake.
    pub fn new(
        connection_type: ConnectionType,
        extensions: Vec<ExtensionRef>,
        trailing_data: &[u8],
    ) -> Self {
        Self::with_config(connection_type, default_config(), extensions, trailing_data)
    }

    /// As [`new`](Self::new), with a configuration: its limits, and its
    /// [`message_mode`](Config::message_mode) (per frame, as in Python, or
    /// whole messages). Pongs and close replies are always left to the
    /// application.
    pub fn with_config(
        connection_type: ConnectionType,
        config: Config,
        extensions: Vec<ExtensionRef>,
        trailing_data: &[u8],
    ) -> Self {
        let config = python_config(config);
        let client = connection_type == ConnectionType::Client;
        let extensions = Bound::negotiated(&extensions, client);
        let ws: Box<dyn Driven> = if client {
            Box::new(WebSocket::from(Open::<Client>::new(config, extensions)))
        } else {
            Box::new(WebSocket::from(Open::<Server>::new(config, extensions)))
        };
        let mut conn = Self::from_core(connection_type, ws);
        // Empty when the handshake left nothing behind; never refused.
        let _ = conn.receive_data(Some(trailing_data));
        conn
    }

    pub(crate) fn from_core(kind: ConnectionType, ws: Box<dyn Driven>) -> Self {
        Self {
            kind,
            ws,
            state: ConnectionState::Open,
            events: VecDeque::new(),
            eof: false,
        }
    }

    /// The bytes queued when the core made the connection: a server's 101.
    pub(crate) fn take_preface(&mut self) -> Bytes {
        self.ws.take_outgoing()
    }

    /// Which end this is.
    pub fn connection_type(&self) -> ConnectionType {
        self.kind
    }

    /// The state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// Replaces the source of masking keys of a client (a server does not
    /// mask): for tests and reproducible captures only, see [`crate::FixedKey`].
    pub fn set_mask_source(&mut self, source: Box<dyn MaskKeySource>) {
        self.ws.set_mask_source(source);
    }

    /// Applies a message, ping, pong or close, and returns the bytes to
    /// write.
    ///
    /// ```
    /// use wsproto::compat::{events::*, Connection, ConnectionType};
    /// let mut server = Connection::new(ConnectionType::Server, Vec::new(), b"");
    /// assert_eq!(&server.send(TextMessage::new("hi"))?[..], b"\x81\x02hi");
    /// assert_eq!(&server.send(Ping::new(&b"!"[..]))?[..], b"\x89\x01!");
    /// # Ok::<(), wsproto::compat::LocalProtocolError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LocalProtocolError`] when the event does not fit the state (a
    /// message after our close, a second close, a handshake event), or
    /// breaks a rule (a control payload over 125 bytes, a reason without a
    /// code, a binary piece inside a text message).
    pub fn send(&mut self, event: impl Into<Event>) -> Result<Bytes, LocalProtocolError> {
        let event = event.into();
        let state = self.state;
        let result = match (&event, state) {
            // The payload is handed over as it is: a server queues a large
            // one by reference, so it is copied once, into the bytes
            // returned (a client copies it while masking).
            (Event::TextMessage(m), ConnectionState::Open) => self.ws.send_fragment(
                MessageKind::Text,
                m.data.clone().into_bytes(),
                m.message_finished,
            ),
            (Event::BytesMessage(m), ConnectionState::Open) => {
                self.ws
                    .send_fragment(MessageKind::Binary, m.data.clone(), m.message_finished)
            }
            (Event::Ping(p), ConnectionState::Open) => self.ws.send_ping(&p.payload),
            (Event::Pong(p), ConnectionState::Open) => self.ws.send_pong(&p.payload),
            (
                Event::CloseConnection(close),
                ConnectionState::Open | ConnectionState::RemoteClosing,
            ) => {
                let reason = close.reason.as_deref().unwrap_or("");
                let code = match close.code {
                    CloseCode::NO_STATUS_RCVD if !reason.is_empty() => {
                        return Err(LocalProtocolError::new(
                            "cannot specify a reason without a code",
                        ));
                    }
                    // Python sends codes that only name local conditions as
                    // a normal closure.
                    CloseCode::ABNORMAL_CLOSURE | CloseCode::TLS_HANDSHAKE => CloseCode::NORMAL,
                    code => code,
                };
                self.ws.close(code, reason);
                self.state = if state == ConnectionState::RemoteClosing {
                    ConnectionState::Closed
                } else {
                    ConnectionState::LocalClosing
                };
                Ok(())
            }
            _ => {
                return Err(LocalProtocolError::new(format!(
                    "Event {} cannot be sent in state {state:?}.",
                    event.name()
                )));
            }
        };
        result.map_err(|err| LocalProtocolError::new(err.to_string()))?;
        Ok(self.ws.take_outgoing())
    }

    /// Feeds received bytes, or `None` when the transport ended (which
    /// closes the connection, with a [`CloseConnection`] of code 1006).
    /// Events come from [`events`](Self::events).
    ///
    /// # Errors
    ///
    /// [`LocalProtocolError`] when bytes arrive after the connection closed.
    pub fn receive_data(&mut self, data: Option<&[u8]>) -> Result<(), LocalProtocolError> {
        let Some(mut data) = data else {
            // "If _The WebSocket Connection is Closed_ and no Close control
            // frame was received by the endpoint [...] _The WebSocket
            // Connection Close Code_ is considered to be 1006." The core
            // reports it after the frames already received, if it still
            // reads; otherwise the facade does, as Python always does.
            if !self.ws.state().is_reading() {
                self.events
                    .push_back(Event::CloseConnection(CloseConnection {
                        code: CloseCode::ABNORMAL_CLOSURE,
                        reason: None,
                    }));
            }
            self.ws.receive_eof();
            self.eof = true;
            self.state = ConnectionState::Closed;
            return Ok(());
        };
        match self.state {
            ConnectionState::Closed => {
                return Err(LocalProtocolError::new("Connection already closed."));
            }
            ConnectionState::Open | ConnectionState::LocalClosing => {}
            _ => return Ok(()),
        }
        // Python buffers whatever it is given: decode in between whenever
        // the bounded receive buffer pushes back.
        while !data.is_empty() {
            if self.ws.receive_capacity() == 0 {
                while let Some(event) = self.poll() {
                    self.events.push_back(event);
                }
                if self.ws.receive_capacity() == 0 {
                    break;
                }
            }
            let room = self.ws.receive_capacity().min(data.len());
            // There is room, so nothing is refused.
            let _ = self.ws.receive(&data[..room]);
            data = &data[room..];
        }
        Ok(())
    }

    /// The events received so far, decoded as they are taken.
    ///
    /// ```
    /// use wsproto::compat::{events::*, Connection, ConnectionType, Event};
    /// let mut client = Connection::new(ConnectionType::Client, Vec::new(), b"");
    /// client.receive_data(Some(b"\x01\x02hi\x80\x01!"))?; // "hi" then "!"
    /// let pieces: Vec<Event> = client.events().collect();
    /// assert_eq!(pieces, [
    ///     TextMessage::new("hi").unfinished().into(),
    ///     TextMessage::new("!").into(),
    /// ]);
    /// # Ok::<(), wsproto::compat::LocalProtocolError>(())
    /// ```
    pub fn events(&mut self) -> impl Iterator<Item = Event> + '_ {
        std::iter::from_fn(move || self.events.pop_front().or_else(|| self.poll()))
    }

    /// The next event: `events().next()` without holding the borrow, so
    /// that the loop body can `send`.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front().or_else(|| self.poll())
    }

    /// Decodes the next event and applies Python's transitions to it.
    fn poll(&mut self) -> Option<Event> {
        let event = match self.ws.poll_event() {
            Ok(event) => event?,
            // Python reports the error as the close to answer with, and
            // leaves the state as it is: answering is the application's.
            Err(err) => {
                return Some(Event::CloseConnection(CloseConnection {
                    code: err.code,
                    reason: Some(err.reason.into_owned()),
                }));
            }
        };
        Some(match event {
            CoreEvent::Text(data) => Event::TextMessage(TextMessage::new(data)),
            CoreEvent::Binary(data) => Event::BytesMessage(BytesMessage::new(data)),
            CoreEvent::TextChunk {
                data,
                frame_finished,
                message_finished,
            } => Event::TextMessage(Message {
                data,
                frame_finished,
                message_finished,
            }),
            CoreEvent::BinaryChunk {
                data,
                frame_finished,
                message_finished,
            } => Event::BytesMessage(Message {
                data,
                frame_finished,
                message_finished,
            }),
            // Frame mode is for proxies (Python has none): its pieces are
            // bytes, even of text, since a piece may end inside a character.
            CoreEvent::Frame(frame) => Event::BytesMessage(Message {
                frame_finished: frame.is_frame_end(),
                message_finished: frame.is_message_end(),
                data: frame.into_data(),
            }),
            CoreEvent::Ping(payload) => Event::Ping(Ping { payload }),
            CoreEvent::Pong(payload) => Event::Pong(Pong { payload }),
            CoreEvent::Close(frame) if self.eof && frame.code == CloseCode::ABNORMAL_CLOSURE => {
                Event::CloseConnection(CloseConnection {
                    code: frame.code,
                    reason: None,
                })
            }
            CoreEvent::Close(frame) => {
                self.state = match self.state {
                    ConnectionState::LocalClosing => ConnectionState::Closed,
                    ConnectionState::Open => ConnectionState::RemoteClosing,
                    other => other,
                };
                Event::CloseConnection(CloseConnection {
                    code: frame.code,
                    reason: Some(frame.reason.to_string()),
                })
            }
        })
    }
}

/// What the facade needs from a core connection of either role.
pub(crate) trait Driven: Send + std::fmt::Debug {
    fn state(&self) -> &State;
    fn receive_capacity(&self) -> usize;
    fn receive(&mut self, data: &[u8]) -> Result<(), LocalError>;
    fn receive_eof(&mut self);
    fn poll_event(&mut self) -> Result<Option<CoreEvent>, CoreProtocolError>;
    fn take_outgoing(&mut self) -> Bytes;
    fn close(&mut self, code: CloseCode, reason: &str);
    fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: Bytes,
        fin: bool,
    ) -> Result<(), LocalError>;
    fn send_ping(&mut self, payload: &[u8]) -> Result<(), LocalError>;
    fn send_pong(&mut self, payload: &[u8]) -> Result<(), LocalError>;
    fn set_mask_source(&mut self, source: Box<dyn MaskKeySource>);
}

impl<R: Role> Driven for WebSocket<R>
where
    WebSocket<R>: MaskSetter,
{
    fn state(&self) -> &State {
        WebSocket::state(self)
    }
    fn receive_capacity(&self) -> usize {
        WebSocket::receive_capacity(self)
    }
    fn receive(&mut self, data: &[u8]) -> Result<(), LocalError> {
        WebSocket::receive(self, data)
    }
    fn receive_eof(&mut self) {
        WebSocket::receive_eof(self);
    }
    fn poll_event(&mut self) -> Result<Option<CoreEvent>, CoreProtocolError> {
        WebSocket::poll_event(self)
    }
    fn take_outgoing(&mut self) -> Bytes {
        WebSocket::take_outgoing(self)
    }
    fn close(&mut self, code: CloseCode, reason: &str) {
        WebSocket::close(self, code, reason);
    }
    fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: Bytes,
        fin: bool,
    ) -> Result<(), LocalError> {
        self.as_open()
            .ok_or(LocalError::Closed)?
            .send_fragment_shared(kind, data, fin)
    }
    fn send_ping(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.as_open().ok_or(LocalError::Closed)?.send_ping(payload)
    }
    fn send_pong(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.as_open().ok_or(LocalError::Closed)?.send_pong(payload)
    }
    fn set_mask_source(&mut self, source: Box<dyn MaskKeySource>) {
        MaskSetter::set_mask(self, source);
    }
}

/// Setting the masking keys: a client's business only.
pub(crate) trait MaskSetter {
    fn set_mask(&mut self, source: Box<dyn MaskKeySource>);
}

impl MaskSetter for WebSocket<Client> {
    fn set_mask(&mut self, source: Box<dyn MaskKeySource>) {
        if let Some(open) = self.as_open() {
            open.set_mask_source(source);
        }
    }
}

impl MaskSetter for WebSocket<Server> {
    fn set_mask(&mut self, _source: Box<dyn MaskKeySource>) {}
}
