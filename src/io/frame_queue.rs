//! Frames waiting to be written, kept as a list of buffers.
//!
//! Small frames are appended to one coalescing buffer, so everything sent in a tick goes out in
//! one system call. A payload of [`OWN_CHUNK`] bytes or more is moved in as its own buffer (the
//! `String` napi already copied out of V8), never copied again, and written from where it is
//! with scatter/gather I/O.

use std::collections::VecDeque;
use std::io::{self, IoSlice};

use crate::protocol::{
  encode_frame, encode_header, FrameKind, ProtocolError, HEADER_LEN, MAX_PAYLOAD,
};

/// Payloads at least this large are queued as their own buffer instead of being copied.
pub const OWN_CHUNK: usize = 64 * 1024;
/// A coalescing buffer stops taking frames at this size.
const COALESCE_LIMIT: usize = 256 * 1024;
/// Buffers handed to one `sendmsg` (well under every platform's IOV_MAX).
pub const MAX_SLICES: usize = 64;

#[derive(Default)]
pub struct FrameQueue {
  chunks: VecDeque<Vec<u8>>,
  /// Bytes of the front buffer already written.
  offset: usize,
  /// Bytes not yet written.
  len: usize,
  /// The last buffer is a coalescing buffer that may take more frames.
  tail_open: bool,
}

impl FrameQueue {
  pub fn len(&self) -> usize {
    self.len
  }

  pub fn is_empty(&self) -> bool {
    self.len == 0
  }

  /// Queues one frame. Refuses payloads over the protocol's maximum, leaving the queue as it was.
  pub fn push(&mut self, kind: FrameKind, payload: Vec<u8>) -> Result<(), ProtocolError> {
    if payload.len() > MAX_PAYLOAD {
      return Err(ProtocolError::TooLarge {
        length: payload.len(),
      });
    }
    self.len += HEADER_LEN + payload.len();
    if payload.len() >= OWN_CHUNK {
      encode_header(kind, payload.len(), self.tail_mut(HEADER_LEN));
      self.chunks.push_back(payload);
      self.tail_open = false;
    } else {
      encode_frame(kind, &payload, self.tail_mut(HEADER_LEN + payload.len()))?;
    }
    Ok(())
  }

  /// Queues one frame whose payload is `parts`, one after the other: small parts are appended
  /// to the coalescing buffer, large ones moved in as their own buffers (a PACKED frame whose
  /// binary sections and long strings napi copied out of V8 once, straight from the values).
  /// Refuses payloads over the protocol's maximum, leaving the queue as it was.
  pub fn push_parts(&mut self, kind: FrameKind, parts: Vec<Vec<u8>>) -> Result<(), ProtocolError> {
    let length: usize = parts.iter().map(Vec::len).sum();
    if length > MAX_PAYLOAD {
      return Err(ProtocolError::TooLarge { length });
    }
    self.len += HEADER_LEN + length;
    encode_header(kind, length, self.tail_mut(HEADER_LEN));
    for part in parts {
      if part.len() >= OWN_CHUNK {
        self.chunks.push_back(part);
        self.tail_open = false;
      } else if !part.is_empty() {
        self.tail_mut(part.len()).extend_from_slice(&part);
      }
    }
    Ok(())
  }

  /// The coalescing buffer at the tail, opening a new one if needed.
  fn tail_mut(&mut self, additional: usize) -> &mut Vec<u8> {
    let reuse = self.tail_open && self.chunks.back().is_some_and(|c| c.len() < COALESCE_LIMIT);
    if !reuse {
      self
        .chunks
        .push_back(Vec::with_capacity(additional.max(4096)));
      self.tail_open = true;
    }
    self.chunks.back_mut().expect("just ensured")
  }

