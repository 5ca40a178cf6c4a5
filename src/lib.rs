#![deny(clippy::all)]
//! proclet: run a JavaScript function as a separate Node.js process.
//!
//! Everything but `napi` (the napi surface) is plain Rust with unit tests:
//! `protocol` (the one numbering, frames, decoder), `io` (one child's queue and socket),
//! `process` (spawn, kill, reap), `script` (the child runtime bundle and the SHA-512 cache).

pub mod io;
pub mod process;
pub mod protocol;
pub mod script;

mod napi;
