//! The extension framework (RFC 6455 §9): the [`Extension`] trait, offer
//! parsing, and negotiation. permessage-deflate (RFC 7692) is in [`deflate`].

use bytes::BytesMut;

use crate::error::{HandshakeError, LocalError, ProtocolError};
use crate::event::MessageKind;
use crate::frame::Rsv;

pub mod deflate;

pub use deflate::{DeflateConfig, PerMessageDeflate};

/// One extension offer or response: a name and its parameters, as in one
/// comma-separated element of `Sec-WebSocket-Extensions`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtensionOffer {
    /// The extension token, e.g. `permessage-deflate`.
    pub name: String,
    /// Parameters in order: name and optional value (quotes removed).
    pub params: Vec<(String, Option<String>)>,
}

/// A WebSocket extension: its part in the handshake and its transform of
/// data messages.
///
/// The connection calls the frame hooks only for data messages. An
/// extension claims the reserved bits it may set ([`Extension::rsv`]); a
/// frame with a reserved bit no negotiated extension claims fails the
/// connection with 1002. Claimed bits are only valid on the first frame of a
/// data message (the RFC 7692 rule), never on continuation or control frames.
pub trait Extension: Send + std::fmt::Debug {
    /// The registered name, e.g. `permessage-deflate`.
    fn name(&self) -> &str;

    /// The reserved bits this extension uses.
    fn rsv(&self) -> Rsv;

    /// Client: the offer to put in the request, or `None` to offer nothing.
    fn offer(&self) -> Option<ExtensionOffer>;

    /// Client: checks the server's response to our offer and configures the
    /// extension from it.
    ///
    /// # Errors
    ///
    /// The handshake fails when the response is not one this extension
    /// could have asked for.
    fn finalize(&mut self, response: &ExtensionOffer) -> Result<(), HandshakeError>;

    /// Server: considers one offer from the client; returns the response
    /// parameters to accept it (and configures itself), or `None` to decline.
    fn accept(&mut self, offer: &ExtensionOffer) -> Option<ExtensionOffer>;

    /// Called with the reserved bits of the first frame of every inbound data
    /// message; returns whether this extension decodes that message.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] fails the connection.
    fn decode_start(&mut self, rsv: Rsv) -> Result<bool, ProtocolError>;

    /// Decodes the next payload bytes of a message this extension claimed,
    /// in order. Frame boundaries are not marked (RFC 7692 transforms the
    /// message, not its frames) and `input` may end anywhere, since the
    /// connection feeds bytes as they arrive. `fin` is set when `input` ends
    /// the message.
    ///
    /// Appends at most `max_out` bytes to `out` in one call, and never more
    /// than `budget + 1` bytes over the message (so going over the budget is
    /// seen without decoding further). Returns how much of `input` it
    /// consumed and whether it is [`done`](Decoded::done) with it; when not,
    /// the connection calls again with the rest once the output is taken.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] fails the connection.
    fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        budget: u64,
        max_out: usize,
        out: &mut BytesMut,
    ) -> Result<Decoded, ProtocolError>;

    /// The most bytes [`encode`](Self::encode) can write for a payload of
    /// `payload_len` bytes, so that `Config::max_outgoing_buffer` is checked
    /// against what will really be queued. By default the payload's length.
    fn max_encoded_len(&self, payload_len: usize) -> usize {
        payload_len
    }

    /// Frame mode ([`relay`](crate::relay)): the parameters this extension
    /// negotiated, in permessage-deflate's terms, so that a frame carrying
    /// its reserved bits can be checked before it is forwarded untouched to
    /// another connection. `None` (the default) means such frames are never
    /// forwarded: [`Open::send_frame`](crate::Open::send_frame) refuses
    /// them.
    fn relay_params(&self) -> Option<deflate::Negotiated> {
        None
    }

    /// Encodes one outbound fragment (a whole message is one fragment with
    /// `first` and `fin` set). Returns `None` to send the payload unchanged,
    /// or the bits to set on this frame after writing the transformed payload
    /// to `out`. Only the first frame of a message may carry bits.
    ///
    /// # Errors
    ///
    /// A [`LocalError`] aborts the send.
    fn encode(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        first: bool,
        fin: bool,
        out: &mut BytesMut,
    ) -> Result<Option<Rsv>, LocalError>;
}

