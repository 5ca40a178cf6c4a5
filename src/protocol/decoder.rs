//! The incremental decoder: bytes as they arrive in, whole frames out. Socket-free, so it is
//! tested on its own.

use std::io;

use super::frame::ProtocolError;
use super::kind::{Encoding, FrameKind, HEADER_LEN, MAX_PAYLOAD};

/// A complete frame taken off the stream.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
  pub kind: FrameKind,
  pub payload: Vec<u8>,
}

/// Incremental decoder: feed it whatever `read()` returned, get whole frames back.
///
/// Memory grows with the bytes that actually arrived, never with what a header claims: a peer
/// announcing a 512 MiB frame and sending ten bytes costs ten bytes.
pub struct FrameDecoder {
  accepts: fn(FrameKind) -> bool,
  header: [u8; HEADER_LEN],
  header_len: usize,
  /// Set once a header is complete: the frame being filled and its announced length.
  current: Option<(FrameKind, usize)>,
  payload: Vec<u8>,
  /// Once an error is returned the stream is unusable; later input gets the same error.
  failed: Option<ProtocolError>,
}

impl FrameDecoder {
  /// A decoder that accepts the kinds for which `accepts` returns true.
  pub fn new(accepts: fn(FrameKind) -> bool) -> Self {
    FrameDecoder {
      accepts,
      header: [0; HEADER_LEN],
      header_len: 0,
      current: None,
      payload: Vec::new(),
      failed: None,
    }
  }

  /// Decodes `data`, pushing each completed frame to `out`. On error the frames completed before
  /// the bad one are still in `out`.
  pub fn feed(&mut self, mut data: &[u8], out: &mut Vec<Frame>) -> Result<(), ProtocolError> {
    if let Some(error) = &self.failed {
      return Err(error.clone());
    }
    while !data.is_empty() {
      let Some((kind, length)) = self.current else {
        let take = (HEADER_LEN - self.header_len).min(data.len());
        self.header[self.header_len..self.header_len + take].copy_from_slice(&data[..take]);
        self.header_len += take;
        data = &data[take..];
        if self.header_len == HEADER_LEN {
          self.start_frame()?;
          if let Some((kind, 0)) = self.current {
            self.finish_frame(kind, out);
          }
        }
        continue;
      };
      let want = length - self.payload.len();
      if self.payload.is_empty() && data.len() >= want {
        // The whole payload is in this read: one allocation of exactly the right size.
        out.push(Frame {
          kind,
          payload: data[..want].to_vec(),
        });
        self.current = None;
        self.header_len = 0;
        data = &data[want..];
        continue;
      }
      let take = want.min(data.len());
      // Grow by at most what arrived (or double), capped at the announced length, so a lying
      // header cannot make us allocate memory nobody sent.
      let grow = take.max(self.payload.len()).min(want);
      if self.payload.capacity() - self.payload.len() < take {
        self.payload.reserve_exact(grow);
      }
      self.payload.extend_from_slice(&data[..take]);
      data = &data[take..];
      if self.payload.len() == length {
        self.finish_frame(kind, out);
      }
    }
    Ok(())
  }

  /// Called at end of stream: an error if the stream stopped inside a frame.
  pub fn finish(&self) -> Result<(), ProtocolError> {
    if self.failed.is_some() {
      return Ok(());
    }
    match self.current {
      Some((_, expected)) => Err(ProtocolError::Truncated {
        received: HEADER_LEN + self.payload.len(),
        expected: HEADER_LEN + expected,
      }),
      None if self.header_len > 0 => Err(ProtocolError::Truncated {
        received: self.header_len,
        expected: HEADER_LEN,
      }),
      None => Ok(()),
    }
  }

  fn start_frame(&mut self) -> Result<(), ProtocolError> {
    let length = u32::from_be_bytes(self.header[..4].try_into().unwrap()) as usize;
    let kind_byte = self.header[4];
    let kind = FrameKind::from_byte(kind_byte).filter(|k| (self.accepts)(*k));
    let error = match kind {
      None => ProtocolError::UnexpectedKind { kind: kind_byte },
      Some(_) if length > MAX_PAYLOAD => ProtocolError::TooLarge { length },
      Some(kind) if kind.encoding() == Encoding::Empty && length != 0 => {
        ProtocolError::UnexpectedPayload {
          kind: kind_byte,
          length,
        }
      }
      Some(kind) => {
        self.current = Some((kind, length));
        return Ok(());
      }
    };
    self.failed = Some(error.clone());
    Err(error)
  }

