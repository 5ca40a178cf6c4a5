//! A running child's socket, watched on the JS thread's own loop. Lives on the JS thread only.
//!
//! A `uv_poll` handle watches the socket; its callback writes what waits, reads what arrived and
//! hands the batch to the dispatcher through `napi_make_callback`, as Node's own IPC channel
//! does its I/O: a message wakes the JS thread directly, and a busy JS thread simply stops
//! reading, so a child flooding a slow listener fills the socket and then blocks. The poll handle
//! never holds the loop (`uv_unref`); `NativeSession` decides what does.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::os::raw::c_int;
use std::ptr;
use std::rc::{Rc, Weak};

use napi::sys;

use super::batch::Batch;
use super::raw::{self, JsCallback, Poll, Teardown};
use super::router::Router;
use crate::io::route::routable;
use crate::io::{Connection, Event, Outbox, OutputPipe, Target, READ_BUDGET};
use crate::process::ExitStatus;
use crate::protocol::{FrameKind, ProtocolError, HIGH_WATER_MARK};
use crate::script::cache::CacheLease;

/// This channel's place among its peers (`src/napi/router.rs`).
struct PeerLink {
  router: Rc<Router>,
  id: u32,
  open: bool,
}

pub struct LoopChannel {
  /// The dispatcher (`lib/session.js`); `None` once released.
  callback: RefCell<Option<JsCallback>>,
  pub connection: RefCell<Connection>,
  pub outbox: RefCell<Outbox>,
  poll: RefCell<Option<Poll>>,
  watching: Cell<c_int>,
  /// A write from JS emptied the queue past the high-water mark: `Drain` goes out with the next
  /// batch (never synchronously inside `send`).
  drain_pending: Cell<bool>,
  /// JS waits to hear when the queue is empty (`Written`).
  written_wanted: Cell<bool>,
  /// JS's consumer is behind: stop reading, so the child's writes wait (backpressure).
  paused: Cell<bool>,
  /// Keeps cache sweeps away until the child has loaded its script (its READY frame).
  lease: RefCell<Option<CacheLease>>,
  myself: Weak<LoopChannel>,
  peer: RefCell<Option<PeerLink>>,
  /// A `To` frame was read; the frame it announces has not arrived yet.
  route_next: Cell<Option<Target>>,
  /// A peer this child writes to is full: stop reading this child until it drains.
  peer_blocked: Cell<bool>,
  /// Peers' frames filled this channel's queue past the high-water mark: its senders wait until
  /// it is below again.
  peer_full: Cell<bool>,
  /// JS sent to this channel during the current delivery: its end of tick is owed (`owe_tick`).
  tick_owed: Cell<bool>,
  /// The child's stdout and stderr pipes (`stdio: 'pipe'`), each watched by its own poll handle.
  /// Their descriptors close when the channel is dropped, after every handle has closed.
  outputs: RefCell<Vec<Output>>,
}

/// One output pipe and its watcher.
struct Output {
  pipe: OutputPipe,
  poll: Option<Poll>,
  /// JS's stream for it is full: stop reading, so the child's writes wait in the pipe.
  paused: bool,
  watching: bool,
}

/// What an output pipe's poll handle carries: the channel (one strong reference, released by
/// the close callback) and which pipe.
struct OutputWatch {
  channel: Rc<LoopChannel>,
  index: usize,
}

impl LoopChannel {
  pub fn new(callback: JsCallback, connection: Connection, lease: CacheLease) -> Rc<LoopChannel> {
    Rc::new_cyclic(|myself| LoopChannel {
      callback: RefCell::new(Some(callback)),
      connection: RefCell::new(connection),
      outbox: RefCell::new(Outbox::default()),
      poll: RefCell::new(None),
      watching: Cell::new(0),
      drain_pending: Cell::new(false),
      written_wanted: Cell::new(false),
      paused: Cell::new(false),
      lease: RefCell::new(Some(lease)),
      myself: myself.clone(),
      peer: RefCell::new(None),
      route_next: Cell::new(None),
      peer_blocked: Cell::new(false),
      peer_full: Cell::new(false),
      tick_owed: Cell::new(false),
      outputs: RefCell::new(Vec::new()),
    })
  }

  /// From JS: this child is worker `id` of `router`'s pool. Peer frames for it wait in the
  /// router until `open_peers`.
  pub fn join_peers(self: &Rc<Self>, router: Rc<Router>, id: u32) {
    router.attach(id, self);
    *self.peer.borrow_mut() = Some(PeerLink {
      router,
      id,
      open: false,
    });
  }

