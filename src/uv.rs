//! The few libuv calls proclet makes: watching a child's socket on the JS thread's own event
//! loop, as Node's IPC channel does. Node exports libuv to addons (it is part of the addon ABI),
//! so these symbols resolve against the running `node` binary. Only `src/proclet.rs` uses this.

use std::ffi::c_void;
use std::os::raw::c_int;

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
