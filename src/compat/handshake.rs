//! [`H11Handshake`]: Python wsproto's opening handshake
//! (`wsproto.handshake`) on the core's [`Pending`] phase, with its events,
//! states and errors, and its extension negotiation helpers.

use std::collections::VecDeque;
use std::fmt;

use bytes::{Bytes, BytesMut};
use http::header::{
    CONNECTION, HOST, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_PROTOCOL,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use super::connection::{Connection, default_config, python_config};
use super::error::{LocalProtocolError, ProtocolError, RemoteProtocolError};
use super::events::{
    AcceptConnection, Event, RejectConnection, RejectData, Request, RequestExtension,
};
use super::extensions::{Bound, ExtensionRef};
use super::{ConnectionState, ConnectionType};
use crate::config::Config;
use crate::error::HandshakeError;
use crate::extensions::{ExtensionOffer, negotiate};
use crate::handshake::server::response_head;
use crate::handshake::{Accept, IncomingRequest, Pending, Rejected, ServerHandshake};
use crate::keys::MaskKeySource;
use crate::phase::WebSocket;
use crate::role::{Client, Server};

/// Where the handshake is.
enum Stage {
    /// A client that has not sent its request.
    ClientIdle,
    /// A client waiting for the response, with what it offered.
    ClientPending {
        pending: Pending<Client>,
        offered: Vec<ExtensionRef>,
    },
    /// A client reading a rejection's body.
    ClientRejected(Rejected),
    /// A server waiting for the request.
    ServerPending(Pending<Server>),
    /// A server holding a valid request, and the bytes that came after it.
    ServerRequest(IncomingRequest, BytesMut),
    /// A server that sent a rejection's head and owes its body.
    ServerRejecting,
    /// A server that refused the request: it may still reject.
    ServerFailed,
    /// Open (the connection was made) or closed.
    Done,
}

impl fmt::Debug for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ClientIdle => "ClientIdle",
            Self::ClientPending { .. } => "ClientPending",
            Self::ClientRejected(_) => "ClientRejected",
            Self::ServerPending(_) => "ServerPending",
            Self::ServerRequest(..) => "ServerRequest",
            Self::ServerRejecting => "ServerRejecting",
            Self::ServerFailed => "ServerFailed",
            Self::Done => "Done",
        })
    }
}

/// The opening handshake over HTTP/1.1 (Python's `H11Handshake`): a
/// client sends a [`Request`] and receives an [`AcceptConnection`] or a
/// [`RejectConnection`] (with [`RejectData`]); a server receives the
/// `Request` and sends one of them. Once accepted, the
/// [`Connection`] takes over.
///
/// ```
/// use wsproto::compat::{events::*, ConnectionState, ConnectionType, Event, H11Handshake};
///
/// let mut client = H11Handshake::new(ConnectionType::Client);
/// let mut server = H11Handshake::new(ConnectionType::Server);
/// server.receive_data(Some(&client.send(Request::new("localhost", "/"))?))?;
/// assert!(matches!(server.events().next(), Some(Event::Request(_))));
/// client.receive_data(Some(&server.send(AcceptConnection::default())?))?;
/// assert!(matches!(client.events().next(), Some(Event::AcceptConnection(_))));
/// assert_eq!((client.state(), server.state()), (ConnectionState::Open, ConnectionState::Open));
/// assert_eq!(client.to_string(), "H11Handshake(client=True, state=ConnectionState.OPEN)");
/// assert!(client.take_connection().is_some());
/// # Ok::<(), wsproto::compat::ProtocolError>(())
/// ```
pub struct H11Handshake {
    client: bool,
    config: Config,
    state: ConnectionState,
    stage: Stage,
    events: VecDeque<Event>,
    connection: Option<Connection>,
    mask: Option<Box<dyn MaskKeySource>>,
}

impl fmt::Debug for H11Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("H11Handshake")
            .field("client", &self.client)
            .field("state", &self.state)
            .field("stage", &self.stage)
            .field("events", &self.events)
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for H11Handshake {
    /// Python's `repr`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let client = if self.client { "True" } else { "False" };
        write!(f, "H11Handshake(client={client}, state={})", self.state)
    }
}

impl H11Handshake {
    /// A handshake for a client or a server, with per-frame messages.
    pub fn new(connection_type: ConnectionType) -> Self {
        Self::with_config(connection_type, default_config())
    }

