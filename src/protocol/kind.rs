//! The one numbering: frame kinds, which side sends each, how its payload is encoded, the
//! events the parent's channel adds to them, and the limits. Everything else (the napi exports,
//! the child runtime's prelude, `docs/protocol.md`) is derived from or checked against this file.

use napi_derive::napi;

/// Bytes in a frame header: a big-endian `u32` payload length and a one-byte kind.
pub const HEADER_LEN: usize = 5;

/// Largest payload either side sends or accepts: 2^29 - 24 bytes (just under 512 MiB).
///
/// That is V8's longest string (`String::kMaxLength` on 64-bit): a payload within it always
/// becomes one JS string (UTF-8 never has more UTF-16 units than bytes), and a 256 MiB JSON
/// string plus quoting and escapes fits.
pub const MAX_PAYLOAD: usize = (1 << 29) - 24;

/// `send()` returns false once this many bytes wait to be written (both sides).
pub const HIGH_WATER_MARK: usize = 1024 * 1024;

/// What a frame carries. Parent and child always come from the same build (the child runtime is
/// embedded in the addon), so a kind is added by giving it the next free value here and an arm
/// in every `match` (the compiler finds them) and in every JS `switch` (their `default` is a
/// protocol error).
#[napi]
#[derive(Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
  /// Either direction: one message, as UTF-8 JSON text.
  Message = 0x01,
  /// Child to parent: an uncaught error, as JSON (`lib/shared/thrown.js`).
  Error = 0x02,
  /// Parent to child: register a child-side handler, as JSON `{ event, source, method }`.
  Handler = 0x03,
  /// Either direction: a message that is a string, as its UTF-8 text (no JSON quoting).
  Text = 0x04,
  /// Child to parent, first frame: the runtime has booted and waits for `Init`. Empty.
  Ready = 0x05,
  /// Parent to child, first frame: what the runtime needs to start, as JSON
  /// `{ caller, handlers: [{ event, source, method }], args, options }` (docs/protocol.md).
  Init = 0x06,
  /// Either direction: a named event, as JSON `[name, ...args]`.
  Event = 0x07,
  /// Either direction: a call of a method the other side exposed, as JSON `[id, name, ...args]`.
  Call = 0x08,
  /// Either direction: the result of a call, as JSON `[id, 1]`, `[id, 1, value]` or
  /// `[id, 0, thrown]`.
  Result = 0x09,
  /// Either direction: the caller gave up on a call (timeout, abort), as JSON `[id, thrown]`.
  Cancel = 0x0a,
  /// Either direction: a message, event, call, result or the run() arguments as sections of
  /// bytes: JSON beside raw binary values and long strings, or V8's structured clone
  /// (`lib/shared/packed.js`, docs/protocol.md). Checked by the JS that decodes it.
  Packed = 0x0b,
  /// Child to parent: the next frame (a `Message`, `Text` or `Event`) is for a peer, not for the
  /// parent: ASCII payload, a worker id (`"2"`) or `"*"` for every worker, the sender included.
  /// The parent routes the pair in Rust (`src/napi/router.rs`); JS never sees it.
  To = 0x0c,
  /// Parent to child: the next frame was sent by a peer: ASCII payload, the sender's worker id.
  From = 0x0d,
  /// Child to parent: coverage counts of istanbul-instrumented code that ran in the child, as
  /// JSON, sent once when the child ends.
  Coverage = 0x10,
}

/// Which side may send a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
  ToChild,
  ToParent,
  Both,
}

/// How a payload becomes a JS value on the receiving side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
  /// UTF-8 text (JSON or plain): validated, then a JS string.
  Utf8,
  /// Raw bytes: a Buffer (the binary and structured-clone codecs).
  Bytes,
  /// Nothing: the payload must be empty.
  Empty,
}

// `#[napi]` enums are not `Clone`/`Copy` by derive through the macro; implement them here.
impl Clone for FrameKind {
  fn clone(&self) -> Self {
    *self
  }
}
impl Copy for FrameKind {}

impl FrameKind {
  /// Every kind, for tables built from the numbering (the child runtime's prelude, tests).
  pub const ALL: [FrameKind; 14] = [
    FrameKind::Message,
    FrameKind::Error,
    FrameKind::Handler,
    FrameKind::Text,
    FrameKind::Ready,
    FrameKind::Init,
    FrameKind::Event,
    FrameKind::Call,
    FrameKind::Result,
    FrameKind::Cancel,
    FrameKind::Packed,
    FrameKind::To,
    FrameKind::From,
    FrameKind::Coverage,
  ];

  pub fn from_byte(byte: u8) -> Option<FrameKind> {
    FrameKind::ALL.into_iter().find(|kind| *kind as u8 == byte)
  }

