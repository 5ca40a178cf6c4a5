//! Child processes: starting them with the channel on fd 3, signalling and reaping them.

pub mod child;
pub mod spawn;

pub use child::{ChildProcess, ExitStatus};
pub use spawn::{spawn_child, SpawnRequest, SpawnedChild, StdioMode, CHANNEL_FD};