    /// A handshake whose connection will use `config` (limits, message
    /// mode); pongs and close replies are always left to the application.
    pub fn with_config(connection_type: ConnectionType, config: Config) -> Self {
        let config = python_config(config);
        let client = connection_type == ConnectionType::Client;
        let stage = if client {
            Stage::ClientIdle
        } else {
            Stage::ServerPending(Pending::<Server>::new(config.clone(), Vec::new()))
        };
        Self {
            client,
            config,
            state: ConnectionState::Connecting,
            stage,
            events: VecDeque::new(),
            connection: None,
            mask: None,
        }
    }

    /// The state: `Connecting`, then `Open`, `Rejecting` or `Closed`.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The connection, once the handshake succeeded.
    pub fn connection(&mut self) -> Option<&mut Connection> {
        self.connection.as_mut()
    }

    /// Takes the connection, once the handshake succeeded.
    pub fn take_connection(&mut self) -> Option<Connection> {
        self.connection.take()
    }

    /// A client: the masking keys of the connection to come (tests and
    /// reproducible captures only).
    pub fn set_mask_source(&mut self, source: Box<dyn MaskKeySource>) {
        self.mask = Some(source);
    }

    /// A server whose request was read elsewhere (say, by an HTTP server
    /// that saw the upgrade): feeds it as if it had been received, so its
    /// [`Request`] event follows.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue};
    /// use wsproto::compat::{ConnectionType, Event, H11Handshake};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("host", HeaderValue::from_static("localhost"));
    /// headers.insert("connection", HeaderValue::from_static("Upgrade"));
    /// headers.insert("upgrade", HeaderValue::from_static("websocket"));
    /// headers.insert("sec-websocket-version", HeaderValue::from_static("13"));
    /// headers.insert("sec-websocket-key", HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="));
    /// let mut server = H11Handshake::new(ConnectionType::Server);
    /// server.initiate_upgrade_connection(&headers, "/chat")?;
    /// let Some(Event::Request(request)) = server.events().next() else { panic!() };
    /// assert_eq!(request.target, "/chat");
    /// # Ok::<(), wsproto::compat::ProtocolError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LocalProtocolError`] on a client; [`RemoteProtocolError`] when the
    /// request is not a valid upgrade.
    pub fn initiate_upgrade_connection(
        &mut self,
        headers: &HeaderMap,
        path: &str,
    ) -> Result<(), ProtocolError> {
        if self.client {
            return Err(LocalProtocolError::new(
                "Cannot initiate an upgrade connection when acting as the client",
            )
            .into());
        }
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(b"GET ");
        bytes.extend_from_slice(path.as_bytes());
        bytes.extend_from_slice(b" HTTP/1.1\r\n");
        crate::handshake::write_headers(&mut bytes, headers);
        bytes.extend_from_slice(b"\r\n");
        self.receive_data(Some(&bytes))
    }

