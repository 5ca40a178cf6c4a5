//! The napi surface: `NativeSession` (one child process) and the protocol's exported numbers.
//! Conversions and event-loop glue only; the work happens in the napi-free modules.

mod batch;
mod errors;
// Read by JS only (napi registers them); unit-test builds see them as unused.
#[cfg_attr(test, allow(dead_code))]
mod exports;
mod loop_channel;
mod raw;
mod router;
mod session;
