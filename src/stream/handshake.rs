//! The opening handshake over a transport: [`accept`] for a server,
//! [`client_async`] for a client that already has its connection.

use bytes::{Bytes, BytesMut};
use http::{Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{Error, StreamConfig, WebSocketStream};
use crate::config::Config;
use crate::extensions::Extension;
use crate::handshake::{
    Accept, ClientHandshake, IncomingRequest, Pending, Rejected, ServerHandshake,
};
use crate::role::{Client, Server};

/// How much of the transport one handshake read takes. Bytes past the head
/// are kept for the connection, so nothing is lost by reading ahead.
const HANDSHAKE_READ: usize = 4096;

/// The most of a rejection's body kept in [`Error::Rejected`]; the rest is
/// dropped.
pub const MAX_REJECTION_BODY: usize = 64 * 1024;

/// Accepts a WebSocket connection on `io` with the default settings, no
/// extensions and no subprotocol: reads the upgrade request, answers 101,
/// and returns the open stream.
///
/// ```
/// use futures_util::{SinkExt, StreamExt};
/// use wsproto::stream;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let addr = listener.local_addr()?;
/// # let client = tokio::spawn(async move {
/// #     let (mut ws, _) = wsproto::connect(&format!("ws://{addr}/")).await?;
/// #     ws.send(stream::Message::text("hi")).await?;
/// #     while ws.next().await.is_some() {}
/// #     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
/// # });
/// let (tcp, _) = listener.accept().await?;
/// let mut ws = stream::accept(tcp).await?;
/// while let Some(message) = ws.next().await {
///     let message = message?;
///     if message.is_text() {
///         ws.send(message).await?;
///         ws.close(None).await?;
///     }
/// }
/// # client.await?.map_err(|e| e.to_string())?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`Error::Handshake`] for an invalid request, after answering it with the
/// error's status (400, 426 or 431) and shutting the transport down;
/// [`Error::Io`] when the transport fails or ends first.
pub async fn accept<IO>(io: IO) -> Result<WebSocketStream<IO, Server>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    accept_with(
        io,
        Config::default(),
        Vec::new(),
        StreamConfig::default(),
        |_| Ok(Accept::new()),
    )
    .await
}

/// Accepts a WebSocket connection with chosen settings: `config` for the
/// protocol, `extensions` the server supports (each negotiates from the
/// client's offers), `stream_config` for the adapter, and `decide`, which
/// sees the request and picks a subprotocol and extra headers
/// ([`Accept`]) or answers with a rejection of its own (boxed, as it
/// travels on in [`Error::Rejected`]).
///
/// ```no_run
/// # async fn run(io: tokio::net::TcpStream) -> Result<(), wsproto::stream::Error> {
/// use wsproto::handshake::Accept;
/// use wsproto::stream::{accept_with, StreamConfig};
///
/// let ws = accept_with(io, Default::default(), Vec::new(), StreamConfig::default(), |request| {
///     if request.request().uri().path() != "/chat" {
///         let not_found = http::Response::builder().status(404).body("no such room".into());
///         return Err(Box::new(not_found.unwrap()));
///     }
///     let chat = request.subprotocols().iter().any(|p| p == "chat");
///     Ok(if chat { Accept::new().subprotocol("chat") } else { Accept::new() })
/// })
/// .await?;
/// # let _ = ws; Ok(()) }
/// ```
///
/// # Errors
///
/// As [`accept`]; [`Error::Rejected`] when `decide` rejected (its response
/// was written, and the transport shut down); [`Error::Local`] when its
/// [`Accept`] was invalid for the request (then a 500 was answered).
pub async fn accept_with<IO, F>(
    mut io: IO,
    config: Config,
    extensions: Vec<Box<dyn Extension>>,
    stream_config: StreamConfig,
    decide: F,
) -> Result<WebSocketStream<IO, Server>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&IncomingRequest) -> Result<Accept, Box<Response<Bytes>>>,
{
    // The handshake's state (the parser, the request, the answer being
    // written) is a few times the open stream's size. On the heap, it is
    // freed when the handshake ends; inline, it would size the caller's
    // future, and so every connection's task, for the connection's life.
    Box::pin(async move {
        let mut pending = Pending::<Server>::new(config, extensions);
        let mut buf = BytesMut::with_capacity(HANDSHAKE_READ);
        let request = loop {
            buf.clear();
            buf.reserve(HANDSHAKE_READ);
            if io.read_buf(&mut buf).await? == 0 {
                return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            match pending.receive(&buf) {
                Ok(ServerHandshake::Pending(next)) => pending = next,
                Ok(ServerHandshake::Request(request)) => break request,
                Err(err) => {
                    answer(&mut io, &err.to_response()).await?;
                    return Err(Error::Handshake(err));
                }
            }
        };
        drop(buf);
        match decide(&request) {
            Ok(choice) => match request.accept(choice) {
                Ok(open) => {
                    let mut ws = WebSocketStream::from_open(io, open, stream_config);
                    // The 101 goes out now, so the client can start at once.
                    ws.flush_handshake().await?;
                    Ok(ws)
                }
                Err(err) => {
                    let status = http::StatusCode::INTERNAL_SERVER_ERROR;
                    answer(
                        &mut io,
                        &crate::handshake::server::reject_response(
                            status,
                            &Default::default(),
                            b"",
                        ),
                    )
                    .await?;
                    Err(Error::Local(err))
                }
            },
            Err(response) => {
                let bytes = request.reject(response.status(), response.headers(), response.body());
                answer(&mut io, &bytes).await?;
                Err(Error::Rejected(response))
            }
        }
    })
    .await
}

/// Writes a refusal and shuts the transport down.
async fn answer<IO: AsyncWrite + Unpin>(io: &mut IO, bytes: &[u8]) -> Result<(), Error> {
    io.write_all(bytes).await?;
    // The refusal is written; whether the shutdown succeeds changes nothing.
    let _ = io.shutdown().await;
    Ok(())
}

/// Runs the client's opening handshake over a transport the caller already
/// connected (TCP, TLS, a proxy tunnel…), with the default settings and no
/// extensions. `request` is a `ws://` URI (or a path with a `Host` header),
/// with any extra headers and subprotocols to offer.
///
/// ```
/// use futures_util::{SinkExt, StreamExt};
/// use wsproto::stream::{self, Message};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (io, server_io) = tokio::io::duplex(1 << 16);
/// # let server = tokio::spawn(async move {
/// #     let mut ws = stream::accept(server_io).await?;
/// #     while let Some(Ok(m)) = ws.next().await { if m.is_text() { ws.send(m).await?; } }
/// #     Ok::<_, stream::Error>(())
/// # });
/// // `io` is any AsyncRead + AsyncWrite: a TcpStream, a TLS stream, a tunnel…
/// let request = http::Request::get("ws://localhost/chat")
///     .header("sec-websocket-protocol", "chat")
///     .body(())?;
/// let (mut ws, response) = stream::client_async(request, io).await?;
/// assert_eq!(response.status(), 101);
/// ws.send(Message::text("hello")).await?;
/// assert_eq!(ws.next().await.transpose()?, Some(Message::text("hello")));
/// # ws.close(None).await?;
/// # while ws.next().await.is_some() {}
/// # server.await??;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`Error::Rejected`] when the server answered with a status other than
/// 101 (body included, up to [`MAX_REJECTION_BODY`]); [`Error::Handshake`]
/// when the request is invalid or the response fails the checks of RFC 6455
/// §4.1; [`Error::Io`] when the transport fails or ends first.
pub async fn client_async<IO>(
    request: Request<()>,
    io: IO,
) -> Result<(WebSocketStream<IO, Client>, Response<()>), Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    client_async_with(
        request,
        io,
        Config::default(),
        Vec::new(),
        StreamConfig::default(),
    )
    .await
}