    /// The events received so far.
    pub fn events(&mut self) -> impl Iterator<Item = Event> + '_ {
        self.events.drain(..)
    }

    /// The next event, without holding a borrow (see
    /// [`WSConnection::next_event`](super::WSConnection::next_event)).
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Applies a handshake event and returns the bytes to write.
    ///
    /// # Errors
    ///
    /// [`LocalProtocolError`] when the event does not fit the role or the
    /// state (a message during the handshake, a subprotocol the client did
    /// not offer, data for a rejection without a body).
    pub fn send(&mut self, event: impl Into<Event>) -> Result<Bytes, LocalProtocolError> {
        let event = event.into();
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        let (stage, result) = self.apply(stage, event);
        self.stage = stage;
        result
    }

    fn apply(&mut self, stage: Stage, event: Event) -> (Stage, Result<Bytes, LocalProtocolError>) {
        match (stage, event) {
            (Stage::ClientIdle, Event::Request(request)) => match self.initiate(&request) {
                Ok((pending, offered, bytes)) => {
                    (Stage::ClientPending { pending, offered }, Ok(bytes))
                }
                Err(err) => (Stage::ClientIdle, Err(err)),
            },
            (Stage::ServerRequest(request, early), Event::AcceptConnection(accept)) => {
                self.accept(request, early, accept)
            }
            (
                stage @ (Stage::ServerPending(_) | Stage::ServerRequest(..) | Stage::ServerFailed),
                Event::RejectConnection(reject),
            ) => {
                let _ = stage;
                let status =
                    StatusCode::from_u16(reject.status_code).unwrap_or(StatusCode::BAD_REQUEST);
                let body_len = (!reject.has_body).then_some(0);
                let bytes = Bytes::from(response_head(status, &reject.headers, body_len));
                if reject.has_body {
                    self.state = ConnectionState::Rejecting;
                    (Stage::ServerRejecting, Ok(bytes))
                } else {
                    self.state = ConnectionState::Closed;
                    (Stage::Done, Ok(bytes))
                }
            }
            (Stage::ServerRejecting, Event::RejectData(data)) => {
                if data.body_finished {
                    self.state = ConnectionState::Closed;
                    (Stage::Done, Ok(data.data))
                } else {
                    (Stage::ServerRejecting, Ok(data.data))
                }
            }
            (stage, event @ Event::RejectData(_)) => {
                let err = LocalProtocolError::new(format!(
                    "Cannot send rejection data in state {}",
                    self.state
                ));
                let _ = event;
                (stage, Err(err))
            }
            (stage, Event::RejectConnection(_)) => {
                let err = LocalProtocolError::new(format!(
                    "Connection cannot be rejected in state {}",
                    self.state
                ));
                (stage, Err(err))
            }
            (stage, event) => {
                let err = LocalProtocolError::new(format!(
                    "Event {} cannot be sent during the handshake",
                    event.name()
                ));
                (stage, Err(err))
            }
        }
    }

    /// A client's request: the core builds it, with the extensions' offers.
    #[allow(clippy::type_complexity)]
    fn initiate(
        &mut self,
        request: &Request,
    ) -> Result<(Pending<Client>, Vec<ExtensionRef>, Bytes), LocalProtocolError> {
        let invalid =
            |what: &str| LocalProtocolError::new(format!("invalid {what} in the Request"));
        let mut offered = Vec::new();
        for ext in &request.extensions {
            match ext {
                RequestExtension::Extension(ext) => offered.push(ext.clone()),
                RequestExtension::Offer(_) => {
                    return Err(LocalProtocolError::new(
                        "a client offers extension objects, not strings",
                    ));
                }
            }
        }
        // Python IDNA-encodes the host; we take the header value as given,
        // so a non-ASCII host must come as its A-label ("xn--…").
        if !request.host.is_ascii() {
            return Err(LocalProtocolError::new(
                "the host must be ASCII: pass its IDNA A-label (xn--…)",
            ));
        }
        let mut builder = http::Request::get(request.target.as_str()).header(
            HOST,
            HeaderValue::from_str(&request.host).map_err(|_| invalid("host"))?,
        );
        if !request.subprotocols.is_empty() {
            let value = HeaderValue::from_str(&request.subprotocols.join(", "))
                .map_err(|_| invalid("subprotocol"))?;
            builder = builder.header(SEC_WEBSOCKET_PROTOCOL, value);
        }
        let mut req = builder.body(()).map_err(|_| invalid("target"))?;
        for (name, value) in &request.extra_headers {
            req.headers_mut().append(name, value.clone());
        }
        let bounds = offered.iter().map(Bound::boxed).collect();
        let (pending, bytes) = Pending::<Client>::new(req, self.config.clone(), bounds)
            .map_err(|err| LocalProtocolError::new(err.reason))?;
        Ok((pending, offered, bytes))
    }

    /// A server's acceptance: the core negotiates `accept.extensions`
    /// and writes the 101.
    fn accept(
        &mut self,
        mut request: IncomingRequest,
        early: BytesMut,
        accept: AcceptConnection,
    ) -> (Stage, Result<Bytes, LocalProtocolError>) {
        if let Some(name) = &accept.subprotocol
            && !request.subprotocols().contains(name)
        {
            let err = LocalProtocolError::new(format!("unexpected subprotocol {name}"));
            return (Stage::ServerRequest(request, early), Err(err));
        }
        request.supported = accept.extensions.iter().map(Bound::boxed).collect();
        let mut options = Accept::new();
        options.subprotocol = accept.subprotocol;
        options.headers = accept.extra_headers;
        match request.accept(options) {
            Ok(open) => {
                let ws = WebSocket::from(open);
                let mut connection = Connection::from_core(ConnectionType::Server, Box::new(ws));
                // The 101 is the connection's first outgoing bytes.
                let bytes = connection.take_preface();
                if !early.is_empty() {
                    let _ = connection.receive_data(Some(&early));
                }
                self.connection = Some(connection);
                self.state = ConnectionState::Open;
                (Stage::Done, Ok(bytes))
            }
            // The subprotocol was checked above: a header value that cannot
            // be written is left.
            Err(err) => {
                self.state = ConnectionState::Closed;
                (Stage::Done, Err(LocalProtocolError::new(err.to_string())))
            }
        }
    }

    /// Feeds received bytes, or `None` when the transport ended.
    ///
    /// # Errors
    ///
    /// [`RemoteProtocolError`] when the peer's request or response is not
    /// a valid upgrade; its [`event_hint`](RemoteProtocolError::event_hint)
    /// is the rejection a server sends back (a server stays `Connecting`
    /// so that it can). A server holding a request it has not answered yet
    /// keeps the bytes that follow for the connection, up to
    /// [`Config::max_receive_buffer`]; more is refused (without a hint)
    /// and dropped.
    pub fn receive_data(&mut self, data: Option<&[u8]>) -> Result<(), ProtocolError> {
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        let (stage, result) = self.feed(stage, data);
        self.stage = stage;
        result.map_err(ProtocolError::from)
    }

    fn feed(
        &mut self,
        stage: Stage,
        data: Option<&[u8]>,
    ) -> (Stage, Result<(), RemoteProtocolError>) {
        match (stage, data) {
            (Stage::ServerPending(pending), Some(data)) => match pending.receive(data) {
                Ok(ServerHandshake::Pending(pending)) => (Stage::ServerPending(pending), Ok(())),
                Ok(ServerHandshake::Request(request)) => {
                    self.events
                        .push_back(Event::Request(request_event(&request)));
                    (Stage::ServerRequest(request, BytesMut::new()), Ok(()))
                }
                Err(err) => (Stage::ServerFailed, Err(server_error(&err))),
            },
            // Frames before the application accepted: kept for the
            // connection, up to the receive buffer's limit.
            (Stage::ServerRequest(request, mut early), Some(data)) => {
                if early.len().saturating_add(data.len()) > self.config.max_receive_buffer {
                    let err = RemoteProtocolError::new(
                        "more than max_receive_buffer bytes before the accept",
                        None,
                    );
                    return (Stage::ServerRequest(request, early), Err(err));
                }
                early.extend_from_slice(data);
                (Stage::ServerRequest(request, early), Ok(()))
            }
            (Stage::ClientPending { pending, offered }, Some(data)) => {
                self.response(pending, offered, data)
            }
            (Stage::ClientRejected(mut rejected), data) => {
                let outcome = match data {
                    Some(data) => rejected.receive(data),
                    None => {
                        rejected.receive_eof();
                        Ok(())
                    }
                };
                match outcome {
                    Ok(()) => (self.rejected_body(rejected), Ok(())),
                    Err(_) => {
                        let stage = self.rejected_body(rejected);
                        (stage, Err(RemoteProtocolError::reject("Bad HTTP message")))
                    }
                }
            }
            // The end of the transport during the handshake, or bytes where
            // none are expected: nothing happens, as with h11.
            (stage, _) => (stage, Ok(())),
        }
    }

    /// The response to a client's request.
    fn response(
        &mut self,
        mut pending: Pending<Client>,
        offered: Vec<ExtensionRef>,
        data: &[u8],
    ) -> (Stage, Result<(), RemoteProtocolError>) {
        let bad_http = || RemoteProtocolError::reject("Bad HTTP message");
        let limits = (self.config.max_handshake_size, self.config.max_headers);
        let head = match pending.head.push(data, limits.0, limits.1) {
            Ok(Some(head)) => head,
            Ok(None) => return (Stage::ClientPending { pending, offered }, Ok(())),
            Err(_) => return (Stage::Done, Err(bad_http())),
        };
        let Ok(response) = head.into_response() else {
            return (Stage::Done, Err(bad_http()));
        };
        let rest = pending.head.buf.split();
        let status = response.status();
        if status != StatusCode::SWITCHING_PROTOCOLS {
            let informational = status.is_informational();
            self.events
                .push_back(Event::RejectConnection(RejectConnection {
                    status_code: status.as_u16(),
                    headers: response.headers().clone(),
                    has_body: !informational,
                }));
            if informational {
                self.state = ConnectionState::Closed;
                return (Stage::Done, Ok(()));
            }
            self.state = ConnectionState::Rejecting;
            return match Rejected::new(response, &rest) {
                Ok(rejected) => (self.rejected_body(rejected), Ok(())),
                Err(_) => (Stage::Done, Err(bad_http())),
            };
        }
        match pending.finish(&response) {
            Ok(mut open) => {
                if let Some(mask) = self.mask.take() {
                    open.set_mask_source(mask);
                }
                let _ = open.receive(&rest);
                let negotiated: Vec<&str> = open.extensions().iter().map(|e| e.name()).collect();
                let extensions = offered
                    .iter()
                    .filter(|ext| {
                        negotiated
                            .iter()
                            .any(|n| n.eq_ignore_ascii_case(&ext.name()))
                    })
                    .cloned()
                    .collect();
                let mut extra_headers = response.headers().clone();
                for name in [
                    CONNECTION,
                    UPGRADE,
                    SEC_WEBSOCKET_ACCEPT,
                    SEC_WEBSOCKET_PROTOCOL,
                    SEC_WEBSOCKET_EXTENSIONS,
                ] {
                    extra_headers.remove(name);
                }
                self.events
                    .push_back(Event::AcceptConnection(AcceptConnection {
                        subprotocol: open.subprotocol().map(str::to_owned),
                        extensions,
                        extra_headers,
                    }));
                let ws = WebSocket::from(open);
                self.connection = Some(Connection::from_core(ConnectionType::Client, Box::new(ws)));
                self.state = ConnectionState::Open;
                (Stage::Done, Ok(()))
            }
            Err(err) => (Stage::Done, Err(client_error(&err, &response, &offered))),
        }
    }

    /// Reports what arrived of a rejection's body; h11's end of message is
    /// an empty last piece.
    fn rejected_body(&mut self, mut rejected: Rejected) -> Stage {
        if !rejected.has_body() {
            self.events
                .push_back(Event::RejectData(RejectData::new(Bytes::new())));
            self.state = ConnectionState::Closed;
            return Stage::Done;
        }
        while let Some(piece) = rejected.poll_body() {
            if !piece.data.is_empty() {
                self.events.push_back(Event::RejectData(RejectData {
                    data: piece.data,
                    body_finished: false,
                }));
            }
            if piece.body_finished {
                self.events
                    .push_back(Event::RejectData(RejectData::new(Bytes::new())));
                self.state = ConnectionState::Closed;
                return Stage::Done;
            }
        }
        Stage::ClientRejected(rejected)
    }
}

