//! The parent's side of one child's channel: the outgoing queue, the socket, and what it reports.

pub mod batch;
pub mod connection;
pub mod event;
pub mod frame_queue;
pub mod outbox;
pub mod output;
pub mod route;

pub use connection::{Connection, ReadState, READ_BUDGET};
pub use event::Event;
pub use outbox::{Outbox, Queued, SendError, Written};
pub use output::{OutputPipe, OutputStream};
pub use route::Target;