  fn finish_frame(&mut self, kind: FrameKind, out: &mut Vec<Frame>) {
    out.push(Frame {
      kind,
      payload: std::mem::take(&mut self.payload),
    });
    self.current = None;
    self.header_len = 0;
  }
}

/// A payload with at least this much still to come is read straight into its own buffer.
const DIRECT_READ_MIN: usize = 64 * 1024;
/// How much of that buffer is made ready per read (a bounded zero-fill, never the claimed size).
const DIRECT_READ_STEP: usize = 256 * 1024;

/// Why [`FrameDecoder::fill_payload`] failed.
#[derive(Debug)]
pub enum FillError {
  Io(io::Error),
  Protocol(ProtocolError),
}

impl FrameDecoder {
  /// True while a large payload is being received: [`fill_payload`](Self::fill_payload) then
  /// saves copying it through a staging buffer.
  pub fn filling_large_payload(&self) -> bool {
    matches!(self.current, Some((_, length)) if length - self.payload.len() >= DIRECT_READ_MIN)
  }

  /// Reads the next bytes of the current large payload directly into it with `read`, pushing
  /// the frame to `out` once complete. Returns what `read` returned (0 is end of stream).
  pub fn fill_payload(
    &mut self,
    read: impl FnOnce(&mut [u8]) -> io::Result<usize>,
    out: &mut Vec<Frame>,
  ) -> Result<usize, FillError> {
    let Some((kind, length)) = self.current else {
      return Err(FillError::Protocol(ProtocolError::UnexpectedKind {
        kind: 0,
      }));
    };
    let have = self.payload.len();
    let step = (length - have).min(DIRECT_READ_STEP);
    // Vec's amortized growth: memory follows the bytes that arrived, capped at the announced size.
    self.payload.resize(have + step, 0);
    let n = match read(&mut self.payload[have..]) {
      Ok(n) => n,
      Err(e) => {
        self.payload.truncate(have);
        return Err(FillError::Io(e));
      }
    };
    self.payload.truncate(have + n);
    if self.payload.len() == length {
      self.finish_frame(kind, out);
    }
    Ok(n)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::protocol::frame::encode_frame;

  fn from_child(kind: FrameKind) -> bool {
    kind.from_child()
  }

  fn frame(kind: FrameKind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(kind, payload, &mut out).unwrap();
    out
  }

  fn decode_all(bytes: &[u8], chunk: usize) -> (Vec<Frame>, Result<(), ProtocolError>) {
    let mut decoder = FrameDecoder::new(from_child);
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
      if let Err(e) = decoder.feed(piece, &mut out) {
        return (out, Err(e));
      }
    }
    let end = decoder.finish();
    (out, end)
  }

  #[test]
  fn header_layout_is_big_endian_length_then_kind() {
    assert_eq!(
      frame(FrameKind::Message, b"42"),
      vec![0, 0, 0, 2, 1, b'4', b'2']
    );
    assert_eq!(frame(FrameKind::Error, b""), vec![0, 0, 0, 0, 2]);
  }

  #[test]
  fn round_trips_every_split_of_the_stream() {
    let mut stream = Vec::new();
    let payloads: Vec<Vec<u8>> = vec![
      b"\"hello\"".to_vec(),
      Vec::new(),
      vec![b'x'; 70_000],
      "\"h\u{e9}llo \u{1f600}\"".as_bytes().to_vec(),
    ];
    for p in &payloads {
      stream.extend(frame(FrameKind::Message, p));
    }
    for chunk in [1, 2, 3, 5, 7, 4096, stream.len()] {
      let (frames, end) = decode_all(&stream, chunk);
      assert_eq!(end, Ok(()), "chunk size {chunk}");
      let got: Vec<Vec<u8>> = frames.into_iter().map(|f| f.payload).collect();
      assert_eq!(got, payloads, "chunk size {chunk}");
    }
  }

