//! `PeerRouter`: carries peer frames between the channels of one pool's children, in Rust, on
//! the parent's event loop (the JS thread's loop, where every channel of the pool is read and
//! written): a child's `To` + frame is moved into the target's outgoing queue behind a `From`
//! as soon as the poll callback has read it, without a JS call. A lone Proclet has a router of
//! size 1 (its child can message itself).
//!
//! Each worker id has a slot. While the slot has no running child (starting, restarting), frames
//! for it wait in the slot, in order, and go out ahead of anything newer once its next child's
//! session opens the slot (after INIT, its handlers and what the parent queued for it). A slot
//! closed for good (the worker's final exit) drops what comes for it.
//!
//! Backpressure: a target whose queue is past the high-water mark makes the sender stop being
//! read (its writes then wait in its socket) until some channel of the pool drains.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use napi_derive::napi;

use super::errors::{error, ErrorCode, Result};
use super::loop_channel::LoopChannel;
use crate::io::route::{from_payload, Target};
use crate::io::SendError;
use crate::protocol::{FrameKind, HEADER_LEN, HIGH_WATER_MARK};

#[derive(Default)]
struct Slot {
  channel: Option<Weak<LoopChannel>>,
  /// The running child's session has queued its start-up frames: peer frames go straight out.
  open: bool,
  /// The worker ended for good: frames for it are dropped.
  closed: bool,
  /// `(kind, payload)` pairs for the next child, in order (`From`, then the frame).
  waiting: VecDeque<(FrameKind, Vec<u8>)>,
  waiting_bytes: usize,
}

pub struct Router {
  slots: RefCell<Vec<Slot>>,
  /// Senders that stopped being read because a target was full.
  blocked: RefCell<Vec<Weak<LoopChannel>>>,
  has_blocked: Cell<bool>,
}

impl Router {
  fn new(size: u32) -> Router {
    Router {
      slots: RefCell::new((0..size).map(|_| Slot::default()).collect()),
      blocked: RefCell::new(Vec::new()),
      has_blocked: Cell::new(false),
    }
  }

  pub fn size(&self) -> u32 {
    self.slots.borrow().len() as u32
  }

  /// A new child for worker `id`: peer frames wait until `open`.
  pub fn attach(&self, id: u32, channel: &Rc<LoopChannel>) {
    let mut slots = self.slots.borrow_mut();
    let slot = &mut slots[id as usize - 1];
    slot.channel = Some(Rc::downgrade(channel));
    slot.open = false;
  }

  /// Worker `id`'s child has queued what comes first: deliver what waited, then route directly.
  pub fn open(&self, id: u32, channel: &Rc<LoopChannel>) {
    let waiting = {
      let mut slots = self.slots.borrow_mut();
      let slot = &mut slots[id as usize - 1];
      if !slot
        .channel
        .as_ref()
        .is_some_and(|c| c.ptr_eq(&Rc::downgrade(channel)))
      {
        return;
      }
      slot.open = true;
      slot.waiting_bytes = 0;
      std::mem::take(&mut slot.waiting)
    };
    if waiting.is_empty() {
      return;
    }
    {
      let mut outbox = channel.outbox.borrow_mut();
      for (kind, payload) in waiting {
        // A closed outbox: the child is already gone; what waited is lost with it.
        if outbox.enqueue_routed(kind, payload).is_err() {
          break;
        }
      }
    }
    channel.flush_routed();
  }

  /// Worker `id`'s child is gone (if `channel` is still its child).
  pub fn detach(&self, id: u32, channel: &LoopChannel) {
    let mut slots = self.slots.borrow_mut();
    let slot = &mut slots[id as usize - 1];
    if slot
      .channel
      .as_ref()
      .is_some_and(|c| std::ptr::eq(c.as_ptr(), channel))
    {
      slot.channel = None;
      slot.open = false;
    }
  }

  /// Routes one peer frame from worker `from`. Channels that got frames are added to `touched`
  /// (the caller writes them once the whole read is routed). True if a target is past the
  /// high-water mark: the sender should stop being read.
  pub fn route(
    &self,
    from: u32,
    target: Target,
    kind: FrameKind,
    payload: Vec<u8>,
    touched: &mut Vec<Rc<LoopChannel>>,
  ) -> bool {
    let size = self.size();
    let last = match target {
      Target::One(id) => id,
      Target::All => size,
    };
    let mut payload = Some(payload);
    let mut full = false;
    for id in target.ids(size) {
      let frame = if id == last {
        payload.take().unwrap_or_default()
      } else {
        payload.clone().unwrap_or_default()
      };
      full |= self.deliver(id, from, kind, frame, touched);
    }
    full
  }