  /// From JS's first end-of-tick flush: INIT, the handlers and what was queued before the child
  /// ran are in the queue, so peer frames may follow them now.
  pub fn open_peers(self: &Rc<Self>) {
    let router = {
      let mut peer = self.peer.borrow_mut();
      match peer.as_mut() {
        Some(link) if !link.open => {
          link.open = true;
          (link.router.clone(), link.id)
        }
        _ => return,
      }
    };
    router.0.open(router.1, self);
  }

  /// The end of JS's tick for this channel: peer frames let in after the start-up frames (the
  /// first time), what waits written, and the next frame the first of a new burst.
  pub fn end_tick(self: &Rc<Self>) {
    self.open_peers();
    self.flush();
    self.outbox.borrow_mut().end_tick();
  }

  /// Who ends the tick of a send from JS. Inside a delivery (JS called by a dispatcher of this
  /// thread, whose `process.nextTick` callbacks and promise reactions all run before the call
  /// returns), the tick ends when the delivery does, and the addon ends it then for every
  /// channel JS sent to: false. Outside one (a timer, the main script), JS ends it
  /// (`process.nextTick` then `flush()`): true.
  pub fn owe_tick(&self) -> bool {
    if DELIVERING.with(Cell::get) == 0 {
      return true;
    }
    if !self.tick_owed.replace(true) {
      TICK_OWED.with(|owed| owed.borrow_mut().push(self.myself.clone()));
    }
    false
  }

  /// The router put frames in the queue (outside any JS tick): write them now.
  pub fn flush_routed(&self) {
    self.flush();
    self.outbox.borrow_mut().end_tick();
  }

  /// The router filled this channel's queue past the high-water mark.
  pub fn mark_peer_full(&self) {
    self.peer_full.set(true);
  }

  /// The router: the peers this child writes to have room again.
  pub fn unblock(&self) {
    if self.peer_blocked.replace(false) {
      self.rewatch();
    }
  }

  /// Takes the peer frames (`To` + frame) out of `events` and routes them; the rest stays, in
  /// order. A `To` that names no worker, or is followed by something a peer cannot receive,
  /// breaks the protocol. Returns whether a target is full.
  fn route(&self, events: &mut Vec<Event>) -> Result<bool, ProtocolError> {
    let needs_routing = self.route_next.get().is_some()
      || events
        .iter()
        .any(|e| matches!(e, Event::Frame(f) if f.kind == FrameKind::To));
    if !needs_routing {
      return Ok(false);
    }
    let link = self.peer.borrow();
    let Some(link) = link.as_ref() else {
      return Err(ProtocolError::Route(
        "came from a child outside a pool".into(),
      ));
    };
    let mut touched = Vec::new();
    let mut full = false;
    let mut kept = Vec::with_capacity(events.len());
    let mut failure = None;
    for event in events.drain(..) {
      if failure.is_some() {
        // Nothing more from this child is believed; only what the channel itself reports stays.
        if !matches!(event, Event::Frame(_)) {
          kept.push(event);
        }
        continue;
      }
      match (self.route_next.get(), event) {
        (Some(target), Event::Frame(frame)) => {
          self.route_next.set(None);
          if routable(frame.kind) {
            full |= link
              .router
              .route(link.id, target, frame.kind, frame.payload, &mut touched);
          } else {
            failure = Some(ProtocolError::Route(format!(
              "is a frame of kind 0x{:02x}, which a peer cannot receive",
              frame.kind as u8
            )));
          }
        }
        (None, Event::Frame(frame)) if frame.kind == FrameKind::To => {
          match Target::parse(&frame.payload, link.router.size()) {
            Ok(target) => self.route_next.set(Some(target)),
            Err(e) => failure = Some(e),
          }
        }
        (_, event) => kept.push(event),
      }
    }
    *events = kept;
    for channel in touched {
      channel.flush_routed();
    }
    match failure {
      Some(e) => Err(e),
      None => Ok(full),
    }
  }

  /// Routes what was read; a violation kills the child and is reported in `events`.
  fn route_or_fail(&self, events: &mut Vec<Event>) {
    match self.route(events) {
      Ok(true) => {
        if let Some(link) = &*self.peer.borrow() {
          self.peer_blocked.set(true);
          link.router.block(self.myself.clone());
        }
      }
      Ok(false) => {}
      Err(error) => {
        let mut reported = Vec::new();
        self
          .connection
          .borrow_mut()
          .protocol_failure(error, &mut reported);
        // Before the exit, if it is already in the batch.
        let at = events
          .iter()
          .position(|e| matches!(e, Event::Exit(_) | Event::CutOff(_)))
          .unwrap_or(events.len());
        events.splice(at..at, reported);
      }
    }
  }

