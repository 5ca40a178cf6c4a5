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

  /// # Safety
  /// On the env's JS thread, inside a handle scope.
  pub unsafe fn into_js(self, env: sys::napi_env) -> napi::Result<[sys::napi_value; 3]> {
    // SAFETY: forwarded from the caller.
    unsafe {
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
        let mut item = ptr::null_mut();
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
        check(sys::napi_set_element(env, array, index as u32, item))?;
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
