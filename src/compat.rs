//! A Python-wsproto-style facade with runtime state: [`WSConnection`] with
//! `send(event) -> bytes`, `receive_data`, `events()` and `state()`, built
//! on the typed core for users porting Python code or who need one type for
//! both roles.
//!
//! As in Python wsproto, the application answers pings and closes itself
//! (with [`events::Ping::response`] and [`events::CloseConnection::response`]);
//! anything the connection queued on its own (the close frame after a
//! protocol error) comes out with the next `send`, or with
//! [`WSConnection::data_to_send`].
//!
//! ```
//! use wsproto::compat::{events::*, ConnectionType, ConnectionState, Event, WSConnection};
//!
//! let mut client = WSConnection::new(ConnectionType::Client);
//! let mut server = WSConnection::new(ConnectionType::Server);
//! let request = client.send(Event::Request(Request::new("example.com", "/chat")))?;
//! server.receive_data(Some(&request));
//! let Some(Event::Request(_)) = server.events().next() else { panic!() };
//! let response = server.send(Event::AcceptConnection(AcceptConnection::default()))?;
//! client.receive_data(Some(&response));
//! assert!(matches!(client.events().next(), Some(Event::AcceptConnection(_))));
//! assert_eq!(client.state(), ConnectionState::Open);
//! let hello = client.send(Event::TextMessage(TextMessage::new("hi")))?;
//! server.receive_data(Some(&hello));
//! let Some(Event::TextMessage(message)) = server.events().next() else { panic!() };
//! assert_eq!(message.data, "hi");
//! # Ok::<(), wsproto::LocalError>(())
//! ```

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::config::Config;
use crate::error::LocalError;
use crate::event::{Event as CoreEvent, MessageKind};
use crate::extensions::Extension;
use crate::frame::CloseCode;
use crate::handshake::server::response_head;
use crate::handshake::{
    Accept, ClientHandshake, IncomingRequest, Pending, Rejected, ServerHandshake,
};
use crate::lifecycle::State;
use crate::phase::WebSocket;
use crate::role::{Client, Role, Server};

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionType {
    /// The side that sends the upgrade request.
    Client,
    /// The side that answers it.
    Server,
}

/// The connection's state, with Python wsproto's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// The opening handshake is in progress.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// The peer sent a close frame; ours is not sent yet.
    RemoteClosing,
    /// We sent a close frame; the peer's has not arrived.
    LocalClosing,
    /// Both close frames were exchanged, or the connection failed.
    Closed,
    /// The server rejected the handshake and is sending the body.
    Rejecting,
}

/// The events, with Python wsproto's names and fields.
pub mod events {
    use super::*;

    /// The client's upgrade request.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Request {
        /// The Host header.
        pub host: String,
        /// The request target (path and query).
        pub target: String,
        /// The `Sec-WebSocket-Extensions` offers, as header elements.
        pub extensions: Vec<String>,
        /// Headers beyond those the handshake sets.
        pub extra_headers: HeaderMap,
        /// The offered subprotocols.
        pub subprotocols: Vec<String>,
    }

    impl Request {
        /// A request for `target` on `host`, with nothing else.
        pub fn new(host: impl Into<String>, target: impl Into<String>) -> Self {
            Self {
                host: host.into(),
                target: target.into(),
                extensions: Vec::new(),
                extra_headers: HeaderMap::new(),
                subprotocols: Vec::new(),
            }
        }
    }

    /// The server accepted the request.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct AcceptConnection {
        /// The selected subprotocol.
        pub subprotocol: Option<String>,
        /// The negotiated extensions' names.
        pub extensions: Vec<String>,
        /// Extra response headers.
        pub extra_headers: HeaderMap,
    }

    /// The server rejected the request.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RejectConnection {
        /// The HTTP status.
        pub status_code: u16,
        /// The response headers.
        pub headers: HeaderMap,
        /// Whether `RejectData` events follow.
        pub has_body: bool,
    }

    impl Default for RejectConnection {
        fn default() -> Self {
            Self {
                status_code: 400,
                headers: HeaderMap::new(),
                has_body: false,
            }
        }
    }

    /// A piece of a rejection's body.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RejectData {
        /// The bytes.
        pub data: Bytes,
        /// Whether this is the last piece.
        pub body_finished: bool,
    }

    /// A close frame (or the end of the transport, code 1006).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CloseConnection {
        /// The close code.
        pub code: CloseCode,
        /// The reason.
        pub reason: Option<String>,
    }

    impl CloseConnection {
        /// The close frame that answers this one.
        pub fn response(&self) -> Self {
            Self {
                code: self.code,
                reason: self.reason.clone(),
            }
        }
    }

    /// A text message or a piece of one.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TextMessage {
        /// The text.
        pub data: String,
        /// Whether this ends a frame.
        pub frame_finished: bool,
        /// Whether this ends the message.
        pub message_finished: bool,
    }

    impl TextMessage {
        /// A whole text message.
        pub fn new(data: impl Into<String>) -> Self {
            Self {
                data: data.into(),
                frame_finished: true,
                message_finished: true,
            }
        }
    }

    /// A binary message or a piece of one.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct BytesMessage {
        /// The bytes.
        pub data: Bytes,
        /// Whether this ends a frame.
        pub frame_finished: bool,
        /// Whether this ends the message.
        pub message_finished: bool,
    }

    impl BytesMessage {
        /// A whole binary message.
        pub fn new(data: impl Into<Bytes>) -> Self {
            Self {
                data: data.into(),
                frame_finished: true,
                message_finished: true,
            }
        }
    }

    /// A ping.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Ping {
        /// The payload.
        pub payload: Bytes,
    }

    impl Ping {
        /// The pong that answers this ping.
        pub fn response(&self) -> Pong {
            Pong {
                payload: self.payload.clone(),
            }
        }
    }

    /// A pong.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Pong {
        /// The payload.
        pub payload: Bytes,
    }
}

