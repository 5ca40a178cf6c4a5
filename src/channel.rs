//! The parent's side of one child's fd-3 socket: frames in, frames out, and the child's exit,
//! turned into [`Event`]s for the JS thread.
//!
//! Threads (each named `proclet-*`, all gone once `Exit` has been delivered):
//! - **reader**: blocking `read()`s, decodes frames, queues events in the [`Inbox`] and wakes the
//!   JS thread once per batch. While more than [`INBOX_HIGH_WATER`] bytes wait for JS it stops
//!   reading, so a child flooding a slow listener fills the socket, not the parent's heap.
//! - **waiter**: waits for the child to exit, then (in this order) shuts the socket down, joins
//!   the reader (every frame the child wrote is queued by then), stops and joins the writer, and
//!   queues `Exit`. Ordering guarantee: `Exit` is always the last event.
//! - **writer**: started only when the socket is full. The JS thread writes with `MSG_DONTWAIT`
//!   itself, coalescing everything sent in one tick into one `send()`; what the kernel does not
//!   take is handed to this thread, which blocks so that JS never does.
//!
//! Nothing here knows about napi: JS is reached through the [`Waker`] trait.

use std::io::{self, IoSlice, Read};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

use crate::frame_queue::FrameQueue;
use crate::process::{ChildProcess, ExitStatus};
use crate::protocol::{self, FrameDecoder, Kind, ProtocolError};

/// Bytes of events that may wait for the JS thread before the reader stops reading.
pub const INBOX_HIGH_WATER: usize = 4 * 1024 * 1024;
/// `send()` returns false once this many bytes wait to be written to the socket.
pub const OUTBOX_HIGH_WATER: usize = 1024 * 1024;
/// Within a tick, a send that brings the queue past this many bytes writes immediately.
pub const FLUSH_THRESHOLD: usize = 64 * 1024;
/// Accounting overhead per queued event, so that a flood of empty messages is bounded too.
const EVENT_OVERHEAD: usize = 64;
const READ_BUFFER: usize = 256 * 1024;
const THREAD_STACK: usize = 128 * 1024;

/// What the JS thread is told, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A message from the child: JSON text.
    Message(String),
    /// An uncaught error in the child: JSON text (docs/protocol.md).
    Error(String),
    /// Coverage counts from the child: JSON text (docs/protocol.md).
    Coverage(String),
    /// The child broke the protocol; it has been killed.
    Protocol(String),
    /// The outgoing queue went from above the high-water mark to empty.
    Drain,
    /// The child exited; always the last event.
    Exit(ExitStatus),
}

impl Event {
    fn cost(&self) -> usize {
        EVENT_OVERHEAD
            + match self {
                Event::Message(s) | Event::Error(s) | Event::Coverage(s) | Event::Protocol(s) => s.len(),
                Event::Drain | Event::Exit(_) => 0,
            }
    }
}

