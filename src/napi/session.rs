//! `NativeSession`: one child process and its channel, from spawn to exit. A session never
//! outlives its process and never starts a second one; restarts, queues that span processes and
//! everything users register belong to the Proclet in JS (`lib/proclet.js`), which opens a new
//! session for each process.
//!
//! What keeps Node's event loop alive (the one place this is decided): the threadsafe function
//! that reports the child's exit from the waiter thread. It exists only while the child runs, is
//! referenced unless `setRef(false)` is called, and is released by `dispose()` once `Exit` has
//! been delivered. The poll handle never holds the loop. A session whose child has exited holds
//! nothing.

use std::collections::HashMap;
use std::os::fd::IntoRawFd;
use std::os::unix::net::UnixStream;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use super::batch::{Batch, BatchArgs};
use super::errors::{error, ErrorCode, Result};
use super::loop_channel::LoopChannel;
use super::raw::{CleanupHook, JsCallback};
use super::router::PeerRouter;
use crate::io::{Connection, Event, OutputPipe, OutputStream};
use crate::process::{spawn_child, ChildProcess, ExitStatus, SpawnRequest, StdioMode};
use crate::protocol::FrameKind;
use crate::script::cache::MAX_UNUSED;
use crate::script::{script_runner, spare_script, worker_script, CacheDir, SourceForm};

/// Reports the child's exit from the waiter thread. Not callee-handled: the dispatcher never
/// receives an error argument.
type ExitFn = ThreadsafeFunction<ExitStatus, Unknown<'static>, BatchArgs, Status, false>;

/// What `lib/session.js` passes to start a child.
#[napi(object)]
pub struct SessionOptions {
  /// The `node` binary (the parent's `process.execPath`).
  pub exec_path: String,
  /// Node flags for the child (the parent's, minus debugger flags, or the `execArgv` option).
  pub exec_argv: Vec<String>,
  /// The worker function's source text, stored with the runtime in the SHA-512-named cache file.
  /// Absent for a script worker (the runtime loads the module the `Init` frame names) and for a
  /// spare (warm start, `lib/warm.js`: `spare: true`), which boots, says READY and waits for INIT.
  pub source: Option<String>,
  /// The source is method shorthand (`work() {}`) rather than an expression.
  pub method: bool,
  /// A spare runtime for warm start (`lib/warm.js`), with no `source`.
  pub spare: Option<bool>,
  /// `process.argv.slice(2)` in the child.
  pub args: Vec<String>,
  /// The child's whole environment (absent: the parent's).
  pub env: Option<HashMap<String, String>>,
  /// The child's working directory (absent: the parent's).
  pub cwd: Option<String>,
  /// `'inherit'` (absent), `'pipe'` or `'ignore'`.
  pub stdio: Option<String>,
}

/// One child process. `new NativeSession(options, onEvents)` writes the script to the cache and
/// spawns `node` on it with the channel on fd 3; `onEvents(kinds, payloads, ints)` then receives
/// batches on this thread (`src/napi/batch.rs` describes them) until `ChannelEvent.Exit`.
///
/// Errors: `ERR_PROCLET_CACHE` (cache directory unusable), `ERR_PROCLET_SPAWN`.
#[napi]
pub struct NativeSession {
  pid: u32,
  child: Arc<ChildProcess>,
  /// The parent's end of the child's stdin pipe, until JS takes it (`takeStdin`).
  stdin: Option<std::os::fd::OwnedFd>,
  /// Released by `dispose()`: the socket closes with it, not whenever this object is collected.
  channel: Option<Rc<LoopChannel>>,
  exit_fn: Option<Arc<ExitFn>>,
  waiter: Option<JoinHandle<()>>,
  cleanup: Option<CleanupHook<LoopChannel>>,
}