/// The `Request` event for a valid upgrade request.
fn request_event(request: &IncomingRequest) -> Request {
    let req = request.request();
    let headers = req.headers();
    let mut extra_headers = headers.clone();
    for name in [HOST, SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_PROTOCOL] {
        extra_headers.remove(name);
    }
    Request {
        host: headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        target: req.uri().to_string(),
        extensions: request
            .extension_offers()
            .iter()
            .map(|o| RequestExtension::Offer(o.to_header_value()))
            .collect(),
        extra_headers,
        subprotocols: request.subprotocols().to_vec(),
    }
}

/// A server's refusal in Python's words, with its rejection as the hint.
fn server_error(err: &HandshakeError) -> RemoteProtocolError {
    let reason: &str = &err.reason;
    let message = match reason {
        "method is not GET" => "Request method must be GET",
        "Connection header lacks \"Upgrade\"" => "Missing header, 'Connection: Upgrade'",
        "Upgrade header lacks \"websocket\"" => "Missing header, 'Upgrade: websocket'",
        "missing or repeated Sec-WebSocket-Version" | "Sec-WebSocket-Version must be 13" => {
            let mut headers = HeaderMap::new();
            headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
            return RemoteProtocolError::new(
                "Missing header, 'Sec-WebSocket-Version'",
                Some(Event::RejectConnection(RejectConnection {
                    status_code: err.status.as_u16(),
                    headers,
                    has_body: false,
                })),
            );
        }
        "missing or repeated Sec-WebSocket-Key" => "Missing header, 'Sec-WebSocket-Key'",
        "missing or repeated Host header" => "Missing header, 'Host'",
        // The core's own checks that Python does not make (the key's form,
        // the HTTP version, the extension header's syntax) keep its words.
        other if !(other.starts_with("Sec-WebSocket") || other.starts_with("HTTP version")) => {
            "Bad HTTP message"
        }
        other => {
            return RemoteProtocolError::new(
                other.to_owned(),
                Some(Event::RejectConnection(RejectConnection {
                    status_code: err.status.as_u16(),
                    ..RejectConnection::default()
                })),
            );
        }
    };
    // 400, or 431 for a head over the limits.
    RemoteProtocolError::new(
        message,
        Some(Event::RejectConnection(RejectConnection {
            status_code: err.status.as_u16(),
            ..RejectConnection::default()
        })),
    )
}

