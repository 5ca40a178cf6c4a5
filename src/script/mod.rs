//! The script a child runs: the embedded runtime plus the worker, stored in the SHA-512 cache.

pub mod cache;
pub mod runtime;

pub use cache::CacheDir;
pub use runtime::{script_runner, spare_script, worker_script, SourceForm};