#[napi]
impl NativeSession {
  #[napi(constructor)]
  pub fn new(
    env: Env,
    options: SessionOptions,
    on_events: Function<'_, BatchArgs, Unknown<'static>>,
  ) -> Result<Self> {
    let form = if options.method {
      SourceForm::Method
    } else {
      SourceForm::Expression
    };
    let script = match &options.source {
      Some(source) => worker_script(source, form),
      None if options.spare == Some(true) => spare_script().to_owned(),
      None => script_runner(),
    };
    let stdio = match options.stdio.as_deref() {
      None | Some("inherit") => StdioMode::Inherit,
      Some("pipe") => StdioMode::Pipe,
      Some("ignore") => StdioMode::Ignore,
      Some(other) => {
        return Err(error(
          ErrorCode::Internal,
          format!("unknown stdio mode {other:?}"),
        ))
      }
    };
    let child_env: Option<Vec<(String, String)>> = options.env.map(|env| env.into_iter().collect());
    let cache = CacheDir::open(&CacheDir::default_path())
      .map_err(|e| error(ErrorCode::Cache, e.to_string()))?;
    cache.sweep_if_due(MAX_UNUSED);
    // Held until the child has loaded its script (READY), so no sweep removes it first.
    let lease = cache
      .lease()
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
    // argv is [node, ...execArgv, script, ...args]: the child's setup arrives in the Init
    // frame, so process.argv.slice(2) is the user's `args` alone.
    let mut args = options.exec_argv;
    args.push(path.to_string_lossy().into_owned());
    args.extend(options.args);
    let mut request = SpawnRequest::new(&options.exec_path, &args, child_end.into());
    request.env = child_env.as_deref();
    request.cwd = options.cwd.as_deref();
    request.stdio = stdio;
    let spawned = spawn_child(request).map_err(|e| {
      let place = match &options.cwd {
        Some(cwd) => format!(" in {cwd}"),
        None => String::new(),
      };
      error(
        ErrorCode::Spawn,
        format!("could not start {}{place}: {e}", options.exec_path),
      )
    })?;
    let pid = spawned.pid;
    let stdin = spawned.stdin;
    let outputs = [
      (OutputStream::Stdout, spawned.stdout),
      (OutputStream::Stderr, spawned.stderr),
    ];
    // From here on a failure must not leave the child behind: `Spawned` kills and reaps it
    // unless it is handed over to a session.
    let spawned = Spawned(Some(Arc::new(ChildProcess::new(pid))));
    let child = spawned.child();

    let connection =
      Connection::new(child.clone(), parent_end).map_err(|e| error(ErrorCode::Spawn, e))?;
    // SAFETY: on the JS thread with a live function value.
    let callback = unsafe { JsCallback::new(env.raw(), on_events.raw()) }
      .map_err(|e| error(ErrorCode::Internal, e))?;
    let channel = LoopChannel::new(callback, connection, lease);
    let event_loop = env
      .get_uv_event_loop()
      .map_err(|e| error(ErrorCode::Internal, e.reason))?;
    // SAFETY: the loop of this JS thread.
    unsafe { channel.watch(event_loop.cast()) }.map_err(|code| {
      channel.abandon();
      error(ErrorCode::Internal, format!("uv_poll_init failed ({code})"))
    })?;
    let mut pipes = Vec::new();
    for (stream, fd) in outputs {
      let Some(fd) = fd else { continue };
      let pipe = OutputPipe::new(stream, fd).map_err(|e| {
        channel.abandon();
        error(
          ErrorCode::Spawn,
          format!("could not read the child's output: {e}"),
        )
      })?;
      pipes.push(pipe);
    }
    // SAFETY: the loop of this JS thread.
    unsafe { channel.watch_outputs(event_loop.cast(), pipes) }.map_err(|code| {
      channel.abandon();
      error(ErrorCode::Internal, format!("uv_poll_init failed ({code})"))
    })?;

    // The exit report: the callback runs on this thread and reaches the channel weakly (the
    // channel does not own the threadsafe function; the session does).
    let for_exit: Weak<LoopChannel> = Rc::downgrade(&channel);
    let exit_fn = on_events
      .build_threadsafe_function::<ExitStatus>()
      .callee_handled::<false>()
      .build_callback(move |ctx| {
        let batch = match for_exit.upgrade() {
          Some(channel) => channel.finish(ctx.value),
          None => Batch::from_events(vec![Event::Exit(ctx.value)]).0,
        };
        Ok(batch.into_args())
      })
      .map_err(|e| {
        channel.abandon();
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
        error(ErrorCode::Spawn, format!("could not start a thread: {e}"))
      })?;

    let cleanup = CleanupHook::add(env.raw(), &channel);
    Ok(NativeSession {
      pid,
      stdin,
      child: spawned.hand_over(),
      channel: Some(channel),
      exit_fn: Some(exit_fn),
      waiter: Some(waiter),
      cleanup,
    })
  }

