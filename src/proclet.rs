//! The napi surface: one `NativeProclet` per `Proclet`, driven by `index.js`. Conversions and
//! the event-loop glue only; the work happens in the napi-free modules.
//!
//! I/O runs on the JS thread: a `uv_poll` handle on the JS thread's own loop watches the socket
//! and its callback reads, decodes and hands each batch to `index.js`'s dispatcher through
//! `napi_make_callback` (so `process.nextTick` and promises run after it, as for any Node I/O
//! callback). The child's exit is the one event that comes from another thread (the waiter),
//! and it arrives through a threadsafe function.
//!
//! What keeps Node's event loop alive (the one place this is decided): that threadsafe function.
//! It exists only while a child runs, is referenced unless `setRef(false)` is called, and is
//! released by `dispose()` once `Exit` has been delivered. The poll handle never holds the loop
//! (`uv_unref`). A Proclet that was never run, or whose child has exited, holds nothing.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::ptr;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::thread::JoinHandle;

use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::cache::CacheDir;
use crate::channel::{Connection, Event, Outbox, SendError, READ_BUDGET};
use crate::process::{ChildProcess, ExitStatus};
use crate::protocol::{Kind, ProtocolError};
use crate::script::{worker_script, SourceForm};
use crate::spawn::{spawn_child, SpawnRequest};
use crate::uv::{self, Poll};

/// Event kinds as `index.js` sees them (`EVENT_*` there).
const EVENT_MESSAGE: u32 = 1;
const EVENT_ERROR: u32 = 2;
const EVENT_PROTOCOL: u32 = 3;
const EVENT_DRAIN: u32 = 4;
const EVENT_EXIT: u32 = 5;
const EVENT_TEXT: u32 = 6;
const EVENT_COVERAGE: u32 = 7;

/// One batch for the dispatcher: `(kinds, strings, ints)`. Message, error and protocol events
/// take one string each, in order; exit takes two ints (code or -1, signal or 0).
type BatchArgs = FnArgs<(Vec<u32>, Strings, Vec<i32>)>;

/// Reports the child's exit from the waiter thread. Not callee-handled: the dispatcher never
/// receives an error argument.
type ExitFn = ThreadsafeFunction<ExitStatus, Unknown<'static>, BatchArgs, Status, false>;

/// Stable codes for the errors this layer throws (`err.code` in JS).
pub enum ErrorCode {
  Closed,
  TooLarge,
  Cache,
  Spawn,
  Internal,
}

impl AsRef<str> for ErrorCode {
  fn as_ref(&self) -> &str {
    match self {
      ErrorCode::Closed => "ERR_PROCLET_CHANNEL_CLOSED",
      ErrorCode::TooLarge => "ERR_PROCLET_MESSAGE_TOO_LARGE",
      ErrorCode::Cache => "ERR_PROCLET_CACHE",
      ErrorCode::Spawn => "ERR_PROCLET_SPAWN",
      ErrorCode::Internal => "ERR_PROCLET_INTERNAL",
    }
  }
}

type Result<T> = std::result::Result<T, Error<ErrorCode>>;

fn error(code: ErrorCode, message: impl ToString) -> Error<ErrorCode> {
  Error::new(code, message)
}

/// What `index.js` passes to `spawn`.
#[napi(object)]
pub struct SpawnOptions {
  /// The `node` binary (the parent's `process.execPath`).
  pub exec_path: String,
  /// Node flags for the child (the parent's, minus debugger flags).
  pub exec_argv: Vec<String>,
  /// The worker function's source text.
  pub source: String,
  /// The source is method shorthand (`work() {}`) rather than an expression.
  pub method: bool,
  /// Absolute path or `file:` URL that `require()` in the child resolves from.
  pub caller: String,
  /// How many handler frames are queued before the child starts (the child keeps its channel
  /// referenced until it has seen them).
  pub handlers: u32,
}

#[napi]
pub struct NativeProclet {
  outbox: Rc<RefCell<Outbox>>,
  child: Option<Arc<ChildProcess>>,
  channel: Option<Rc<LoopChannel>>,
  exit_fn: Option<Arc<ExitFn>>,
  waiter: Option<JoinHandle<()>>,
  /// The `Rc<LoopChannel>` handed to the environment cleanup hook, reclaimed on removal.
  cleanup: Option<*const LoopChannel>,
  referenced: bool,
}