  #[test]
  fn keeps_order_of_many_frames() {
    let mut stream = Vec::new();
    for i in 0..100_000u32 {
      stream.extend(frame(FrameKind::Message, i.to_string().as_bytes()));
    }
    let (frames, end) = decode_all(&stream, 65_536);
    assert_eq!(end, Ok(()));
    assert_eq!(frames.len(), 100_000);
    for (i, f) in frames.iter().enumerate() {
      assert_eq!(f.payload, i.to_string().as_bytes());
    }
  }

  #[test]
  fn refuses_a_claimed_length_over_the_maximum_without_allocating_it() {
    let mut decoder = FrameDecoder::new(from_child);
    let mut out = Vec::new();
    let err = decoder
      .feed(&[0xff, 0xff, 0xff, 0xff, 1, b'x'], &mut out)
      .unwrap_err();
    assert_eq!(
      err,
      ProtocolError::TooLarge {
        length: u32::MAX as usize
      }
    );
    assert!(decoder.payload.capacity() < 1024);
    // The stream stays refused.
    assert!(decoder.feed(b"\0\0\0\x01\x01x", &mut out).is_err());
    assert!(out.is_empty());
  }

  #[test]
  fn memory_follows_received_bytes_not_the_header() {
    let mut decoder = FrameDecoder::new(from_child);
    let mut out = Vec::new();
    let mut header = ((MAX_PAYLOAD) as u32).to_be_bytes().to_vec();
    header.push(FrameKind::Message as u8);
    decoder.feed(&header, &mut out).unwrap();
    decoder.feed(&[b'a'; 10], &mut out).unwrap();
    assert!(
      decoder.payload.capacity() <= 20,
      "{}",
      decoder.payload.capacity()
    );
    assert!(matches!(
      decoder.finish(),
      Err(ProtocolError::Truncated { received: 15, .. })
    ));
  }

  #[test]
  fn refuses_unknown_and_wrong_direction_kinds() {
    let (frames, end) = decode_all(&frame(FrameKind::Text, b"plain text"), 64);
    assert_eq!(end, Ok(()));
    assert_eq!(frames[0].kind, FrameKind::Text);
    let (_, end) = decode_all(&[0, 0, 0, 0, 0x7f], 64);
    assert_eq!(end, Err(ProtocolError::UnexpectedKind { kind: 0x7f }));
    let (_, end) = decode_all(&frame(FrameKind::Handler, b"{}"), 64);
    assert_eq!(end, Err(ProtocolError::UnexpectedKind { kind: 0x03 }));
    let (_, end) = decode_all(&frame(FrameKind::Init, b"{}"), 64);
    assert_eq!(end, Err(ProtocolError::UnexpectedKind { kind: 0x06 }));
  }

  #[test]
  fn accepts_coverage_from_the_child() {
    let (frames, end) = decode_all(&frame(FrameKind::Coverage, b"{}"), 64);
    assert_eq!(end, Ok(()));
    assert_eq!(frames[0].kind, FrameKind::Coverage);
    assert_eq!(frame(FrameKind::Coverage, b"")[4], 0x10);
  }

  #[test]
  fn ready_carries_nothing() {
    let (frames, end) = decode_all(&frame(FrameKind::Ready, b""), 64);
    assert_eq!(end, Ok(()));
    assert_eq!(frames[0].kind, FrameKind::Ready);
    let (_, end) = decode_all(&frame(FrameKind::Ready, b"x"), 64);
    assert_eq!(
      end,
      Err(ProtocolError::UnexpectedPayload {
        kind: 0x05,
        length: 1
      })
    );
  }

  #[test]
  fn frames_before_garbage_are_kept() {
    let mut stream = frame(FrameKind::Message, b"1");
    stream.extend_from_slice(b"garbage!");
    let (frames, end) = decode_all(&stream, 64);
    assert_eq!(frames.len(), 1);
    assert!(end.is_err());
  }

  #[test]
  fn truncated_header_is_reported() {
    let (_, end) = decode_all(&[0, 0], 64);
    assert_eq!(
      end,
      Err(ProtocolError::Truncated {
        received: 2,
        expected: 5
      })
    );
  }

  #[test]
  fn encoder_refuses_oversized_payloads() {
    let big = vec![0u8; MAX_PAYLOAD + 1];
    let mut out = Vec::new();
    assert_eq!(
      encode_frame(FrameKind::Message, &big, &mut out),
      Err(ProtocolError::TooLarge {
        length: MAX_PAYLOAD + 1
      })
    );
    assert!(out.is_empty());
  }
}