  /// The child's process id.
  #[napi(getter)]
  pub fn pid(&self) -> u32 {
    self.pid
  }

  /// The parent's end of the child's stdin pipe (`stdio: 'pipe'`) as a descriptor number, once:
  /// the caller owns it from then on (`lib/session.js` wraps it in a `net.Socket`, which closes
  /// it). `null` without a pipe, or when already taken.
  #[napi]
  pub fn take_stdin(&mut self) -> Option<i32> {
    self.stdin.take().map(IntoRawFd::into_raw_fd)
  }

  /// Stops (`true`) or resumes (`false`) reading the child's stdout (`0`) or stderr (`1`) pipe:
  /// backpressure from a stream nobody reads; the child's writes then wait.
  #[napi]
  pub fn set_output_paused(&self, index: u32, paused: bool) {
    if let Some(channel) = &self.channel {
      channel.set_output_paused(index as usize, paused);
    }
  }

  /// Queues one frame for the child: `kind` is a `FrameKind` the parent sends, `payload` the
  /// frame's bytes (a string is sent as its UTF-8). Writes at once when it is the first frame of
  /// the tick, when 1 ms has passed since the last write, or past 64 KiB queued
  /// (`src/io/outbox.rs`); the rest waits for the end of the tick. Returns the `SendState` bits:
  /// `BelowHighWater` until the outgoing queue is past `HIGH_WATER_MARK` bytes (then a
  /// `ChannelEvent.Drain` follows), and `FlushOwed` when the caller must call `flush()` at the
  /// end of its tick (`lib/session.js` does, with `process.nextTick`). Without it the send came
  /// from JS running inside one of the addon's deliveries, and the addon ends the tick when the
  /// delivery returns (its ticks and promise reactions included).
  ///
  /// Errors: `ERR_PROCLET_CHANNEL_CLOSED` once the child's channel closed,
  /// `ERR_PROCLET_MESSAGE_TOO_LARGE` past `MAX_PAYLOAD` bytes, `ERR_PROCLET_INTERNAL` for a kind
  /// only the child sends.
  #[napi]
  pub fn send_frame(&self, kind: FrameKind, payload: Either<String, &[u8]>) -> Result<u32> {
    if !kind.to_child() {
      return Err(error(
        ErrorCode::Internal,
        format!("frame kind {} is not sent to the child", kind.name()),
      ));
    }
    let bytes = match payload {
      Either::A(text) => text.into_bytes(),
      Either::B(bytes) => bytes.to_vec(),
    };
    let channel = self.channel()?;
    let queued = channel
      .outbox
      .borrow_mut()
      .enqueue(kind, bytes, Instant::now())?;
    if queued.flush_now {
      channel.flush();
    }
    Ok(send_state(queued.below_high_water, channel.owe_tick()))
  }

