//! Encoding frames. A frame is a 5-byte header followed by the payload:
//!
//! ```text
//! +--------------------------+-----------+------------------------+
//! | payload length: u32 (BE) | kind: u8  | payload (length bytes) |
//! +--------------------------+-----------+------------------------+
//! ```
//!
//! `docs/protocol.md` is the normative description; the child runtime (`runtime/`) is the other
//! implementation and takes its numbers from [`super::kind`] through a generated prelude.

use std::fmt;

use super::kind::{FrameKind, HEADER_LEN, MAX_PAYLOAD};

/// A frame that was refused while encoding or decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtocolError {
  /// A header announced (or a sender tried to send) more than [`MAX_PAYLOAD`] bytes.
  TooLarge { length: usize },
  /// A header carried a kind this side does not accept.
  UnexpectedKind { kind: u8 },
  /// The stream ended inside a frame.
  Truncated { received: usize, expected: usize },
  /// A text payload was not valid UTF-8.
  InvalidUtf8,
  /// A kind that carries nothing arrived with a payload.
  UnexpectedPayload { kind: u8, length: usize },
  /// A peer frame (`To`) that names no worker of the pool, or is not followed by a frame a peer
  /// can receive. Says which.
  Route(String),
}

impl fmt::Display for ProtocolError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      ProtocolError::TooLarge { length } => write!(
        f,
        "frame of {length} bytes exceeds the maximum of {MAX_PAYLOAD} bytes"
      ),
      ProtocolError::UnexpectedKind { kind } => {
        write!(f, "unexpected frame kind 0x{kind:02x}")
      }
      ProtocolError::Truncated { received, expected } => write!(
        f,
        "stream ended inside a frame ({received} of {expected} bytes received)"
      ),
      ProtocolError::InvalidUtf8 => write!(f, "frame payload is not valid UTF-8"),
      ProtocolError::UnexpectedPayload { kind, length } => write!(
        f,
        "frame kind 0x{kind:02x} carries no payload, got {length} bytes"
      ),
      ProtocolError::Route(detail) => write!(f, "a message for a peer {detail}"),
    }
  }
}

impl std::error::Error for ProtocolError {}

/// Appends one frame to `out`. Refuses payloads over [`MAX_PAYLOAD`] without touching `out`.
pub fn encode_frame(
  kind: FrameKind,
  payload: &[u8],
  out: &mut Vec<u8>,
) -> Result<(), ProtocolError> {
  if payload.len() > MAX_PAYLOAD {
    return Err(ProtocolError::TooLarge {
      length: payload.len(),
    });
  }
  out.reserve(HEADER_LEN + payload.len());
  encode_header(kind, payload.len(), out);
  out.extend_from_slice(payload);
  Ok(())
}

/// Appends the header of a frame whose payload (of `length` <= [`MAX_PAYLOAD`] bytes) follows.
pub fn encode_header(kind: FrameKind, length: usize, out: &mut Vec<u8>) {
  debug_assert!(length <= MAX_PAYLOAD);
  out.extend_from_slice(&(length as u32).to_be_bytes());
  out.push(kind as u8);
}