  /// The child is gone: the router stops sending to this channel.
  pub fn leave_peers(&self) {
    if let Ok(peer) = self.peer.try_borrow() {
      if let Some(link) = &*peer {
        link.router.detach(link.id, self);
        // Senders waiting for this queue to drain would wait forever.
        if self.peer_full.replace(false) {
          link.router.wake();
        }
      }
    }
  }

  /// Starts watching the child's output pipes (stdout first, then stderr: their index is their
  /// position in `pipes`).
  ///
  /// # Safety
  /// As [`LoopChannel::watch`].
  pub unsafe fn watch_outputs(
    self: &Rc<Self>,
    event_loop: *mut c_void,
    pipes: Vec<OutputPipe>,
  ) -> Result<(), c_int> {
    for pipe in pipes {
      let index = self.outputs.borrow().len();
      let data = Box::into_raw(Box::new(OutputWatch {
        channel: self.clone(),
        index,
      }));
      // SAFETY: forwarded; the pipe's descriptor stays open until the channel is dropped, which
      // is after the handle has closed (the handle holds a reference to the channel).
      let poll = match unsafe { Poll::new(event_loop, pipe.fd(), data as *const c_void) } {
        Ok(poll) => poll,
        Err(code) => {
          // SAFETY: the handle was not created, so its data is still ours.
          drop(unsafe { Box::from_raw(data) });
          return Err(code);
        }
      };
      poll.watch(raw::READABLE, on_output_poll);
      self.outputs.borrow_mut().push(Output {
        pipe,
        poll: Some(poll),
        paused: false,
        watching: true,
      });
    }
    Ok(())
  }

  /// From JS: stop (or resume) reading one output pipe (0 stdout, 1 stderr).
  pub fn set_output_paused(&self, index: usize, paused: bool) {
    if let Some(output) = self.outputs.borrow_mut().get_mut(index) {
      output.paused = paused;
      output.rewatch();
    }
  }

  /// An output pipe's poll callback: read what arrived and hand it to JS.
  fn on_output(&self, index: usize) {
    let event = {
      let mut outputs = self.outputs.borrow_mut();
      let Some(output) = outputs.get_mut(index) else {
        return;
      };
      if output.paused {
        return;
      }
      let bytes = output.pipe.read_available(READ_BUDGET);
      if output.pipe.is_ended() {
        output.close();
      }
      (!bytes.is_empty()).then_some(Event::Output(output.pipe.stream, bytes))
    };
    if let Some(event) = event {
      self.deliver(vec![event]);
    }
  }

  /// Starts watching the socket on `event_loop`. The handle holds one reference to the channel,
  /// released by its close callback.
  ///
  /// # Safety
  /// `event_loop` is the running loop of this JS thread.
  pub unsafe fn watch(self: &Rc<Self>, event_loop: *mut c_void) -> Result<(), c_int> {
    let fd = self.connection.borrow().fd();
    let data = Rc::into_raw(self.clone());
    // SAFETY: forwarded; the socket stays open until the handle is closed (the connection owning
    // it lives in the channel, which the handle keeps alive).
    match unsafe { Poll::new(event_loop, fd, data.cast()) } {
      Ok(poll) => {
        *self.poll.borrow_mut() = Some(poll);
        Ok(())
      }
      Err(code) => {
        // SAFETY: the handle was not created, so the reference given to it is still ours.
        drop(unsafe { Rc::from_raw(data) });
        Err(code)
      }
    }
  }

  /// Watches for what is needed now: input while reading, writability while bytes wait.
  fn rewatch(&self) {
    let mut wanted = 0;
    if self.connection.borrow().is_reading() && !self.paused.get() && !self.peer_blocked.get() {
      wanted |= raw::READABLE;
    }
    if self.outbox.borrow().queued_bytes() > 0
      || self.drain_pending.get()
      || self.written_wanted.get()
    {
      wanted |= raw::WRITABLE;
    }
    if wanted != self.watching.get() {
      if let Some(poll) = &*self.poll.borrow() {
        poll.watch(wanted, on_poll);
      }
      self.watching.set(wanted);
    }
  }