#[napi]
impl NativeProclet {
  #[napi(constructor)]
  #[allow(clippy::new_without_default)]
  pub fn new() -> Self {
    NativeProclet {
      outbox: Rc::new(RefCell::new(Outbox::default())),
      child: None,
      channel: None,
      exit_fn: None,
      waiter: None,
      cleanup: None,
      referenced: true,
    }
  }

  /// Queues one message (JSON text). Returns false once the outgoing queue is past its
  /// high-water mark. Throws `ERR_PROCLET_CHANNEL_CLOSED` after the channel closed.
  #[napi]
  pub fn send(&self, json: String) -> Result<bool> {
    self.enqueue(Kind::Message, json.into_bytes())
  }

  /// Queues one message that is a string, sent as its UTF-8 text rather than as JSON.
  #[napi]
  pub fn send_text(&self, text: String) -> Result<bool> {
    self.enqueue(Kind::Text, text.into_bytes())
  }

  /// Queues the registration of a child-side handler for `event`.
  #[napi]
  pub fn add_handler(&self, event: String, source: String, method: bool) -> Result<bool> {
    let payload = serde_json::json!({ "event": event, "source": source, "method": method });
    self.enqueue(Kind::Handler, payload.to_string().into_bytes())
  }

  /// Writes what `send` queued during this tick, without blocking.
  #[napi]
  pub fn flush(&self) {
    if let Some(channel) = &self.channel {
      channel.flush();
    }
  }

  /// Writes the script to the cache, starts the child and starts watching its socket; returns
  /// the pid. Errors: `ERR_PROCLET_CACHE` (cache directory unusable), `ERR_PROCLET_SPAWN`.
  #[napi]
  pub fn spawn(
    &mut self,
    env: Env,
    options: SpawnOptions,
    on_events: Function<'_, BatchArgs, Unknown<'static>>,
  ) -> Result<u32> {
    if self.child.is_some() {
      return Err(error(ErrorCode::Internal, "spawn called twice"));
    }
    let form = if options.method {
      SourceForm::Method
    } else {
      SourceForm::Expression
    };
    let script = worker_script(&options.source, form);
    let cache = CacheDir::open(&CacheDir::default_path())
      .map_err(|e| error(ErrorCode::Cache, e.to_string()))?;
    let path = cache
      .store(script.as_bytes())
      .map_err(|e| error(ErrorCode::Cache, e.to_string()))?;

    let (parent_end, child_end) = UnixStream::pair().map_err(|e| {
      error(
        ErrorCode::Spawn,
        format!("could not create the channel: {e}"),
      )
    })?;
    let mut args = options.exec_argv;
    args.push(path.to_string_lossy().into_owned());
    args.push(options.caller);
    args.push(options.handlers.to_string());
    let pid = spawn_child(SpawnRequest {
      program: &options.exec_path,
      args: &args,
      channel: child_end.into(),
    })
    .map_err(|e| {
      error(
        ErrorCode::Spawn,
        format!("could not start {}: {e}", options.exec_path),
      )
    })?;
    let child = Arc::new(ChildProcess::new(pid));
    self.child = Some(child.clone());
    // On a failure past this point the child is killed and reaped by a thread of its own.
    let kill_on_error = |e: Error<ErrorCode>| {
      discard(&child);
      e
    };

    let connection = Connection::new(child.clone(), parent_end)
      .map_err(|e| kill_on_error(error(ErrorCode::Spawn, e)))?;
    let fd = connection.fd();
    let channel = LoopChannel::new(&env, &on_events, connection, self.outbox.clone())
      .map_err(|e| kill_on_error(error(ErrorCode::Internal, e)))?;
    let event_loop = env
      .get_uv_event_loop()
      .map_err(|e| kill_on_error(error(ErrorCode::Internal, e.reason)))?;
    // SAFETY: the loop of this JS thread; the socket stays open until the handle is closed
    // (the connection owning it lives in the channel, which the handle keeps alive).
    let poll = unsafe { Poll::new(event_loop.cast(), fd, Rc::into_raw(channel.clone()).cast()) };
    match poll {
      Ok(poll) => *channel.poll.borrow_mut() = Some(poll),
      Err(code) => {
        // SAFETY: the handle was not created, so the reference given to it is still ours.
        drop(unsafe { Rc::from_raw(Rc::as_ptr(&channel)) });
        channel.release_js();
        return Err(kill_on_error(error(
          ErrorCode::Internal,
          format!("uv_poll_init failed ({code})"),
        )));
      }
    }

    // The exit report: the callback runs on this thread and reaches the channel weakly (the
    // channel does not own the threadsafe function, but `self` does).
    let for_exit: Weak<LoopChannel> = Rc::downgrade(&channel);
    let exit_fn = on_events
      .build_threadsafe_function::<ExitStatus>()
      .callee_handled::<false>()
      .build_callback(move |ctx| {
        let events = match for_exit.upgrade() {
          Some(channel) => channel.finish(ctx.value),
          None => vec![Event::Exit(ctx.value)],
        };
        Ok(Batch::from_events(events).into_args())
      })
      .map_err(|e| {
        channel.abandon();
        channel.release_js();
        discard(&child);
        error(ErrorCode::Internal, e.reason)
      })?;
    let exit_fn = Arc::new(exit_fn);
    let reporter = exit_fn.clone();
    let waiter = channel
      .connection
      .borrow()
      .spawn_waiter(move |status| {
        // Closing means the environment is gone; nobody is left to tell.
        let _ = reporter.call(status, ThreadsafeFunctionCallMode::NonBlocking);
      })
      .map_err(|e| {
        channel.abandon();
        channel.release_js();
        discard(&child);
        error(ErrorCode::Spawn, format!("could not start a thread: {e}"))
      })?;

    self.cleanup = add_cleanup_hook(&env, &channel);
    self.waiter = Some(waiter);
    self.exit_fn = Some(exit_fn);
    self.channel = Some(channel.clone());
    if !self.referenced {
      self.apply_ref(&env);
    }
    channel.flush();
    Ok(pid)
  }

