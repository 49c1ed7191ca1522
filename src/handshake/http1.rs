//! The HTTP/1.1 head both roles read: a request (server) or a response
//! (client), checked byte by byte on its first line and parsed once, whole.
//!
//! Reading is linear in the bytes received however they are split: the first
//! line is checked by a small state machine that sees each byte once (so a
//! TLS ClientHello or an SSH banner fails at its first byte instead of
//! waiting for `max_handshake_size` bytes), each byte is scanned for the
//! blank line once, and httparse runs once, over the complete head.
//! (Re-parsing the whole buffer on every read made tungstenite's handshake
//! quadratic: CVE-2023-43669.)

use bytes::BytesMut;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};

use crate::error::HandshakeError;

/// Which head is expected: a server reads requests, a client responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadKind {
    Request,
    Response,
}

/// A complete, parsed head.
#[derive(Debug)]
pub(crate) struct Head {
    start: StartLine,
    headers: HeaderMap,
}

/// The parsed first line.
#[derive(Debug)]
enum StartLine {
    Request {
        method: Method,
        target: String,
        version: Version,
    },
    Response {
        status: StatusCode,
    },
}

impl Head {
    /// The head as an `http` request.
    ///
    /// # Errors
    ///
    /// 400 when the request-target is not a valid URI (or the head is a
    /// response, which a [`HeadKind::Request`] reader never returns).
    pub(crate) fn into_request(self) -> Result<http::Request<()>, HandshakeError> {
        let StartLine::Request {
            method,
            target,
            version,
        } = self.start
        else {
            return Err(HandshakeError::bad_request("expected a request"));
        };
        let mut request = http::Request::builder()
            .method(method)
            .uri(target)
            .version(version)
            .body(())
            .map_err(|_| HandshakeError::bad_request("invalid request-target"))?;
        *request.headers_mut() = self.headers;
        Ok(request)
    }

    /// The head as an `http` response.
    ///
    /// # Errors
    ///
    /// When the head is a request, which a [`HeadKind::Response`] reader
    /// never returns.
    pub(crate) fn into_response(self) -> Result<http::Response<()>, HandshakeError> {
        let StartLine::Response { status } = self.start else {
            return Err(HandshakeError::malformed_response("expected a response"));
        };
        let mut response = http::Response::new(());
        *response.status_mut() = status;
        *response.headers_mut() = self.headers;
        Ok(response)
    }
}

/// Where the first-line check is. Each state names what the next byte may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineState {
    /// Request: method token characters; `bool` is "at least one seen".
    Method(bool),
    /// Request: request-target characters; `bool` is "at least one seen".
    Target(bool),
    /// The `n`th byte of the fixed prefix `HTTP/1.`.
    Version(u8),
    /// The minor version digit.
    Minor,
    /// Request: CR after the version. Response: SP after the version.
    AfterVersion,
    /// Response: the `n`th status digit (0..3).
    Status(u8),
    /// Response: SP before the reason, or CR when there is none.
    AfterStatus,
    /// Response: reason-phrase characters.
    Reason,
    /// LF ending the first line.
    LineFeed,
    /// The first line is complete; the rest is left to httparse.
    Done,
}