  /// From JS: report `Written` once the queue is empty (JS checks the queue first).
  pub fn want_written(&self) {
    self.written_wanted.set(true);
    self.rewatch();
  }

  /// From JS: stop (or resume) reading from the child.
  pub fn set_paused(&self, paused: bool) {
    self.paused.set(paused);
    self.rewatch();
  }

  /// From JS: `sendFrame` when the outbox says to write now, or the end-of-tick flush.
  pub fn flush(&self) {
    let written = self
      .connection
      .borrow()
      .write_available(&mut self.outbox.borrow_mut());
    if written.drained {
      self.drain_pending.set(true);
    }
    self.rewatch();
  }

  /// The poll callback: write what waits, read what arrived, hand the batch to JS.
  fn on_ready(&self, events: c_int) {
    let mut batch = Vec::new();
    let written = self
      .connection
      .borrow()
      .write_available(&mut self.outbox.borrow_mut());
    if written.drained || self.drain_pending.replace(false) {
      batch.push(Event::Drain);
    }
    // Empty because it was written, not because the channel closed and dropped it (then the
    // exit reports what became of it).
    let outbox = self.outbox.borrow();
    let written_out = outbox.queued_bytes() == 0 && !outbox.is_closed();
    drop(outbox);
    if self.written_wanted.get() && written_out {
      self.written_wanted.set(false);
      batch.push(Event::Written);
    }
    if events & raw::READABLE != 0 && !self.paused.get() && !self.peer_blocked.get() {
      self
        .connection
        .borrow_mut()
        .read_available(READ_BUDGET, &mut batch);
      self.route_or_fail(&mut batch);
    }
    // Room again for the peers that were writing here.
    if self.peer_full.get() && self.outbox.borrow().queued_bytes() < HIGH_WATER_MARK {
      self.peer_full.set(false);
      if let Some(link) = &*self.peer.borrow() {
        link.router.wake();
      }
    }
    self.rewatch();
    if !batch.is_empty() {
      self.deliver(batch);
    }
  }

  /// The exit report (threadsafe-function callback, on this thread): the waiter has shut the
  /// socket down, so reading drains what the child wrote and then ends. `Exit` comes last; the
  /// channel is closed and lets go of the dispatcher.
  pub fn finish(&self, status: ExitStatus) -> Batch {
    let mut events = Vec::new();
    self.connection.borrow_mut().read_to_end(&mut events);
    // What the child sent its peers before it ended still goes to them.
    self.route_or_fail(&mut events);
    self.leave_peers();
    // Everything the child wrote to its pipes, even to one JS had paused: it is gone now.
    for output in self.outputs.borrow_mut().iter_mut() {
      let bytes = output.pipe.drain();
      if !bytes.is_empty() {
        events.push(Event::Output(output.pipe.stream, bytes));
      }
      output.close();
    }
    self.outbox.borrow_mut().close();
    events.push(Event::Exit(status));
    let batch = self.convert(events);
    self.close();
    self.callback.borrow_mut().take();
    self.lease.borrow_mut().take();
    batch
  }

  /// Converts events for JS; a payload that breaks its kind's encoding ends the conversation.
  fn convert(&self, events: Vec<Event>) -> Batch {
    let ready = |e: &Event| matches!(e, Event::Frame(frame) if frame.kind == FrameKind::Ready);
    if self.lease.borrow().is_some() && events.iter().any(ready) {
      self.lease.borrow_mut().take();
    }
    let (batch, violation) = Batch::from_events(events);
    if let Some(error) = violation {
      self
        .connection
        .borrow_mut()
        .protocol_failure(error, &mut Vec::new());
      self.rewatch();
    }
    batch
  }