  /// Sends a signal (a number; `index.js` maps names). False if the child already exited.
  #[napi]
  pub fn kill(&self, signal: i32) -> Result<bool> {
    match &self.child {
      None => Ok(false),
      Some(child) => child
        .kill(signal)
        .map_err(|e| error(ErrorCode::Internal, format!("kill failed: {e}"))),
    }
  }

  /// Whether the running child keeps the event loop alive (`ref()` / `unref()`).
  #[napi]
  pub fn set_ref(&mut self, env: Env, referenced: bool) {
    self.referenced = referenced;
    self.apply_ref(&env);
  }

  /// Bytes queued for the child and not yet written.
  #[napi(getter)]
  pub fn queued_bytes(&self) -> u32 {
    self.outbox.borrow().queued_bytes().min(u32::MAX as usize) as u32
  }

  /// Called by `index.js` right after it received `Exit`: joins the waiter (which has nothing
  /// left to do but return) and releases the threadsafe function, so nothing holds the loop.
  #[napi]
  pub fn dispose(&mut self, env: Env) {
    if let Some(waiter) = self.waiter.take() {
      let _ = waiter.join();
    }
    if let Some(raw) = self.cleanup.take() {
      remove_cleanup_hook(&env, raw);
    }
    self.exit_fn = None;
    self.channel = None;
  }
}

impl NativeProclet {
  fn enqueue(&self, kind: Kind, payload: Vec<u8>) -> Result<bool> {
    let queued = self.outbox.borrow_mut().enqueue(kind, payload);
    match queued {
      Ok(queued) => {
        if queued.flush_now {
          self.flush();
        }
        Ok(queued.below_high_water)
      }
      Err(SendError::Closed) => Err(error(ErrorCode::Closed, "the channel is closed")),
      Err(SendError::TooLarge(e)) => Err(error(ErrorCode::TooLarge, e.to_string())),
    }
  }

  fn apply_ref(&self, env: &Env) {
    let Some(tsfn) = &self.exit_fn else { return };
    tsfn.handle.with_read_aborted(|aborted| {
      if aborted {
        return;
      }
      // SAFETY: called on the JS thread that owns `env`, with a threadsafe function that is not
      // aborted (checked under the handle's lock) and not released (we hold a reference).
      unsafe {
        if self.referenced {
          sys::napi_ref_threadsafe_function(env.raw(), tsfn.raw());
        } else {
          sys::napi_unref_threadsafe_function(env.raw(), tsfn.raw());
        }
      }
    });
  }
}

