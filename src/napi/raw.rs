//! Raw handles of the napi layer, each freed by its owner's `Drop` (or by libuv's close callback
//! for the poll handle): the libuv poll that watches a child's socket on the JS thread's own loop
//! (as Node's IPC channel does; Node exports libuv to addons, so these symbols resolve against
//! the running `node`), the JS callback a channel calls, and the environment cleanup hook.

use std::cell::Cell;
use std::ffi::c_void;
use std::os::raw::c_int;
use std::ptr;
use std::rc::Rc;

use napi::sys;

/// `UV_READABLE` / `UV_WRITABLE` from uv.h.
pub const READABLE: c_int = 1;
pub const WRITABLE: c_int = 2;
/// `UV_POLL` in uv.h's `uv_handle_type` (ASYNC=1 … NAMED_PIPE=7, POLL=8).
const UV_POLL: c_int = 8;

pub type PollCallback = unsafe extern "C" fn(handle: *mut c_void, status: c_int, events: c_int);
pub type CloseCallback = unsafe extern "C" fn(handle: *mut c_void);

extern "C" {
  fn uv_handle_size(kind: c_int) -> usize;
  fn uv_poll_init(event_loop: *mut c_void, handle: *mut c_void, fd: c_int) -> c_int;
  fn uv_poll_start(handle: *mut c_void, events: c_int, callback: PollCallback) -> c_int;
  fn uv_poll_stop(handle: *mut c_void) -> c_int;
  fn uv_close(handle: *mut c_void, callback: Option<CloseCallback>);
  fn uv_unref(handle: *mut c_void);
}

/// A `uv_poll_t` whose memory we own. Its first field is libuv's `void* data`, which libuv never
/// touches: we keep our context pointer there.
pub struct Poll {
  handle: *mut c_void,
}

fn words() -> usize {
  // SAFETY: pure function of its argument.
  unsafe { uv_handle_size(UV_POLL) }.div_ceil(8)
}

impl Poll {
  /// Initialises a poll handle for `fd` on `event_loop`, not holding the loop open (`uv_unref`),
  /// with `data` stored in the handle.
  ///
  /// # Safety
  /// `event_loop` is the running loop of the calling thread; `fd` stays open until the handle is
  /// closed.
  pub unsafe fn new(
    event_loop: *mut c_void,
    fd: c_int,
    data: *const c_void,
  ) -> Result<Poll, c_int> {
    let memory = vec![0u64; words()].into_boxed_slice();
    let handle = Box::into_raw(memory) as *mut c_void;
    // SAFETY: `handle` is zeroed memory of uv_handle_size(UV_POLL) bytes, 8-aligned.
    let rc = unsafe { uv_poll_init(event_loop, handle, fd) };
    if rc != 0 {
      // SAFETY: not registered with libuv; reclaim the allocation made above.
      drop(unsafe {
        Box::from_raw(std::ptr::slice_from_raw_parts_mut(
          handle as *mut u64,
          words(),
        ))
      });
      return Err(rc);
    }
    // SAFETY: `data` is the first field of every uv handle.
    unsafe {
      *(handle as *mut *const c_void) = data;
      uv_unref(handle);
    }
    Ok(Poll { handle })
  }

  /// The `data` pointer stored in a handle passed to a callback.
  ///
  /// # Safety
  /// `handle` is a handle created by [`Poll::new`].
  pub unsafe fn data(handle: *mut c_void) -> *const c_void {
    // SAFETY: see `new`.
    unsafe { *(handle as *const *const c_void) }
  }

  /// Watches for `events` (0 stops watching).
  pub fn watch(&self, events: c_int, callback: PollCallback) {
    // SAFETY: the handle is initialised and not closed (closing consumes `self`).
    unsafe {
      if events == 0 {
        uv_poll_stop(self.handle);
      } else {
        uv_poll_start(self.handle, events, callback);
      }
    }
  }

  /// Stops watching and closes the handle; `on_close` runs on a later loop turn and must free it
  /// with [`Poll::free`].
  pub fn close(self, on_close: CloseCallback) {
    // SAFETY: initialised handle, closed exactly once (this consumes the only owner).
    unsafe {
      uv_poll_stop(self.handle);
      uv_close(self.handle, Some(on_close));
    }
  }

  /// Frees a closed handle's memory (from its close callback).
  ///
  /// # Safety
  /// `handle` came from [`Poll::new`] and libuv has finished closing it.
  pub unsafe fn free(handle: *mut c_void) {
    // SAFETY: allocated in `new` as a boxed slice of `words()` u64s.
    drop(unsafe {
      Box::from_raw(std::ptr::slice_from_raw_parts_mut(
        handle as *mut u64,
        words(),
      ))
    });
  }
}

/// A JS function kept alive across loop turns and called from libuv callbacks through
/// `napi_make_callback` (so `process.nextTick` and promises run after it, as for any Node I/O
/// callback). Dropping it releases the reference and the async context; after the environment
/// started tearing down, [`JsCallback::leak`] is the only correct way to let go of it.
pub struct JsCallback {
  env: sys::napi_env,
  reference: sys::napi_ref,
  context: sys::napi_async_context,
}