/// What one call of [`Extension::decode`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// Bytes of `input` consumed.
    pub consumed: usize,
    /// Whether all of `input` was consumed and all the output it gives was
    /// written (with `fin`: the message is decoded). `false` when `max_out`
    /// stopped the call early.
    pub done: bool,
}

impl ExtensionOffer {
    /// An offer with no parameters.
    ///
    /// ```
    /// use wsproto::extensions::ExtensionOffer;
    ///
    /// assert_eq!(ExtensionOffer::new("x-my-ext").to_header_value(), "x-my-ext");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter.
    ///
    /// ```
    /// use wsproto::extensions::ExtensionOffer;
    ///
    /// let offer = ExtensionOffer::new("permessage-deflate")
    ///     .with_param("server_no_context_takeover", None)
    ///     .with_param("client_max_window_bits", Some("10".into()));
    /// assert_eq!(
    ///     offer.to_header_value(),
    ///     "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
    /// );
    /// ```
    #[must_use]
    pub fn with_param(mut self, name: impl Into<String>, value: Option<String>) -> Self {
        self.params.push((name.into(), value));
        self
    }

    /// Parses every element of one or more `Sec-WebSocket-Extensions` header
    /// values (RFC 6455 §9.1 grammar: `name *( ";" param [ "=" value ] )`,
    /// comma-separated, values as tokens or quoted strings).
    ///
    /// ```
    /// use wsproto::extensions::ExtensionOffer;
    ///
    /// let offers = ExtensionOffer::parse_header(
    ///     "permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\"",
    /// )?;
    /// assert_eq!(offers.len(), 2);
    /// assert_eq!(offers[0].params, [("client_max_window_bits".to_string(), None)]);
    /// assert_eq!(offers[1].params[0].1.as_deref(), Some("10")); // quotes removed
    /// assert!(ExtensionOffer::parse_header("permessage-deflate; =1").is_err());
    /// # Ok::<(), &'static str>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A description of the first syntax error.
    pub fn parse_header(value: &str) -> Result<Vec<Self>, &'static str> {
        let mut offers = Vec::new();
        let mut rest = value;
        loop {
            rest = rest.trim_start_matches([' ', '\t']);
            if rest.is_empty() {
                return Ok(offers);
            }
            // Empty list elements (",,") are allowed by RFC 7230's #rule.
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
                continue;
            }
            let (name, after) = take_token(rest).ok_or("expected an extension name")?;
            let mut offer = Self::new(name);
            rest = after.trim_start_matches([' ', '\t']);
            while let Some(after) = rest.strip_prefix(';') {
                let after = after.trim_start_matches([' ', '\t']);
                let (param, after) = take_token(after).ok_or("expected a parameter name")?;
                let after = after.trim_start_matches([' ', '\t']);
                let (value, after) = match after.strip_prefix('=') {
                    Some(v) => {
                        let v = v.trim_start_matches([' ', '\t']);
                        let (value, after) = if let Some(q) = v.strip_prefix('"') {
                            take_quoted(q).ok_or("unterminated quoted string")?
                        } else {
                            let (t, a) = take_token(v).ok_or("expected a parameter value")?;
                            (t.to_owned(), a)
                        };
                        (Some(value), after)
                    }
                    None => (None, after),
                };
                offer.params.push((param.to_owned(), value));
                rest = after.trim_start_matches([' ', '\t']);
            }
            offers.push(offer);
            match rest.strip_prefix(',') {
                Some(after) => rest = after,
                None if rest.is_empty() => return Ok(offers),
                None => return Err("unexpected character in extension header"),
            }
        }
    }

    /// The header form: `name; param; param=value`. Values that are not
    /// tokens are quoted.
    ///
    /// ```
    /// use wsproto::extensions::ExtensionOffer;
    ///
    /// let offer = ExtensionOffer::new("x-ext").with_param("note", Some("a b".into()));
    /// assert_eq!(offer.to_header_value(), "x-ext; note=\"a b\"");
    /// ```
    pub fn to_header_value(&self) -> String {
        let mut out = self.name.clone();
        for (name, value) in &self.params {
            out.push_str("; ");
            out.push_str(name);
            if let Some(value) = value {
                out.push('=');
                if !value.is_empty() && value.bytes().all(is_tchar) {
                    out.push_str(value);
                } else {
                    out.push('"');
                    for c in value.chars() {
                        if c == '"' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                    out.push('"');
                }
            }
        }
        out
    }
}