/// A running child's socket, watched on the JS thread's loop. Lives on the JS thread only.
struct LoopChannel {
  env: sys::napi_env,
  /// The dispatcher (`index.js`), called from the poll callback.
  callback: Cell<sys::napi_ref>,
  async_context: Cell<sys::napi_async_context>,
  connection: RefCell<Connection>,
  outbox: Rc<RefCell<Outbox>>,
  poll: RefCell<Option<Poll>>,
  watching: Cell<c_int>,
  /// A write from JS emptied the queue past the high-water mark: `Drain` goes out with the next
  /// batch (never synchronously inside `send`).
  drain_pending: Cell<bool>,
}

impl LoopChannel {
  fn new(
    env: &Env,
    callback: &Function<'_, BatchArgs, Unknown<'static>>,
    connection: Connection,
    outbox: Rc<RefCell<Outbox>>,
  ) -> std::result::Result<Rc<LoopChannel>, String> {
    let env = env.raw();
    let mut reference = ptr::null_mut();
    let mut context = ptr::null_mut();
    // SAFETY: valid env and function value on this thread; out-pointers are valid.
    unsafe {
      if sys::napi_create_reference(env, callback.raw(), 1, &mut reference) != sys::Status::napi_ok
      {
        return Err("napi_create_reference failed".into());
      }
      let mut name = ptr::null_mut();
      sys::napi_create_string_utf8(env, c"proclet".as_ptr(), 7, &mut name);
      if sys::napi_async_init(env, ptr::null_mut(), name, &mut context) != sys::Status::napi_ok {
        sys::napi_delete_reference(env, reference);
        return Err("napi_async_init failed".into());
      }
    }
    Ok(Rc::new(LoopChannel {
      env,
      callback: Cell::new(reference),
      async_context: Cell::new(context),
      connection: RefCell::new(connection),
      outbox,
      poll: RefCell::new(None),
      watching: Cell::new(0),
      drain_pending: Cell::new(false),
    }))
  }

  /// Watches for what is needed now: input while reading, writability while bytes wait.
  fn rewatch(&self) {
    let mut wanted = 0;
    if self.connection.borrow().is_reading() {
      wanted |= uv::READABLE;
    }
    if self.outbox.borrow().queued_bytes() > 0 || self.drain_pending.get() {
      wanted |= uv::WRITABLE;
    }
    if wanted != self.watching.get() {
      if let Some(poll) = &*self.poll.borrow() {
        poll.watch(wanted, on_poll);
      }
      self.watching.set(wanted);
    }
  }

  /// From JS (`send` past the flush threshold, or the end-of-tick flush).
  fn flush(&self) {
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
    if events & uv::READABLE != 0 {
      self
        .connection
        .borrow_mut()
        .read_available(READ_BUDGET, &mut batch);
    }
    self.rewatch();
    if !batch.is_empty() {
      self.deliver(batch);
    }
  }

  /// The exit report (threadsafe-function callback, on this thread): the waiter has shut the
  /// socket down, so reading drains what the child wrote and then ends. `Exit` comes last.
  fn finish(&self, status: ExitStatus) -> Vec<Event> {
    let mut events = Vec::new();
    self
      .connection
      .borrow_mut()
      .read_available(usize::MAX, &mut events);
    self.outbox.borrow_mut().close();
    let mut events = self.validate(events);
    events.push(Event::Exit(status));
    self.close();
    self.release_js();
    events
  }

