//! The facade's extensions, with Python wsproto's names and negotiation
//! rules (`wsproto.extensions`): the [`Extension`] trait, the shared handle
//! [`ExtensionRef`] events carry, Python's [`PerMessageDeflate`] and
//! [`SUPPORTED_EXTENSIONS`]. The frames themselves are transformed by the
//! core's extensions (a negotiated `PerMessageDeflate` hands its parameters
//! to [`crate::extensions::PerMessageDeflate`]).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::BytesMut;

use crate::error::{HandshakeError, LocalError, ProtocolError};
use crate::event::MessageKind;
use crate::extensions::deflate::Negotiated;
use crate::extensions::{
    Decoded, DeflateConfig, Extension as CoreExtension, ExtensionOffer,
    PerMessageDeflate as CoreDeflate,
};
use crate::frame::Rsv;

/// A WebSocket extension as Python wsproto sees it: its part in the
/// handshake, as text. Python's `bool | str` answers are `Option<String>`
/// here: `None` is `False` (nothing), `Some("")` is `True` (the name
/// alone), `Some(params)` is the name followed by `; params`.
///
/// The frames of a negotiated extension are transformed by a core
/// extension it hands over in [`frame_transform`](Self::frame_transform);
/// the default has none, so frames pass unchanged.
///
/// ```
/// use wsproto::compat::extensions::Extension;
///
/// #[derive(Debug)]
/// struct Hello;
/// impl Extension for Hello {
///     fn name(&self) -> &str { "x-hello" }
///     fn offer(&self) -> Option<String> { Some("greeting=hi".into()) }
/// }
/// let mut ext = Hello;
/// assert!(!ext.enabled());
/// assert_eq!(ext.accept("x-hello"), None);
/// ```
pub trait Extension: Send + fmt::Debug {
    /// The registered name, e.g. `permessage-deflate`.
    fn name(&self) -> &str;

    /// Whether negotiation succeeded, so the extension takes part in the
    /// connection. Default `false`.
    fn enabled(&self) -> bool {
        false
    }

    /// Client: the parameters to offer.
    fn offer(&self) -> Option<String>;

    /// Server: considers one offer (the whole header element, name
    /// included); returns the response parameters to accept it. Default:
    /// decline.
    fn accept(&mut self, offer: &str) -> Option<String> {
        let _ = offer;
        None
    }

    /// Client: takes the server's response (the whole header element).
    ///
    /// # Errors
    ///
    /// A description of a response this extension cannot use; the
    /// handshake then fails with a `RemoteProtocolError`.
    fn finalize(&mut self, offer: &str) -> Result<(), String> {
        let _ = offer;
        Ok(())
    }

    /// The reserved bits the extension's frames may carry.
    fn rsv(&self) -> Rsv {
        Rsv::NONE
    }

    /// Once [`enabled`](Self::enabled): the core extension that transforms
    /// the frames, for a client (`client`) or a server. Default none.
    fn frame_transform(&mut self, client: bool) -> Option<Box<dyn CoreExtension>> {
        let _ = client;
        None
    }
}

/// A shared handle to an [`Extension`], as events carry it: the object a
/// client puts in [`Request::extensions`](super::events::Request::extensions)
/// is the one its [`AcceptConnection`](super::events::AcceptConnection)
/// reports, negotiated. Two handles are equal when they are the same
/// object, as in Python.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use wsproto::compat::extensions::{Extension, ExtensionRef, PerMessageDeflate};
///
/// let deflate = Arc::new(Mutex::new(PerMessageDeflate::default()));
/// let handle = ExtensionRef::from(deflate.clone());
/// assert_eq!(handle.name(), "permessage-deflate");
/// assert!(!handle.enabled());
/// assert_eq!(handle.clone(), handle);
/// assert_ne!(handle, ExtensionRef::new(PerMessageDeflate::default()));
/// // After a handshake, `deflate.lock().unwrap()` shows what was agreed.
/// ```
#[derive(Clone)]
pub struct ExtensionRef(Arc<Mutex<dyn Extension>>);

