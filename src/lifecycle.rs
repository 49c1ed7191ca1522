//! The connection's lifecycle after the opening handshake: one state, one
//! transition function, and the table of every transition (h11's "all the
//! transitions in one place").
//!
//! Every predicate the rest of the crate asks ("may I send?", "is it
//! over?", "does input still count?") is a method of [`State`], and every
//! change of state goes through `State::on`. The typed phases of
//! [`phase`](crate::phase) are views of these states.
//!
//! # The table
//!
//! | state ╲ input    | `SendClose`      | `RecvClose(f)`          | `Eof`                | `Fail(e)`   |
//! |------------------|------------------|-------------------------|----------------------|-------------|
//! | `Open`           | `LocalClosing`   | `RemoteClosing(f)`      | `Closed(1006)`       | `Failed(e)` |
//! | `LocalClosing`   | ignored          | `Closed(f)`             | `Closed(1006)`       | `Failed(e)` |
//! | `RemoteClosing`  | `Closed(f)`      | ignored                 | ignored              | ignored     |
//! | `Closed`         | ignored          | ignored                 | ignored              | ignored     |
//! | `Failed`         | ignored          | ignored                 | ignored              | ignored     |
//!
//! - `SendClose`: our close frame is queued (by `close`, by the automatic
//!   reply to the peer's close, or after a protocol error).
//! - `RecvClose(f)`: the peer's close frame `f` was decoded.
//! - `Eof`: the transport ended and every byte before the end was decoded
//!   (`receive_eof`, then polling to the end). RFC 6455 §7.1.5: with no close
//!   frame received, the close code "is considered to be 1006".
//! - `Fail(e)`: the peer broke the protocol (a [`ProtocolError`]).
//!
//! "Ignored" arcs cannot be taken through the public API: input is not
//! decoded in `RemoteClosing`, `Closed` or `Failed`, and a second close is
//! not queued. They leave the state as it is rather than panic. Each arc,
//! ignored ones included, has a test below.
//!
//! With `Config::auto_close` on (the default), `RecvClose` in `Open` is
//! followed at once by `SendClose`, so the connection goes straight through
//! `RemoteClosing` to `Closed`.

use crate::error::ProtocolError;
use crate::frame::{CloseCode, CloseFrame};

/// Where a connection is in its lifecycle, after the opening handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// Our close frame is queued; the peer's has not arrived. Input is still
    /// decoded (RFC 6455 §5.5.1: data may still arrive).
    LocalClosing,
    /// The peer's close frame arrived and ours is not queued yet (only with
    /// `Config::auto_close` off): reply with `close`.
    RemoteClosing(CloseFrame),
    /// Both close frames were exchanged, or the transport ended (the frame
    /// is then code 1006). Write out what is queued, then close the
    /// transport.
    Closed(CloseFrame),
    /// The peer broke the protocol; the close frame with the error's code is
    /// queued (unless ours was sent before).
    Failed(ProtocolError),
}

/// What moves a connection from one [`State`] to the next.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    /// Our close frame is queued.
    SendClose,
    /// The peer's close frame was decoded.
    RecvClose(CloseFrame),
    /// The transport ended and everything before the end was decoded.
    Eof,
    /// The peer broke the protocol.
    Fail(ProtocolError),
}

impl State {
    /// Takes one arc of the table; returns whether the state changed.
    pub(crate) fn on(&mut self, input: Input) -> bool {
        let next = match (&*self, input) {
            (Self::Open, Input::SendClose) => Self::LocalClosing,
            (Self::Open, Input::RecvClose(frame)) => Self::RemoteClosing(frame),
            (Self::LocalClosing, Input::RecvClose(frame)) => Self::Closed(frame),
            (Self::RemoteClosing(frame), Input::SendClose) => Self::Closed(frame.clone()),
            (Self::Open | Self::LocalClosing, Input::Eof) => {
                Self::Closed(CloseFrame::new(CloseCode::ABNORMAL_CLOSURE, ""))
            }
            (Self::Open | Self::LocalClosing, Input::Fail(err)) => Self::Failed(err),
            _ => return false,
        };
        *self = next;
        true
    }

    /// Whether input is still decoded.
    ///
    /// ```
    /// use wsproto::lifecycle::State;
    /// use wsproto::{Client, CloseCode, Config, Open};
    ///
    /// let closing = Open::<Client>::new(Config::default(), Vec::new()).close(CloseCode::NORMAL, "");
    /// assert!(closing.state().is_reading()); // the peer's reply is still awaited
    /// ```
    pub fn is_reading(&self) -> bool {
        matches!(self, Self::Open | Self::LocalClosing)
    }

    /// Whether messages, pings and pongs may be sent (and pings answered).
    ///
    /// ```
    /// use wsproto::lifecycle::State;
    /// use wsproto::{Client, CloseCode, Config, Open};
    ///
    /// let open = Open::<Client>::new(Config::default(), Vec::new());
    /// assert!(open.state().may_send());
    /// assert!(!open.close(CloseCode::NORMAL, "").state().may_send());
    /// ```
    pub fn may_send(&self) -> bool {
        matches!(self, Self::Open)
    }

