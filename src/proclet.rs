//! The napi surface: one `NativeProclet` per `Proclet`, driven by `index.js`. Argument checks and
//! conversions only; the work happens in the napi-free modules.
//!
//! What keeps Node's event loop alive (the one place this is decided): the threadsafe function
//! that delivers events. It exists only while a child runs (created at `spawn`), is referenced
//! unless `setRef(false)` is called, and is released by `dispose()` once `Exit` has been
//! delivered. A Proclet that was never run, or whose child has exited, holds nothing.

use std::ffi::c_void;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, OnceLock, Weak};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::cache::CacheDir;
use crate::channel::{Connection, Event, Outbox, SendError, Waker};
use crate::process::ChildProcess;
use crate::protocol::Kind;
use crate::script::{worker_script, SourceForm};
use crate::spawn::{spawn_child, SpawnRequest};

/// Event kinds as `index.js` sees them (`EVENT_*` there).
const EVENT_MESSAGE: u32 = 1;
const EVENT_ERROR: u32 = 2;
const EVENT_PROTOCOL: u32 = 3;
const EVENT_DRAIN: u32 = 4;
const EVENT_EXIT: u32 = 5;
const EVENT_COVERAGE: u32 = 6;

/// One batch for JS: `(kinds, strings, ints)`. Message/error/coverage/protocol events take one string
/// each, in order; exit takes two ints (code or -1, signal or 0).
type Batch = FnArgs<(Vec<u32>, Vec<String>, Vec<i32>)>;

/// Delivers batches to `index.js`'s dispatcher. `()` is the only value passed across threads:
/// the batch itself is taken from the inbox on the JS thread, so however many frames arrive
/// before JS runs, they cost one wake-up. Not callee-handled: the dispatcher never receives an
/// error argument.
type EventsFn = ThreadsafeFunction<(), Unknown<'static>, Batch, Status, false>;

struct JsWaker(EventsFn);

impl Waker for JsWaker {
    fn wake(&self) -> bool {
        // Unbounded queue: NonBlocking cannot fail with QueueFull; Closing means JS is gone.
        self.0.call((), ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
    }
}

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
    outbox: Arc<Outbox>,
    connection: Option<Arc<Connection>>,
    waker: Option<Arc<JsWaker>>,
    /// The `Arc<Connection>` handed to the environment cleanup hook, reclaimed on removal.
    cleanup: Option<*const Connection>,
    referenced: bool,
}

#[napi]
impl NativeProclet {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeProclet {
            outbox: Arc::new(Outbox::default()),
            connection: None,
            waker: None,
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

    /// Queues the registration of a child-side handler for `event`.
    #[napi]
    pub fn add_handler(&self, event: String, source: String, method: bool) -> Result<bool> {
        let payload = serde_json::json!({ "event": event, "source": source, "method": method });
        self.enqueue(Kind::Handler, payload.to_string().into_bytes())
    }

    /// Writes what `send` queued during this tick.
    #[napi]
    pub fn flush(&self) {
        if let Some(connection) = &self.connection {
            connection.flush();
        }
    }