impl ExtensionRef {
    /// A handle to a new shared extension.
    pub fn new<E: Extension + 'static>(ext: E) -> Self {
        Self(Arc::new(Mutex::new(ext)))
    }

    /// The extension, locked.
    pub fn lock(&self) -> MutexGuard<'_, dyn Extension + 'static> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The extension's name.
    pub fn name(&self) -> String {
        self.lock().name().to_owned()
    }

    /// Whether the extension is enabled (negotiated).
    pub fn enabled(&self) -> bool {
        self.lock().enabled()
    }
}

impl<E: Extension + 'static> From<Arc<Mutex<E>>> for ExtensionRef {
    fn from(ext: Arc<Mutex<E>>) -> Self {
        Self(ext)
    }
}

impl PartialEq for ExtensionRef {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.0), Arc::as_ptr(&other.0))
    }
}

impl Eq for ExtensionRef {}

impl fmt::Debug for ExtensionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.try_lock() {
            Ok(ext) => ext.fmt(f),
            Err(_) => f.write_str("ExtensionRef(<locked>)"),
        }
    }
}

/// An [`ExtensionRef`] bound into the core: the core's handshake calls its
/// offer, finalize and accept (which go to the facade extension, as text),
/// and its connection its frame hooks (which go to the frame transform the
/// extension hands over once enabled).
pub(crate) struct Bound {
    ext: ExtensionRef,
    name: String,
    rsv: Rsv,
    transform: Option<Box<dyn CoreExtension>>,
}

impl fmt::Debug for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bound")
            .field("ext", &self.ext)
            .field("transform", &self.transform)
            .finish()
    }
}

impl Bound {
    fn unbound(ext: &ExtensionRef) -> Self {
        let (name, rsv) = {
            let locked = ext.lock();
            (locked.name().to_owned(), locked.rsv())
        };
        Self {
            ext: ext.clone(),
            name,
            rsv,
            transform: None,
        }
    }

    /// For the handshake: the transform comes with negotiation.
    pub(crate) fn boxed(ext: &ExtensionRef) -> Box<dyn CoreExtension> {
        Box::new(Self::unbound(ext))
    }

    /// After a handshake made elsewhere (Python's `Connection(extensions)`):
    /// the enabled extensions, with their transforms.
    pub(crate) fn negotiated(
        extensions: &[ExtensionRef],
        client: bool,
    ) -> Vec<Box<dyn CoreExtension>> {
        extensions
            .iter()
            .filter(|ext| ext.enabled())
            .map(|ext| {
                let mut bound = Self::unbound(ext);
                bound.bind(client);
                Box::new(bound) as Box<dyn CoreExtension>
            })
            .collect()
    }

    fn bind(&mut self, client: bool) {
        let mut ext = self.ext.lock();
        if ext.enabled() {
            self.transform = ext.frame_transform(client);
        }
    }

    fn parse(&self, params: &str) -> ExtensionOffer {
        let text = if params.is_empty() {
            self.name.clone()
        } else {
            format!("{}; {params}", self.name)
        };
        ExtensionOffer::parse_header(&text)
            .ok()
            .and_then(|mut offers| (offers.len() == 1).then(|| offers.remove(0)))
            .unwrap_or_else(|| ExtensionOffer::new(self.name.clone()))
    }
}

impl CoreExtension for Bound {
    fn name(&self) -> &str {
        &self.name
    }

    fn rsv(&self) -> Rsv {
        self.transform.as_ref().map_or(self.rsv, |t| t.rsv())
    }

    fn offer(&self) -> Option<ExtensionOffer> {
        let params = self.ext.lock().offer()?;
        Some(self.parse(&params))
    }

    fn finalize(&mut self, response: &ExtensionOffer) -> Result<(), HandshakeError> {
        self.ext
            .lock()
            .finalize(&response.to_header_value())
            .map_err(HandshakeError::bad_request)?;
        self.bind(true);
        Ok(())
    }

