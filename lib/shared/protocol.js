'use strict';
// The protocol's numbers in the parent: frame kinds, channel events and limits, read from the
// addon, where they are defined once (src/protocol/kind.rs). The child runtime gets a generated
// module of the same name and shape (src/script/runtime.rs), so the shared modules require
// './protocol' on both sides.

const binding = require('../binding');

module.exports = Object.freeze({
  FrameKind: binding.FrameKind,
  ChannelEvent: binding.ChannelEvent,
  HEADER_LEN: binding.HEADER_LEN,
  MAX_PAYLOAD: binding.MAX_PAYLOAD,
  HIGH_WATER_MARK: binding.HIGH_WATER_MARK,
});