  fn deliver(
    &self,
    id: u32,
    from: u32,
    kind: FrameKind,
    payload: Vec<u8>,
    touched: &mut Vec<Rc<LoopChannel>>,
  ) -> bool {
    let mut slots = self.slots.borrow_mut();
    let slot = &mut slots[id as usize - 1];
    if slot.closed {
      return false;
    }
    let live = if slot.open {
      slot.channel.as_ref().and_then(Weak::upgrade)
    } else {
      None
    };
    if let Some(channel) = live {
      let mut outbox = channel.outbox.borrow_mut();
      match outbox.enqueue_routed(FrameKind::From, from_payload(from)) {
        Ok(_) => {
          // Within MAX_PAYLOAD (the decoder checked it) and the outbox is open: cannot fail.
          let queued = outbox.enqueue_routed(kind, payload).unwrap_or(0);
          drop(outbox);
          let full = queued >= HIGH_WATER_MARK;
          if full {
            channel.mark_peer_full();
          }
          if !touched.iter().any(|c| Rc::ptr_eq(c, &channel)) {
            touched.push(channel);
          }
          return full;
        }
        // The child is exiting: the frame waits for the next one.
        Err(SendError::Closed) => slot.open = false,
        Err(SendError::TooLarge(_)) => return false,
      }
    }
    slot.waiting_bytes += 2 * HEADER_LEN + payload.len() + 10;
    slot
      .waiting
      .push_back((FrameKind::From, from_payload(from)));
    slot.waiting.push_back((kind, payload));
    false
  }

  /// Worker `id` ended for good: drop what waits for it and what comes later.
  fn close(&self, id: u32) {
    let mut slots = self.slots.borrow_mut();
    let slot = &mut slots[id as usize - 1];
    slot.closed = true;
    slot.waiting.clear();
    slot.waiting_bytes = 0;
  }

  /// `sender` stopped being read until a channel of the pool drains.
  pub fn block(&self, sender: Weak<LoopChannel>) {
    self.blocked.borrow_mut().push(sender);
    self.has_blocked.set(true);
  }

  /// A channel of the pool drained below the high-water mark: read the blocked senders again
  /// (each blocks itself again at its next routed frame if a target is still full).
  pub fn wake(&self) {
    if !self.has_blocked.replace(false) {
      return;
    }
    let blocked = std::mem::take(&mut *self.blocked.borrow_mut());
    for sender in blocked.iter().filter_map(Weak::upgrade) {
      sender.unblock();
    }
  }
}

/// The peer routing of one pool (`lib/pool.js`), or of a lone Proclet (size 1). Sessions join it
/// with `NativeSession.joinPeers(router, id)`.
#[napi]
pub struct PeerRouter {
  pub(crate) inner: Rc<Router>,
}

#[napi]
impl PeerRouter {
  /// A router for workers `1..=size`.
  #[napi(constructor)]
  pub fn new(size: u32) -> Result<Self> {
    if size == 0 {
      return Err(error(ErrorCode::Internal, "a pool has at least one worker"));
    }
    Ok(PeerRouter {
      inner: Rc::new(Router::new(size)),
    })
  }

  /// Worker `id` ended for good (no restart follows): frames for it are dropped from now on.
  #[napi]
  pub fn close(&self, id: u32) -> Result<()> {
    if id == 0 || id > self.inner.size() {
      return Err(error(ErrorCode::Internal, format!("no worker {id}")));
    }
    self.inner.close(id);
    Ok(())
  }

  /// Bytes waiting for worker `id`'s next child (tests, diagnostics).
  #[napi]
  pub fn waiting_bytes(&self, id: u32) -> u32 {
    let slots = self.inner.slots.borrow();
    slots
      .get((id as usize).wrapping_sub(1))
      .map_or(0, |s| s.waiting_bytes.min(u32::MAX as usize) as u32)
  }
}