    fn accept(&mut self, offer: &ExtensionOffer) -> Option<ExtensionOffer> {
        let params = self.ext.lock().accept(&offer.to_header_value())?;
        self.bind(false);
        Some(self.parse(&params))
    }

    fn decode_start(&mut self, rsv: Rsv) -> Result<bool, ProtocolError> {
        match &mut self.transform {
            Some(t) => t.decode_start(rsv),
            None => Ok(false),
        }
    }

    fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        budget: u64,
        max_out: usize,
        out: &mut BytesMut,
    ) -> Result<Decoded, ProtocolError> {
        match &mut self.transform {
            Some(t) => t.decode(input, fin, budget, max_out, out),
            // Never claimed a message (`decode_start` said no).
            None => Ok(Decoded {
                consumed: 0,
                done: true,
            }),
        }
    }

    fn max_encoded_len(&self, payload_len: usize) -> usize {
        self.transform
            .as_ref()
            .map_or(payload_len, |t| t.max_encoded_len(payload_len))
    }

    fn encode(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        first: bool,
        fin: bool,
        out: &mut BytesMut,
    ) -> Result<Option<Rsv>, LocalError> {
        match &mut self.transform {
            Some(t) => t.encode(kind, payload, first, fin, out),
            None => Ok(None),
        }
    }
}

/// A window size outside 9–15, which Python wsproto's `PerMessageDeflate`
/// refuses (its `ValueError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Window size must be between 9 and 15 inclusive")]
pub struct InvalidWindowBits(pub u8);

/// permessage-deflate with Python wsproto's parameters and negotiation:
/// it offers both window sizes, accepts whatever a client asks, and ignores
/// parameters it does not know. Once enabled, the frames are compressed by
/// [`crate::extensions::PerMessageDeflate`] as Python's zlib settings would
/// (level 6, memory level 8, every message compressed).
///
/// ```
/// use wsproto::compat::extensions::{Extension, PerMessageDeflate};
///
/// let mut ext = PerMessageDeflate::default();
/// assert_eq!(ext.offer().unwrap(), "client_max_window_bits=15; server_max_window_bits=15");
/// let response = ext.accept("permessage-deflate; client_max_window_bits").unwrap();
/// assert_eq!(response, "client_max_window_bits=15");
/// assert!(ext.enabled());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerMessageDeflate {
    /// Whether the client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// Whether the server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    client_max_window_bits: u8,
    server_max_window_bits: u8,
    enabled: bool,
}

impl Default for PerMessageDeflate {
    fn default() -> Self {
        Self {
            client_no_context_takeover: false,
            server_no_context_takeover: false,
            client_max_window_bits: Self::DEFAULT_CLIENT_MAX_WINDOW_BITS,
            server_max_window_bits: Self::DEFAULT_SERVER_MAX_WINDOW_BITS,
            enabled: false,
        }
    }
}

impl PerMessageDeflate {
    /// The registered name.
    pub const NAME: &'static str = "permessage-deflate";
    /// The client's window unless set: 15.
    pub const DEFAULT_CLIENT_MAX_WINDOW_BITS: u8 = 15;
    /// The server's window unless set: 15.
    pub const DEFAULT_SERVER_MAX_WINDOW_BITS: u8 = 15;

    /// Python's `PerMessageDeflate(client_no_context_takeover,
    /// client_max_window_bits, server_no_context_takeover,
    /// server_max_window_bits)`; `None` keeps a window at 15.
    ///
    /// ```
    /// use wsproto::compat::extensions::PerMessageDeflate;
    /// let ext = PerMessageDeflate::new(true, Some(9), false, None)?;
    /// assert_eq!((ext.client_max_window_bits(), ext.server_max_window_bits()), (9, 15));
    /// assert!(PerMessageDeflate::new(false, Some(8), false, None).is_err());
    /// # Ok::<(), wsproto::compat::extensions::InvalidWindowBits>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A window outside 9–15.
    pub fn new(
        client_no_context_takeover: bool,
        client_max_window_bits: Option<u8>,
        server_no_context_takeover: bool,
        server_max_window_bits: Option<u8>,
    ) -> Result<Self, InvalidWindowBits> {
        let mut ext = Self {
            client_no_context_takeover,
            server_no_context_takeover,
            ..Self::default()
        };
        if let Some(bits) = client_max_window_bits {
            ext.set_client_max_window_bits(bits)?;
        }
        if let Some(bits) = server_max_window_bits {
            ext.set_server_max_window_bits(bits)?;
        }
        Ok(ext)
    }