  /// Queues one frame whose payload is `parts` one after the other, as `sendFrame` does with one
  /// payload: each part is a Buffer (its bytes) or a string whose characters are all below
  /// U+0100 (its Latin-1 bytes), copied once, straight out of the JS value (`lib/shared/packed.js`
  /// builds a PACKED frame this way, so that a binary value or a long string is not copied into
  /// a frame buffer first).
  ///
  /// Errors: as `sendFrame`.
  #[napi(ts_args_type = "kind: FrameKind, parts: Array<Buffer | string>")]
  pub fn send_parts(&self, kind: FrameKind, parts: Vec<Part>) -> Result<u32> {
    if !kind.to_child() {
      return Err(error(
        ErrorCode::Internal,
        format!("frame kind {} is not sent to the child", kind.name()),
      ));
    }
    let parts = parts.into_iter().map(|part| part.0).collect();
    let channel = self.channel()?;
    let queued = channel
      .outbox
      .borrow_mut()
      .enqueue_parts(kind, parts, Instant::now())?;
    if queued.flush_now {
      channel.flush();
    }
    Ok(send_state(queued.below_high_water, channel.owe_tick()))
  }

  /// The end of the tick: writes what `sendFrame` queued, without blocking, and makes the next
  /// frame the first of a new burst (written at once). The first flush after `joinPeers` also
  /// lets peer frames in: they follow INIT, the handlers and what was queued before the child ran.
  #[napi]
  pub fn flush(&self) {
    if let Some(channel) = &self.channel {
      channel.end_tick();
    }
  }

  /// Makes this child worker `id` of `router`'s pool: what its peers send it (`this.to(id)` in a
  /// child) is routed to it from the next `flush()` on, and what it sends them is routed without
  /// a JS call. Call before the first `flush()`.
  #[napi]
  pub fn join_peers(&self, router: &PeerRouter, id: u32) -> Result<()> {
    if id == 0 || id > router.inner.size() {
      return Err(error(
        ErrorCode::Internal,
        format!("no worker {id} in this pool"),
      ));
    }
    self.channel()?.join_peers(router.inner.clone(), id);
    Ok(())
  }

  /// This child stops receiving from its peers (`restart()` asked it to stop): what they send
  /// worker `id` from now on waits in the router for the next child of that id, as while a
  /// worker is down. What it sends them is still routed.
  #[napi]
  pub fn leave_peers(&self) {
    if let Some(channel) = &self.channel {
      channel.leave_peers();
    }
  }

  /// Asks for a `ChannelEvent.Written` once everything queued has been written (check
  /// `queuedBytes` first: nothing is reported for a queue that is already empty).
  #[napi]
  pub fn want_written(&self) {
    if let Some(channel) = &self.channel {
      channel.want_written();
    }
  }

  /// Stops reading from the child (`true`) or resumes (`false`): while paused, what the child
  /// writes waits in the socket, and its writes block once the socket is full.
  #[napi]
  pub fn set_paused(&self, paused: bool) {
    if let Some(channel) = &self.channel {
      channel.set_paused(paused);
    }
  }

  /// Sends a signal (a number; `lib/proclet.js` maps names). False if the child already exited.
  #[napi]
  pub fn kill(&self, signal: i32) -> Result<bool> {
    self
      .child
      .kill(signal)
      .map_err(|e| error(ErrorCode::Internal, format!("kill failed: {e}")))
  }

  /// Whether the running child keeps the event loop alive (`ref()` / `unref()`).
  #[napi]
  pub fn set_ref(&self, env: Env, referenced: bool) {
    let Some(tsfn) = &self.exit_fn else { return };
    tsfn.handle.with_read_aborted(|aborted| {
      if aborted {
        return;
      }
      // SAFETY: called on the JS thread that owns `env`, with a threadsafe function that is not
      // aborted (checked under the handle's lock) and not released (we hold a reference).
      unsafe {
        if referenced {
          sys::napi_ref_threadsafe_function(env.raw(), tsfn.raw());
        } else {
          sys::napi_unref_threadsafe_function(env.raw(), tsfn.raw());
        }
      }
    });
  }

  /// Bytes queued for the child and not yet written.
  #[napi(getter)]
  pub fn queued_bytes(&self) -> u32 {
    let queued = self
      .channel
      .as_ref()
      .map_or(0, |c| c.outbox.borrow().queued_bytes());
    queued.min(u32::MAX as usize) as u32
  }

