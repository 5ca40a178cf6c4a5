//! Events converted for `lib/session.js`'s dispatcher: `(kinds, payloads, ints)`.
//!
//! - `kinds[i]`: a `FrameKind` (a frame from the child) or a `ChannelEvent`.
//! - `payloads[i]`: the frame's payload as its kind's encoding says (a string for UTF-8 kinds:
//!   Latin-1, a plain copy, when it is ASCII; a Buffer for byte kinds), the protocol error's
//!   description, or `undefined`.
//! - `ints`: two per `Exit`, in order: the code (or -1) and the signal number (or 0).

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

use crate::io::Event;
use crate::protocol::{ChannelEvent, Encoding, Frame, ProtocolError};

/// What becomes one entry of `payloads`.
enum Payload {
  None,
  /// Validated UTF-8 (or ASCII, taken as Latin-1).
  Utf8(Vec<u8>),
  /// Raw bytes: a Buffer that takes over the allocation (no copy).
  Bytes(Vec<u8>),
}

pub struct Batch {
  kinds: Vec<u32>,
  payloads: Vec<Payload>,
  ints: Vec<i32>,
}

/// The dispatcher's arguments, for the threadsafe function that reports the exit.
pub type BatchArgs = FnArgs<(Vec<u32>, Payloads, Vec<i32>)>;

/// The `payloads` argument.
pub struct Payloads(Vec<Payload>);

impl Batch {
  /// Converts `events`, in order. A payload that does not match its kind's encoding is a
  /// protocol violation: the batch ends there with a `ProtocolError` (what follows is not
  /// believed), and the caller must kill the child; an `Exit` is still delivered last.
  pub fn from_events(events: Vec<Event>) -> (Batch, Option<ProtocolError>) {
    let mut batch = Batch {
      kinds: Vec::with_capacity(events.len()),
      payloads: Vec::with_capacity(events.len()),
      ints: Vec::new(),
    };
    let mut violation = None;
    for event in events {
      match event {
        Event::Frame(_) | Event::Drain | Event::ProtocolError(_) if violation.is_some() => {}
        Event::Frame(Frame { kind, payload }) => match kind.encoding() {
          Encoding::Utf8 if !payload.is_ascii() && std::str::from_utf8(&payload).is_err() => {
            let error = ProtocolError::InvalidUtf8;
            batch.push(ChannelEvent::ProtocolError as u32, text(error.to_string()));
            violation = Some(error);
          }
          Encoding::Utf8 => batch.push(kind as u32, Payload::Utf8(payload)),
          Encoding::Bytes => batch.push(kind as u32, Payload::Bytes(payload)),
          Encoding::Empty => batch.push(kind as u32, Payload::None),
        },
        Event::Drain => batch.push(ChannelEvent::Drain as u32, Payload::None),
        Event::ProtocolError(message) => {
          batch.push(ChannelEvent::ProtocolError as u32, text(message))
        }
        Event::Exit(status) => {
          batch.push(ChannelEvent::Exit as u32, Payload::None);
          batch.ints.push(status.code.unwrap_or(-1));
          batch.ints.push(status.signal.unwrap_or(0));
        }
      }
    }
    (batch, violation)
  }

  /// One `ProtocolError` event.
  pub fn protocol_error(message: String) -> Batch {
    let mut batch = Batch {
      kinds: Vec::new(),
      payloads: Vec::new(),
      ints: Vec::new(),
    };
    batch.push(ChannelEvent::ProtocolError as u32, text(message));
    batch
  }

  fn push(&mut self, kind: u32, payload: Payload) {
    self.kinds.push(kind);
    self.payloads.push(payload);
  }

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

fn text(message: String) -> Payload {
  Payload::Utf8(message.into_bytes())
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
