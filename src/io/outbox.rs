//! Frames waiting for one child's socket: when to write them, the high-water mark and `drain`.
//!
//! When to write is a trade between latency and syscalls. A message must leave at once, as with
//! `child_process` (libuv's `uv_try_write`): the sender may block its JS thread right after
//! `send` (a CPU-bound step, `Atomics.wait`), and nothing written at the end of the tick leaves
//! before that ends. But a loop of sends must not cost a syscall and a wake-up of the child per
//! message. So:
//! - the first frame queued in a tick is written at once (a lone message, the first of a burst);
//! - later frames of the same tick wait for the end of the tick (`end_tick`: JS's end-of-tick
//!   flush, or the end of the addon's delivery the sends were made in,
//!   `src/napi/loop_channel.rs`), and go out together in one `sendmsg`;
//! - unless [`BATCH_WINDOW`] has passed since the last write: a synchronous loop that sends as it
//!   works (progress updates between CPU-bound steps) writes at least that often;
//! - or past [`FLUSH_THRESHOLD`] bytes queued.
//!
//! A full socket is written by the poll when it becomes writable; but the poll runs only when
//! the JS thread is free, and a loop of sends may not be: it would fill the queue up to the
//! high-water mark while the child, having emptied the socket, waits. So while the socket is
//! full a send retries once per [`BATCH_WINDOW`] (one failed `sendmsg` per millisecond at most,
//! not one per send).

use std::time::{Duration, Instant};

use super::frame_queue::FrameQueue;
use crate::protocol::{FrameKind, ProtocolError, HIGH_WATER_MARK};

/// Within a tick, a send that brings the queue past this many bytes writes immediately.
pub const FLUSH_THRESHOLD: usize = 64 * 1024;

/// Within a tick, a send this long after the last write writes immediately (with what waits).
/// Long against a loop of sends (microseconds apart, so they still share one write), short
/// against any step of work worth reporting progress on.
pub const BATCH_WINDOW: Duration = Duration::from_millis(1);

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
  /// The last write stopped at a full socket: only the window rule retries before the poll.
  blocked: bool,
  /// A frame was queued since the last `end_tick`.
  in_tick: bool,
  last_write: Option<Instant>,
}

/// What `enqueue` tells the caller.
#[derive(Debug, PartialEq, Eq)]
pub struct Queued {
  /// False once the queue is past [`HIGH_WATER_MARK`]: wait for `Drain`.
  pub below_high_water: bool,
  /// Write now rather than at the end of the tick (the rules at the top of this file).
  pub flush_now: bool,
}

impl Outbox {
  /// Queues one frame at time `now`. Large payloads are moved into the queue, not copied.
  pub fn enqueue(
    &mut self,
    kind: FrameKind,
    payload: Vec<u8>,
    now: Instant,
  ) -> Result<Queued, SendError> {
    self.enqueue_parts(kind, vec![payload], now)
  }

  /// Queues one frame whose payload is `parts` concatenated (`FrameQueue::push_parts`).
  pub fn enqueue_parts(
    &mut self,
    kind: FrameKind,
    parts: Vec<Vec<u8>>,
    now: Instant,
  ) -> Result<Queued, SendError> {
    if self.closed {
      return Err(SendError::Closed);
    }
    let pushed = if parts.len() == 1 {
      let payload = parts.into_iter().next().expect("one part");
      self.queue.push(kind, payload)
    } else {
      self.queue.push_parts(kind, parts)
    };
    pushed.map_err(SendError::TooLarge)?;
    let below_high_water = self.queue.len() < HIGH_WATER_MARK;
    if !below_high_water {
      self.need_drain = true;
    }
    let first_in_tick = !std::mem::replace(&mut self.in_tick, true);
    let window_passed = self
      .last_write
      .is_none_or(|at| now.saturating_duration_since(at) >= BATCH_WINDOW);
    Ok(Queued {
      below_high_water,
      flush_now: window_passed
        || (!self.blocked && (first_in_tick || self.queue.len() >= FLUSH_THRESHOLD)),
    })
  }

  /// Queues a frame routed from a peer (`src/napi/router.rs`): written by the caller right after,
  /// and not a send of JS's, so it neither starts a burst nor owes JS a `Drain`. Returns the
  /// bytes now queued.
  pub fn enqueue_routed(&mut self, kind: FrameKind, payload: Vec<u8>) -> Result<usize, SendError> {
    if self.closed {
      return Err(SendError::Closed);
    }
    self
      .queue
      .push(kind, payload)
      .map_err(SendError::TooLarge)?;
    Ok(self.queue.len())
  }