    /// The client's window.
    pub fn client_max_window_bits(&self) -> u8 {
        self.client_max_window_bits
    }

    /// The server's window.
    pub fn server_max_window_bits(&self) -> u8 {
        self.server_max_window_bits
    }

    /// Sets the client's window.
    ///
    /// # Errors
    ///
    /// A window outside 9–15; nothing changes.
    pub fn set_client_max_window_bits(&mut self, bits: u8) -> Result<(), InvalidWindowBits> {
        self.client_max_window_bits = check_window(bits)?;
        Ok(())
    }

    /// Sets the server's window.
    ///
    /// # Errors
    ///
    /// A window outside 9–15; nothing changes.
    pub fn set_server_max_window_bits(&mut self, bits: u8) -> Result<(), InvalidWindowBits> {
        self.server_max_window_bits = check_window(bits)?;
        Ok(())
    }

    /// The window sizes an offer names (`None` when absent; a size
    /// without a value is ours), taking its `*_no_context_takeover` flags.
    fn parse_params(
        &mut self,
        params: &str,
    ) -> Result<(Option<u8>, Option<u8>), InvalidWindowBits> {
        let mut client_bits = None;
        let mut server_bits = None;
        for bit in params.split(';').skip(1).map(str::trim) {
            if bit.starts_with("client_no_context_takeover") {
                self.client_no_context_takeover = true;
            } else if bit.starts_with("server_no_context_takeover") {
                self.server_no_context_takeover = true;
            } else if bit.starts_with("client_max_window_bits") {
                client_bits = Some(match bit.split_once('=') {
                    Some((_, value)) => parse_bits(value)?,
                    None => self.client_max_window_bits,
                });
            } else if bit.starts_with("server_max_window_bits") {
                server_bits = Some(match bit.split_once('=') {
                    Some((_, value)) => parse_bits(value)?,
                    None => self.server_max_window_bits,
                });
            }
        }
        Ok((client_bits, server_bits))
    }
}

fn check_window(bits: u8) -> Result<u8, InvalidWindowBits> {
    if (9..=15).contains(&bits) {
        Ok(bits)
    } else {
        Err(InvalidWindowBits(bits))
    }
}

/// Python's `int(value.strip())`, as a window size; anything unparsable
/// (or out of `u8`) is an invalid window.
fn parse_bits(value: &str) -> Result<u8, InvalidWindowBits> {
    value.trim().parse::<u8>().map_err(|_| InvalidWindowBits(0))
}

impl Extension for PerMessageDeflate {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn enabled(&self) -> bool {
        self.enabled
    }

    fn offer(&self) -> Option<String> {
        let mut parameters = vec![
            format!("client_max_window_bits={}", self.client_max_window_bits),
            format!("server_max_window_bits={}", self.server_max_window_bits),
        ];
        if self.client_no_context_takeover {
            parameters.push("client_no_context_takeover".into());
        }
        if self.server_no_context_takeover {
            parameters.push("server_no_context_takeover".into());
        }
        Some(parameters.join("; "))
    }

