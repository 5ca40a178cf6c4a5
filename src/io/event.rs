//! What a session reports to JS, in order.

use super::OutputStream;
use crate::process::ExitStatus;
use crate::protocol::Frame;

#[derive(Debug, PartialEq, Eq)]
pub enum Event {
  /// A frame from the child, of a kind the parent accepts (payload validated when handed to JS).
  Frame(Frame),
  /// The outgoing queue went from above the high-water mark to empty.
  Drain,
  /// The outgoing queue is empty, and JS asked to hear when it would be.
  Written,
  /// The child broke the protocol; it has been killed. Says how.
  ProtocolError(String),
  /// The stream ended inside a frame (the child exited, or was killed, while writing it); not a
  /// kill by proclet. Says how much arrived. Comes right before `Exit`.
  CutOff(String),
  /// Bytes the child wrote to its stdout or stderr pipe (`stdio: 'pipe'`), in order per pipe.
  Output(OutputStream, Vec<u8>),
  /// The child exited; always the last event.
  Exit(ExitStatus),
}
