//! The protocol's limits as JS sees them (`FrameKind` and `ChannelEvent` are exported where they
//! are defined, `src/protocol/kind.rs`). Derived, never copied: `lib/shared/protocol.js` reads
//! these in the parent, and the child runtime gets the same numbers in a generated prelude.

use napi_derive::napi;

use crate::protocol;

/// Bytes in a frame header (u32 length + kind).
#[napi]
pub const HEADER_LEN: u32 = protocol::HEADER_LEN as u32;

/// Largest payload in bytes, either direction: 2^29 - 24 (V8's longest string).
#[napi]
pub const MAX_PAYLOAD: u32 = protocol::MAX_PAYLOAD as u32;

/// `send()` returns false once this many bytes wait to be written (both sides).
#[napi]
pub const HIGH_WATER_MARK: u32 = protocol::HIGH_WATER_MARK as u32;
