//! The parent's side of one child's fd-3 socket.
//!
//! Reading and writing happen on the JS thread, driven by the Node event loop
//! (`src/napi/loop_channel.rs` watches the socket with a `uv_poll` handle), exactly where Node's
//! own IPC channel does its I/O: a message from the child wakes the JS thread directly, with no thread in between, and a
//! busy JS thread simply stops reading, so a child flooding a slow listener fills the socket and
//! then blocks; it never fills the parent's heap. Everything here is non-blocking.
//!
//! One thread per child remains: the **waiter**, which blocks in `waitid` and reports the exit
//! (through a threadsafe function). It reaps with `WNOWAIT` first, so `kill` can never hit a
//! recycled pid, then shuts the socket down so that a grandchild holding fd 3 cannot keep the
//! channel open; data already received stays readable after that.

use std::cell::RefCell;
use std::io::{self, IoSlice, Read};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use super::event::Event;
use super::outbox::{Outbox, Written};
use crate::process::{ChildProcess, ExitStatus};
use crate::protocol::{FillError, FrameDecoder, FrameKind, ProtocolError};
/// Bytes read per readiness callback before yielding back to the event loop, so one chatty child
/// cannot starve timers and other I/O (and so a batch handed to JS stays bounded).
pub const READ_BUDGET: usize = 256 * 1024;
const READ_BUFFER: usize = 256 * 1024;
const THREAD_STACK: usize = 64 * 1024;

/// Where reading stands after a read attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadState {
  /// Nothing more to read now; the socket is still open.
  Open,
  /// The child closed its end (or the socket was shut down): stop watching for input.
  Ended,
}

/// The JS thread's side of a running child's socket.
pub struct Connection {
  child: Arc<ChildProcess>,
  socket: Arc<UnixStream>,
  decoder: FrameDecoder,
  reading: bool,
  /// The stream ended inside a frame. Not a violation to kill for: the child closes its end
  /// when it exits, and an exit in the middle of a write (`process.exit()` that could not finish,
  /// a kill) cuts the frame. Reported with the exit, when how the child ended is known.
  cut_off: Option<ProtocolError>,
}

thread_local! {
  // One read buffer per JS thread, shared by all its children: an idle Proclet costs none.
  static READ_SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_BUFFER]);
}

impl Connection {
  /// Takes the parent's end of a freshly spawned child's socket and makes it non-blocking.
  pub fn new(child: Arc<ChildProcess>, socket: UnixStream) -> io::Result<Connection> {
    socket.set_nonblocking(true)?;
    Ok(Connection {
      child,
      socket: Arc::new(socket),
      decoder: FrameDecoder::new(FrameKind::from_child),
      reading: true,
      cut_off: None,
    })
  }

  pub fn fd(&self) -> i32 {
    self.socket.as_raw_fd()
  }

  pub fn child(&self) -> &Arc<ChildProcess> {
    &self.child
  }

  pub fn is_reading(&self) -> bool {
    self.reading
  }

  /// Reads what is available, up to `budget` bytes, and appends the decoded events. A protocol
  /// violation kills the child, appends `Protocol` and ends reading. End-of-file inside a frame
  /// ends reading and is kept for `read_to_end`.
  pub fn read_available(&mut self, budget: usize, events: &mut Vec<Event>) -> ReadState {
    if !self.reading {
      return ReadState::Ended;
    }
    let mut frames = Vec::new();
    let mut total = 0;
    let outcome = READ_SCRATCH.with(|scratch| {
      let mut scratch = scratch.borrow_mut();
      loop {
        if total >= budget {
          return Ok(ReadState::Open);
        }
        // A large payload in progress is read straight into its own buffer.
        // A read that does not fill its buffer has drained the socket: stop there rather than
        // pay for a read that returns EAGAIN (the poll is level-triggered and calls back).
        let mut asked = scratch.len();
        let result = if self.decoder.filling_large_payload() {
          self.decoder.fill_payload(
            |buf| {
              asked = buf.len();
              (&*self.socket).read(buf)
            },
            &mut frames,
          )
        } else {
          match (&*self.socket).read(&mut scratch) {
            Ok(n) => self
              .decoder
              .feed(&scratch[..n], &mut frames)
              .map(|()| n)
              .map_err(FillError::Protocol),
            Err(e) => Err(FillError::Io(e)),
          }
        };
        match result {
          Ok(0) => return Ok(ReadState::Ended),
          Ok(n) if n < asked && budget != usize::MAX => return Ok(ReadState::Open),
          Ok(n) => total += n,
          Err(FillError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
            return Ok(ReadState::Open)
          }
          Err(FillError::Io(e)) if e.kind() == io::ErrorKind::Interrupted => {}
          // ECONNRESET and friends: the child is gone; like end-of-file.
          Err(FillError::Io(_)) => return Ok(ReadState::Ended),
          Err(FillError::Protocol(e)) => return Err(e),
        }
      }
    });
    events.extend(frames.into_iter().map(Event::Frame));
    match outcome {
      Ok(ReadState::Open) => ReadState::Open,
      Ok(ReadState::Ended) => {
        self.reading = false;
        self.cut_off = self.decoder.finish().err();
        ReadState::Ended
      }
      Err(error) => {
        self.protocol_failure(error, events);
        ReadState::Ended
      }
    }
  }