/// RFC 9110 §5.6.2: `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
/// "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Bytes a request-target may hold (RFC 9112 §3.2 builds it from URI
/// characters: visible ASCII; bytes above 0x7F are left for httparse to judge).
fn is_target_byte(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// RFC 9112 §4: `reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )`.
fn is_reason_byte(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80
}

const HTTP_1: &[u8] = b"HTTP/1.";

impl LineState {
    /// The state after `b`, or `None` when `b` cannot continue an HTTP/1.x
    /// first line of `kind`.
    fn next(self, kind: HeadKind, b: u8) -> Option<Self> {
        use LineState::*;
        let next = match (self, kind) {
            // RFC 9112 §3: `request-line = method SP request-target SP
            // HTTP-version`, `method = token`.
            (Method(_), _) if is_tchar(b) => Method(true),
            (Method(true), _) if b == b' ' => Target(false),
            (Target(_), _) if is_target_byte(b) => Target(true),
            (Target(true), _) if b == b' ' => Version(0),
            // RFC 9112 §2.3: `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`,
            // and "HTTP-name is case-sensitive". Only major version 1 is
            // HTTP/1.x; anything else is another protocol.
            (Version(n), _) if HTTP_1.get(usize::from(n)) == Some(&b) => {
                if usize::from(n) + 1 == HTTP_1.len() {
                    Minor
                } else {
                    Version(n + 1)
                }
            }
            (Minor, _) if b.is_ascii_digit() => AfterVersion,
            (AfterVersion, HeadKind::Request) if b == b'\r' => LineFeed,
            // RFC 9112 §4: `status-line = HTTP-version SP status-code SP
            // [ reason-phrase ]`, `status-code = 3DIGIT`.
            (AfterVersion, HeadKind::Response) if b == b' ' => Status(0),
            (Status(n), _) if b.is_ascii_digit() => {
                if n == 2 {
                    AfterStatus
                } else {
                    Status(n + 1)
                }
            }
            // The SP before an empty reason is often left out; httparse
            // accepts that too.
            (AfterStatus, _) if b == b' ' => Reason,
            (AfterStatus | Reason, _) if b == b'\r' => LineFeed,
            (Reason, _) if is_reason_byte(b) => Reason,
            // RFC 9112 §2.2 lets a recipient accept a bare LF as a line end;
            // the blank-line scan below wants CRLF, so a bare LF is refused
            // here rather than left to time out.
            (LineFeed, _) if b == b'\n' => Done,
            _ => return None,
        };
        Some(next)
    }
}

/// Collects one HTTP/1.1 head from a byte stream.
#[derive(Debug)]
pub(crate) struct HeadReader {
    kind: HeadKind,
    pub(crate) buf: BytesMut,
    /// Bytes already run through the first-line check.
    checked: usize,
    line: LineState,
    /// Bytes already scanned for the blank line.
    scanned: usize,
}

impl HeadReader {
    pub(crate) fn new(kind: HeadKind) -> Self {
        let line = match kind {
            HeadKind::Request => LineState::Method(false),
            HeadKind::Response => LineState::Version(0),
        };
        Self {
            kind,
            buf: BytesMut::new(),
            checked: 0,
            line,
            scanned: 0,
        }
    }

    /// Adds bytes; returns the head once the blank line is in. The bytes
    /// after the head stay in `buf`.
    ///
    /// # Errors
    ///
    /// 400 at the first byte that cannot begin an HTTP/1.x head of this
    /// kind, or when the complete head does not parse; 431 when the head is
    /// longer than `limit` or has more than `max_headers` headers.
    pub(crate) fn push(
        &mut self,
        data: &[u8],
        limit: usize,
        max_headers: usize,
    ) -> Result<Option<Head>, HandshakeError> {
        // Never hold more than one byte past the limit: enough to tell that
        // the head is over it.
        let room = limit.saturating_add(1).saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&data[..data.len().min(room)]);
        self.check_first_line()?;
        let from = self.scanned.saturating_sub(3);
        let found = self.buf[from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|at| from + at + 4);
        self.scanned = self.buf.len();
        let end = match found {
            Some(end) if end <= limit => end,
            None if self.buf.len() <= limit => return Ok(None),
            _ => return Err(self.error(TOO_LARGE, "head larger than max_handshake_size")),
        };
        let head = self.parse(end, max_headers)?;
        let _ = self.buf.split_to(end);
        // Bytes cut off by the limit above belong to what follows the head.
        if data.len() > room {
            self.buf.extend_from_slice(&data[room..]);
        }
        Ok(Some(head))
    }

    fn check_first_line(&mut self) -> Result<(), HandshakeError> {
        while self.line != LineState::Done && self.checked < self.buf.len() {
            let b = self.buf[self.checked];
            self.line = self
                .line
                .next(self.kind, b)
                .ok_or_else(|| self.error(StatusCode::BAD_REQUEST, self.kind.not_http_reason()))?;
            self.checked += 1;
        }
        Ok(())
    }

    /// Parses the complete head `buf[..end]`: the one place httparse is
    /// called, its errors mapped and its headers copied.
    fn parse(&self, end: usize, max_headers: usize) -> Result<Head, HandshakeError> {
        let bytes = &self.buf[..end];
        let mut raw = vec![httparse::EMPTY_HEADER; max_headers];
        let (outcome, start, count) = match self.kind {
            HeadKind::Request => {
                let mut request = httparse::Request::new(&mut raw);
                let outcome = request.parse(bytes);
                let start = match (request.method, request.path, request.version) {
                    (Some(method), Some(target), Some(minor)) => {
                        Method::from_bytes(method.as_bytes()).ok().map(|method| {
                            StartLine::Request {
                                method,
                                target: target.to_owned(),
                                version: if minor == 0 {
                                    Version::HTTP_10
                                } else {
                                    Version::HTTP_11
                                },
                            }
                        })
                    }
                    _ => None,
                };
                (outcome, start, request.headers.len())
            }
            HeadKind::Response => {
                let mut response = httparse::Response::new(&mut raw);
                let outcome = response.parse(bytes);
                let start = response
                    .code
                    .and_then(|code| StatusCode::from_u16(code).ok())
                    .map(|status| StartLine::Response { status });
                (outcome, start, response.headers.len())
            }
        };
        match outcome {
            Ok(httparse::Status::Complete(_)) => {}
            Err(httparse::Error::TooManyHeaders) => {
                return Err(self.error(TOO_LARGE, "more headers than max_headers"));
            }
            Ok(httparse::Status::Partial) | Err(_) => {
                return Err(self.error(StatusCode::BAD_REQUEST, self.kind.malformed_reason()));
            }
        }
        let start = start
            .ok_or_else(|| self.error(StatusCode::BAD_REQUEST, self.kind.malformed_reason()))?;
        let mut headers = HeaderMap::with_capacity(count);
        for h in &raw[..count] {
            let name = HeaderName::from_bytes(h.name.as_bytes())
                .map_err(|_| self.error(StatusCode::BAD_REQUEST, "invalid header name"))?;
            let value = HeaderValue::from_bytes(h.value)
                .map_err(|_| self.error(StatusCode::BAD_REQUEST, "invalid header value"))?;
            headers.append(name, value);
        }
        Ok(Head { start, headers })
    }

    /// A server answers a bad request with `status`; a client received a
    /// response it cannot read, so there is no status to report.
    fn error(&self, status: StatusCode, reason: &'static str) -> HandshakeError {
        match self.kind {
            HeadKind::Request => HandshakeError::new(status, reason),
            HeadKind::Response => HandshakeError::malformed_response(reason),
        }
    }
}