/// A client's refusal of a 101 in Python's words.
fn client_error(
    err: &HandshakeError,
    response: &Response<()>,
    offered: &[ExtensionRef],
) -> RemoteProtocolError {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let message = match &*err.reason {
        "response Upgrade header lacks \"websocket\"" => {
            "Missing header, 'Upgrade: websocket'".to_owned()
        }
        "response Connection header lacks \"Upgrade\"" => {
            "Missing header, 'Connection: Upgrade'".to_owned()
        }
        "Sec-WebSocket-Accept does not match the key" => "Bad accept token".to_owned(),
        "server selected a subprotocol that was not offered" => {
            format!(
                "unrecognized subprotocol {}",
                header(SEC_WEBSOCKET_PROTOCOL)
            )
        }
        "server accepted an extension that was not offered (or twice)" => {
            let names: Vec<String> = offered.iter().map(ExtensionRef::name).collect();
            let unknown = response
                .headers()
                .get_all(SEC_WEBSOCKET_EXTENSIONS)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|e| e.split(';').next().unwrap_or("").trim().to_owned())
                .find(|name| !names.contains(name))
                .unwrap_or_default();
            format!("unrecognized extension {unknown}")
        }
        other => other.to_owned(),
    };
    RemoteProtocolError::reject(message)
}