  /// After the child exited (the waiter has shut the socket down): reads what is left, then
  /// appends `CutOff` if the stream ended inside a frame.
  pub fn read_to_end(&mut self, events: &mut Vec<Event>) {
    self.read_available(usize::MAX, events);
    if let Some(error) = self.cut_off.take() {
      events.push(Event::CutOff(error.to_string()));
    }
  }

  /// Kills the child for breaking the protocol and stops reading from it.
  pub fn protocol_failure(&mut self, error: ProtocolError, events: &mut Vec<Event>) {
    self.reading = false;
    let _ = self.child.kill(libc::SIGKILL);
    events.push(Event::ProtocolError(error.to_string()));
  }

  /// Writes what `outbox` holds without blocking.
  pub fn write_available(&self, outbox: &mut Outbox) -> Written {
    let fd = self.fd();
    outbox.write(
      |slices| send(fd, slices, libc::MSG_DONTWAIT),
      Instant::now(),
    )
  }

  /// Starts the thread that waits for the child to exit, shuts the socket down and hands the
  /// status to `report` (which must not block).
  pub fn spawn_waiter(
    &self,
    report: impl FnOnce(ExitStatus) + Send + 'static,
  ) -> io::Result<JoinHandle<()>> {
    let child = self.child.clone();
    let socket = self.socket.clone();
    thread::Builder::new()
      .name(format!("proclet-wait-{}", child.pid()))
      .stack_size(THREAD_STACK)
      .spawn(move || {
        let status = child.wait();
        let _ = socket.shutdown(Shutdown::Both);
        drop(socket);
        report(status);
      })
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
  use crate::io::SendError;
  use crate::process::{spawn_child, SpawnRequest};
  use crate::protocol::encode_frame;
  use crate::protocol::Frame;
  use std::sync::mpsc;

  /// Spawns `sh -c script` with the channel on fd 3, like `run()` does with node.
  fn run_shell(script: &str) -> Connection {
    let (parent, child) = UnixStream::pair().unwrap();
    let args = vec!["-c".to_string(), script.to_string()];
    let pid = spawn_child(SpawnRequest::new("sh", &args, child.into()))
      .unwrap()
      .pid;
    Connection::new(Arc::new(ChildProcess::new(pid)), parent).unwrap()
  }

  /// Plays the event loop: waits for readability with poll(2), reads, until the child exits.
  fn drive(connection: &mut Connection, outbox: &mut Outbox) -> Vec<Event> {
    let (tx, rx) = mpsc::channel();
    connection
      .spawn_waiter(move |status| tx.send(status).unwrap())
      .unwrap();
    let mut events = Vec::new();
    loop {
      let written = connection.write_available(outbox);
      if written.drained {
        events.push(Event::Drain);
      }
      if let Ok(status) = rx.try_recv() {
        // Like the exit callback: the socket is shut down, so this reads what is left, then
        // reaches end-of-file.
        connection.read_to_end(&mut events);
        assert!(!connection.is_reading());
        events.push(Event::Exit(status));
        return events;
      }
      let mut pfd = libc::pollfd {
        fd: connection.fd(),
        events: libc::POLLIN | if written.pending { libc::POLLOUT } else { 0 },
        revents: 0,
      };
      // SAFETY: one valid pollfd.
      unsafe { libc::poll(&mut pfd, 1, 10) };
      if connection.is_reading() {
        connection.read_available(READ_BUDGET, &mut events);
      }
    }
  }

  fn octal(kind: FrameKind, payload: &str) -> String {
    let mut bytes = Vec::new();
    encode_frame(kind, payload.as_bytes(), &mut bytes).unwrap();
    bytes.iter().map(|b| format!("\\{:03o}", b)).collect()
  }

  fn message(payload: impl Into<Vec<u8>>) -> Event {
    Event::Frame(Frame {
      kind: FrameKind::Message,
      payload: payload.into(),
    })
  }

  fn exit(code: i32) -> Event {
    Event::Exit(ExitStatus {
      code: Some(code),
      signal: None,
    })
  }

  #[test]
  fn delivers_messages_then_exit() {
    let script = format!(
      "printf '{}{}' >&3; exit 3",
      octal(FrameKind::Message, "\"a\""),
      octal(FrameKind::Message, "[1,2]")
    );
    let mut connection = run_shell(&script);
    let events = drive(&mut connection, &mut Outbox::default());
    assert_eq!(
      events,
      vec![
        message(b"\"a\"".to_vec()),
        message(b"[1,2]".to_vec()),
        exit(3)
      ]
    );
  }

  #[test]
  fn garbage_is_a_protocol_error_and_the_child_is_killed() {
    let mut connection = run_shell("printf 'garbage!' >&3; sleep 30");
    let events = drive(&mut connection, &mut Outbox::default());
    assert!(matches!(&events[0], Event::ProtocolError(m) if m.contains("unexpected frame kind")));
    assert_eq!(
      events[1],
      Event::Exit(ExitStatus {
        code: None,
        signal: Some(libc::SIGKILL)
      })
    );
  }

  #[test]
  fn a_frame_cut_off_by_the_child_exiting_is_reported_with_the_exit_not_as_a_kill() {
    // 15 of 105 bytes, then a normal exit: the child is not killed, and the cut-off frame is
    // reported right before the exit.
    let mut connection = run_shell("printf '\\000\\000\\000\\144\\001\"only part' >&3; exit 5");
    let events = drive(&mut connection, &mut Outbox::default());
    assert_eq!(
      events,
      vec![
        Event::CutOff("stream ended inside a frame (15 of 105 bytes received)".into()),
        exit(5)
      ]
    );
  }

  #[test]
  fn writes_frames_in_order_and_refuses_after_close() {
    // The child echoes back the two frames it reads (16 bytes).
    let mut connection = run_shell("head -c 16 <&3 >&3");
    let mut outbox = Outbox::default();
    let now = Instant::now();
    outbox
      .enqueue(FrameKind::Message, b"\"hi\"".to_vec(), now)
      .unwrap();
    outbox
      .enqueue(FrameKind::Message, b"42".to_vec(), now)
      .unwrap();
    let events = drive(&mut connection, &mut outbox);
    assert_eq!(
      events,
      vec![
        message(b"\"hi\"".to_vec()),
        message(b"42".to_vec()),
        exit(0)
      ]
    );
    outbox.close();
    assert_eq!(
      outbox.enqueue(FrameKind::Message, b"1".to_vec(), Instant::now()),
      Err(SendError::Closed)
    );
  }

  #[test]
  fn large_payloads_cross_a_full_socket_both_ways_and_drain() {
    // 8 MiB through a socket that holds a few hundred KiB: writes must wait for writability.
    let mut connection = run_shell("head -c 8388613 <&3 >&3");
    let mut outbox = Outbox::default();
    let mut json = vec![b'x'; 8 * 1024 * 1024];
    json[0] = b'"';
    *json.last_mut().unwrap() = b'"';
    let queued = outbox
      .enqueue(FrameKind::Message, json.clone(), Instant::now())
      .unwrap();
    assert!(!queued.below_high_water);
    let events = drive(&mut connection, &mut outbox);
    assert_eq!(events, vec![Event::Drain, message(json), exit(0)]);
  }

  #[test]
  fn data_received_before_shutdown_stays_readable() {
    // The waiter relies on this: SHUT_RD does not discard what is already queued.
    use std::io::Write;
    let (mut a, mut b) = UnixStream::pair().unwrap();
    b.write_all(b"still here").unwrap();
    drop(b);
    a.shutdown(Shutdown::Both).unwrap();
    let mut out = String::new();
    a.read_to_string(&mut out).unwrap();
    assert_eq!(out, "still here");
  }

  #[test]
  fn reading_stops_at_the_budget() {
    let mut connection = run_shell(&format!(
      "while :; do printf '{}'; done >&3",
      octal(FrameKind::Message, "1234567890")
    ));
    let mut events = Vec::new();
    // Wait until the socket is full, then read once with a small budget.
    let mut pfd = libc::pollfd {
      fd: connection.fd(),
      events: libc::POLLIN,
      revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut pfd, 1, 5000) };
    while events.len() < 100 {
      connection.read_available(64 * 1024, &mut events);
    }
    let before = events.len();
    events.clear();
    assert_eq!(
      connection.read_available(4096, &mut events),
      ReadState::Open
    );
    assert!(
      events.len() * 15 <= READ_BUFFER + 15,
      "{} events",
      events.len()
    );
    assert!(before > 0);
    connection.child().kill(libc::SIGKILL).unwrap();
    connection.child().wait();
  }
}
