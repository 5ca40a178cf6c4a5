//! The errors the napi layer throws: one code per cause (`err.code` in JS). `lib/shared/errors.js`
//! words them for users; the message here is the detail it embeds.

use napi::bindgen_prelude::Error;

use crate::io::SendError;

/// Stable codes (`ERR_PROCLET_*`).
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

pub type Result<T> = std::result::Result<T, Error<ErrorCode>>;

pub fn error(code: ErrorCode, message: impl ToString) -> Error<ErrorCode> {
  Error::new(code, message)
}

impl From<SendError> for Error<ErrorCode> {
  fn from(e: SendError) -> Self {
    match e {
      SendError::Closed => error(ErrorCode::Closed, "the channel is closed"),
      SendError::TooLarge(e) => error(ErrorCode::TooLarge, e),
    }
  }
}