  /// Calls `write` once with the unwritten bytes (up to [`MAX_SLICES`] buffers) and drops what
  /// it reports written.
  pub fn write_with(
    &mut self,
    write: impl FnOnce(&[IoSlice<'_>]) -> io::Result<usize>,
  ) -> io::Result<usize> {
    let mut slices = Vec::with_capacity(self.chunks.len().min(MAX_SLICES));
    for (i, chunk) in self.chunks.iter().take(MAX_SLICES).enumerate() {
      let start = if i == 0 { self.offset } else { 0 };
      slices.push(IoSlice::new(&chunk[start..]));
    }
    let written = write(&slices)?;
    self.advance(written);
    Ok(written)
  }

  fn advance(&mut self, mut n: usize) {
    self.len -= n;
    while n > 0 {
      let front = self.chunks.front().expect("advanced past the end").len() - self.offset;
      if n >= front {
        n -= front;
        self.offset = 0;
        self.chunks.pop_front();
        if self.chunks.is_empty() {
          self.tail_open = false;
        }
      } else {
        self.offset += n;
        n = 0;
      }
    }
  }

  /// Moves everything out, leaving this queue empty.
  pub fn take(&mut self) -> FrameQueue {
    std::mem::take(self)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::protocol::FrameDecoder;

  fn drain_in_steps(queue: &mut FrameQueue, step: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while !queue.is_empty() {
      queue
        .write_with(|slices| {
          let mut budget = step;
          for s in slices {
            let take = s.len().min(budget);
            out.extend_from_slice(&s[..take]);
            budget -= take;
            if budget == 0 {
              break;
            }
          }
          Ok(step - budget)
        })
        .unwrap();
    }
    out
  }

  #[test]
  fn small_frames_share_one_buffer_and_big_payloads_are_moved() {
    let mut queue = FrameQueue::default();
    queue.push(FrameKind::Message, b"1".to_vec()).unwrap();
    queue.push(FrameKind::Message, b"2".to_vec()).unwrap();
    assert_eq!(queue.chunks.len(), 1);
    let big = vec![b'x'; OWN_CHUNK];
    let address = big.as_ptr();
    queue.push(FrameKind::Message, big).unwrap();
    assert_eq!(queue.chunks.len(), 2);
    assert_eq!(queue.chunks[1].as_ptr(), address, "moved, not copied");
    queue.push(FrameKind::Message, b"3".to_vec()).unwrap();
    assert_eq!(queue.chunks.len(), 3);
    assert_eq!(queue.len(), 3 * 6 + HEADER_LEN + OWN_CHUNK);
  }

  #[test]
  fn partial_writes_resume_where_they_stopped_and_frames_stay_intact() {
    let payloads: Vec<Vec<u8>> = vec![
      b"\"a\"".to_vec(),
      vec![b'y'; 100_000],
      b"[1,2,3]".to_vec(),
      vec![b'z'; 300_000],
      b"null".to_vec(),
    ];
    for step in [1, 7, 4096, 65_536, 1 << 20] {
      let mut queue = FrameQueue::default();
      for p in &payloads {
        queue.push(FrameKind::Message, p.clone()).unwrap();
      }
      let bytes = drain_in_steps(&mut queue, step);
      let mut decoder = FrameDecoder::new(FrameKind::from_child);
      let mut frames = Vec::new();
      decoder.feed(&bytes, &mut frames).unwrap();
      let got: Vec<Vec<u8>> = frames.into_iter().map(|f| f.payload).collect();
      assert_eq!(got, payloads, "step {step}");
      assert_eq!(queue.len(), 0);
    }
  }

  #[test]
  fn a_frame_in_parts_is_one_frame_on_the_wire() {
    let mut queue = FrameQueue::default();
    queue.push(FrameKind::Message, b"1".to_vec()).unwrap();
    let big = vec![b'b'; OWN_CHUNK];
    let address = big.as_ptr();
    let parts = vec![b"head".to_vec(), Vec::new(), big, b"tail".to_vec()];
    queue.push_parts(FrameKind::Packed, parts).unwrap();
    assert!(
      queue.chunks.iter().any(|c| c.as_ptr() == address),
      "moved, not copied"
    );
    let bytes = drain_in_steps(&mut queue, 4096);
    let mut decoder = FrameDecoder::new(FrameKind::from_child);
    let mut frames = Vec::new();
    decoder.feed(&bytes, &mut frames).unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].kind, FrameKind::Packed);
    let mut expected = b"head".to_vec();
    expected.extend(vec![b'b'; OWN_CHUNK]);
    expected.extend_from_slice(b"tail");
    assert_eq!(frames[1].payload, expected);
  }

  #[test]
  fn refuses_oversized_payloads_without_queueing() {
    let mut queue = FrameQueue::default();
    let err = queue
      .push(FrameKind::Message, vec![0; MAX_PAYLOAD + 1])
      .unwrap_err();
    assert_eq!(
      err,
      ProtocolError::TooLarge {
        length: MAX_PAYLOAD + 1
      }
    );
    assert!(queue.is_empty());
  }
}
