//! Events converted for `lib/session.js`'s dispatcher: `(kinds, payloads, ints)`, as plain data
//! (the napi layer turns it into JS values, `src/napi/batch.rs`).
//!
//! - `kinds[i]`: a `FrameKind` (a frame from the child) or a `ChannelEvent`.
//! - `payloads[i]`: the frame's payload as its kind's encoding says (a string for UTF-8 kinds:
//!   Latin-1, a plain copy, when it is ASCII; a Buffer for byte kinds), the protocol error's or
//!   cut-off frame's description, or `undefined`.
//!   `Stdout`/`Stderr` carry the bytes as a Buffer.
//! - `ints`: two per `Exit`, in order: the code (or -1) and the signal number (or 0).

use super::{Event, OutputStream};
use crate::protocol::{ChannelEvent, Encoding, Frame, ProtocolError};

/// What becomes one entry of `payloads`.
pub enum Payload {
  None,
  /// Validated UTF-8 (or ASCII, taken as Latin-1).
  Utf8(Vec<u8>),
  /// Raw bytes: a Buffer that takes over the allocation (no copy).
  Bytes(Vec<u8>),
}

pub struct Batch {
  pub kinds: Vec<u32>,
  pub payloads: Vec<Payload>,
  pub ints: Vec<i32>,
}

impl Batch {
  /// Converts `events`, in order. A payload that does not match its kind's encoding is a
  /// protocol violation: the batch ends there with a `ProtocolError` (what follows is not
  /// believed), and the caller must kill the child; an `Exit` is still delivered last.
  pub fn from_events(events: Vec<Event>) -> (Batch, Option<ProtocolError>) {
    let mut batch = Batch {
      kinds: Vec::with_capacity(events.len()),
      payloads: Vec::with_capacity(events.len()),
      ints: Vec::new(),
    };
    let mut violation = None;
    for event in events {
      match event {
        Event::Frame(_)
        | Event::Drain
        | Event::Written
        | Event::ProtocolError(_)
        | Event::CutOff(_)
          if violation.is_some() => {}
        Event::Frame(Frame { kind, payload }) => match kind.encoding() {
          Encoding::Utf8 if !payload.is_ascii() && std::str::from_utf8(&payload).is_err() => {
            let error = ProtocolError::InvalidUtf8;
            batch.push(ChannelEvent::ProtocolError as u32, text(error.to_string()));
            violation = Some(error);
          }
          Encoding::Utf8 => batch.push(kind as u32, Payload::Utf8(payload)),
          Encoding::Bytes => batch.push(kind as u32, Payload::Bytes(payload)),
          Encoding::Empty => batch.push(kind as u32, Payload::None),
        },
        Event::Drain => batch.push(ChannelEvent::Drain as u32, Payload::None),
        Event::Written => batch.push(ChannelEvent::Written as u32, Payload::None),
        Event::ProtocolError(message) => {
          batch.push(ChannelEvent::ProtocolError as u32, text(message))
        }
        Event::CutOff(message) => batch.push(ChannelEvent::CutOff as u32, text(message)),
        // Not part of the protocol: a violation on the channel does not make output less true.
        Event::Output(stream, bytes) => {
          let kind = match stream {
            OutputStream::Stdout => ChannelEvent::Stdout,
            OutputStream::Stderr => ChannelEvent::Stderr,
          };
          batch.push(kind as u32, Payload::Bytes(bytes));
        }
        Event::Exit(status) => {
          batch.push(ChannelEvent::Exit as u32, Payload::None);
          batch.ints.push(status.code.unwrap_or(-1));
          batch.ints.push(status.signal.unwrap_or(0));
        }
      }
    }
    (batch, violation)
  }

  /// One `ProtocolError` event.
  pub fn protocol_error(message: String) -> Batch {
    let mut batch = Batch {
      kinds: Vec::new(),
      payloads: Vec::new(),
      ints: Vec::new(),
    };
    batch.push(ChannelEvent::ProtocolError as u32, text(message));
    batch
  }

  fn push(&mut self, kind: u32, payload: Payload) {
    self.kinds.push(kind);
    self.payloads.push(payload);
  }
}

fn text(message: String) -> Payload {
  Payload::Utf8(message.into_bytes())
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::process::ExitStatus;
  use crate::protocol::FrameKind;

  fn frame(kind: FrameKind, payload: &[u8]) -> Event {
    Event::Frame(Frame {
      kind,
      payload: payload.to_vec(),
    })
  }

  #[test]
  fn frames_and_channel_events_share_one_numbering() {
    let (batch, violation) = Batch::from_events(vec![
      frame(FrameKind::Ready, b""),
      frame(FrameKind::Text, "h\u{e9}".as_bytes()),
      Event::Drain,
      Event::Exit(ExitStatus {
        code: Some(3),
        signal: None,
      }),
    ]);
    assert!(violation.is_none());
    assert_eq!(batch.kinds, vec![0x05, 0x04, 0x100, 0x102]);
    assert!(matches!(batch.payloads[0], Payload::None));
    assert!(matches!(&batch.payloads[1], Payload::Utf8(b) if b == "h\u{e9}".as_bytes()));
    assert_eq!(batch.ints, vec![3, 0]);
  }

  #[test]
  fn output_becomes_buffers_and_survives_a_violation() {
    let (batch, violation) = Batch::from_events(vec![
      Event::Output(OutputStream::Stdout, b"out".to_vec()),
      frame(FrameKind::Message, b"\xff"),
      Event::Output(OutputStream::Stderr, b"err".to_vec()),
      Event::Exit(ExitStatus {
        code: Some(0),
        signal: None,
      }),
    ]);
    assert_eq!(violation, Some(ProtocolError::InvalidUtf8));
    assert_eq!(
      batch.kinds,
      vec![
        ChannelEvent::Stdout as u32,
        ChannelEvent::ProtocolError as u32,
        ChannelEvent::Stderr as u32,
        ChannelEvent::Exit as u32
      ]
    );
    assert!(matches!(&batch.payloads[0], Payload::Bytes(b) if b == b"out"));
    assert!(matches!(&batch.payloads[2], Payload::Bytes(b) if b == b"err"));
  }

  #[test]
  fn invalid_utf8_ends_the_batch_but_not_the_exit() {
    let (batch, violation) = Batch::from_events(vec![
      frame(FrameKind::Message, b"1"),
      frame(FrameKind::Message, b"\xff"),
      frame(FrameKind::Message, b"2"),
      Event::Exit(ExitStatus {
        code: None,
        signal: Some(9),
      }),
    ]);
    assert_eq!(violation, Some(ProtocolError::InvalidUtf8));
    assert_eq!(
      batch.kinds,
      vec![
        0x01,
        ChannelEvent::ProtocolError as u32,
        ChannelEvent::Exit as u32
      ]
    );
    assert_eq!(batch.ints, vec![-1, 9]);
  }
}
