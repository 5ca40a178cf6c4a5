//! The dispatcher's arguments as JS values: `src/io/batch.rs` describes them.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

pub use crate::io::batch::Batch;
use crate::io::batch::Payload;

/// The dispatcher's arguments, for the threadsafe function that reports the exit.
pub type BatchArgs = FnArgs<(Vec<u32>, Payloads, Vec<i32>)>;

/// The `payloads` argument.
pub struct Payloads(Vec<Payload>);

impl Batch {
  pub fn into_args(self) -> BatchArgs {
    FnArgs::from((self.kinds, Payloads(self.payloads), self.ints))
  }

  /// The dispatcher's arguments. A batch of one event without exit numbers (a round trip's
  /// usual batch) is passed as `(kind, payload, undefined)`: no arrays to make and read.
  ///
  /// # Safety
  /// On the env's JS thread, inside a handle scope.
  pub unsafe fn into_js(mut self, env: sys::napi_env) -> napi::Result<[sys::napi_value; 3]> {
    // SAFETY: forwarded from the caller.
    unsafe {
      if self.kinds.len() == 1 && self.ints.is_empty() {
        let mut undefined = ptr::null_mut();
        check(sys::napi_get_undefined(env, &mut undefined))?;
        let payload = self.payloads.pop().unwrap_or(Payload::None);
        return Ok([
          u32::to_napi_value(env, self.kinds[0])?,
          payload_to_js(env, payload)?,
          undefined,
        ]);
      }
      Ok([
        Vec::<u32>::to_napi_value(env, self.kinds)?,
        Payloads::to_napi_value(env, Payloads(self.payloads))?,
        Vec::<i32>::to_napi_value(env, self.ints)?,
      ])
    }
  }
}

impl ToNapiValue for Payloads {
  unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
    let mut array = ptr::null_mut();
    // SAFETY: valid env on its thread (ToNapiValue contract); out-pointers are valid; every UTF-8
    // payload was validated as ASCII (a subset of Latin-1) or UTF-8 in `from_events`.
    unsafe {
      check(sys::napi_create_array_with_length(
        env,
        value.0.len(),
        &mut array,
      ))?;
      for (index, payload) in value.0.into_iter().enumerate() {
        let item = payload_to_js(env, payload)?;
        check(sys::napi_set_element(env, array, index as u32, item))?;
      }
    }
    Ok(array)
  }
}

/// One payload as a JS value: `undefined`, a string, or a Buffer taking over the bytes.
///
/// # Safety
/// On the env's JS thread, inside a handle scope. Every UTF-8 payload was validated as ASCII (a
/// subset of Latin-1) or UTF-8 in `from_events`.
unsafe fn payload_to_js(env: sys::napi_env, payload: Payload) -> napi::Result<sys::napi_value> {
  let mut item = ptr::null_mut();
  // SAFETY: forwarded from the caller; out-pointers are valid.
  unsafe {
    match payload {
      Payload::None => check(sys::napi_get_undefined(env, &mut item))?,
      Payload::Utf8(bytes) if bytes.is_ascii() => check(sys::napi_create_string_latin1(
        env,
        bytes.as_ptr().cast(),
        bytes.len() as isize,
        &mut item,
      ))?,
      Payload::Utf8(bytes) => check(sys::napi_create_string_utf8(
        env,
        bytes.as_ptr().cast(),
        bytes.len() as isize,
        &mut item,
      ))?,
      Payload::Bytes(bytes) => item = Buffer::to_napi_value(env, Buffer::from(bytes))?,
    }
  }
  Ok(item)
}

fn check(status: sys::napi_status) -> napi::Result<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(napi::Error::from_status(Status::from(status)))
  }
}