  /// Calls the dispatcher from a libuv callback, where no JS is on the stack.
  fn deliver(&self, events: Vec<Event>) {
    let batch = Batch::from_events(self.validate(events));
    let env = self.env;
    // SAFETY: on the JS thread, in a libuv callback of this env's loop: open a handle scope,
    // convert, and call through napi_make_callback, which also runs nextTicks and microtasks.
    unsafe {
      let mut scope = ptr::null_mut();
      if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
        return;
      }
      // A payload that cannot become a JS string (memory exhausted) ends the conversation
      // loudly rather than vanishing.
      let args = batch.into_js(env).or_else(|e| {
        let _ = self.connection.borrow().child().kill(libc::SIGKILL);
        Batch::from_events(vec![Event::Protocol(format!(
          "a message could not be converted to a JS value ({})",
          e.reason
        ))])
        .into_js(env)
      });
      if let Ok(args) = args {
        let mut function = ptr::null_mut();
        let mut receiver = ptr::null_mut();
        let mut result = ptr::null_mut();
        sys::napi_get_reference_value(env, self.callback.get(), &mut function);
        // napi_make_callback needs an object receiver (undefined throws inside Node).
        sys::napi_get_global(env, &mut receiver);
        if !function.is_null() {
          let status = sys::napi_make_callback(
            env,
            self.async_context.get(),
            receiver,
            function,
            args.len(),
            args.as_ptr(),
            &mut result,
          );
          if status == sys::Status::napi_pending_exception {
            let mut exception = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env, &mut exception);
            sys::napi_fatal_exception(env, exception);
          }
        }
      }
      sys::napi_close_handle_scope(env, scope);
    }
  }

  /// Payloads must be UTF-8 to become JS strings; the first that is not ends the conversation.
  fn validate(&self, mut events: Vec<Event>) -> Vec<Event> {
    let bad = events.iter().position(|event| match event {
      Event::Message(bytes) | Event::Text(bytes) | Event::Error(bytes) | Event::Coverage(bytes) => {
        !bytes.is_ascii() && std::str::from_utf8(bytes).is_err()
      }
      _ => false,
    });
    if let Some(index) = bad {
      let exit = events.iter().position(|e| matches!(e, Event::Exit(_)));
      let tail_exit = exit.map(|i| events.remove(i));
      events.truncate(index);
      self
        .connection
        .borrow_mut()
        .protocol_failure(ProtocolError::InvalidUtf8, &mut events);
      events.extend(tail_exit);
      self.rewatch();
    }
    events
  }

  fn close(&self) {
    if let Some(poll) = self.poll.borrow_mut().take() {
      poll.close(on_close);
    }
    self.watching.set(0);
  }

  /// Frees the JS-side resources; only while the environment is alive.
  fn release_js(&self) {
    let reference = self.callback.replace(ptr::null_mut());
    let context = self.async_context.replace(ptr::null_mut());
    // SAFETY: created in `new` on this env; each released once (the cells are cleared).
    unsafe {
      if !reference.is_null() {
        sys::napi_delete_reference(self.env, reference);
      }
      if !context.is_null() {
        sys::napi_async_destroy(self.env, context);
      }
    }
  }

  /// Environment teardown, or a failure while starting: end the child, stop watching. No JS.
  fn abandon(&self) {
    let _ = self.connection.borrow().child().kill(libc::SIGKILL);
    self.outbox.borrow_mut().close();
    self.close();
  }
}

/// Kills a child that will never be served and reaps it off the JS thread.
fn discard(child: &Arc<ChildProcess>) {
  let _ = child.kill(libc::SIGKILL);
  let child = child.clone();
  let _ = std::thread::Builder::new()
    .name("proclet-reap".into())
    .spawn(move || {
      child.wait();
    });
}

unsafe extern "C" fn on_poll(handle: *mut c_void, status: c_int, events: c_int) {
  // SAFETY: the handle's data is the `Rc<LoopChannel>` given to it in `spawn`, released only in
  // `on_close`, so it outlives this callback.
  let channel = unsafe { &*(Poll::data(handle) as *const LoopChannel) };
  // An error on the socket: let reading and writing find out what it is.
  let events = if status < 0 {
    uv::READABLE | uv::WRITABLE
  } else {
    events
  };
  channel.on_ready(events);
}

unsafe extern "C" fn on_close(handle: *mut c_void) {
  // SAFETY: libuv is done with the handle; reclaim the channel reference and the memory.
  unsafe {
    drop(Rc::from_raw(Poll::data(handle) as *const LoopChannel));
    Poll::free(handle);
  }
}

/// Events converted for the dispatcher.
struct Batch {
  kinds: Vec<u32>,
  strings: Vec<Text>,
  ints: Vec<i32>,
}

/// A payload becoming a JS string: Latin-1 (a plain copy) when it is ASCII, else UTF-8.
pub enum Text {
  Bytes(Vec<u8>),
  Owned(String),
}

/// The `strings` argument: an array of JS strings.
pub struct Strings(Vec<Text>);