use events::*;

/// Every facade event. `Message` in Python wsproto is
/// [`Event::TextMessage`] or [`Event::BytesMessage`] here.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// See [`Request`].
    Request(Request),
    /// See [`AcceptConnection`].
    AcceptConnection(AcceptConnection),
    /// See [`RejectConnection`].
    RejectConnection(RejectConnection),
    /// See [`RejectData`].
    RejectData(RejectData),
    /// See [`CloseConnection`].
    CloseConnection(CloseConnection),
    /// See [`TextMessage`].
    TextMessage(TextMessage),
    /// See [`BytesMessage`].
    BytesMessage(BytesMessage),
    /// See [`Ping`].
    Ping(Ping),
    /// See [`Pong`].
    Pong(Pong),
}

enum Inner {
    ClientIdle(Vec<Box<dyn Extension>>),
    ClientPending(Pending<Client>),
    ClientRejected(Rejected),
    ServerPending(Pending<Server>),
    ServerRequest(IncomingRequest),
    ServerRejecting,
    Client(WebSocket<Client>),
    Server(WebSocket<Server>),
    Closed,
}

impl Inner {
    /// The connection after the handshake, whichever its role.
    fn conn(&mut self) -> Option<&mut dyn Driven> {
        match self {
            Self::Client(ws) => Some(ws),
            Self::Server(ws) => Some(ws),
            _ => None,
        }
    }

    fn conn_ref(&self) -> Option<&dyn Driven> {
        match self {
            Self::Client(ws) => Some(ws),
            Self::Server(ws) => Some(ws),
            _ => None,
        }
    }
}

/// A connection with runtime state, driven by events as in Python wsproto.
pub struct WSConnection {
    kind: ConnectionType,
    config: Config,
    inner: Inner,
    events: VecDeque<Event>,
    /// Bytes queued outside `send` (handshake leftovers).
    pending_out: BytesMut,
    /// `receive_data(None)` was called.
    transport_ended: bool,
}

impl std::fmt::Debug for WSConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WSConnection")
            .field("kind", &self.kind)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

fn local(msg: &'static str) -> LocalError {
    LocalError::InvalidState(msg.into())
}

impl WSConnection {
    /// A connection with the default configuration and no extensions.
    pub fn new(kind: ConnectionType) -> Self {
        Self::with_config(kind, Config::default(), Vec::new())
    }

    /// A connection with a configuration and extensions: offered by a
    /// client, supported by a server.
    pub fn with_config(
        kind: ConnectionType,
        config: Config,
        extensions: Vec<Box<dyn Extension>>,
    ) -> Self {
        // Python wsproto leaves pongs and close replies to the application.
        let config = config.with_auto_pong(false).with_auto_close(false);
        let inner = match kind {
            ConnectionType::Client => Inner::ClientIdle(extensions),
            ConnectionType::Server => {
                Inner::ServerPending(Pending::<Server>::new(config.clone(), extensions))
            }
        };
        Self {
            kind,
            config,
            inner,
            events: VecDeque::new(),
            pending_out: BytesMut::new(),
            transport_ended: false,
        }
    }