    fn finalize(&mut self, offer: &str) -> Result<(), String> {
        for bit in offer.split(';').skip(1).map(str::trim) {
            let value = || bit.split_once('=').map_or("", |(_, v)| v);
            if bit.starts_with("client_no_context_takeover") {
                self.client_no_context_takeover = true;
            } else if bit.starts_with("server_no_context_takeover") {
                self.server_no_context_takeover = true;
            } else if bit.starts_with("client_max_window_bits") {
                let bits = parse_bits(value()).map_err(|e| e.to_string())?;
                self.set_client_max_window_bits(bits)
                    .map_err(|e| e.to_string())?;
            } else if bit.starts_with("server_max_window_bits") {
                let bits = parse_bits(value()).map_err(|e| e.to_string())?;
                self.set_server_max_window_bits(bits)
                    .map_err(|e| e.to_string())?;
            }
        }
        self.enabled = true;
        Ok(())
    }

    fn accept(&mut self, offer: &str) -> Option<String> {
        let (client_bits, server_bits) = self.parse_params(offer).ok()?;
        let mut parameters = Vec::new();
        if self.client_no_context_takeover {
            parameters.push("client_no_context_takeover".to_owned());
        }
        if self.server_no_context_takeover {
            parameters.push("server_no_context_takeover".to_owned());
        }
        // Python sets each window as it goes and declines at the first
        // invalid one, keeping what was set before it.
        if let Some(bits) = client_bits {
            parameters.push(format!("client_max_window_bits={bits}"));
            self.set_client_max_window_bits(bits).ok()?;
        }
        if let Some(bits) = server_bits {
            parameters.push(format!("server_max_window_bits={bits}"));
            self.set_server_max_window_bits(bits).ok()?;
        }
        self.enabled = true;
        Some(parameters.join("; "))
    }

    fn rsv(&self) -> Rsv {
        Rsv::RSV1
    }

    fn frame_transform(&mut self, client: bool) -> Option<Box<dyn CoreExtension>> {
        let (ours, theirs) = if client {
            (
                (self.client_max_window_bits, self.client_no_context_takeover),
                (self.server_max_window_bits, self.server_no_context_takeover),
            )
        } else {
            (
                (self.server_max_window_bits, self.server_no_context_takeover),
                (self.client_max_window_bits, self.client_no_context_takeover),
            )
        };
        // Python's zlib settings: Z_DEFAULT_COMPRESSION (6), memory level
        // 8, and every message compressed, however short.
        let config = DeflateConfig::default()
            .with_level(6)
            .with_memory_level(8)
            .with_compress_threshold(0);
        let negotiated = Negotiated {
            send_max_window_bits: ours.0,
            send_no_context_takeover: ours.1,
            receive_max_window_bits: theirs.0,
            receive_no_context_takeover: theirs.1,
        };
        Some(Box::new(CoreDeflate::with_negotiated(config, negotiated)))
    }
}

impl fmt::Display for PerMessageDeflate {
    /// Python's `repr`: `<PerMessageDeflate client_max_window_bits=15;
    /// server_max_window_bits=15>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut descr = vec![format!(
            "client_max_window_bits={}",
            self.client_max_window_bits
        )];
        if self.client_no_context_takeover {
            descr.push("client_no_context_takeover".into());
        }
        descr.push(format!(
            "server_max_window_bits={}",
            self.server_max_window_bits
        ));
        if self.server_no_context_takeover {
            descr.push("server_no_context_takeover".into());
        }
        write!(f, "<PerMessageDeflate {}>", descr.join("; "))
    }
}

/// Makes a fresh extension (the class in Python's map).
pub type ExtensionMaker = fn() -> ExtensionRef;

/// Every extension the facade implements, by name, with a maker for a
/// fresh one (Python's name-to-class map).
///
/// ```
/// use wsproto::compat::extensions::SUPPORTED_EXTENSIONS;
/// let (name, make) = SUPPORTED_EXTENSIONS[0];
/// assert_eq!(name, "permessage-deflate");
/// assert_eq!(make().name(), name);
/// ```
pub static SUPPORTED_EXTENSIONS: &[(&str, ExtensionMaker)] = &[(PerMessageDeflate::NAME, || {
    ExtensionRef::new(PerMessageDeflate::default())
})];