/// Python's `server_extensions_handshake(requested, supported)`: offers
/// each of the client's offers to the supported extensions with its name,
/// and returns the `Sec-WebSocket-Extensions` value of the accepted ones,
/// or `None` when none was. The accepted extensions are then enabled.
///
/// ```
/// use wsproto::compat::extensions::{ExtensionRef, PerMessageDeflate};
/// use wsproto::compat::server_extensions_handshake;
///
/// let deflate = ExtensionRef::new(PerMessageDeflate::default());
/// let header = server_extensions_handshake(
///     &["permessage-deflate; client_max_window_bits", "x-unknown"],
///     &[deflate.clone()],
/// );
/// assert_eq!(header.as_deref(), Some("permessage-deflate; client_max_window_bits=15"));
/// assert!(deflate.enabled());
/// ```
pub fn server_extensions_handshake(
    requested: &[&str],
    supported: &[ExtensionRef],
) -> Option<String> {
    let offers: Vec<ExtensionOffer> = requested
        .iter()
        .filter_map(|offer| ExtensionOffer::parse_header(offer).ok())
        .flatten()
        .collect();
    negotiate(&offers, supported.iter().map(Bound::boxed).collect()).1
}

/// Python's other name for [`server_extensions_handshake`].
pub use server_extensions_handshake as handshake_extensions;

/// Python's `client_extensions_handshake(accepted, supported)`: finalizes
/// each extension the server accepted, and returns them.
///
/// ```
/// use wsproto::compat::extensions::{ExtensionRef, PerMessageDeflate};
/// use wsproto::compat::client_extensions_handshake;
///
/// let deflate = ExtensionRef::new(PerMessageDeflate::default());
/// let agreed = client_extensions_handshake(&["permessage-deflate"], &[deflate.clone()])?;
/// assert_eq!(agreed, [deflate.clone()]);
/// assert!(deflate.enabled());
/// let err = client_extensions_handshake(&["x-bad"], &[deflate]).unwrap_err();
/// assert_eq!(err.to_string(), "unrecognized extension x-bad");
/// # Ok::<(), wsproto::compat::RemoteProtocolError>(())
/// ```
///
/// # Errors
///
/// [`RemoteProtocolError`] when the server accepted an extension that is
/// not supported, or that cannot take the response.
pub fn client_extensions_handshake(
    accepted: &[&str],
    supported: &[ExtensionRef],
) -> Result<Vec<ExtensionRef>, RemoteProtocolError> {
    let mut extensions = Vec::new();
    for accept in accepted {
        let name = accept.split(';').next().unwrap_or("").trim();
        let Some(ext) = supported.iter().find(|ext| ext.name() == name) else {
            return Err(RemoteProtocolError::reject(format!(
                "unrecognized extension {name}"
            )));
        };
        ext.lock()
            .finalize(accept)
            .map_err(RemoteProtocolError::reject)?;
        extensions.push(ext.clone());
    }
    Ok(extensions)
}