    /// Which end this is.
    pub fn connection_type(&self) -> ConnectionType {
        self.kind
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        match &self.inner {
            Inner::ClientIdle(_)
            | Inner::ClientPending(_)
            | Inner::ServerPending(_)
            | Inner::ServerRequest(_) => ConnectionState::Connecting,
            Inner::ClientRejected(_) | Inner::ServerRejecting => ConnectionState::Rejecting,
            Inner::Closed => ConnectionState::Closed,
            inner => match inner.conn_ref().map(Driven::state) {
                // As in Python wsproto, the end of the transport closes the
                // connection at once: no close reply can be sent any more.
                _ if self.transport_ended => ConnectionState::Closed,
                Some(State::Open) => ConnectionState::Open,
                Some(State::LocalClosing) => ConnectionState::LocalClosing,
                Some(State::RemoteClosing(_)) => ConnectionState::RemoteClosing,
                _ => ConnectionState::Closed,
            },
        }
    }

    /// Feeds received bytes, or `None` when the transport ended.
    pub fn receive_data(&mut self, data: Option<&[u8]>) {
        if data.is_none() {
            self.transport_ended = true;
        }
        if let Some(conn) = self.inner.conn() {
            conn.feed(data, &mut self.events);
            return;
        }
        let inner = std::mem::replace(&mut self.inner, Inner::Closed);
        self.inner = match (inner, data) {
            (Inner::ServerPending(pending), Some(data)) => match pending.receive(data) {
                Ok(ServerHandshake::Pending(p)) => Inner::ServerPending(p),
                Ok(ServerHandshake::Request(request)) => {
                    self.events
                        .push_back(Event::Request(request_event(&request)));
                    Inner::ServerRequest(request)
                }
                Err(err) => {
                    // Python raises RemoteProtocolError with a rejection hint;
                    // here the rejection is sent for the application.
                    self.pending_out.extend_from_slice(&err.to_response());
                    Inner::Closed
                }
            },
            (Inner::ClientPending(pending), Some(data)) => match pending.receive(data) {
                Ok(ClientHandshake::Pending(p)) => Inner::ClientPending(p),
                Ok(ClientHandshake::Open(open, response)) => {
                    let headers = response.headers();
                    self.events
                        .push_back(Event::AcceptConnection(AcceptConnection {
                            subprotocol: headers
                                .get(http::header::SEC_WEBSOCKET_PROTOCOL)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned),
                            extensions: open
                                .extensions()
                                .iter()
                                .map(|e| e.name().to_owned())
                                .collect(),
                            extra_headers: headers.clone(),
                        }));
                    // Frames that came behind the 101 (h11's trailing data
                    // in Python wsproto) are reported now, not on the next read.
                    let mut ws = WebSocket::from(open);
                    ws.drain(&mut self.events);
                    Inner::Client(ws)
                }
                Ok(ClientHandshake::Rejected(rejected)) => {
                    self.events
                        .push_back(Event::RejectConnection(RejectConnection {
                            status_code: rejected.response().status().as_u16(),
                            headers: rejected.response().headers().clone(),
                            has_body: rejected.has_body(),
                        }));
                    self.rejected_body(rejected)
                }
                Err(_) => {
                    self.events
                        .push_back(Event::CloseConnection(CloseConnection {
                            code: CloseCode::PROTOCOL_ERROR,
                            reason: Some("handshake failed".into()),
                        }));
                    Inner::Closed
                }
            },
            (Inner::ClientRejected(mut rejected), data) => {
                let outcome = match data {
                    Some(data) => rejected.receive(data),
                    None => {
                        rejected.receive_eof();
                        Ok(())
                    }
                };
                let next = self.rejected_body(rejected);
                // A malformed (chunked) body cannot be read further.
                if outcome.is_err() {
                    Inner::Closed
                } else {
                    next
                }
            }
            (_, None) => Inner::Closed,
            (inner, Some(_)) => inner,
        };
    }

    fn rejected_body(&mut self, mut rejected: Rejected) -> Inner {
        while let Some(piece) = rejected.poll_body() {
            let done = piece.body_finished;
            self.events.push_back(Event::RejectData(RejectData {
                data: piece.data,
                body_finished: done,
            }));
            if done {
                return Inner::Closed;
            }
        }
        if rejected.has_body() {
            Inner::ClientRejected(rejected)
        } else {
            Inner::Closed
        }
    }

    /// The events decoded so far.
    pub fn events(&mut self) -> impl Iterator<Item = Event> + '_ {
        self.events.drain(..)
    }

    /// Bytes the connection queued on its own (e.g. the close frame after a
    /// protocol error, or an HTTP error response to a bad request).
    pub fn data_to_send(&mut self) -> Bytes {
        let mut out = self.pending_out.split();
        if let Some(conn) = self.inner.conn() {
            out.extend_from_slice(&conn.take_outgoing());
        }
        out.freeze()
    }

    /// Applies a local event and returns the bytes to write.
    ///
    /// # Errors
    ///
    /// [`LocalError`] when the event does not fit the state (Python
    /// wsproto's `LocalProtocolError`): e.g. a message before the handshake
    /// or after close.
    pub fn send(&mut self, event: Event) -> Result<Bytes, LocalError> {
        let inner = std::mem::replace(&mut self.inner, Inner::Closed);
        let (inner, result) = self.apply(inner, event);
        self.inner = inner;
        result?;
        Ok(self.data_to_send())
    }

    fn apply(&mut self, inner: Inner, event: Event) -> (Inner, Result<(), LocalError>) {
        match (inner, event) {
            (Inner::ClientIdle(extensions), Event::Request(request)) => {
                match client_request(&request, self.config.clone(), extensions) {
                    Ok((pending, bytes)) => {
                        self.pending_out.extend_from_slice(&bytes);
                        (Inner::ClientPending(pending), Ok(()))
                    }
                    Err(err) => (Inner::Closed, Err(err)),
                }
            }
            (Inner::ServerRequest(request), Event::AcceptConnection(accept)) => {
                let mut options = Accept::new();
                options.subprotocol = accept.subprotocol;
                options.headers = accept.extra_headers;
                match request.accept(options) {
                    Ok(open) => {
                        // Frames that came right behind the request.
                        let mut ws = WebSocket::from(open);
                        ws.drain(&mut self.events);
                        (Inner::Server(ws), Ok(()))
                    }
                    Err(err) => (Inner::Closed, Err(err)),
                }
            }
            (Inner::ServerRequest(request), Event::RejectConnection(reject)) => {
                let status =
                    StatusCode::from_u16(reject.status_code).unwrap_or(StatusCode::BAD_REQUEST);
                let bytes = if reject.has_body {
                    Bytes::from(response_head(status, &reject.headers, None))
                } else {
                    request.reject(status, &reject.headers, b"")
                };
                self.pending_out.extend_from_slice(&bytes);
                let next = if reject.has_body {
                    Inner::ServerRejecting
                } else {
                    Inner::Closed
                };
                (next, Ok(()))
            }
            (Inner::ServerRejecting, Event::RejectData(data)) => {
                self.pending_out.extend_from_slice(&data.data);
                let next = if data.body_finished {
                    Inner::Closed
                } else {
                    Inner::ServerRejecting
                };
                (next, Ok(()))
            }
            (Inner::Client(mut ws), event) => {
                let result = Driven::send(&mut ws, event);
                (Inner::Client(ws), result)
            }
            (Inner::Server(mut ws), event) => {
                let result = Driven::send(&mut ws, event);
                (Inner::Server(ws), result)
            }
            (inner, _) => (inner, Err(local("event not allowed in the current state"))),
        }
    }
}