impl JsCallback {
  /// # Safety
  /// On the JS thread of `env`, with `function` a live function value of that env.
  pub unsafe fn new(env: sys::napi_env, function: sys::napi_value) -> Result<JsCallback, String> {
    let mut reference = ptr::null_mut();
    let mut context = ptr::null_mut();
    // SAFETY: forwarded from the caller; out-pointers are valid.
    unsafe {
      if sys::napi_create_reference(env, function, 1, &mut reference) != sys::Status::napi_ok {
        return Err("napi_create_reference failed".into());
      }
      let mut name = ptr::null_mut();
      sys::napi_create_string_utf8(env, c"proclet".as_ptr(), 7, &mut name);
      if sys::napi_async_init(env, ptr::null_mut(), name, &mut context) != sys::Status::napi_ok {
        sys::napi_delete_reference(env, reference);
        return Err("napi_async_init failed".into());
      }
    }
    Ok(JsCallback {
      env,
      reference,
      context,
    })
  }

  pub fn env(&self) -> sys::napi_env {
    self.env
  }

  /// Calls the function with `args` (global receiver); an exception it throws becomes an
  /// uncaught exception of the process, as it would from any Node I/O callback.
  ///
  /// # Safety
  /// On the JS thread, in a libuv callback (no JS on the stack), inside a handle scope.
  pub unsafe fn call(&self, args: &[sys::napi_value]) {
    let env = self.env;
    // SAFETY: forwarded from the caller; the reference and context are live until drop.
    unsafe {
      let mut function = ptr::null_mut();
      let mut receiver = ptr::null_mut();
      let mut result = ptr::null_mut();
      sys::napi_get_reference_value(env, self.reference, &mut function);
      if function.is_null() {
        return;
      }
      // napi_make_callback needs an object receiver (undefined throws inside Node).
      sys::napi_get_global(env, &mut receiver);
      let status = sys::napi_make_callback(
        env,
        self.context,
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

  /// Lets go without calling napi: the environment is being torn down and frees it all.
  pub fn leak(self) {
    std::mem::forget(self);
  }
}

impl Drop for JsCallback {
  fn drop(&mut self) {
    // SAFETY: created in `new` on this env's thread, which is the only thread that owns and
    // drops a JsCallback (it lives in an `Rc`); each released exactly once, here.
    unsafe {
      sys::napi_delete_reference(self.env, self.reference);
      sys::napi_async_destroy(self.env, self.context);
    }
  }
}

/// A registered environment cleanup hook that owns one strong reference to `T`; the hook runs
/// `on_teardown` with it if the environment ends first (a Worker terminating, the process
/// exiting). Dropping the guard unregisters the hook (unless it already ran) and releases the
/// reference.
pub struct CleanupHook<T: Teardown> {
  env: sys::napi_env,
  payload: *mut HookPayload<T>,
  fired: Rc<Cell<bool>>,
}

struct HookPayload<T> {
  value: Rc<T>,
  fired: Rc<Cell<bool>>,
}

/// What a [`CleanupHook`] does on environment teardown (no JS may run).
pub trait Teardown {
  fn on_teardown(self: Rc<Self>);
}

impl<T: Teardown> CleanupHook<T> {
  pub fn add(env: sys::napi_env, value: &Rc<T>) -> Option<CleanupHook<T>> {
    let fired = Rc::new(Cell::new(false));
    let payload = Box::into_raw(Box::new(HookPayload {
      value: value.clone(),
      fired: fired.clone(),
    }));
    // SAFETY: valid env on its own thread; `payload` stays valid until reclaimed by the hook or
    // by `drop`, whichever comes first (`fired` tells which).
    let status =
      unsafe { sys::napi_add_env_cleanup_hook(env, Some(run_hook::<T>), payload.cast()) };
    if status == sys::Status::napi_ok {
      Some(CleanupHook {
        env,
        payload,
        fired,
      })
    } else {
      // SAFETY: not registered, so we still own the payload.
      drop(unsafe { Box::from_raw(payload) });
      None
    }
  }
}

impl<T: Teardown> Drop for CleanupHook<T> {
  fn drop(&mut self) {
    if self.fired.get() {
      return;
    }
    // SAFETY: registered with exactly this function and argument on this env, and not run.
    unsafe {
      sys::napi_remove_env_cleanup_hook(self.env, Some(run_hook::<T>), self.payload.cast());
      // The hook will not run any more; reclaim what it held.
      drop(Box::from_raw(self.payload));
    }
  }
}

unsafe extern "C" fn run_hook<T: Teardown>(arg: *mut c_void) {
  // SAFETY: `arg` came from `Box::into_raw` in `CleanupHook::add`; Node calls a hook at most
  // once and never after it was removed, and `fired` keeps the guard from reclaiming it again.
  let payload = unsafe { Box::from_raw(arg as *mut HookPayload<T>) };
  payload.fired.set(true);
  payload.value.clone().on_teardown();
}