/// Schedules a drain of the inbox on the JS thread.
pub trait Waker: Send + Sync {
    /// Returns false when JS can no longer be reached (its environment is shutting down).
    fn wake(&self) -> bool;
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves the data consistent (plain queues and
    // flags), so poisoning is not a reason to give up.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Events waiting for the JS thread.
#[derive(Default)]
pub struct Inbox {
    state: Mutex<InboxState>,
    room: Condvar,
}

#[derive(Default)]
struct InboxState {
    events: Vec<Event>,
    bytes: usize,
    wake_pending: bool,
    closed: bool,
}

impl Inbox {
    /// Queues `events` and wakes JS if no wake-up is pending. With `wait_for_room`, then blocks
    /// while more than [`INBOX_HIGH_WATER`] bytes are queued. Returns false once the inbox is
    /// closed: the caller should stop producing.
    pub fn deliver(&self, events: Vec<Event>, waker: &dyn Waker, wait_for_room: bool) -> bool {
        if events.is_empty() {
            return !lock(&self.state).closed;
        }
        let mut state = lock(&self.state);
        if state.closed {
            return false;
        }
        state.bytes += events.iter().map(Event::cost).sum::<usize>();
        state.events.extend(events);
        if !state.wake_pending {
            state.wake_pending = true;
            drop(state);
            if !waker.wake() {
                self.close();
                return false;
            }
            state = lock(&self.state);
        }
        while wait_for_room && state.bytes > INBOX_HIGH_WATER && !state.closed {
            state = self.room.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        !state.closed
    }

    /// JS thread: takes everything queued and lets the reader continue.
    pub fn take(&self) -> Vec<Event> {
        let mut state = lock(&self.state);
        state.wake_pending = false;
        state.bytes = 0;
        self.room.notify_all();
        std::mem::take(&mut state.events)
    }

    /// Nobody will take events any more: release the producers.
    pub fn close(&self) {
        lock(&self.state).closed = true;
        self.room.notify_all();
    }
}

/// Why a message could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// The child has exited or its channel is closed.
    Closed,
    /// The payload is over the protocol's maximum.
    TooLarge(ProtocolError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not spawned yet: frames wait in the queue.
    Pending,
    Open,
    Closed,
}

/// Frames waiting to be written, shared by the JS thread and the writer thread.
pub struct Outbox {
    state: Mutex<OutboxState>,
    work: Condvar,
}

struct OutboxState {
    phase: Phase,
    /// Encoded frames not yet handed to the kernel, in order.
    queue: FrameQueue,
    /// Bytes the writer thread has taken and is writing now.
    in_flight: usize,
    /// The writer thread owns the socket's write side: JS must not write directly, or frames
    /// could interleave out of order.
    writer_busy: bool,
    writer: Option<JoinHandle<()>>,
    need_drain: bool,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            state: Mutex::new(OutboxState {
                phase: Phase::Pending,
                queue: FrameQueue::default(),
                in_flight: 0,
                writer_busy: false,
                writer: None,
                need_drain: false,
            }),
            work: Condvar::new(),
        }
    }
}

/// What `enqueue` tells the caller.
#[derive(Debug, PartialEq, Eq)]
pub struct Queued {
    /// False once the queue is past [`OUTBOX_HIGH_WATER`]: wait for `Drain`.
    pub below_high_water: bool,
    /// The queue is big enough that it should be written now rather than at the end of the tick.
    pub flush_now: bool,
}

impl Outbox {
    /// Queues one frame. Large payloads are moved into the queue, not copied.
    pub fn enqueue(&self, kind: Kind, payload: Vec<u8>) -> Result<Queued, SendError> {
        let mut state = lock(&self.state);
        if state.phase == Phase::Closed {
            return Err(SendError::Closed);
        }
        state
            .queue
            .push(kind, payload)
            .map_err(SendError::TooLarge)?;
        let queued = state.queue.len() + state.in_flight;
        let below_high_water = queued < OUTBOX_HIGH_WATER;
        if !below_high_water {
            state.need_drain = true;
        }
        Ok(Queued {
            below_high_water,
            flush_now: state.phase == Phase::Open
                && !state.writer_busy
                && queued >= FLUSH_THRESHOLD,
        })
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.state).phase == Phase::Closed
    }

    /// Bytes queued or being written.
    pub fn queued_bytes(&self) -> usize {
        let state = lock(&self.state);
        state.queue.len() + state.in_flight
    }

    /// Stops the writer (if any) and discards what is queued; later sends fail with `Closed`.
    /// Returns the writer thread to join.
    fn close(&self) -> Option<JoinHandle<()>> {
        let mut state = lock(&self.state);
        state.phase = Phase::Closed;
        state.queue = FrameQueue::default();
        state.need_drain = false;
        self.work.notify_all();
        state.writer.take()
    }
}