    /// Writes the script to the cache, starts the child and the threads serving it; returns the
    /// pid. Errors: `ERR_PROCLET_CACHE` (cache directory unusable), `ERR_PROCLET_SPAWN`.
    #[napi]
    pub fn spawn(
        &mut self,
        env: Env,
        options: SpawnOptions,
        on_events: Function<'_, Batch, Unknown<'static>>,
    ) -> Result<u32> {
        if self.connection.is_some() {
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

        // The callback reaches the connection weakly: the connection owns the waker, which owns
        // the threadsafe function, which owns this callback.
        let inbox_owner: Arc<OnceLock<Weak<Connection>>> = Default::default();
        let for_js = inbox_owner.clone();
        let tsfn = on_events
            .build_threadsafe_function::<()>()
            .callee_handled::<false>()
            .build_callback(move |_ctx| Ok(to_batch(for_js.get().and_then(Weak::upgrade))))
            .map_err(|e| {
                let _ = child.kill(libc::SIGKILL);
                error(ErrorCode::Internal, e.reason)
            })?;
        let waker = Arc::new(JsWaker(tsfn));
        let connection = Connection::start(
            child.clone(),
            parent_end,
            self.outbox.clone(),
            waker.clone(),
        )
        .map_err(|e| {
            let _ = child.kill(libc::SIGKILL);
            error(ErrorCode::Spawn, format!("could not start a thread: {e}"))
        })?;
        let _ = inbox_owner.set(Arc::downgrade(&connection));
        self.cleanup = add_cleanup_hook(&env, &connection);
        self.connection = Some(connection.clone());
        self.waker = Some(waker);
        if !self.referenced {
            self.apply_ref(&env);
        }
        connection.flush();
        Ok(pid)
    }

    /// Sends a signal (a number; `index.js` maps names). False if the child already exited.
    #[napi]
    pub fn kill(&self, signal: i32) -> Result<bool> {
        match &self.connection {
            None => Ok(false),
            Some(connection) => connection
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
        self.outbox.queued_bytes().min(u32::MAX as usize) as u32
    }

    /// Called by `index.js` right after it received `Exit`: joins the last thread and drops the
    /// connection, the threadsafe function (so nothing holds the loop) and the cleanup hook.
    #[napi]
    pub fn dispose(&mut self, env: Env) {
        if let Some(connection) = self.connection.take() {
            connection.join();
        }
        if let Some(raw) = self.cleanup.take() {
            remove_cleanup_hook(&env, raw);
        }
        self.waker = None;
    }
}

impl NativeProclet {
    fn enqueue(&self, kind: Kind, payload: Vec<u8>) -> Result<bool> {
        match self.outbox.enqueue(kind, payload) {
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
        let Some(waker) = &self.waker else { return };
        let tsfn = &waker.0;
        tsfn.handle.with_read_aborted(|aborted| {
            if aborted {
                return;
            }
            // SAFETY: called on the JS thread that owns `env`, with a threadsafe function that is not
            // aborted (checked under the handle's lock) and not released (we hold a reference).
            unsafe {
                if self.referenced {
                    napi::sys::napi_ref_threadsafe_function(env.raw(), tsfn.raw());
                } else {
                    napi::sys::napi_unref_threadsafe_function(env.raw(), tsfn.raw());
                }
            }
        });
    }
}

/// Converts the inbox into the dispatcher's arguments (runs on the JS thread).
fn to_batch(connection: Option<Arc<Connection>>) -> Batch {
    let events = connection.map(|c| c.inbox().take()).unwrap_or_default();
    let mut kinds = Vec::with_capacity(events.len());
    let mut strings = Vec::with_capacity(events.len());
    let mut ints = Vec::new();
    for event in events {
        match event {
            Event::Message(text) => {
                kinds.push(EVENT_MESSAGE);
                strings.push(text);
            }
            Event::Error(text) => {
                kinds.push(EVENT_ERROR);
                strings.push(text);
            }
            Event::Coverage(text) => {
                kinds.push(EVENT_COVERAGE);
                strings.push(text);
            }
            Event::Protocol(text) => {
                kinds.push(EVENT_PROTOCOL);
                strings.push(text);
            }
            Event::Drain => kinds.push(EVENT_DRAIN),
            Event::Exit(status) => {
                kinds.push(EVENT_EXIT);
                ints.push(status.code.unwrap_or(-1));
                ints.push(status.signal.unwrap_or(0));
            }
        }
    }
    FnArgs::from((kinds, strings, ints))
}

/// On environment teardown (a Worker terminating, the process exiting) the child is killed and
/// the threads released, without JS.
unsafe extern "C" fn abandon_on_teardown(arg: *mut c_void) {
    // SAFETY: `arg` came from `Arc::into_raw` in `add_cleanup_hook`; Node calls a hook at most once
    // and never after `remove_cleanup_hook`, which is the only other place that reclaims it.
    let connection = unsafe { Arc::from_raw(arg as *const Connection) };
    connection.abandon();
}

fn add_cleanup_hook(env: &Env, connection: &Arc<Connection>) -> Option<*const Connection> {
    let raw = Arc::into_raw(connection.clone());
    // SAFETY: valid env on its own thread; `raw` stays valid until reclaimed by the hook or by
    // `remove_cleanup_hook`.
    let status = unsafe {
        napi::sys::napi_add_env_cleanup_hook(
            env.raw(),
            Some(abandon_on_teardown),
            raw as *mut c_void,
        )
    };
    if status == napi::sys::Status::napi_ok {
        Some(raw)
    } else {
        // SAFETY: not registered, so we still own the reference.
        drop(unsafe { Arc::from_raw(raw) });
        None
    }
}

fn remove_cleanup_hook(env: &Env, raw: *const Connection) {
    // SAFETY: the hook was registered with exactly this function and argument on this env.
    let status = unsafe {
        napi::sys::napi_remove_env_cleanup_hook(
            env.raw(),
            Some(abandon_on_teardown),
            raw as *mut c_void,
        )
    };
    if status == napi::sys::Status::napi_ok {
        // SAFETY: the hook will not run any more; reclaim the reference it held.
        drop(unsafe { Arc::from_raw(raw) });
    }
}