  /// True once the channel closed: nothing queued will be written.
  pub fn is_closed(&self) -> bool {
    self.closed
  }

  /// The end of the JS tick: the next frame queued is the first of a new burst.
  pub fn end_tick(&mut self) {
    self.in_tick = false;
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
  /// Calls `send` with the queued bytes until the queue is empty or `send` would block; `now`
  /// is the time of the attempt. A send error other than `WouldBlock` means the child closed
  /// its end: the queue is closed (the waiter reports the exit).
  pub fn write(
    &mut self,
    mut send: impl FnMut(&[std::io::IoSlice<'_>]) -> std::io::Result<usize>,
    now: Instant,
  ) -> Written {
    if !self.queue.is_empty() {
      self.last_write = Some(now);
    }
    self.blocked = false;
    while !self.queue.is_empty() {
      match self.queue.write_with(&mut send) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
          self.blocked = true;
          return Written {
            pending: true,
            drained: false,
          };
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

#[cfg(test)]
mod tests {
  use super::*;
  use std::io::{self, IoSlice};

  const MS: Duration = Duration::from_millis(1);

  fn small(outbox: &mut Outbox, now: Instant) -> bool {
    outbox
      .enqueue(FrameKind::Message, b"1".to_vec(), now)
      .unwrap()
      .flush_now
  }

  fn accept_all(slices: &[IoSlice<'_>]) -> io::Result<usize> {
    Ok(slices.iter().map(|s| s.len()).sum())
  }

  fn would_block(_: &[IoSlice<'_>]) -> io::Result<usize> {
    Err(io::ErrorKind::WouldBlock.into())
  }

  #[test]
  fn the_first_send_of_a_tick_is_written_at_once_and_the_rest_of_the_burst_waits() {
    let t0 = Instant::now();
    let mut outbox = Outbox::default();
    assert!(small(&mut outbox, t0));
    outbox.write(accept_all, t0);
    for i in 1..100 {
      assert!(!small(&mut outbox, t0 + Duration::from_micros(i)));
    }
    outbox.end_tick();
    outbox.write(accept_all, t0 + Duration::from_micros(100));
    // The next tick, however soon.
    assert!(small(&mut outbox, t0 + Duration::from_micros(101)));
  }

  #[test]
  fn within_a_tick_a_send_after_the_window_writes_what_waits() {
    // send, work, send, work...: every update leaves when it is sent.
    let t0 = Instant::now();
    let mut outbox = Outbox::default();
    assert!(small(&mut outbox, t0));
    outbox.write(accept_all, t0);
    assert!(small(&mut outbox, t0 + 400 * MS));
    outbox.write(accept_all, t0 + 400 * MS);
    // A loop of sends: the window counts from the last write, queued frames or not.
    assert!(!small(&mut outbox, t0 + 400 * MS));
    assert!(!small(&mut outbox, t0 + 400 * MS + MS / 2));
    assert!(small(&mut outbox, t0 + 401 * MS));
  }

  #[test]
  fn a_large_queue_is_written_without_waiting_for_the_tick() {
    let t0 = Instant::now();
    let mut outbox = Outbox::default();
    assert!(small(&mut outbox, t0));
    outbox.write(accept_all, t0);
    let queued = outbox
      .enqueue(FrameKind::Message, vec![b'1'; FLUSH_THRESHOLD], t0)
      .unwrap();
    assert!(queued.flush_now);
  }

  #[test]
  fn a_full_socket_is_retried_once_per_window_not_on_every_send() {
    let t0 = Instant::now();
    let mut outbox = Outbox::default();
    assert!(small(&mut outbox, t0));
    let written = outbox.write(would_block, t0);
    assert!(written.pending);
    outbox.end_tick();
    // The first send of a tick, and a queue past the threshold, do not retry a full socket...
    assert!(
      !small(&mut outbox, t0 + MS / 2),
      "first of a tick, but the socket is full"
    );
    let big = outbox
      .enqueue(FrameKind::Message, vec![b'1'; FLUSH_THRESHOLD], t0 + MS / 2)
      .unwrap();
    assert!(!big.flush_now);
    // ...but a loop of sends that keeps the JS thread from the poll retries every window.
    assert!(small(&mut outbox, t0 + MS));
    outbox.write(would_block, t0 + MS);
    assert!(!small(&mut outbox, t0 + MS + MS / 2));
    assert!(small(&mut outbox, t0 + 2 * MS));
    // Writable again (the poll, or a retry): the ordinary rules.
    outbox.write(accept_all, t0 + 2 * MS);
    outbox.end_tick();
    assert!(small(&mut outbox, t0 + 2 * MS + MS / 10));
  }
}