/// One running child and the threads that serve it.
pub struct Connection {
    child: Arc<ChildProcess>,
    socket: Arc<UnixStream>,
    inbox: Arc<Inbox>,
    outbox: Arc<Outbox>,
    waker: Arc<dyn Waker>,
    waiter: Mutex<Option<JoinHandle<()>>>,
}

impl Connection {
    /// Starts the reader and waiter threads for a freshly spawned child. Frames already queued in
    /// `outbox` are written by the first [`flush`](Self::flush).
    pub fn start(
        child: Arc<ChildProcess>,
        socket: UnixStream,
        outbox: Arc<Outbox>,
        waker: Arc<dyn Waker>,
    ) -> io::Result<Arc<Connection>> {
        let connection = Arc::new(Connection {
            child,
            socket: Arc::new(socket),
            inbox: Arc::new(Inbox::default()),
            outbox,
            waker,
            waiter: Mutex::new(None),
        });
        lock(&connection.outbox.state).phase = Phase::Open;
        let pid = connection.child.pid();

        let reader = {
            let c = connection.clone();
            thread::Builder::new()
                .name(format!("proclet-read-{pid}"))
                .stack_size(THREAD_STACK)
                .spawn(move || c.read_loop())
        };
        let reader = match reader {
            Ok(reader) => reader,
            Err(e) => {
                connection.abandon();
                return Err(e);
            }
        };
        let waiter = {
            let c = connection.clone();
            thread::Builder::new()
                .name(format!("proclet-wait-{pid}"))
                .stack_size(THREAD_STACK)
                .spawn(move || c.wait_loop(reader))
        };
        match waiter {
            Ok(waiter) => *lock(&connection.waiter) = Some(waiter),
            Err(e) => {
                // The reader ends once the killed child's socket closes.
                connection.abandon();
                return Err(e);
            }
        }
        Ok(connection)
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// Sends `signal` to the child; false if it has already exited.
    pub fn kill(&self, signal: i32) -> io::Result<bool> {
        self.child.kill(signal)
    }

    /// JS thread: writes what is queued without blocking. Whatever the socket does not take now
    /// goes to the writer thread (started on first need).
    pub fn flush(&self) {
        let mut state = lock(&self.outbox.state);
        if state.phase != Phase::Open || state.writer_busy || state.queue.is_empty() {
            return;
        }
        let fd = self.socket.as_raw_fd();
        while !state.queue.is_empty() {
            match state
                .queue
                .write_with(|slices| send(fd, slices, libc::MSG_DONTWAIT))
            {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    // EPIPE / ECONNRESET: the child closed its end. The waiter will report the exit.
                    state.phase = Phase::Closed;
                    state.queue = FrameQueue::default();
                    return;
                }
            }
        }
        if state.queue.is_empty() {
            let drained = std::mem::take(&mut state.need_drain);
            drop(state);
            if drained {
                self.inbox.deliver(vec![Event::Drain], &*self.waker, false);
            }
            return;
        }
        state.writer_busy = true;
        if state.writer.is_none() {
            let c = self.clone_parts();
            let spawned = thread::Builder::new()
                .name(format!("proclet-write-{}", self.child.pid()))
                .stack_size(THREAD_STACK)
                .spawn(move || c.write_loop());
            match spawned {
                Ok(handle) => state.writer = Some(handle),
                Err(_) => {
                    // No thread to block for us: give up on this channel rather than block JS.
                    state.phase = Phase::Closed;
                    state.queue = FrameQueue::default();
                    drop(state);
                    let _ = self.child.kill(libc::SIGKILL);
                    return;
                }
            }
        }
        self.outbox.work.notify_all();
    }

    /// Environment teardown: end the child and release every thread without JS.
    pub fn abandon(&self) {
        let _ = self.child.kill(libc::SIGKILL);
        self.inbox.close();
    }

    /// JS thread, after `Exit` was delivered: the waiter has nothing left to do but return.
    pub fn join(&self) {
        if let Some(waiter) = lock(&self.waiter).take() {
            let _ = waiter.join();
        }
    }