  /// The name JS sees (`FrameKind.Message`), as napi exports it.
  pub fn name(self) -> &'static str {
    match self {
      FrameKind::Message => "Message",
      FrameKind::Error => "Error",
      FrameKind::Handler => "Handler",
      FrameKind::Text => "Text",
      FrameKind::Ready => "Ready",
      FrameKind::Init => "Init",
      FrameKind::Event => "Event",
      FrameKind::Call => "Call",
      FrameKind::Result => "Result",
      FrameKind::Cancel => "Cancel",
      FrameKind::Packed => "Packed",
      FrameKind::To => "To",
      FrameKind::From => "From",
      FrameKind::Coverage => "Coverage",
    }
  }

  pub fn direction(self) -> Direction {
    match self {
      FrameKind::Message
      | FrameKind::Text
      | FrameKind::Event
      | FrameKind::Call
      | FrameKind::Result
      | FrameKind::Cancel
      | FrameKind::Packed => Direction::Both,
      FrameKind::Handler | FrameKind::Init | FrameKind::From => Direction::ToChild,
      FrameKind::Error | FrameKind::Ready | FrameKind::To | FrameKind::Coverage => {
        Direction::ToParent
      }
    }
  }

  pub fn encoding(self) -> Encoding {
    match self {
      FrameKind::Ready => Encoding::Empty,
      FrameKind::Packed => Encoding::Bytes,
      FrameKind::Message
      | FrameKind::Error
      | FrameKind::Handler
      | FrameKind::Text
      | FrameKind::Init
      | FrameKind::Event
      | FrameKind::Call
      | FrameKind::Result
      | FrameKind::Cancel
      | FrameKind::To
      | FrameKind::From
      | FrameKind::Coverage => Encoding::Utf8,
    }
  }

  /// The parent accepts this kind from its child.
  pub fn from_child(self) -> bool {
    self.direction() != Direction::ToChild
  }

  /// The parent may send this kind to its child.
  pub fn to_child(self) -> bool {
    self.direction() != Direction::ToParent
  }
}

/// What the parent's channel reports besides frames, numbered after the frame kinds so that one
/// `kind` array carries both to JS.
#[napi]
#[derive(Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum ChannelEvent {
  /// The outgoing queue went from above the high-water mark to empty.
  Drain = 0x100,
  /// The child broke the protocol and has been killed; the payload says how.
  ProtocolError = 0x101,
  /// The child process ended; always the last event of a session.
  Exit = 0x102,
  /// Everything queued was written, after JS asked to hear it (`parent.flush()`).
  Written = 0x103,
  /// The stream ended inside a frame: the child exited (or was killed) while writing it. Not a
  /// violation proclet killed for; the payload says how much arrived. Right before `Exit`.
  CutOff = 0x104,
  /// Bytes the child wrote to its stdout (`stdio: 'pipe'`), as a Buffer. Every byte the child
  /// wrote comes before `Exit`.
  Stdout = 0x105,
  /// Bytes the child wrote to its stderr, like `Stdout`.
  Stderr = 0x106,
}

impl ChannelEvent {
  pub const ALL: [ChannelEvent; 7] = [
    ChannelEvent::Drain,
    ChannelEvent::ProtocolError,
    ChannelEvent::Exit,
    ChannelEvent::Written,
    ChannelEvent::CutOff,
    ChannelEvent::Stdout,
    ChannelEvent::Stderr,
  ];

  pub fn name(&self) -> &'static str {
    match self {
      ChannelEvent::Drain => "Drain",
      ChannelEvent::ProtocolError => "ProtocolError",
      ChannelEvent::Exit => "Exit",
      ChannelEvent::Written => "Written",
      ChannelEvent::CutOff => "CutOff",
      ChannelEvent::Stdout => "Stdout",
      ChannelEvent::Stderr => "Stderr",
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn every_byte_maps_to_at_most_one_kind_and_back() {
    for kind in FrameKind::ALL {
      assert_eq!(FrameKind::from_byte(kind as u8), Some(kind));
    }
    let known = (0..=255u8).filter(|b| FrameKind::from_byte(*b).is_some());
    assert_eq!(known.count(), FrameKind::ALL.len());
    assert_eq!(FrameKind::from_byte(0), None);
    assert_eq!(FrameKind::from_byte(0x7f), None);
  }

  #[test]
  fn channel_events_do_not_collide_with_frame_kinds() {
    for event in ChannelEvent::ALL {
      assert!(event as u16 > u8::MAX as u16);
    }
  }

  #[test]
  fn the_handshake_kinds_go_one_way_each() {
    assert!(FrameKind::Ready.from_child() && !FrameKind::Ready.to_child());
    assert!(FrameKind::Init.to_child() && !FrameKind::Init.from_child());
    assert!(FrameKind::Message.to_child() && FrameKind::Message.from_child());
  }
}