/// [`client_async`] with chosen settings: `config` for the protocol,
/// `extensions` to offer (e.g. permessage-deflate), `stream_config` for the
/// adapter.
///
/// ```
/// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
/// use wsproto::stream::{self, StreamConfig};
/// use wsproto::Config;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (io, server_io) = tokio::io::duplex(1 << 16);
/// # let server = tokio::spawn(async move {
/// #     let deflate = PerMessageDeflate::new(DeflateConfig::default());
/// #     stream::accept_with(server_io, Config::default(), vec![Box::new(deflate)],
/// #         StreamConfig::default(), |_| Ok(Default::default())).await
/// # });
/// let deflate = PerMessageDeflate::new(DeflateConfig::default());
/// let request = http::Request::get("ws://localhost/").body(())?;
/// let (ws, _response) = stream::client_async_with(
///     request,
///     io,
///     Config::default().with_max_message_size(1 << 20),
///     vec![Box::new(deflate)],
///     StreamConfig::default(),
/// )
/// .await?;
/// assert_eq!(ws.extensions()[0].name(), "permessage-deflate");
/// # let _server = server.await??;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// As [`client_async`].
pub async fn client_async_with<IO>(
    request: Request<()>,
    mut io: IO,
    config: Config,
    extensions: Vec<Box<dyn Extension>>,
    stream_config: StreamConfig,
) -> Result<(WebSocketStream<IO, Client>, Response<()>), Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let (mut pending, bytes) = Pending::<Client>::new(request, config, extensions)?;
    io.write_all(&bytes).await?;
    io.flush().await?;
    let mut buf = BytesMut::with_capacity(HANDSHAKE_READ);
    loop {
        buf.clear();
        buf.reserve(HANDSHAKE_READ);
        if io.read_buf(&mut buf).await? == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        match pending.receive(&buf)? {
            ClientHandshake::Pending(next) => pending = next,
            ClientHandshake::Open(open, response) => {
                return Ok((
                    WebSocketStream::from_open(io, open, stream_config),
                    response,
                ));
            }
            ClientHandshake::Rejected(rejected) => {
                return Err(read_rejection(rejected, &mut io, buf).await);
            }
        }
    }
}

/// Reads a rejection's body (up to [`MAX_REJECTION_BODY`]) into the error.
async fn read_rejection<IO: AsyncRead + Unpin>(
    mut rejected: Rejected,
    io: &mut IO,
    mut buf: BytesMut,
) -> Error {
    let mut body = BytesMut::new();
    let mut finished = !rejected.has_body();
    let mut eof = false;
    loop {
        while let Some(piece) = rejected.poll_body() {
            let room = MAX_REJECTION_BODY.saturating_sub(body.len());
            body.extend_from_slice(&piece.data[..piece.data.len().min(room)]);
            finished |= piece.body_finished;
        }
        if finished || eof || body.len() >= MAX_REJECTION_BODY {
            break;
        }
        buf.clear();
        buf.reserve(HANDSHAKE_READ);
        match io.read_buf(&mut buf).await {
            // The body may run to the end of the transport: one more look
            // at what that completed.
            Ok(0) => {
                rejected.receive_eof();
                eof = true;
            }
            Ok(_) => {
                if let Err(err) = rejected.receive(&buf) {
                    return Error::Handshake(err);
                }
            }
            Err(err) => return Error::Io(err),
        }
    }
    let head = rejected.response();
    let mut response = Response::new(body.freeze());
    *response.status_mut() = head.status();
    *response.version_mut() = head.version();
    *response.headers_mut() = head.headers().clone();
    Error::Rejected(Box::new(response))
}
