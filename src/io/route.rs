//! Peer frames (docs/protocol.md, "Peers"): a child sends `To` with a target, then the frame for
//! the peer; the parent forwards that frame to the target's channel after a `From` naming the
//! sender. This is the napi-free part: what a target is, which frames a peer may receive, and the
//! `From` payload. `src/napi/router.rs` moves the frames between channels.

use crate::protocol::{FrameKind, ProtocolError};

/// Where a peer frame goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
  /// One worker, by id (1-based).
  One(u32),
  /// Every worker of the pool, the sender included.
  All,
}

impl Target {
  /// Reads a `To` payload (`"3"`, or `"*"` for every worker) of a pool of `size` workers.
  pub fn parse(payload: &[u8], size: u32) -> Result<Target, ProtocolError> {
    if payload == b"*" {
      return Ok(Target::All);
    }
    let id = std::str::from_utf8(payload)
      .ok()
      .filter(|text| {
        !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit())
      })
      .and_then(|text| text.parse::<u64>().ok());
    match id {
      Some(id) if id >= 1 && id <= u64::from(size) => Ok(Target::One(id as u32)),
      _ => Err(ProtocolError::Route(format!(
        "names worker {:?}, and the pool has workers 1 to {size}",
        String::from_utf8_lossy(&payload[..payload.len().min(32)])
      ))),
    }
  }

  /// The ids this target reaches in a pool of `size` workers.
  pub fn ids(self, size: u32) -> std::ops::RangeInclusive<u32> {
    match self {
      Target::One(id) => id..=id,
      Target::All => 1..=size,
    }
  }
}

/// What a peer may receive: messages and named events, as text or packed (binary values, the
/// structured clone); calls go through the parent. (What a packed frame carries is in its own
/// header: the receiving runtime accepts a peer's packed frame only as a message or an event.)
pub fn routable(kind: FrameKind) -> bool {
  matches!(
    kind,
    FrameKind::Message | FrameKind::Text | FrameKind::Event | FrameKind::Packed
  )
}

/// The `From` payload for the sender `id`.
pub fn from_payload(id: u32) -> Vec<u8> {
  id.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn targets_are_ids_of_the_pool_or_everyone() {
    assert_eq!(Target::parse(b"*", 4), Ok(Target::All));
    assert_eq!(Target::parse(b"1", 4), Ok(Target::One(1)));
    assert_eq!(Target::parse(b"4", 4), Ok(Target::One(4)));
    for bad in [
      &b"0"[..],
      b"5",
      b"",
      b"-1",
      b"1.5",
      b" 1",
      b"99999999999999",
      b"all",
    ] {
      assert!(
        matches!(Target::parse(bad, 4), Err(ProtocolError::Route(_))),
        "{bad:?}"
      );
    }
    assert_eq!(
      Target::parse(b"9", 4).unwrap_err().to_string(),
      "a message for a peer names worker \"9\", and the pool has workers 1 to 4"
    );
  }

  #[test]
  fn everyone_includes_the_sender() {
    assert_eq!(Target::All.ids(3).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(Target::One(2).ids(3).collect::<Vec<_>>(), vec![2]);
  }

  #[test]
  fn only_messages_and_events_reach_peers() {
    assert!(
      routable(FrameKind::Message) && routable(FrameKind::Text) && routable(FrameKind::Event)
    );
    for kind in [
      FrameKind::Call,
      FrameKind::Result,
      FrameKind::To,
      FrameKind::Error,
      FrameKind::Ready,
    ] {
      assert!(!routable(kind));
    }
    assert_eq!(from_payload(12), b"12".to_vec());
  }
}