  /// Calls the dispatcher from a libuv callback, where no JS is on the stack.
  fn deliver(&self, events: Vec<Event>) {
    let batch = self.convert(events);
    let guard = self.callback.borrow();
    let Some(callback) = guard.as_ref() else {
      return;
    };
    let env = callback.env();
    // SAFETY: on the JS thread, in a libuv callback of this env's loop: open a handle scope,
    // convert, call, close the scope.
    unsafe {
      let mut scope = ptr::null_mut();
      if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
        return;
      }
      // A payload that cannot become a JS value (memory exhausted) ends the conversation
      // loudly rather than vanishing.
      let args = batch.into_js(env).or_else(|e| {
        let _ = self.connection.borrow().child().kill(libc::SIGKILL);
        Batch::protocol_error(format!(
          "a message could not be converted to a JS value ({})",
          e.reason
        ))
        .into_js(env)
      });
      if let Ok(args) = args {
        DELIVERING.with(|depth| depth.set(depth.get() + 1));
        callback.call(&args);
        DELIVERING.with(|depth| depth.set(depth.get() - 1));
      }
      sys::napi_close_handle_scope(env, scope);
    }
    drop(guard);
    if DELIVERING.with(Cell::get) == 0 {
      end_owed_ticks();
    }
  }

  fn close(&self) {
    if let Some(poll) = self.poll.borrow_mut().take() {
      poll.close(on_close);
    }
    self.watching.set(0);
    if let Ok(mut outputs) = self.outputs.try_borrow_mut() {
      for output in outputs.iter_mut() {
        output.close();
      }
    }
  }

  /// Environment teardown, or a failure while starting: end the child, stop watching. No JS.
  pub fn abandon(&self) {
    self.leave_peers();
    let _ = self.connection.borrow().child().kill(libc::SIGKILL);
    self.outbox.borrow_mut().close();
    self.close();
    if let Ok(mut lease) = self.lease.try_borrow_mut() {
      lease.take();
    }
  }
}

impl Teardown for LoopChannel {
  fn on_teardown(self: Rc<Self>) {
    self.abandon();
    // The environment frees its references itself; calling napi now is not allowed. (Borrowed
    // already when `process.exit()` runs the hooks from inside a dispatch: then it stays, and
    // goes with the process.)
    if let Ok(mut callback) = self.callback.try_borrow_mut() {
      if let Some(callback) = callback.take() {
        callback.leak();
      }
    }
  }
}

thread_local! {
  /// Dispatcher calls in progress on this thread (a delivery; nested only if JS reenters).
  static DELIVERING: Cell<u32> = const { Cell::new(0) };
  /// The channels JS sent to during the current delivery. Weak: a channel dropped meanwhile
  /// owes nothing, and nothing is dropped from here at thread exit.
  static TICK_OWED: RefCell<Vec<Weak<LoopChannel>>> = const { RefCell::new(Vec::new()) };
}

/// A delivery ended, and with it JS's tick: end it for the channels JS sent to (no JS runs).
fn end_owed_ticks() {
  let owed = TICK_OWED.with(|owed| std::mem::take(&mut *owed.borrow_mut()));
  for channel in owed.iter().filter_map(Weak::upgrade) {
    channel.tick_owed.set(false);
    channel.end_tick();
  }
}

unsafe extern "C" fn on_poll(handle: *mut c_void, status: c_int, events: c_int) {
  // SAFETY: the handle's data is the `Rc<LoopChannel>` given to it in `watch`, released only in
  // `on_close`, so it outlives this callback.
  let channel = unsafe { &*(Poll::data(handle) as *const LoopChannel) };
  // An error on the socket: let reading and writing find out what it is.
  let events = if status < 0 {
    raw::READABLE | raw::WRITABLE
  } else {
    events
  };
  channel.on_ready(events);
}

impl Output {
  fn rewatch(&mut self) {
    let wanted = !self.paused;
    if wanted != self.watching {
      if let Some(poll) = &self.poll {
        poll.watch(if wanted { raw::READABLE } else { 0 }, on_output_poll);
        self.watching = wanted;
      }
    }
  }

  fn close(&mut self) {
    if let Some(poll) = self.poll.take() {
      poll.close(on_output_close);
    }
    self.watching = false;
  }
}

unsafe extern "C" fn on_output_poll(handle: *mut c_void, _status: c_int, _events: c_int) {
  // SAFETY: the handle's data is the `OutputWatch` boxed in `watch_outputs`, freed only in
  // `on_output_close`. An error status: the read finds out what it is.
  let watch = unsafe { &*(Poll::data(handle) as *const OutputWatch) };
  watch.channel.on_output(watch.index);
}

unsafe extern "C" fn on_output_close(handle: *mut c_void) {
  // SAFETY: libuv is done with the handle; reclaim its `OutputWatch` and the memory.
  unsafe {
    drop(Box::from_raw(Poll::data(handle) as *mut OutputWatch));
    Poll::free(handle);
  }
}

unsafe extern "C" fn on_close(handle: *mut c_void) {
  // SAFETY: libuv is done with the handle; reclaim the channel reference and the memory.
  unsafe {
    drop(Rc::from_raw(Poll::data(handle) as *const LoopChannel));
    Poll::free(handle);
  }
}