/// RFC 7230 §3.2.6 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn take_token(s: &str) -> Option<(&str, &str)> {
    let end = s.bytes().position(|b| !is_tchar(b)).unwrap_or(s.len());
    (end > 0).then(|| s.split_at(end))
}

fn take_quoted(s: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &s[i + 1..])),
            '\\' => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    None
}

/// Server side of negotiation (Python wsproto's `handshake_extensions`):
/// for each supported extension, in order, the first of the client's offers
/// with its name that it accepts. Returns the accepted extensions and the
/// response header value, or `None` when nothing was accepted.
///
/// The handshake calls it for you; call it yourself when the request was
/// parsed elsewhere, then build the connection with [`Open::new`](crate::Open::new):
///
/// ```
/// use wsproto::extensions::{negotiate, DeflateConfig, Extension, ExtensionOffer, PerMessageDeflate};
/// use wsproto::{Config, Open, Server};
///
/// let header = "permessage-deflate; client_max_window_bits=12; server_no_context_takeover";
/// let offers = ExtensionOffer::parse_header(header)?;
/// let supported: Vec<Box<dyn Extension>> =
///     vec![Box::new(PerMessageDeflate::new(DeflateConfig::default()))];
/// let (accepted, response) = negotiate(&offers, supported);
/// assert_eq!(
///     response.as_deref(),
///     Some("permessage-deflate; server_no_context_takeover; client_max_window_bits=12")
/// );
/// let ws = Open::<Server>::new(Config::default(), accepted); // after sending the 101
/// # let _ = ws;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn negotiate(
    offers: &[ExtensionOffer],
    supported: Vec<Box<dyn Extension>>,
) -> (Vec<Box<dyn Extension>>, Option<String>) {
    let mut accepted: Vec<Box<dyn Extension>> = Vec::new();
    let mut responses = Vec::new();
    let mut claimed = crate::frame::Rsv::NONE;
    for mut ext in supported {
        // Two extensions may not claim the same reserved bit.
        if ext.rsv().difference(claimed) != ext.rsv() {
            continue;
        }
        let name = ext.name().to_owned();
        let response = offers
            .iter()
            .filter(|offer| offer.name.eq_ignore_ascii_case(&name))
            .find_map(|offer| ext.accept(offer));
        if let Some(response) = response {
            claimed = claimed.union(ext.rsv());
            responses.push(response.to_header_value());
            accepted.push(ext);
        }
    }
    let header = (!responses.is_empty()).then(|| responses.join(", "));
    (accepted, header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offers_with_params_and_quotes() {
        let offers = ExtensionOffer::parse_header(
            "permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\" ,x-foo",
        )
        .unwrap();
        assert_eq!(offers.len(), 3);
        assert_eq!(
            offers[0].params,
            vec![("client_max_window_bits".to_owned(), None)]
        );
        assert_eq!(
            offers[1].params,
            vec![("server_max_window_bits".to_owned(), Some("10".to_owned()))]
        );
        assert_eq!(offers[2].name, "x-foo");
        assert!(ExtensionOffer::parse_header("a; =1").is_err());
        assert!(ExtensionOffer::parse_header("a; b=\"1").is_err());
        assert!(ExtensionOffer::parse_header("a b").is_err());
        assert_eq!(ExtensionOffer::parse_header(" , ").unwrap(), vec![]);
    }

    #[test]
    fn header_value_round_trips() {
        let offer = ExtensionOffer::new("x")
            .with_param("a", None)
            .with_param("b", Some("1".into()))
            .with_param("c", Some("two words".into()));
        let text = offer.to_header_value();
        assert_eq!(text, "x; a; b=1; c=\"two words\"");
        assert_eq!(ExtensionOffer::parse_header(&text).unwrap(), vec![offer]);
    }
}