/// What the facade needs from a connection of either role after the
/// handshake.
trait Driven {
    fn state(&self) -> &State;
    fn feed(&mut self, data: Option<&[u8]>, events: &mut VecDeque<Event>);
    fn drain(&mut self, events: &mut VecDeque<Event>);
    fn take_outgoing(&mut self) -> Bytes;
    fn send(&mut self, event: Event) -> Result<(), LocalError>;
}

impl<R: Role> Driven for WebSocket<R> {
    fn state(&self) -> &State {
        WebSocket::state(self)
    }

    /// Feeds bytes (or the end of the transport) and converts the events.
    fn feed(&mut self, data: Option<&[u8]>, events: &mut VecDeque<Event>) {
        match data {
            Some(mut data) => {
                // Python buffers whatever it is given: decode in between
                // whenever the receive buffer pushes back.
                while !data.is_empty() {
                    if self.receive_capacity() == 0 {
                        self.drain(events);
                        if self.receive_capacity() == 0 {
                            break;
                        }
                    }
                    let room = self.receive_capacity().min(data.len());
                    // There is room, so nothing is refused.
                    let _ = self.receive(&data[..room]);
                    data = &data[room..];
                }
            }
            None => self.receive_eof(),
        }
        self.drain(events);
    }

    /// Converts every event the connection can decode now.
    fn drain(&mut self, events: &mut VecDeque<Event>) {
        loop {
            let event = match self.poll_event() {
                Ok(Some(event)) => event,
                Ok(None) => return,
                Err(err) => {
                    events.push_back(Event::CloseConnection(CloseConnection {
                        code: err.code,
                        reason: Some(err.reason.to_string()),
                    }));
                    return;
                }
            };
            events.push_back(match event {
                CoreEvent::Text(text) => Event::TextMessage(TextMessage::new(text.as_str())),
                CoreEvent::Binary(data) => Event::BytesMessage(BytesMessage::new(data)),
                CoreEvent::TextChunk {
                    data,
                    frame_finished,
                    message_finished,
                } => Event::TextMessage(TextMessage {
                    data: data.as_str().to_owned(),
                    frame_finished,
                    message_finished,
                }),
                CoreEvent::BinaryChunk {
                    data,
                    frame_finished,
                    message_finished,
                } => Event::BytesMessage(BytesMessage {
                    data,
                    frame_finished,
                    message_finished,
                }),
                // Frame mode is for proxies; a facade user who turns it on
                // gets each piece as bytes, as Python's frame-level events.
                CoreEvent::Frame(frame) => Event::BytesMessage(BytesMessage {
                    frame_finished: frame.is_frame_end(),
                    message_finished: frame.is_message_end(),
                    data: frame.into_data(),
                }),
                CoreEvent::Ping(payload) => Event::Ping(Ping { payload }),
                CoreEvent::Pong(payload) => Event::Pong(Pong { payload }),
                CoreEvent::Close(frame) => Event::CloseConnection(CloseConnection {
                    code: frame.code,
                    reason: Some(frame.reason.to_string()),
                }),
            });
        }
    }