const TOO_LARGE: StatusCode = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;

impl HeadKind {
    fn not_http_reason(self) -> &'static str {
        match self {
            HeadKind::Request => "not an HTTP/1.1 request line",
            HeadKind::Response => "not an HTTP/1.1 status line",
        }
    }

    fn malformed_reason(self) -> &'static str {
        match self {
            HeadKind::Request => "malformed HTTP request",
            HeadKind::Response => "malformed HTTP response",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push_bytewise(kind: HeadKind, text: &[u8]) -> Result<Option<(usize, Head)>, HandshakeError> {
        let mut reader = HeadReader::new(kind);
        for (i, b) in text.iter().enumerate() {
            if let Some(head) = reader.push(&[*b], 1024, 8)? {
                return Ok(Some((i, head)));
            }
        }
        Ok(None)
    }

    #[test]
    fn the_blank_line_is_found_across_pushes() {
        let text = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nEXTRA";
        let (at, head) = push_bytewise(HeadKind::Request, text).unwrap().unwrap();
        assert_eq!(at, 26);
        assert_eq!(head.headers["host"], "x");
        let mut big = HeadReader::new(HeadKind::Request);
        assert_eq!(
            big.push(&[b'a'; 100], 50, 8).unwrap_err().status,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
    }

    #[test]
    fn bytes_after_the_head_stay_buffered_even_past_the_limit() {
        let head = b"HTTP/1.1 101 OK\r\n\r\n";
        let mut data = head.to_vec();
        data.extend_from_slice(&[7; 100]);
        let mut reader = HeadReader::new(HeadKind::Response);
        let parsed = reader.push(&data, head.len() + 2, 8).unwrap().unwrap();
        assert!(matches!(parsed.start, StartLine::Response { status } if status == 101));
        assert_eq!(&reader.buf[..], &[7; 100][..]);
    }

    #[test]
    fn every_byte_value_at_the_start_is_judged_at_once() {
        for b in 0..=255u8 {
            let request = HeadReader::new(HeadKind::Request).push(&[b], 1024, 8);
            assert_eq!(request.is_ok(), is_tchar(b), "{b:#x}");
            let response = HeadReader::new(HeadKind::Response).push(&[b], 1024, 8);
            assert_eq!(response.is_ok(), b == b'H', "{b:#x}");
        }
    }
}
