#![deny(clippy::all)]
//! proclet: run a JavaScript function as a separate Node.js process.
//!
//! Everything but `proclet` (the napi surface) is plain Rust with unit tests.

pub mod cache;
pub mod channel;
pub mod frame_queue;
pub mod process;
pub mod protocol;
pub mod script;
pub mod spawn;

mod proclet;
mod uv;