    fn take_outgoing(&mut self) -> Bytes {
        WebSocket::take_outgoing(self)
    }

    /// Applies a message, ping, pong or close.
    fn send(&mut self, event: Event) -> Result<(), LocalError> {
        if let Event::CloseConnection(close) = event {
            if !self.state().may_send_close() {
                return Err(local("the close frame was already sent"));
            }
            self.close(close.code, &close.reason.unwrap_or_default());
            return Ok(());
        }
        let open = self.as_open().ok_or(LocalError::Closed)?;
        match event {
            Event::TextMessage(m) => {
                open.send_fragment(MessageKind::Text, m.data.as_bytes(), m.message_finished)
            }
            Event::BytesMessage(m) => {
                open.send_fragment(MessageKind::Binary, &m.data, m.message_finished)
            }
            Event::Ping(p) => open.send_ping(&p.payload),
            Event::Pong(p) => open.send_pong(&p.payload),
            _ => Err(local("event not allowed on an open connection")),
        }
    }
}

fn request_event(request: &IncomingRequest) -> Request {
    let req = request.request();
    let headers = req.headers();
    let mut extra = headers.clone();
    for name in [
        http::header::HOST,
        http::header::UPGRADE,
        http::header::CONNECTION,
        http::header::SEC_WEBSOCKET_KEY,
        http::header::SEC_WEBSOCKET_VERSION,
        http::header::SEC_WEBSOCKET_EXTENSIONS,
        http::header::SEC_WEBSOCKET_PROTOCOL,
    ] {
        extra.remove(name);
    }
    Request {
        host: headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        target: req.uri().to_string(),
        extensions: request
            .extension_offers()
            .iter()
            .map(|o| o.to_header_value())
            .collect(),
        extra_headers: extra,
        subprotocols: request.subprotocols().to_vec(),
    }
}

fn client_request(
    request: &Request,
    config: Config,
    extensions: Vec<Box<dyn Extension>>,
) -> Result<(Pending<Client>, Bytes), LocalError> {
    let invalid = |_| local("invalid request");
    let mut builder = http::Request::get(request.target.as_str()).header(
        http::header::HOST,
        HeaderValue::from_str(&request.host).map_err(invalid)?,
    );
    if !request.subprotocols.is_empty() {
        let value = HeaderValue::from_str(&request.subprotocols.join(", ")).map_err(invalid)?;
        builder = builder.header(http::header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    let mut req = builder.body(()).map_err(|_| local("invalid request"))?;
    for (name, value) in &request.extra_headers {
        req.headers_mut().append(name, value.clone());
    }
    Pending::<Client>::new(req, config, extensions).map_err(|e| LocalError::InvalidState(e.reason))
}