    /// Whether our close frame is still to be queued.
    ///
    /// ```
    /// use wsproto::lifecycle::State;
    /// use wsproto::{Client, CloseCode, Config, Open};
    ///
    /// let open = Open::<Client>::new(Config::default(), Vec::new());
    /// assert!(open.state().may_send_close());
    /// assert!(!open.close(CloseCode::NORMAL, "").state().may_send_close());
    /// ```
    pub fn may_send_close(&self) -> bool {
        matches!(self, Self::Open | Self::RemoteClosing(_))
    }

    /// Whether the connection is over: nothing more will be decoded and
    /// nothing more may be queued; once the outgoing bytes are written the
    /// transport can be closed.
    ///
    /// ```
    /// use wsproto::lifecycle::State;
    /// use wsproto::{Client, CloseCode, Config, Open};
    ///
    /// let mut open = Open::<Client>::new(Config::default(), Vec::new());
    /// open.receive_eof();
    /// while open.poll_event()?.is_some() {}
    /// assert!(open.state().is_closed());
    /// # Ok::<(), wsproto::ProtocolError>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_) | Self::Failed(_))
    }

    /// The peer's close frame (code 1006 if the transport ended first).
    ///
    /// ```
    /// use wsproto::lifecycle::State;
    /// use wsproto::{Client, CloseCode, Config, Open};
    ///
    /// let mut open = Open::<Client>::new(Config::default(), Vec::new());
    /// open.receive(b"\x88\x02\x03\xe9")?; // the server's close, code 1001
    /// while open.poll_event()?.is_some() {}
    /// assert_eq!(open.state().close_received().map(|f| f.code), Some(CloseCode::GOING_AWAY));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close_received(&self) -> Option<&CloseFrame> {
        match self {
            Self::RemoteClosing(frame) | Self::Closed(frame) => Some(frame),
            _ => None,
        }
    }

    /// The protocol error that failed the connection.
    ///
    /// ```
    /// use wsproto::lifecycle::State;
    /// use wsproto::{Client, CloseCode, Config, Open};
    ///
    /// let mut open = Open::<Client>::new(Config::default(), Vec::new());
    /// open.receive(b"\x81\x80\0\0\0\0")?; // a masked frame from the server
    /// assert!(open.poll_event().is_err());
    /// assert_eq!(open.state().error().map(|e| e.code), Some(CloseCode::PROTOCOL_ERROR));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn error(&self) -> Option<&ProtocolError> {
        match self {
            Self::Failed(err) => Some(err),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::ProtocolErrorKind;

    fn frame() -> CloseFrame {
        CloseFrame::new(CloseCode::NORMAL, "bye")
    }

    fn abnormal() -> CloseFrame {
        CloseFrame::new(CloseCode::ABNORMAL_CLOSURE, "")
    }

    fn err() -> ProtocolError {
        ProtocolErrorKind::InvalidUtf8.into()
    }

    fn states() -> Vec<State> {
        vec![
            State::Open,
            State::LocalClosing,
            State::RemoteClosing(frame()),
            State::Closed(frame()),
            State::Failed(err()),
        ]
    }

    fn inputs() -> Vec<Input> {
        vec![
            Input::SendClose,
            Input::RecvClose(frame()),
            Input::Eof,
            Input::Fail(err()),
        ]
    }

    /// The table of the module docs, row by row.
    fn expected(state: &State, input: &Input) -> Option<State> {
        use State as S;
        Some(match (state, input) {
            (S::Open, Input::SendClose) => S::LocalClosing,
            (S::Open, Input::RecvClose(f)) => S::RemoteClosing(f.clone()),
            (S::Open, Input::Eof) => S::Closed(abnormal()),
            (S::Open, Input::Fail(e)) => S::Failed(e.clone()),
            (S::LocalClosing, Input::RecvClose(f)) => S::Closed(f.clone()),
            (S::LocalClosing, Input::Eof) => S::Closed(abnormal()),
            (S::LocalClosing, Input::Fail(e)) => S::Failed(e.clone()),
            (S::RemoteClosing(f), Input::SendClose) => S::Closed(f.clone()),
            _ => return None,
        })
    }

    #[test]
    fn every_arc_of_the_table() {
        let mut taken = 0;
        for state in states() {
            for input in inputs() {
                let mut s = state.clone();
                let changed = s.on(input.clone());
                match expected(&state, &input) {
                    Some(next) => {
                        assert!(changed, "{state:?} + {input:?}");
                        assert_eq!(s, next, "{state:?} + {input:?}");
                        taken += 1;
                    }
                    None => {
                        assert!(!changed, "{state:?} + {input:?} must be ignored");
                        assert_eq!(s, state);
                    }
                }
            }
        }
        assert_eq!(taken, 8, "eight arcs change the state");
    }

    #[test]
    fn predicates_follow_the_state() {
        let table = [
            // (reading, may_send, may_send_close, closed)
            (State::Open, (true, true, true, false)),
            (State::LocalClosing, (true, false, false, false)),
            (State::RemoteClosing(frame()), (false, false, true, false)),
            (State::Closed(frame()), (false, false, false, true)),
            (State::Failed(err()), (false, false, false, true)),
        ];
        for (state, expect) in table {
            let got = (
                state.is_reading(),
                state.may_send(),
                state.may_send_close(),
                state.is_closed(),
            );
            assert_eq!(got, expect, "{state:?}");
        }
        assert_eq!(State::Closed(frame()).close_received(), Some(&frame()));
        assert_eq!(State::Failed(err()).error(), Some(&err()));
        assert_eq!(State::LocalClosing.close_received(), None);
    }
}