    fn clone_parts(&self) -> WriterParts {
        WriterParts {
            socket: self.socket.clone(),
            outbox: self.outbox.clone(),
            inbox: self.inbox.clone(),
            waker: self.waker.clone(),
        }
    }

    fn read_loop(&self) {
        let mut decoder = FrameDecoder::new(protocol::from_child);
        let mut buffer = vec![0u8; READ_BUFFER];
        let mut frames = Vec::new();
        loop {
            let n = match (&*self.socket).read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // ECONNRESET and friends: the child is gone; treat like end-of-file.
                Err(_) => break,
            };
            let decoded = decoder.feed(&buffer[..n], &mut frames);
            let mut events = Vec::with_capacity(frames.len());
            let mut failure = decoded.err();
            for frame in frames.drain(..) {
                match String::from_utf8(frame.payload) {
                    Ok(text) if frame.kind == Kind::Message => events.push(Event::Message(text)),
                    Ok(text) if frame.kind == Kind::Coverage => events.push(Event::Coverage(text)),
                    Ok(text) => events.push(Event::Error(text)),
                    Err(_) => {
                        failure = Some(ProtocolError::InvalidUtf8);
                        break;
                    }
                }
            }
            if let Some(error) = failure {
                self.protocol_failure(events, error);
                return;
            }
            if !self.inbox.deliver(events, &*self.waker, true) {
                return;
            }
        }
        if let Err(error) = decoder.finish() {
            // A child that died mid-write is reported by its exit; a live one that stopped
            // mid-frame is a protocol error either way.
            self.protocol_failure(Vec::new(), error);
        }
    }

    fn protocol_failure(&self, mut events: Vec<Event>, error: ProtocolError) {
        events.push(Event::Protocol(error.to_string()));
        let _ = self.child.kill(libc::SIGKILL);
        self.inbox.deliver(events, &*self.waker, false);
    }

    fn wait_loop(&self, reader: JoinHandle<()>) {
        let status = self.child.wait();
        // The child is gone, but a grandchild it handed fd 3 to could keep the socket open and the
        // reader blocked forever. Shutting down our end wakes it; on a Unix socket, data already
        // received stays readable after SHUT_RD, so no message is lost.
        let _ = self.socket.shutdown(Shutdown::Both);
        let _ = reader.join();
        if let Some(writer) = self.outbox.close() {
            let _ = writer.join();
        }
        self.inbox
            .deliver(vec![Event::Exit(status)], &*self.waker, false);
    }
}

struct WriterParts {
    socket: Arc<UnixStream>,
    outbox: Arc<Outbox>,
    inbox: Arc<Inbox>,
    waker: Arc<dyn Waker>,
}

