//! Frames waiting for one child's socket, with the high-water mark and `drain` bookkeeping.

use super::frame_queue::FrameQueue;
use crate::protocol::{FrameKind, ProtocolError, HIGH_WATER_MARK};

/// Within a tick, a send that brings the queue past this many bytes writes immediately.
pub const FLUSH_THRESHOLD: usize = 64 * 1024;

/// Why a message could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
  /// The child has exited or its channel is closed.
  Closed,
  /// The payload is over the protocol's maximum.
  TooLarge(ProtocolError),
}

/// Frames waiting for the socket of one child. (What is sent before a child runs waits in
/// `lib/proclet.js`, which replays it into each new session.)
#[derive(Default)]
pub struct Outbox {
  queue: FrameQueue,
  closed: bool,
  need_drain: bool,
}

/// What `enqueue` tells the caller.
#[derive(Debug, PartialEq, Eq)]
pub struct Queued {
  /// False once the queue is past [`HIGH_WATER_MARK`]: wait for `Drain`.
  pub below_high_water: bool,
  /// The queue is big enough that it should be written now rather than at the end of the tick.
  pub flush_now: bool,
}

impl Outbox {
  /// Queues one frame. Large payloads are moved into the queue, not copied.
  pub fn enqueue(&mut self, kind: FrameKind, payload: Vec<u8>) -> Result<Queued, SendError> {
    if self.closed {
      return Err(SendError::Closed);
    }
    self
      .queue
      .push(kind, payload)
      .map_err(SendError::TooLarge)?;
    let below_high_water = self.queue.len() < HIGH_WATER_MARK;
    if !below_high_water {
      self.need_drain = true;
    }
    Ok(Queued {
      below_high_water,
      flush_now: self.queue.len() >= FLUSH_THRESHOLD,
    })
  }

  /// True once the channel closed: nothing queued will be written.
  pub fn is_closed(&self) -> bool {
    self.closed
  }

  pub fn queued_bytes(&self) -> usize {
    self.queue.len()
  }

  /// Discards what is queued; later sends fail with `Closed`.
  pub fn close(&mut self) {
    self.closed = true;
    self.queue = FrameQueue::default();
    self.need_drain = false;
  }
}

/// What a write attempt left behind.
#[derive(Debug, PartialEq, Eq)]
pub struct Written {
  /// Bytes remain: watch the socket for writability.
  pub pending: bool,
  /// The queue emptied after `send` had returned false: emit `Drain`.
  pub drained: bool,
}

impl Outbox {
  /// Calls `send` with the queued bytes until the queue is empty or `send` would block. A send
  /// error other than `WouldBlock` means the child closed its end: the queue is closed (the
  /// waiter reports the exit).
  pub fn write(
    &mut self,
    mut send: impl FnMut(&[std::io::IoSlice<'_>]) -> std::io::Result<usize>,
  ) -> Written {
    while !self.queue.is_empty() {
      match self.queue.write_with(&mut send) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
          return Written {
            pending: true,
            drained: false,
          }
        }
        Err(_) => {
          self.close();
          return Written {
            pending: false,
            drained: false,
          };
        }
      }
    }
    Written {
      pending: false,
      drained: std::mem::take(&mut self.need_drain),
    }
  }
}
