//! The frame format spoken on fd 3 between the parent and the child runtime (docs/protocol.md).

pub mod decoder;
pub mod frame;
pub mod kind;

pub use decoder::{FillError, Frame, FrameDecoder};
pub use frame::{encode_frame, encode_header, ProtocolError};
pub use kind::{
  ChannelEvent, Direction, Encoding, FrameKind, HEADER_LEN, HIGH_WATER_MARK, MAX_PAYLOAD,
};