impl WriterParts {
    fn write_loop(self) {
        let fd = self.socket.as_raw_fd();
        loop {
            let mut batch = {
                let mut state = lock(&self.outbox.state);
                loop {
                    if state.phase == Phase::Closed {
                        return;
                    }
                    if state.writer_busy && !state.queue.is_empty() {
                        break;
                    }
                    state = self
                        .outbox
                        .work
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
                let batch = state.queue.take();
                state.in_flight = batch.len();
                batch
            };
            while !batch.is_empty() {
                if batch.write_with(|slices| send(fd, slices, 0)).is_err() {
                    let mut state = lock(&self.outbox.state);
                    state.phase = Phase::Closed;
                    state.queue = FrameQueue::default();
                    state.in_flight = 0;
                    return;
                }
            }
            let drained = {
                let mut state = lock(&self.outbox.state);
                state.in_flight = 0;
                if state.queue.is_empty() {
                    state.writer_busy = false;
                    std::mem::take(&mut state.need_drain)
                } else {
                    false
                }
            };
            if drained {
                self.inbox.deliver(vec![Event::Drain], &*self.waker, false);
            }
        }
    }
}

/// `sendmsg(2)` of several buffers with `MSG_NOSIGNAL`: a closed peer is an `EPIPE` error, never
/// a SIGPIPE. Retries on EINTR.
fn send(fd: i32, slices: &[IoSlice<'_>], flags: i32) -> io::Result<usize> {
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
    // IoSlice is documented to be ABI-compatible with `struct iovec` on Unix.
    header.msg_iov = slices.as_ptr() as *mut libc::iovec;
    header.msg_iovlen = slices.len() as _;
    loop {
        // SAFETY: `header` points at `slices`, which are valid readable buffers for the call.
        let n = unsafe { libc::sendmsg(fd, &header, flags | libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::encode_frame;
    use crate::spawn::{spawn_child, SpawnRequest};
    use std::io::Write;
    use std::sync::mpsc;

    /// Stands in for the JS thread: each wake-up sends a token; the test drains the inbox.
    struct ChannelWaker(Mutex<mpsc::Sender<()>>);

    impl Waker for ChannelWaker {
        fn wake(&self) -> bool {
            lock(&self.0).send(()).is_ok()
        }
    }

    fn run_shell(script: &str) -> (Arc<Connection>, mpsc::Receiver<()>, Arc<Outbox>) {
        let (parent, child) = UnixStream::pair().unwrap();
        let args = vec!["-c".to_string(), script.to_string()];
        let pid = spawn_child(SpawnRequest {
            program: "sh",
            args: &args,
            channel: child.into(),
        })
        .unwrap();
        let (tx, rx) = mpsc::channel();
        let outbox = Arc::new(Outbox::default());
        let connection = Connection::start(
            Arc::new(ChildProcess::new(pid)),
            parent,
            outbox.clone(),
            Arc::new(ChannelWaker(Mutex::new(tx))),
        )
        .unwrap();
        (connection, rx, outbox)
    }

    /// Drains events until `Exit`, like the JS thread does.
    fn collect(connection: &Connection, wakes: &mpsc::Receiver<()>) -> Vec<Event> {
        let mut all = Vec::new();
        loop {
            let events = connection.inbox().take();
            let done = matches!(events.last(), Some(Event::Exit(_)));
            all.extend(events);
            if done {
                connection.join();
                return all;
            }
            wakes.recv().unwrap();
        }
    }

    fn frame_hex(kind: Kind, payload: &str) -> String {
        let mut bytes = Vec::new();
        encode_frame(kind, payload.as_bytes(), &mut bytes).unwrap();
        bytes.iter().map(|b| format!("\\{:03o}", b)).collect()
    }

    #[test]
    fn delivers_messages_then_exit() {
        let script = format!(
            "printf '{}{}' >&3; exit 3",
            frame_hex(Kind::Message, "\"a\""),
            frame_hex(Kind::Message, "[1,2]")
        );
        let (connection, wakes, _) = run_shell(&script);
        let events = collect(&connection, &wakes);
        assert_eq!(
            events,
            vec![
                Event::Message("\"a\"".into()),
                Event::Message("[1,2]".into()),
                Event::Exit(ExitStatus {
                    code: Some(3),
                    signal: None
                })
            ]
        );
    }

    #[test]
    fn delivers_coverage_in_order_with_messages() {
        let script = format!(
            "printf '{}{}' >&3; exit 0",
            frame_hex(Kind::Message, "1"),
            frame_hex(Kind::Coverage, "{\"cov_x\":{}}")
        );
        let (connection, wakes, _) = run_shell(&script);
        let events = collect(&connection, &wakes);
        assert_eq!(events[0], Event::Message("1".into()));
        assert_eq!(events[1], Event::Coverage("{\"cov_x\":{}}".into()));
        assert!(matches!(events[2], Event::Exit(_)));
    }

    #[test]
    fn garbage_is_a_protocol_error_and_the_child_is_killed() {
        let (connection, wakes, _) = run_shell("printf 'garbage!' >&3; sleep 30");
        let events = collect(&connection, &wakes);
        assert!(matches!(&events[0], Event::Protocol(m) if m.contains("unexpected frame kind")));
        assert_eq!(
            events[1],
            Event::Exit(ExitStatus {
                code: None,
                signal: Some(libc::SIGKILL)
            })
        );
    }

    #[test]
    fn writes_frames_in_order_and_refuses_after_exit() {
        // The child echoes everything it reads back on fd 3.
        let (connection, wakes, outbox) = run_shell("head -c 16 <&3 >&3");
        outbox.enqueue(Kind::Message, b"\"hi\"".to_vec()).unwrap();
        connection.flush();
        outbox.enqueue(Kind::Message, b"42".to_vec()).unwrap();
        connection.flush();
        let events = collect(&connection, &wakes);
        assert_eq!(events[0], Event::Message("\"hi\"".into()));
        assert_eq!(events[1], Event::Message("42".into()));
        assert!(matches!(events[2], Event::Exit(_)));
        assert_eq!(
            outbox.enqueue(Kind::Message, b"1".to_vec()),
            Err(SendError::Closed)
        );
    }

    #[test]
    fn large_writes_go_through_the_writer_thread_and_drain() {
        // 8 MiB through a socket that holds a few hundred KiB: JS-side writes must hand over.
        let (connection, wakes, outbox) = run_shell("cat <&3 >&3");
        let payload = vec![b'x'; 8 * 1024 * 1024];
        let mut json = Vec::with_capacity(payload.len() + 2);
        json.push(b'"');
        json.extend_from_slice(&payload);
        json.push(b'"');
        let queued = outbox.enqueue(Kind::Message, json.clone()).unwrap();
        assert!(!queued.below_high_water);
        connection.flush();
        let mut received = None;
        let mut drained = false;
        while received.is_none() || !drained {
            wakes.recv().unwrap();
            for event in connection.inbox().take() {
                match event {
                    Event::Message(m) => received = Some(m),
                    Event::Drain => drained = true,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        assert_eq!(received.unwrap().len(), json.len());
        assert_eq!(outbox.queued_bytes(), 0);
        connection.kill(libc::SIGTERM).unwrap();
        let rest = collect(&connection, &wakes);
        assert!(matches!(rest.last(), Some(Event::Exit(_))));
    }

    #[test]
    fn data_received_before_shutdown_stays_readable() {
        // The waiter relies on this: SHUT_RD does not discard what is already queued.
        let (mut a, mut b) = UnixStream::pair().unwrap();
        b.write_all(b"still here").unwrap();
        drop(b);
        a.shutdown(Shutdown::Both).unwrap();
        let mut out = String::new();
        a.read_to_string(&mut out).unwrap();
        assert_eq!(out, "still here");
    }

    #[test]
    fn reader_stops_reading_while_js_is_behind() {
        // An endless flood from the child; the test does not take events, so the reader must
        // park at the high-water mark instead of buffering everything.
        let (connection, wakes, _) = run_shell(&format!(
            "while :; do printf '{}'; done >&3",
            frame_hex(Kind::Message, "1234567890")
        ));
        wakes.recv().unwrap();
        // Let the reader run into the limit.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let bytes = lock(&connection.inbox.state).bytes;
            assert!(bytes <= INBOX_HIGH_WATER + READ_BUFFER * 8, "{bytes}");
            if bytes >= INBOX_HIGH_WATER || std::time::Instant::now() > deadline {
                break;
            }
            thread::yield_now();
        }
        let bytes = lock(&connection.inbox.state).bytes;
        assert!(bytes <= INBOX_HIGH_WATER + READ_BUFFER * 8, "{bytes}");
        connection.kill(libc::SIGKILL).unwrap();
        let events = collect(&connection, &wakes);
        assert!(matches!(events.last(), Some(Event::Exit(_))));
    }
}