impl Batch {
  fn from_events(events: Vec<Event>) -> Batch {
    let mut batch = Batch {
      kinds: Vec::with_capacity(events.len()),
      strings: Vec::with_capacity(events.len()),
      ints: Vec::new(),
    };
    for event in events {
      match event {
        Event::Message(bytes) => {
          batch.kinds.push(EVENT_MESSAGE);
          batch.strings.push(Text::Bytes(bytes));
        }
        Event::Text(bytes) => {
          batch.kinds.push(EVENT_TEXT);
          batch.strings.push(Text::Bytes(bytes));
        }
        Event::Error(bytes) => {
          batch.kinds.push(EVENT_ERROR);
          batch.strings.push(Text::Bytes(bytes));
        }
        Event::Coverage(bytes) => {
          batch.kinds.push(EVENT_COVERAGE);
          batch.strings.push(Text::Bytes(bytes));
        }
        Event::Protocol(text) => {
          batch.kinds.push(EVENT_PROTOCOL);
          batch.strings.push(Text::Owned(text));
        }
        Event::Drain => batch.kinds.push(EVENT_DRAIN),
        Event::Exit(status) => {
          batch.kinds.push(EVENT_EXIT);
          batch.ints.push(status.code.unwrap_or(-1));
          batch.ints.push(status.signal.unwrap_or(0));
        }
      }
    }
    batch
  }

  fn into_args(self) -> BatchArgs {
    FnArgs::from((self.kinds, Strings(self.strings), self.ints))
  }

  /// # Safety
  /// On the env's JS thread, inside a handle scope.
  unsafe fn into_js(self, env: sys::napi_env) -> napi::Result<[sys::napi_value; 3]> {
    // SAFETY: forwarded from the caller.
    unsafe {
      Ok([
        Vec::<u32>::to_napi_value(env, self.kinds)?,
        Strings::to_napi_value(env, Strings(self.strings))?,
        Vec::<i32>::to_napi_value(env, self.ints)?,
      ])
    }
  }
}

impl ToNapiValue for Strings {
  unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
    let mut array = ptr::null_mut();
    // SAFETY: valid env on its thread (ToNapiValue contract); out-pointers are valid; every
    // payload was validated as ASCII (a subset of Latin-1) or UTF-8 before reaching here.
    unsafe {
      check(sys::napi_create_array_with_length(
        env,
        value.0.len(),
        &mut array,
      ))?;
      for (index, text) in value.0.into_iter().enumerate() {
        let mut string = ptr::null_mut();
        match &text {
          Text::Bytes(bytes) if bytes.is_ascii() => check(sys::napi_create_string_latin1(
            env,
            bytes.as_ptr().cast(),
            bytes.len() as isize,
            &mut string,
          ))?,
          Text::Bytes(bytes) => check(sys::napi_create_string_utf8(
            env,
            bytes.as_ptr().cast(),
            bytes.len() as isize,
            &mut string,
          ))?,
          Text::Owned(text) => check(sys::napi_create_string_utf8(
            env,
            text.as_ptr().cast(),
            text.len() as isize,
            &mut string,
          ))?,
        }
        check(sys::napi_set_element(env, array, index as u32, string))?;
      }
    }
    Ok(array)
  }
}

fn check(status: sys::napi_status) -> napi::Result<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(napi::Error::from_status(Status::from(status)))
  }
}

/// On environment teardown (a Worker terminating, the process exiting) the child is killed and
/// the socket unwatched, without JS.
unsafe extern "C" fn abandon_on_teardown(arg: *mut c_void) {
  // SAFETY: `arg` came from `Rc::into_raw` in `add_cleanup_hook`; Node calls a hook at most once
  // and never after `remove_cleanup_hook`, which is the only other place that reclaims it.
  let channel = unsafe { Rc::from_raw(arg as *const LoopChannel) };
  channel.abandon();
}

fn add_cleanup_hook(env: &Env, channel: &Rc<LoopChannel>) -> Option<*const LoopChannel> {
  let raw = Rc::into_raw(channel.clone());
  // SAFETY: valid env on its own thread; `raw` stays valid until reclaimed by the hook or by
  // `remove_cleanup_hook`.
  let status = unsafe {
    sys::napi_add_env_cleanup_hook(env.raw(), Some(abandon_on_teardown), raw as *mut c_void)
  };
  if status == sys::Status::napi_ok {
    Some(raw)
  } else {
    // SAFETY: not registered, so we still own the reference.
    drop(unsafe { Rc::from_raw(raw) });
    None
  }
}

fn remove_cleanup_hook(env: &Env, raw: *const LoopChannel) {
  // SAFETY: the hook was registered with exactly this function and argument on this env.
  let status = unsafe {
    sys::napi_remove_env_cleanup_hook(env.raw(), Some(abandon_on_teardown), raw as *mut c_void)
  };
  if status == sys::Status::napi_ok {
    // SAFETY: the hook will not run any more; reclaim the reference it held.
    drop(unsafe { Rc::from_raw(raw) });
  }
}