  /// Called right after `ChannelEvent.Exit` was delivered: joins the waiter (which has nothing
  /// left to do but return) and releases the threadsafe function and the cleanup hook, so nothing
  /// holds the loop.
  #[napi]
  pub fn dispose(&mut self) {
    if let Some(waiter) = self.waiter.take() {
      let _ = waiter.join();
    }
    self.cleanup = None;
    self.exit_fn = None;
    self.channel = None;
    self.stdin = None;
  }
}

impl NativeSession {
  fn channel(&self) -> Result<&Rc<LoopChannel>> {
    self
      .channel
      .as_ref()
      .ok_or_else(|| error(ErrorCode::Closed, "the channel is closed"))
  }
}

/// What `sendFrame` and `sendParts` return, as bits: `BelowHighWater | FlushOwed`.
#[napi]
pub enum SendState {
  /// The outgoing queue is below `HIGH_WATER_MARK` bytes (`send()` returns true).
  BelowHighWater = 1,
  /// The caller ends the tick: `flush()` at its end.
  FlushOwed = 2,
}

fn send_state(below_high_water: bool, flush_owed: bool) -> u32 {
  let mut state = 0;
  if below_high_water {
    state |= SendState::BelowHighWater as u32;
  }
  if flush_owed {
    state |= SendState::FlushOwed as u32;
  }
  state
}

/// One part of `sendParts`: the bytes of a Buffer, or the Latin-1 bytes of a string (the caller
/// guarantees every character is below U+0100), copied out of the JS value.
pub struct Part(Vec<u8>);

impl TypeName for Part {
  fn type_name() -> &'static str {
    "Buffer | string"
  }

  fn value_type() -> ValueType {
    ValueType::Unknown
  }
}

impl FromNapiValue for Part {
  unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
    let mut kind = 0;
    // SAFETY: a valid env and value on the JS thread (FromNapiValue contract); every out-pointer
    // is valid, and the Latin-1 copy writes at most `capacity` bytes into a buffer of that size.
    unsafe {
      check(sys::napi_typeof(env, value, &mut kind))?;
      if kind == sys::ValueType::napi_string {
        let mut length = 0;
        check(sys::napi_get_value_string_latin1(
          env,
          value,
          std::ptr::null_mut(),
          0,
          &mut length,
        ))?;
        let capacity = length + 1; // napi writes a terminating NUL
        let mut bytes: Vec<u8> = Vec::with_capacity(capacity);
        let mut written = 0;
        check(sys::napi_get_value_string_latin1(
          env,
          value,
          bytes.as_mut_ptr().cast(),
          capacity,
          &mut written,
        ))?;
        bytes.set_len(written.min(length));
        return Ok(Part(bytes));
      }
      let mut data = std::ptr::null_mut();
      let mut length = 0;
      check(sys::napi_get_buffer_info(
        env,
        value,
        &mut data,
        &mut length,
      ))?;
      let bytes = if length == 0 {
        Vec::new()
      } else {
        std::slice::from_raw_parts(data.cast::<u8>(), length).to_vec()
      };
      Ok(Part(bytes))
    }
  }
}

fn check(status: sys::napi_status) -> napi::Result<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(napi::Error::from_status(Status::from(status)))
  }
}

/// A child that is killed and reaped (off the JS thread) when dropped, unless handed over.
struct Spawned(Option<Arc<ChildProcess>>);

impl Spawned {
  fn child(&self) -> Arc<ChildProcess> {
    self.0.clone().expect("not handed over yet")
  }

  fn hand_over(mut self) -> Arc<ChildProcess> {
    self.0.take().expect("handed over once")
  }
}

impl Drop for Spawned {
  fn drop(&mut self) {
    let Some(child) = self.0.take() else { return };
    let _ = child.kill(libc::SIGKILL);
    let _ = std::thread::Builder::new()
      .name("proclet-reap".into())
      .spawn(move || {
        child.wait();
      });
  }
}
